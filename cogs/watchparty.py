"""/watchparty: parse the options, ask the watch-party service, show the picks as pages."""

from __future__ import annotations

import discord
from discord import app_commands
from discord.ext import commands

from bot.anilist import MEDIA_TYPES
from bot.core import Anime8Bot
from bot.error_handler import answered, defer_publicly
from bot.errors import UserFacingError
from bot.services.watchparty import WatchPartyService, parse_usernames
from cogs.recommend import MAX_COUNT, TYPE_CHOICES, check_options
from cogs.ui.buttons import render_page
from cogs.ui.group_page import PollButton
from cogs.ui.pick_embed import allows_adult

MEMBER_HELP = "A server member; their /link account joins"


class WatchParty(commands.Cog):
    def __init__(self, bot: Anime8Bot) -> None:
        self.bot = bot
        self.service = WatchPartyService(
            bot.db, bot.user_lists, bot.recommendations, bot.media_store
        )
        # A party fetches up to 14 lists from AniList's shared budget: one at a time per person.
        self._running: set[int] = set()

    @app_commands.command(
        name="watchparty", description="Picks a group will enjoy together, new to everyone in it."
    )
    @app_commands.describe(
        usernames="2–8 AniList usernames, separated by commas or spaces",
        member1=MEMBER_HELP,
        member2=MEMBER_HELP,
        member3=MEMBER_HELP,
        member4=MEMBER_HELP,
        member5=MEMBER_HELP,
        type="Anime or manga (default: yours from /settings, else anime)",
        count="How many picks, 1–10 (default 5)",
    )
    @app_commands.choices(type=TYPE_CHOICES)
    async def watchparty(
        self,
        interaction: discord.Interaction[Anime8Bot],
        usernames: app_commands.Range[str, 2, 200] | None = None,
        member1: discord.User | None = None,
        member2: discord.User | None = None,
        member3: discord.User | None = None,
        member4: discord.User | None = None,
        member5: discord.User | None = None,
        type: str | None = None,
        count: app_commands.Range[int, 1, MAX_COUNT] = 5,
    ) -> None:
        user_id = interaction.user.id
        # Taken first: a /forget that finishes while this runs must find nothing written after.
        guard = self.bot.db.guard(user_id)
        check_options(count, None)
        member = self.bot.member_settings.get(user_id)
        type = type or member.default_type
        if type not in MEDIA_TYPES:
            raise UserFacingError("The type must be Anime or Manga.")
        names = parse_usernames(usernames)  # a typo is refused at once, before anything public
        others = [m for m in (member1, member2, member3, member4, member5) if m is not None]
        if user_id in self._running:
            raise UserFacingError("I'm still planning your last watch party; one at a time.")
        self._running.add(user_id)
        try:
            await defer_publicly(interaction)
            members = await self.service.gather_members(
                caller_id=user_id,
                usernames=names,
                discord_members=[(m.id, m.display_name) for m in others],
            )
            allow_adult = allows_adult(interaction)
            result = await self.service.recommend(
                members, media_type=type, count=count, allow_adult=allow_adult, guard=guard
            )
            await self.bot.db.save_recommendation_message(
                interaction.id, user_id, type, result.picks, guard
            )
            embed, view = render_page(
                user_id, result.picks, result.media, 0, allow_adult=allow_adult, member=member
            )
            await interaction.followup.send(embed=embed, view=view)
            answered(interaction)
        finally:
            self._running.discard(user_id)


async def setup(bot: Anime8Bot) -> None:
    bot.add_dynamic_items(PollButton)
    await bot.add_cog(WatchParty(bot))


async def teardown(bot: Anime8Bot) -> None:
    bot.remove_dynamic_items(PollButton)
