"""/settings: the caller's title language, default type and spoiler tags, changed with selects."""

from __future__ import annotations

import discord
from discord import app_commands
from discord.ext import commands

from bot.core import Anime8Bot
from bot.services.member_settings import learn_anilist_language
from bot.storage.member_settings import FOLLOW_ANILIST
from cogs.ui.settings_view import SettingSelect, settings_message


class MemberSettingsCog(commands.Cog, name="Settings"):
    def __init__(self, bot: Anime8Bot) -> None:
        self.bot = bot

    @app_commands.command(
        name="settings", description="Your title language, default type and spoiler tags."
    )
    async def settings(self, interaction: discord.Interaction[Anime8Bot]) -> None:
        user_id = interaction.user.id
        store = self.bot.member_settings
        linked = await self.bot.db.linked_username(user_id)
        member = store.get(user_id)
        if (
            member.title_language == FOLLOW_ANILIST
            and linked is not None
            and member.anilist_title_language is None
        ):
            # Linked before the bot read title languages, or AniList was down then: ask now.
            await interaction.response.defer(ephemeral=True, thinking=True)
            await learn_anilist_language(self.bot.anilist, store, linked)
            content, view = settings_message(store.get(user_id), linked)
            await interaction.followup.send(content, view=view, ephemeral=True)
            return
        content, view = settings_message(member, linked)
        await interaction.response.send_message(content, view=view, ephemeral=True)


async def setup(bot: Anime8Bot) -> None:
    bot.add_dynamic_items(SettingSelect)
    await bot.add_cog(MemberSettingsCog(bot))


async def teardown(bot: Anime8Bot) -> None:
    bot.remove_dynamic_items(SettingSelect)
