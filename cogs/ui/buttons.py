"""Buttons under a recommendation: rating 0–10 and paging.

Both are DynamicItems whose custom_id carries what they act on, so they work for anyone, on
old messages and after a restart. The templates deliberately match anything after our prefix:
a forged or malformed id must get a polite refusal, not a silent "interaction failed".

A rating counts only for a title the message showed: one of the picks stored for it. Once
retention has pruned those picks, the message's own rating buttons decide instead (Discord
sends the message's components with the click, as the bot sent them).

Before a click is acknowledged it reads two rows by primary key in one query, on the
database's read-only connection (which never waits for a write), and commits its own row in
one statement; the clicker's linked account comes from memory. Each trip to a database thread
waits its turn on the event loop, which a burst of clicks keeps busy.
"""

from __future__ import annotations

import logging
import re
from typing import TYPE_CHECKING, Any

import discord

from bot.errors import UserFacingError
from bot.storage import DEFAULT_SETTINGS, MemberSettings
from cogs.ui.base import Anime8Button
from cogs.ui.group_page import decorate_group_page
from cogs.ui.pick_embed import allows_adult, display_title, pick_embed
from cogs.ui.similar_page import decorate_similar_page

if TYPE_CHECKING:
    from bot.core import Anime8Bot

log = logging.getLogger(__name__)

RATING_PREFIX = "anime8:rate:"
PAGE_PREFIX = "anime8:page:"
RATINGS = range(11)
MAX_CUSTOM_ID = 100
_DIGITS = re.compile(r"[0-9]{1,20}")


class InvalidButton(UserFacingError):
    def __init__(self) -> None:
        super().__init__("That button isn't one of mine or is damaged; nothing was saved.")


class NotShownHere(UserFacingError):
    def __init__(self) -> None:
        super().__init__("That title isn't one this message recommended; nothing was saved.")


def _parse_ints(args: str, count: int, custom_id: str) -> list[int]:
    parts = args.split(":")
    if len(custom_id) > MAX_CUSTOM_ID or len(parts) != count:
        raise InvalidButton()
    if not all(_DIGITS.fullmatch(p) for p in parts):
        raise InvalidButton()
    return [int(p) for p in parts]


class RatingButton(Anime8Button, template=rf"{RATING_PREFIX}(?P<args>.*)"):
    """`anime8:rate:<media_id>:<rating>` — stores the clicker's rating of that title."""

    def __init__(
        self, media_id: int, rating: int, *, row: int | None = None, raw: str = ""
    ) -> None:
        super().__init__(
            discord.ui.Button(
                label=str(rating),
                style=discord.ButtonStyle.secondary,
                custom_id=raw or f"{RATING_PREFIX}{media_id}:{rating}",
                row=row,
            )
        )
        self.media_id = media_id
        self.rating = rating

    @classmethod
    def from_raw(cls, custom_id: str, match: re.Match[str]) -> RatingButton:
        return cls(-1, -1, raw=custom_id)

    async def act(self, interaction: discord.Interaction[Any], bot: Anime8Bot) -> None:
        custom_id = self.custom_id
        media_id, rating = _parse_ints(custom_id[len(RATING_PREFIX) :], 2, custom_id)
        if rating not in RATINGS:
            raise InvalidButton()
        message, me = interaction.message, bot.user
        if message is None or me is None or message.author.id != me.id:
            raise NotShownHere()
        origin = message.interaction_metadata
        picks, media = await bot.db.rating_target(origin.id if origin else None, media_id)
        if media_id not in _titles_shown(message, picks):
            raise NotShownHere()
        if media is None:
            raise UserFacingError("I don't know that title any more; nothing was saved.")
        username = await bot.db.linked_username(interaction.user.id)
        await bot.db.save_rating(
            interaction.user.id, media_id, media["type"], rating, anilist_username=username
        )
        language = bot.member_settings.get(interaction.user.id).display_language
        await interaction.response.send_message(
            f"Saved: {rating}/10 for {display_title(media, language)}", ephemeral=True
        )


