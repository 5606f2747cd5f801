"""/recommend: parse the options, ask the recommendation service, show the picks as pages."""

from __future__ import annotations

import discord
from discord import app_commands
from discord.ext import commands

from bot.anilist import MEDIA_TYPES
from bot.core import Anime8Bot
from bot.errors import UserFacingError
from cogs.ui.buttons import render_page

TYPE_CHOICES = [app_commands.Choice(name=t, value=t) for t in MEDIA_TYPES]


def _cooldown(interaction: discord.Interaction[Anime8Bot]) -> app_commands.Cooldown | None:
    bot = interaction.client
    seconds = bot.settings.recommend_cooldown_seconds
    if seconds <= 0 or bot.is_owner_id(interaction.user.id):
        return None
    return app_commands.Cooldown(1, seconds)


def allows_adult(interaction: discord.Interaction) -> bool:
    """Adult titles only in age-restricted server channels (threads follow their parent)."""
    if interaction.guild_id is None:
        return False
    is_nsfw = getattr(interaction.channel, "is_nsfw", None)
    return bool(is_nsfw and is_nsfw())


class Recommend(commands.Cog):
    def __init__(self, bot: Anime8Bot) -> None:
        self.bot = bot

    @app_commands.command(
        name="recommend", description="Anime or manga picks for an AniList user or for your taste."
    )
    @app_commands.describe(
        username="AniList username (default: the account you linked with /link)",
        type="ANIME or MANGA (default ANIME)",
        preferences='What you feel like, e.g. "dark psychological thriller, no romance"',
        count="How many picks, 1–10 (default 5)",
    )
    @app_commands.choices(type=TYPE_CHOICES)
    @app_commands.checks.dynamic_cooldown(_cooldown)
    async def recommend(
        self,
        interaction: discord.Interaction[Anime8Bot],
        username: app_commands.Range[str, 1, 50] | None = None,
        type: str = "ANIME",
        preferences: app_commands.Range[str, 1, 300] | None = None,
        count: app_commands.Range[int, 1, 10] = 5,
    ) -> None:
        service = self.bot.recommendations
        if type not in MEDIA_TYPES:
            raise UserFacingError("type must be ANIME or MANGA.")
        if username is None:
            username = await self.bot.db.linked_username(interaction.user.id)
        if username is None and not preferences:
            raise UserFacingError(
                "Tell me whose list to use (`username:`), link your AniList account with "
                "`/link`, or describe what you like with `preferences:`."
            )
        # Cheap checks first, so a typo gets an instant ephemeral answer, not a public one.
        service.validate_request(username, preferences, type)
        await interaction.response.defer(thinking=True)
        interaction.extras["public_thinking"] = True
        result = await service.recommend(
            discord_user_id=interaction.user.id,
            username=username,
            media_type=type,
            preferences=preferences,
            count=count,
            allow_adult=allows_adult(interaction),
        )
        await self.bot.db.save_recommendation_message(
            interaction.id, interaction.user.id, type, result.picks
        )
        embed, view = render_page(interaction.user.id, result.picks, result.media, 0)
        await interaction.followup.send(embed=embed, view=view)
        interaction.extras["public_thinking"] = False


async def setup(bot: Anime8Bot) -> None:
    await bot.add_cog(Recommend(bot))
