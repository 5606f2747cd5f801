"""/profile and the user context menus "Recommend for them" and "Taste match": parse, ask the
taste service, render.

/profile is public (people asked to show it); both menus answer only the caller, so nobody's
taste is posted without them asking.
"""

from __future__ import annotations

import io

import discord
from discord import app_commands
from discord.ext import commands

from bot.anilist import MEDIA_TYPES, validate_username
from bot.core import Anime8Bot
from bot.error_handler import answered, defer_publicly
from bot.errors import UserFacingError
from bot.services.taste import MatchResult, TasteService, kind_of, profile_text
from cogs.recommend import TYPE_CHOICES
from cogs.ui.buttons import render_page
from cogs.ui.pick_embed import ANILIST_BLUE, allows_adult

RECOMMEND_FOR_THEM = "Recommend for them"
TASTE_MATCH = "Taste match"
PICTURE_NAME = "profile.png"


class Profile(commands.Cog):
    def __init__(self, bot: Anime8Bot) -> None:
        self.bot = bot
        self.service = TasteService(bot.db, bot.recommendations, bot.media_store)
        # Drawing and list fetches cost AniList budget and CPU: one request at a time per person.
        self._running: set[int] = set()
        self._menus = (
            app_commands.ContextMenu(name=RECOMMEND_FOR_THEM, callback=self.recommend_for_them),
            app_commands.ContextMenu(name=TASTE_MATCH, callback=self.taste_match),
        )

    async def cog_load(self) -> None:
        for menu in self._menus:
            self.bot.tree.add_command(menu)

    async def cog_unload(self) -> None:
        for menu in self._menus:
            self.bot.tree.remove_command(menu.name, type=menu.type)

    def _start(self, user_id: int) -> None:
        if user_id in self._running:
            raise UserFacingError("I'm still working on your last request; one at a time.")
        self._running.add(user_id)

    @app_commands.command(name="profile", description="A picture of an AniList user's taste.")
    @app_commands.describe(
        username="AniList username (default: the account you linked with /link)",
        type="Anime or manga (default anime)",
    )
    @app_commands.choices(type=TYPE_CHOICES)
    async def profile(
        self,
        interaction: discord.Interaction[Anime8Bot],
        username: app_commands.Range[str, 2, 20] | None = None,
        type: str = "ANIME",
    ) -> None:
        user_id = interaction.user.id
        guard = self.bot.db.guard(user_id)
        if type not in MEDIA_TYPES:
            raise UserFacingError("The type must be Anime or Manga.")
        if username is None:
            username = await self.bot.db.linked_username(user_id)
        if username is None:
            raise UserFacingError(
                "Tell me whose taste to picture (`username:`), or link your AniList account "
                "with `/link`."
            )
        # Cheap checks first, so a typo or a warming-up bot gets an instant, private answer.
        validate_username(username)
        self.bot.recommendations.ready_model(type)
        self._start(user_id)
        try:
            await defer_publicly(interaction)
            result = await self.service.profile(
                username, type, allow_adult=allows_adult(interaction), guard=guard
            )
            embed = discord.Embed(
                title=f"{result.username}'s {kind_of(type)} taste",
                url=f"https://anilist.co/user/{result.username}/",
                description=profile_text(result.taste, type),
                colour=ANILIST_BLUE,
            )
            embed.set_image(url=f"attachment://{PICTURE_NAME}")
            picture = discord.File(
                io.BytesIO(result.png),
                filename=PICTURE_NAME,
                description=f"Charts of {result.username}'s {kind_of(type)} taste",
            )
            await interaction.followup.send(embed=embed, file=picture)
            answered(interaction)
        finally:
            self._running.discard(user_id)

    async def recommend_for_them(
        self, interaction: discord.Interaction[Anime8Bot], member: discord.Member | discord.User
    ) -> None:
        """Picks from the member's linked account, shown only to the caller."""
        user_id = interaction.user.id
        guard = self.bot.db.guard(user_id)
        self._start(user_id)
        try:
            await interaction.response.defer(ephemeral=True, thinking=True)
            allow_adult = allows_adult(interaction)
            result = await self.service.recommend_for(
                member.id, member.display_name, allow_adult=allow_adult
            )
            # Stored with the picks, so every page turned says whose predictions they are.
            picks = [{**p, "predicted_for": member.display_name} for p in result.picks]
            await self.bot.db.save_recommendation_message(
                interaction.id, user_id, "ANIME", picks, guard
            )
            embed, view = render_page(user_id, picks, result.media, 0, allow_adult=allow_adult)
            content = (
                f"Picks for {member.mention}'s taste, from their AniList list "
                f"**{result.username}**. Only you can see this."
            )
            await interaction.followup.send(content, embed=embed, view=view, ephemeral=True)
        finally:
            self._running.discard(user_id)

    async def taste_match(
        self, interaction: discord.Interaction[Anime8Bot], member: discord.Member | discord.User
    ) -> None:
        """How the caller's and the member's anime lists agree, shown only to the caller."""
        user_id = interaction.user.id
        guard = self.bot.db.guard(user_id)
        self._start(user_id)
        try:
            await interaction.response.defer(ephemeral=True, thinking=True)
            result = await self.service.match(
                user_id,
                member.id,
                member.display_name,
                media_type="ANIME",
                allow_adult=allows_adult(interaction),
                guard=guard,
            )
            await interaction.followup.send(
                embed=match_embed(result, member.display_name), ephemeral=True
            )
        finally:
            self._running.discard(user_id)


def match_embed(result: MatchResult, their_name: str) -> discord.Embed:
    """The taste match as the caller sees it."""
    match = result.match
    percent = match.percent
    verdict = "too little in common to tell" if percent is None else f"{percent}% taste match"
    embed = discord.Embed(
        title=f"You and {their_name}: {verdict}"[:256],
        description=match.explanation(),
        colour=ANILIST_BLUE,
    )

    def lines(titles: tuple) -> str:
        return "\n".join(
            f"**{result.titles[t.media_id][:80]}**: you {t.mine:g}, them {t.theirs:g}"
            for t in titles
        )

    if match.agree:
        embed.add_field(name="You agree most on", value=lines(match.agree), inline=False)
    if match.disagree:
        embed.add_field(name="You disagree most on", value=lines(match.disagree), inline=False)
    embed.set_footer(text=f"Anime lists: {result.mine} (you) and {result.theirs}")
    return embed


async def setup(bot: Anime8Bot) -> None:
    await bot.add_cog(Profile(bot))
