"""/link, /unlink and /forget: the caller's AniList link and everything stored about them."""

from __future__ import annotations

import re
from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.anilist import MEDIA_TYPES
from bot.core import Anime8Bot
from bot.errors import UserFacingError
from bot.storage import forget_user
from cogs.ui.base import Anime8Button

FORGET_PREFIX = "anime8:forget:"


class ForgetButton(Anime8Button, template=rf"{FORGET_PREFIX}(?P<user>[0-9]{{1,20}})"):
    """Confirms /forget; the custom_id names whose data goes, so only they can confirm it."""

    def __init__(self, user_id: int) -> None:
        super().__init__(
            discord.ui.Button(
                label="Delete my data",
                style=discord.ButtonStyle.danger,
                custom_id=f"{FORGET_PREFIX}{user_id}",
            )
        )
        self.user_id = user_id

    @classmethod
    def from_raw(cls, custom_id: str, match: re.Match[str]) -> ForgetButton:
        return cls(int(match["user"]))

    async def act(self, interaction: discord.Interaction[Any], bot: Anime8Bot) -> None:
        if interaction.user.id != self.user_id:
            raise UserFacingError(
                "This button deletes someone else's data; use /forget for your own."
            )
        counts = await forget_user(bot.db, self.user_id)
        if counts.feedback or counts.anilist_list_rows:
            # The models hold the deleted ratings and lists in memory until rebuilt.
            for media_type in MEDIA_TYPES:
                bot.recommendations.models.request_rebuild(media_type)
        settings = " and your /settings" if counts.member_settings else ""
        await interaction.response.edit_message(
            content=(
                f"Done: deleted {_count(counts.total, 'row')}: "
                f"{_count(counts.feedback, 'rating')}, "
                f"{_count(counts.linked_accounts, 'account link')}, "
                f"{_count(counts.recommendation_log, 'history row')}, "
                f"{_count(counts.anilist_list_rows, 'row')} of cached AniList lists{settings}."
            ),
            view=None,
        )


def _count(number: int, noun: str) -> str:
    """'1 rating', '3 ratings'."""
    return f"{number:,} {noun}" if number == 1 else f"{number:,} {noun}s"


class Accounts(commands.Cog):
    def __init__(self, bot: Anime8Bot) -> None:
        self.bot = bot

    @app_commands.command(name="link", description="Link your AniList account to use by default.")
    @app_commands.describe(username="Your AniList username")
    async def link(
        self, interaction: discord.Interaction[Anime8Bot], username: app_commands.Range[str, 2, 20]
    ) -> None:
        self.bot.recommendations.validate_request(username, None)
        await interaction.response.defer(ephemeral=True, thinking=True)
        account = await self.bot.anilist.find_user(username)
        await self.bot.db.link_account(interaction.user.id, account.name)
        # The same answer gives the account's title language, which /settings can follow.
        await self.bot.member_settings.remember_anilist_language(
            account.name, account.title_language
        )
        await interaction.followup.send(
            f"Linked to AniList user **{account.name}**. `/recommend` now uses this list by "
            "default.",
            ephemeral=True,
        )

    @app_commands.command(name="unlink", description="Remove the link to your AniList account.")
    async def unlink(self, interaction: discord.Interaction[Anime8Bot]) -> None:
        removed = await self.bot.db.unlink_account(interaction.user.id)
        await self.bot.member_settings.forget_anilist_language(interaction.user.id)
        message = "Your AniList account is unlinked." if removed else "You had no linked account."
        await interaction.response.send_message(message, ephemeral=True)

    @app_commands.command(
        name="forget", description="Delete everything Anime8 stored about you (asks first)."
    )
    async def forget(self, interaction: discord.Interaction[Anime8Bot]) -> None:
        view = discord.ui.View(timeout=None)
        view.add_item(ForgetButton(interaction.user.id))
        await interaction.response.send_message(
            "This deletes your ratings, your AniList link, your /settings, your recommendation "
            "history and the AniList lists you asked for. It cannot be undone. Dismiss this "
            "message to keep everything.",
            view=view,
            ephemeral=True,
        )


async def setup(bot: Anime8Bot) -> None:
    bot.add_dynamic_items(ForgetButton)
    await bot.add_cog(Accounts(bot))


async def teardown(bot: Anime8Bot) -> None:
    bot.remove_dynamic_items(ForgetButton)
