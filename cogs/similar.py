"""/similar: titles like one you name, with autocomplete over the catalogue's titles."""

from __future__ import annotations

import logging

import discord
from discord import app_commands
from discord.ext import commands

from bot.anilist import MEDIA_TYPES
from bot.core import Anime8Bot
from bot.error_handler import answered, defer_publicly
from bot.errors import UserFacingError
from bot.services.similar import MAX_TITLE_TEXT, SimilarService
from cogs.recommend import MAX_COUNT, TYPE_CHOICES, check_options
from cogs.ui.buttons import render_page
from cogs.ui.pick_embed import allows_adult

log = logging.getLogger(__name__)


class Similar(commands.Cog):
    def __init__(self, bot: Anime8Bot) -> None:
        self.bot = bot
        self.service = SimilarService(bot.db, bot.user_lists, bot.recommendations, bot.media_store)
        # A linked list may be fetched from AniList's shared budget: one at a time per person.
        self._running: set[int] = set()

    @app_commands.command(
        name="similar", description="Titles like one you name, leaving out what you've seen."
    )
    @app_commands.describe(
        title="The title to match: start typing and pick one",
        type="Anime or manga (default: either, for the title search)",
        count="How many picks, 1–10 (default 5)",
    )
    @app_commands.choices(type=TYPE_CHOICES)
    async def similar(
        self,
        interaction: discord.Interaction[Anime8Bot],
        title: app_commands.Range[str, 1, MAX_TITLE_TEXT],
        type: str | None = None,
        count: app_commands.Range[int, 1, MAX_COUNT] = 5,
    ) -> None:
        user_id = interaction.user.id
        # Taken first: a /forget that finishes while this runs must find nothing written after.
        guard = self.bot.db.guard(user_id)
        check_options(count, None)
        if type is not None and type not in MEDIA_TYPES:
            raise UserFacingError("The type must be Anime or Manga.")
        if len(title) > MAX_TITLE_TEXT:
            raise UserFacingError(f"Please keep the title to {MAX_TITLE_TEXT} characters or fewer.")
        allow_adult = allows_adult(interaction)
        member = self.bot.member_settings.get(user_id)
        # An unknown or adult title is refused at once, ephemerally, before anything public.
        seed = await self.service.resolve(title, type, allow_adult=allow_adult)
        if user_id in self._running:
            raise UserFacingError("I'm still working on your last /similar; one at a time.")
        self._running.add(user_id)
        try:
            await defer_publicly(interaction)
            answer = await self.service.similar(
                seed,
                discord_user_id=user_id,
                count=count,
                allow_adult=allow_adult,
                guard=guard,
            )
            await self.bot.db.save_recommendation_message(
                interaction.id, user_id, seed.media_type, answer.picks, guard
            )
            embed, view = render_page(
                user_id, answer.picks, answer.media, 0, allow_adult=allow_adult, member=member
            )
            await interaction.followup.send(embed=embed, view=view)
            answered(interaction)
            if answer.note:
                await interaction.followup.send(answer.note, ephemeral=True)
        finally:
            self._running.discard(user_id)

    @similar.autocomplete("title")
    async def title_suggestions(
        self, interaction: discord.Interaction[Anime8Bot], current: str
    ) -> list[app_commands.Choice[str]]:
        """Titles matching what is typed; the values are "id:<media id>"."""
        chosen = getattr(interaction.namespace, "type", None)
        media_type = chosen if chosen in MEDIA_TYPES else None
        try:
            found = await self.service.suggest(
                current, media_type, allow_adult=allows_adult(interaction)
            )
        except Exception:  # a suggestion list is never worth an error: show none
            log.exception("title autocomplete failed")
            return []
        return [app_commands.Choice(name=name, value=value) for name, value in found]


async def setup(bot: Anime8Bot) -> None:
    await bot.add_cog(Similar(bot))
