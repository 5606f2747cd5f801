"""Watch parties: who is in the group, their lists and ratings, and picks that suit them all.

The cog hands over what the interaction said (typed usernames, Discord members, the caller);
this service turns it into AniList accounts, refusing with one sentence that names whoever is
missing, fetches every list at once and asks model.group for the picks. Everything it writes
(the stored message behind the page and poll buttons) goes through the caller's WriteGuard, as
/recommend's does.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from bot.anilist import AniListPrivateUser, AniListUserNotFound, validate_username
from bot.anilist.user_lists import UserList
from bot.errors import UserFacingError
from bot.services.list_backed import ListBackedService
from bot.services.recommendations import LIST_DEADLINE_S
from bot.storage import WriteGuard
from model.group import GroupPick, recommend_for_group

MAX_USERNAMES = 8
MIN_PEOPLE = 2
_SEPARATORS = re.compile(r"[\s,]+")


@dataclass
class PartyMember:
    """One AniList account of the group and the Discord users whose button ratings count."""

    username: str
    discord_ids: set[int] = field(default_factory=set)


@dataclass(frozen=True, slots=True)
class WatchPartyResult:
    members: list[str]  # AniList's spelling, in the order the picks' scores follow
    picks: list[dict]  # JSON-ready for the stored message; see _pick_json
    media: dict[int, dict]


def parse_usernames(text: str | None) -> list[str]:
    """The AniList usernames in ``text`` (commas and/or spaces between them), in order.

    Raises UserFacingError naming a word that cannot be an AniList username, or when there are
    more than MAX_USERNAMES.
    """
    names = [part for part in _SEPARATORS.split(text or "") if part]
    for name in names:
        try:
            validate_username(name)
        except UserFacingError:
            shown = name if len(name) <= 40 else name[:40] + "…"
            raise UserFacingError(
                f"“{shown}” isn't an AniList username: they are 2 to 20 letters and digits, "
                "separated by commas or spaces."
            ) from None
    if len(names) > MAX_USERNAMES:
        raise UserFacingError(
            f"A watch party takes at most {MAX_USERNAMES} usernames; you gave {len(names)}."
        )
    return names


def _join(names: Sequence[str]) -> str:
    """'A', 'A and B', 'A, B and C'."""
    if len(names) <= 1:
        return "".join(names)
    return f"{', '.join(names[:-1])} and {names[-1]}"


class WatchPartyService(ListBackedService):
    async def gather_members(
        self,
        *,
        caller_id: int,
        usernames: Sequence[str],
        discord_members: Sequence[tuple[int, str]],
    ) -> list[PartyMember]:
        """The group: typed usernames, then each Discord member's linked account, then the
        caller's link if any; one account named twice counts once.

        ``discord_members`` are (user id, display name). Raises UserFacingError naming every
        Discord member without a link, or when fewer than MIN_PEOPLE accounts remain.
        """
        members: dict[str, PartyMember] = {}

        def add(username: str, discord_id: int | None = None) -> None:
            member = members.setdefault(username.lower(), PartyMember(username))
            if discord_id is not None:
                member.discord_ids.add(discord_id)

        for name in usernames:
            add(name)
        unlinked = []
        for user_id, display in discord_members:
            linked = await self.db.linked_username(user_id)
            if linked is None:
                if user_id != caller_id and display not in unlinked:
                    unlinked.append(display)
                continue
            add(linked, user_id)
        if unlinked:
            verb = "hasn't" if len(unlinked) == 1 else "haven't"
            raise UserFacingError(
                f"{_join(unlinked)} {verb} linked an AniList account: they can use /link, or "
                "you can put their AniList username in `usernames:`."
            )
        caller = await self.db.linked_username(caller_id)
        if caller is not None:
            add(caller, caller_id)
        if len(members) < MIN_PEOPLE:
            who = f"only {next(iter(members.values())).username}" if members else "nobody yet"
            raise UserFacingError(
                f"A watch party needs at least two people, and I have {who}. Add AniList "
                "usernames in `usernames:` or Discord members with `member1`…`member5` "
                "(linked with /link); your own linked account joins by itself."
            )
        return list(members.values())

    async def recommend(
        self,
        members: Sequence[PartyMember],
        *,
        media_type: str,
        count: int,
        allow_adult: bool,
        guard: WriteGuard | None = None,
    ) -> WatchPartyResult:
        """Picks new to every member that none is predicted to dislike (model.group).

        Raises UserFacingError while the model warms up, naming every unknown or private
        member, and when nothing suits the group.
        """
        # Warming up, or no catalogue yet: say so before asking AniList for anything.
        self.recommendations.validate_request(None, None, media_type)
        results = await asyncio.gather(
            *(
                self.lists.get_list(m.username, media_type, deadline_s=LIST_DEADLINE_S, guard=guard)
                for m in members
            ),
            return_exceptions=True,
        )
        _raise_for_missing(members, results)
        lists: list[UserList] = []
        for result in results:
            if isinstance(result, BaseException):
                raise result
            lists.append(result)
        names = [r.username for r in lists]
        entries = []
        for member, user_list in zip(members, lists, strict=True):
            entries.append(await self._entries_with_ratings(member, user_list.entries, media_type))
        model = self.recommendations.ready_model(media_type)
        picks = await asyncio.to_thread(
            recommend_for_group, model, entries, k=count, allow_adult=allow_adult
        )
        if not picks:
            raise UserFacingError(
                "I found nothing that is new to all of you and that nobody is predicted to "
                "dislike; try a smaller group or the other type."
            )
        media = await self.media.media_by_ids([p.media_id for p in picks])
        return WatchPartyResult(names, [_pick_json(p, names) for p in picks], media)

    async def _entries_with_ratings(
        self, member: PartyMember, entries: list[dict], media_type: str
    ) -> list[dict]:
        """The member's list with their button ratings applied (a rating means seen)."""
        by_id = {e["mediaId"]: e for e in entries}
        rater_ids = member.discord_ids | set(await self.db.discord_ids_linked_to(member.username))
        for discord_id in sorted(rater_ids):
            for media_id, rating in (await self.db.ratings_of(discord_id, media_type)).items():
                by_id[media_id] = {
                    "mediaId": media_id,
                    "score": float(rating),
                    "status": "COMPLETED",
                }
        return list(by_id.values())


