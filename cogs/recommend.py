"""/recommend: parse the options, ask the recommendation service, show the picks as pages."""

from __future__ import annotations

import math
import time

import discord
from discord import app_commands
from discord.ext import commands

from bot.anilist import MEDIA_TYPES
from bot.core import Anime8Bot
from bot.error_handler import answered, defer_publicly
from bot.errors import UserFacingError
from cogs.ui.buttons import render_page
from cogs.ui.pick_embed import allows_adult

# Shown as "Anime" and "Manga"; the values stay AniList's MediaType names.
TYPE_CHOICES = [app_commands.Choice(name=t.title(), value=t) for t in MEDIA_TYPES]
MAX_COUNT = 10
MAX_PREFERENCES = 300


def check_options(count: int, preferences: str | None) -> None:
    """Refuse values outside the declared bounds: Discord's client enforces them, but the bot
    receives whatever a forged interaction sends, and discord.py does not check them."""
    if not 1 <= count <= MAX_COUNT:
        raise UserFacingError(f"count must be a whole number from 1 to {MAX_COUNT}.")
    if preferences is not None and len(preferences) > MAX_PREFERENCES:
        raise UserFacingError(f"Please keep preferences to {MAX_PREFERENCES} characters or fewer.")


class Recommend(commands.Cog):
    def __init__(self, bot: Anime8Bot) -> None:
        self.bot = bot
        # Only a /recommend that showed picks starts the cooldown, so a refused one (a typo,
        # an unknown user) costs nothing; one request at a time per person keeps the
        # cooldown from being dodged by sending several at once.
        self._last_shown: dict[int, float] = {}
        self._running: set[int] = set()

    def _check_cooldown(self, user_id: int) -> None:
        seconds = self.bot.settings.recommend_cooldown_seconds
        if seconds <= 0 or self.bot.is_owner_id(user_id):
            return
        if user_id in self._running:
            raise UserFacingError("I'm still working on your last /recommend; one at a time.")
        wait = self._last_shown.get(user_id, -math.inf) + seconds - time.monotonic()
        if wait > 0:
            raise app_commands.CommandOnCooldown(app_commands.Cooldown(1, seconds), wait)

    def _start_cooldown(self, user_id: int) -> None:
        now = time.monotonic()
        seconds = self.bot.settings.recommend_cooldown_seconds
        self._last_shown = {u: t for u, t in self._last_shown.items() if now - t < seconds}
        self._last_shown[user_id] = now

    @app_commands.command(
        name="recommend", description="Anime or manga picks for an AniList user or for your taste."
    )
    @app_commands.describe(
        username="AniList username (default: the account you linked with /link)",
        type="Anime or manga (default: yours from /settings, else anime)",
        preferences='What you feel like, e.g. "dark psychological thriller, no romance"',
        count="How many picks, 1–10 (default 5)",
    )
    @app_commands.choices(type=TYPE_CHOICES)
    async def recommend(
        self,
        interaction: discord.Interaction[Anime8Bot],
        username: app_commands.Range[str, 2, 20] | None = None,
        type: str | None = None,
        preferences: app_commands.Range[str, 1, MAX_PREFERENCES] | None = None,
        count: app_commands.Range[int, 1, MAX_COUNT] = 5,
    ) -> None:
        user_id = interaction.user.id
        # Taken first: a /forget that finishes while this runs must find nothing written after.
        guard = self.bot.db.guard(user_id)
        self._check_cooldown(user_id)
        check_options(count, preferences)
        service = self.bot.recommendations
        member = self.bot.member_settings.get(user_id)
        type = type or member.default_type
        if type not in MEDIA_TYPES:
            raise UserFacingError("The type must be Anime or Manga.")
        if username is None:
            username = await self.bot.db.linked_username(user_id)
        if username is None and not preferences:
            raise UserFacingError(
                "Tell me whose list to use (`username:`), link your AniList account with "
                "`/link`, or describe what you like with `preferences:`."
            )
        # Cheap checks first, so a typo gets an instant ephemeral answer, not a public one.
        service.validate_request(username, preferences, type)
        self._running.add(user_id)
        try:
            await defer_publicly(interaction)
            allow_adult = allows_adult(interaction)
            result = await service.recommend(
                discord_user_id=user_id,
                username=username,
                media_type=type,
                preferences=preferences,
                count=count,
                allow_adult=allow_adult,
                guard=guard,
            )
            await self.bot.db.save_recommendation_message(
                interaction.id, user_id, type, result.picks, guard
            )
            embed, view = render_page(
                user_id, result.picks, result.media, 0, allow_adult=allow_adult, member=member
            )
            await interaction.followup.send(embed=embed, view=view)
            answered(interaction)
            self._start_cooldown(user_id)
        finally:
            self._running.discard(user_id)


async def setup(bot: Anime8Bot) -> None:
    await bot.add_cog(Recommend(bot))
