"""/autotrain: owners retrain the recommender on stored ratings and lists, watching progress."""

from __future__ import annotations

import asyncio

import discord
from discord import app_commands
from discord.ext import commands

from bot.core import Anime8Bot
from bot.error_handler import NotAnOwner, describe
from bot.errors import UserFacingError
from bot.installs import server_only
from bot.storage.backup import BackupError
from cogs.recommend import TYPE_CHOICES

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
    @app_commands.describe(type="Which model to retrain (default anime)")
    @app_commands.choices(type=TYPE_CHOICES)
    # Hidden from members without Manage Server and from DMs, so ordinary members never see
    # it in their command list; the owner check below still decides who may run it.
    @app_commands.default_permissions(manage_guild=True)
    @server_only
    @owners_only()
    async def autotrain(
        self, interaction: discord.Interaction[Anime8Bot], type: str = "ANIME"
    ) -> None:
        service = self.bot.recommendations
        if service.training_in_progress:
            raise UserFacingError("A training run is already going; wait for it to finish.")
        await interaction.response.defer(ephemeral=True, thinking=True)
        latest = "starting"

        async def progress(line: str) -> None:
            nonlocal latest
            latest = line

        async def show_progress() -> None:
            shown = None
            while True:
                if latest != shown:
                    shown = latest
                    await interaction.edit_original_response(content=f"Training {type}: {shown}")
                # Discord rate-limits edits; the newest line once a second is plenty.
                await asyncio.sleep(PROGRESS_EVERY_S)

        updater = asyncio.create_task(show_progress())
        try:
            report = await service.autotrain(type, progress)
        except Exception as error:
            # The failure replaces the progress line, rather than leaving "epoch 3…" behind.
            message, _ = describe(error)
            summary = f"Training {type} stopped. {message}"
        else:
            summary = report.summary()
        finally:
            updater.cancel()
            await asyncio.gather(updater, return_exceptions=True)
        await interaction.edit_original_response(content=summary)

    @app_commands.command(name="backup", description="Owners only: snapshot the database now.")
    @app_commands.default_permissions(manage_guild=True)
    @server_only
    @owners_only()
    async def backup(self, interaction: discord.Interaction[Anime8Bot]) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        try:
            snapshot = await self.bot.backups.snapshot_now()
        except BackupError as error:
            await interaction.edit_original_response(content=f"No backup was made. {error}")
            return
        keep = self.bot.settings.backup_keep
        await interaction.edit_original_response(
            content=(
                f"Backup saved as `{snapshot.path.name}` ({_megabytes(snapshot.size_bytes)}), "
                f"checked and complete. The newest {keep} are kept in `{snapshot.path.parent}`."
            )
        )


def _megabytes(size: int) -> str:
    return f"{size / 1024**2:.1f} MB"


async def setup(bot: Anime8Bot) -> None:
    await bot.add_cog(Admin(bot))