def _raise_for_missing(members: Sequence[PartyMember], results: Sequence[object]) -> None:
    """One sentence naming every member AniList does not know or does not show us."""
    unknown = [
        m.username
        for m, r in zip(members, results, strict=True)
        if isinstance(r, AniListUserNotFound)
    ]
    private = [
        m.username
        for m, r in zip(members, results, strict=True)
        if isinstance(r, AniListPrivateUser)
    ]
    listed = _join([f"{name}'s" for name in private])
    lists = "list is" if len(private) == 1 else "lists are"
    if unknown and private:
        raise UserFacingError(
            f"There is no AniList user called {_join(unknown)}, and {listed} AniList {lists} "
            "private; check the spelling, or leave them out."
        )
    if unknown:
        raise UserFacingError(
            f"There is no AniList user called {_join(unknown)}; check the spelling, or leave "
            f"{'that name' if len(unknown) == 1 else 'those names'} out."
        )
    if private:
        raise UserFacingError(
            f"{listed} AniList {lists} private, so I can't read "
            f"{'them' if len(private) > 1 else 'it'}; leave "
            f"{'them' if len(private) > 1 else 'that member'} out, or ask for the list to be "
            "made public."
        )


def group_reason(suited: Sequence[str], names: Sequence[str]) -> str:
    """The sentence under a pick, naming the members it suits (best suited first)."""
    if len(suited) == len(names):
        return f"Suits all of you ({_join(suited)}), and nobody is predicted to dislike it."
    return f"Suits {_join(suited)} best, and nobody is predicted to dislike it."


def _pick_json(pick: GroupPick, names: Sequence[str]) -> dict:
    """A pick as the stored message keeps it: `score` (the lowest member's, so the rating and
    page buttons read it as /recommend's), `reason`, `members` [[name, score]...] and
    `planned_by` [name...]; cogs/ui/group_page renders the last two."""
    return {
        "media_id": pick.media_id,
        "score": min(pick.ratings),
        "reason": group_reason([names[i] for i in pick.suits], names),
        "members": [[name, score] for name, score in zip(names, pick.ratings, strict=True)],
        "planned_by": [names[i] for i in pick.planned_by],
    }
