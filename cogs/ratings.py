"""Registers the rating and paging buttons so they work on any message, even after a restart."""

from __future__ import annotations

from bot.core import Anime8Bot
from cogs.ui.buttons import PageButton, RatingButton


async def setup(bot: Anime8Bot) -> None:
    bot.add_dynamic_items(RatingButton, PageButton)


async def teardown(bot: Anime8Bot) -> None:
    bot.remove_dynamic_items(RatingButton, PageButton)