class PageButton(Anime8Button, template=rf"{PAGE_PREFIX}(?P<args>.*)"):
    """`anime8:page:<requester_id>:<target_index>:<0|1>` — shows another pick of the message.

    The trailing direction keeps ◀ and ▶ distinct when both lead to the same page.
    """

    def __init__(self, requester_id: int, target: int, forward: bool, *, raw: str = "") -> None:
        super().__init__(
            discord.ui.Button(
                label="▶" if forward else "◀",
                style=discord.ButtonStyle.primary,
                custom_id=raw or f"{PAGE_PREFIX}{requester_id}:{target}:{int(forward)}",
                row=3,
            )
        )

    @classmethod
    def from_raw(cls, custom_id: str, match: re.Match[str]) -> PageButton:
        return cls(0, 0, False, raw=custom_id)

    async def act(self, interaction: discord.Interaction[Any], bot: Anime8Bot) -> None:
        custom_id = self.custom_id
        requester_id, target, _ = _parse_ints(custom_id[len(PAGE_PREFIX) :], 3, custom_id)
        if interaction.user.id != requester_id:
            raise UserFacingError(
                "Only the person who asked can turn these pages; "
                "use /recommend for picks of your own."
            )
        stored = await _stored_picks(interaction, bot)
        if stored is None or stored[0] != requester_id or not 0 <= target < len(stored[2]):
            raise UserFacingError(
                "These recommendations have expired; use /recommend for fresh ones "
                "(the rating buttons still work)."
            )
        picks = stored[2]
        media = await bot.media_store.media_by_ids([p["media_id"] for p in picks])
        embed, view = render_page(
            requester_id,
            picks,
            media,
            target,
            allow_adult=allows_adult(interaction),
            member=bot.member_settings.get(requester_id),
        )
        await interaction.response.edit_message(embed=embed, view=view)


async def _stored_picks(
    interaction: discord.Interaction[Any], bot: Anime8Bot
) -> tuple[int, str, list[dict]] | None:
    """(requester_id, media_type, picks) stored for the clicked message, if any."""
    origin = interaction.message.interaction_metadata if interaction.message else None
    return None if origin is None else await bot.db.recommendation_message(origin.id)


def _titles_shown(message: discord.Message, picks: list[dict] | None) -> set[int]:
    """The media ids a recommendation message of ours showed: its stored `picks`, or once
    those are pruned (None) its rating buttons (see the module docstring)."""
    if picks is not None:
        return {pick["media_id"] for pick in picks}
    shown: set[int] = set()
    for row in message.components:
        for child in getattr(row, "children", ()):
            custom_id = getattr(child, "custom_id", None) or ""
            media_id = custom_id[len(RATING_PREFIX) :].split(":")[0]
            if custom_id.startswith(RATING_PREFIX) and _DIGITS.fullmatch(media_id):
                shown.add(int(media_id))
    return shown


def render_page(
    requester_id: int,
    picks: list[dict],
    media: dict[int, dict],
    index: int,
    *,
    allow_adult: bool,
    member: MemberSettings = DEFAULT_SETTINGS,
) -> tuple[discord.Embed, discord.ui.View]:
    """The embed and buttons for pick `index` of a stored recommendation message, shown as
    `member` (the requester) set titles and spoiler tags with /settings."""
    pick = picks[index]
    item = media.get(pick["media_id"], {"id": pick["media_id"]})
    embed = pick_embed(
        item,
        pick["score"],
        pick["reason"],
        index,
        len(picks),
        allow_adult=allow_adult,
        language=member.display_language,
        spoiler_tags=member.spoiler_tags,
    )
    view = discord.ui.View(timeout=None)
    for rating in RATINGS:
        view.add_item(RatingButton(pick["media_id"], rating, row=rating // 5))
    if len(picks) > 1:
        view.add_item(PageButton(requester_id, (index - 1) % len(picks), forward=False))
        view.add_item(PageButton(requester_id, (index + 1) % len(picks), forward=True))
    if for_whom := pick.get("predicted_for"):  # picks asked for on someone else's behalf
        predicted = embed.fields[0]
        embed.set_field_at(0, name=f"Predicted for {for_whom}"[:256], value=predicted.value)
    if "members" in pick:  # a /watchparty pick
        decorate_group_page(embed, view, requester_id, pick, len(picks))
    if "similar_to" in pick:  # a /similar pick
        decorate_similar_page(embed, pick)
    return embed, view
