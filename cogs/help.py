"""/help: what each command does, built from the command tree so it never goes stale."""

from __future__ import annotations

import discord
from discord import app_commands
from discord.ext import commands

from bot.core import Anime8Bot

ABOUT = (
    "Anime8 recommends anime and manga from your AniList list or from a description of what "
    "you like, and learns from the ratings you give its picks.\n"
    "*Anime8 is an unofficial bot using data from [AniList](https://anilist.co); it is not "
    "affiliated with AniList.*"
)
STORED = (
    "• Your ratings and your /link, until you /unlink or /forget.\n"
    "• Your /settings, and your linked account's AniList title language, until you /forget.\n"
    "• The AniList lists you ask about (ids, statuses and scores only), to recommend and "
    "train from, deleted {days} days after their last use.\n"
    "• What you were recommended, to avoid repeats and keep page buttons working, for "
    "{days} days.\n"
    "/forget deletes all of it at once."
)
USER_INSTALL_URL = (
    "https://discord.com/oauth2/authorize?client_id={app_id}&integration_type=1"
    "&scope=applications.commands"
)


class Help(commands.Cog):
    def __init__(self, bot: Anime8Bot) -> None:
        self.bot = bot

    @app_commands.command(name="help", description="What Anime8 can do and how to use it.")
    async def help(self, interaction: discord.Interaction) -> None:
        embed = discord.Embed(title="Anime8 help", description=ABOUT, colour=0x02A9FF)
        for command in sorted(self.bot.tree.get_commands(), key=lambda c: c.name):
            if not isinstance(command, app_commands.Command):
                continue
            options = " ".join(f"`{p.name}`" for p in command.parameters)
            embed.add_field(
                name=f"/{command.name}",
                value=f"{command.description}\n{options}".strip(),
                inline=False,
            )
        menus = [
            c.name
            for c in self.bot.tree.get_commands(type=discord.AppCommandType.user)
            if isinstance(c, app_commands.ContextMenu)
        ]
        if menus:
            embed.add_field(
                name="On a member",
                value="Right-click (or long-press) someone, then **Apps**: "
                + ", ".join(f"**{name}**" for name in sorted(menus))
                + ".",
                inline=False,
            )
        days = f"{self.bot.settings.list_retention_days:g}"
        embed.add_field(name="What Anime8 stores", value=STORED.format(days=days), inline=False)
        if self.bot.application_id is not None:
            link = USER_INSTALL_URL.format(app_id=self.bot.application_id)
            embed.add_field(
                name="Use Anime8 anywhere",
                value=f"[Add it to your account]({link}) to use it in any server or DM.",
                inline=False,
            )
        await interaction.response.send_message(embed=embed, ephemeral=True)


async def setup(bot: Anime8Bot) -> None:
    await bot.add_cog(Help(bot))
