"""/autotrain: owners retrain the recommender on stored ratings and lists, watching progress."""

from __future__ import annotations

import time

import discord
from discord import app_commands
from discord.ext import commands

from bot.core import Anime8Bot
from bot.error_handler import NotAnOwner
from bot.errors import UserFacingError

PROGRESS_EVERY_S = 1.0


def owners_only():
    def predicate(interaction: discord.Interaction[Anime8Bot]) -> bool:
        if not interaction.client.is_owner_id(interaction.user.id):
            raise NotAnOwner()
        return True

    return app_commands.check(predicate)


class Admin(commands.Cog):
    def __init__(self, bot: Anime8Bot) -> None:
        self.bot = bot

    @app_commands.command(
        name="autotrain", description="Owners only: retrain the recommender on stored ratings."
    )
    @app_commands.describe(type="Which model to retrain (default ANIME)")
    @app_commands.choices(type=[app_commands.Choice(name=t, value=t) for t in ("ANIME", "MANGA")])
    @owners_only()
    async def autotrain(
        self, interaction: discord.Interaction[Anime8Bot], type: str = "ANIME"
    ) -> None:
        service = self.bot.recommendations
        if service.training_in_progress:
            raise UserFacingError("A training run is already going; wait for it to finish.")
        await interaction.response.defer(ephemeral=True, thinking=True)
        last_edit = 0.0

        async def progress(line: str) -> None:
            nonlocal last_edit
            # Discord rate-limits edits; one a second is plenty for a human to follow.
            if time.monotonic() - last_edit >= PROGRESS_EVERY_S:
                last_edit = time.monotonic()
                await interaction.edit_original_response(content=f"Training {type}: {line}")

        report = await service.autotrain(type, progress)
        await interaction.edit_original_response(content=report.summary())


async def setup(bot: Anime8Bot) -> None:
    await bot.add_cog(Admin(bot))
