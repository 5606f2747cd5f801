"""What a /watchparty page adds to a pick's embed, and its "Start a poll" button.

A watch-party message is stored like a /recommend one, its picks carrying `members` and
`planned_by` as well (bot/watchparty.py), so the rating and page buttons of cogs/ui/buttons
work unchanged and render_page calls :func:`decorate_group_page` for such picks. The poll
button is a DynamicItem like them: it works on old messages and after a restart.
"""

from __future__ import annotations

import datetime
import logging
import re
from typing import TYPE_CHECKING, Any

import discord

from bot.errors import UserFacingError
from cogs.ui.base import Anime8Button
from cogs.ui.pick_embed import display_title

if TYPE_CHECKING:
    from bot.core import Anime8Bot

log = logging.getLogger(__name__)

POLL_PREFIX = "anime8:poll:"
POLL_HOURS = 24
MAX_POLL_ANSWER = 55  # Discord's limit on an answer's text
_REQUESTER = re.compile(r"[0-9]{1,20}")
SINGLE_PICK_FIELD = "Predicted for you"  # the field pick_embed gives a single user's pick


def decorate_group_page(
    embed: discord.Embed, view: discord.ui.View, requester_id: int, pick: dict, total: int
) -> None:
    """Turn a single-user pick page into a watch-party page: each member's predicted score in
    place of "Predicted for you", whose PLANNING list holds the title, and (with two picks or
    more) the poll button."""
    scores = "\n".join(f"{name}: {score:.1f}/10" for name, score in pick["members"])
    for index, shown in enumerate(embed.fields):
        if shown.name == SINGLE_PICK_FIELD:
            embed.set_field_at(index, name="Predicted for each of you", value=scores[:1024])
            break
    else:
        embed.insert_field_at(0, name="Predicted for each of you", value=scores[:1024])
    if planned := pick.get("planned_by"):
        embed.add_field(
            name="Already planned by",
            value=", ".join(planned)[:1024] + " (on their planning list)",
            inline=False,
        )
    if total > 1:
        view.add_item(PollButton(requester_id))


class PollButton(Anime8Button, template=rf"{POLL_PREFIX}(?P<args>.*)"):
    """`anime8:poll:<requester_id>` — posts a 24-hour poll of the message's picks."""

    def __init__(self, requester_id: int, *, raw: str = "") -> None:
        super().__init__(
            discord.ui.Button(
                label="Start a poll",
                style=discord.ButtonStyle.success,
                custom_id=raw or f"{POLL_PREFIX}{requester_id}",
                row=3,
            )
        )

    @classmethod
    def from_raw(cls, custom_id: str, match: re.Match[str]) -> PollButton:
        return cls(0, raw=custom_id)

    async def act(self, interaction: discord.Interaction[Any], bot: Anime8Bot) -> None:
        custom_id = self.custom_id
        requester = custom_id[len(POLL_PREFIX) :]
        if len(custom_id) > 100 or not _REQUESTER.fullmatch(requester):
            raise UserFacingError("That button isn't one of mine or is damaged.")
        requester_id = int(requester)
        if interaction.user.id != requester_id:
            raise UserFacingError(
                "Only the person who asked for these picks can start a poll on them; "
                "use /watchparty to plan one of your own."
            )
        if interaction.guild_id is not None and not interaction.app_permissions.send_polls:
            raise _NoPollPermission()
        # Acknowledge at once without changing the message; the poll follows.
        await interaction.response.defer()
        poll = await _poll_of(interaction, requester_id)
        try:
            await interaction.followup.send(poll=poll)
        except discord.Forbidden:
            raise _NoPollPermission() from None


class _NoPollPermission(UserFacingError):
    def __init__(self) -> None:
        super().__init__(
            "I can't start a poll here: I need the Send Polls permission in this channel. "
            "A server admin can grant it, or you can vote on the picks some other way."
        )


async def _poll_of(interaction: discord.Interaction[Anime8Bot], requester_id: int) -> discord.Poll:
    """The poll of the picks the clicked message stored (refuses when they are gone)."""
    bot = interaction.client
    origin = interaction.message.interaction_metadata if interaction.message else None
    stored = None if origin is None else await bot.db.recommendation_message(origin.id)
    if stored is None or stored[0] != requester_id:
        raise UserFacingError(
            "These picks have expired, so I can't put them to a vote; use /watchparty for "
            "fresh ones."
        )
    media_type, picks = stored[1], stored[2]
    if len(picks) < 2:
        raise UserFacingError("There is only one pick, so there is nothing to vote on.")
    media = await bot.media_store.media_by_ids([p["media_id"] for p in picks])
    language = bot.member_settings.get(requester_id).display_language
    verb = "read" if media_type == "MANGA" else "watch"
    poll = discord.Poll(
        question=f"What should we {verb} together?",
        duration=datetime.timedelta(hours=POLL_HOURS),
    )
    for pick in picks:
        title = display_title(media.get(pick["media_id"], {"id": pick["media_id"]}), language)
        if len(title) > MAX_POLL_ANSWER:
            title = title[: MAX_POLL_ANSWER - 1] + "…"
        poll.add_answer(text=title)
    return poll
