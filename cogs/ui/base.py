"""The base of every persistent button and select: its id carries what it acts on, and every
failure, expected or not, becomes an ephemeral reply.

discord.py drops a click silently when ``from_custom_id`` raises, so subclasses build
themselves from the raw id there and validate it in :meth:`Anime8Item.act`, where a
refusal reaches the person who clicked. A select's chosen values arrive as the person's (or a
forger's) client sent them: validate them in ``act`` too.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any, TypeVar, cast

import discord

from bot.error_handler import reply_with_error
from bot.ops.interactions import begin, finish

if TYPE_CHECKING:
    from bot.core import Anime8Bot


# DynamicItem insists on a template; the base's never matches, so it answers no click itself.
NEVER = r"(?!)"
ItemT = TypeVar("ItemT", bound=discord.ui.Item[Any], covariant=True)


class Anime8Item(discord.ui.DynamicItem[ItemT], template=NEVER):
    """A DynamicItem; subclasses pass ``template=`` and implement :meth:`from_raw` and
    :meth:`act`."""

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any], match: re.Match[str]
    ) -> Anime8Item[ItemT]:
        return cls.from_raw(getattr(item, "custom_id", None) or "", match)

    @classmethod
    def from_raw(cls, custom_id: str, match: re.Match[str]) -> Anime8Item[ItemT]:
        """The item for a clicked id; must not raise (validate in :meth:`act`)."""
        raise NotImplementedError

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        # The click's log lines carry its id from here; it is timed as "button:<class>".
        begin(interaction, f"button:{type(self).__name__}")
        try:
            await self.act(interaction, cast("Anime8Bot", interaction.client))
        except Exception as error:  # every failure, expected or not, becomes a reply
            await reply_with_error(interaction, error)
        finally:
            finish(interaction)

    async def act(self, interaction: discord.Interaction[Any], bot: Anime8Bot) -> None:
        """What the click does; raise UserFacingError to refuse with a sentence."""
        raise NotImplementedError


class Anime8Button(Anime8Item[discord.ui.Button[Any]], template=NEVER):
    """A persistent button."""


class Anime8Select(Anime8Item[discord.ui.Select[Any]], template=NEVER):
    """A persistent string select; ``self.item.values`` holds what was chosen."""
