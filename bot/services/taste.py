"""Taste: the /profile picture, "Taste match" and "Recommend for them".

The cogs hand over Discord ids and names; this service turns them into AniList accounts
(refusing with one sentence when someone has no link), fetches the lists through the shared
cache, and leaves the CPU work (the analysis, the drawing, the scoring) to threads.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterable
from dataclasses import dataclass

from bot.anilist import validate_username
from bot.errors import UserFacingError
from bot.services.profile_picture import draw_profile
from bot.services.recommendations import (
    LIST_DEADLINE_S,
    RecommendationResult,
    RecommendationService,
)
from bot.storage import Database, MediaStore, WriteGuard
from model.catalogue import media_title
from model.taste import Taste, TasteMatch, analyse_taste, scored_scores, taste_match

RECOMMEND_FOR_COUNT = 5
# Reasons are written to the person the picks are for; shown to someone else, "you" is them.
_SECOND_PERSON = ((re.compile(r"\byou are\b"), "they are"), (re.compile(r"\byou\b"), "they"))


@dataclass(frozen=True, slots=True)
class ProfileResult:
    username: str  # AniList's spelling
    taste: Taste
    png: bytes


@dataclass(frozen=True, slots=True)
class MatchResult:
    mine: str  # AniList's spelling of the caller's account
    theirs: str
    match: TasteMatch
    titles: dict[int, str]  # display titles of the titles the match lists


def kind_of(media_type: str) -> str:
    return "anime" if media_type == "ANIME" else "manga"


def profile_text(taste: Taste, media_type: str) -> str:
    """The /profile embed's text: the three strongest tastes in words and the share of the
    catalogue's most popular titles already seen."""
    kind = kind_of(media_type)
    strongest = _join(taste.strongest(3))
    if taste.lifts:
        first = f"**Strongest tastes:** {strongest}, in points above their own mean score."
    elif strongest:
        first = (
            "Too few of their scores lean one way to tell what lifts them; "
            f"**they watch most:** {strongest}."
        )
    else:
        first = "Nothing on this list is in my catalogue yet."
    if taste.popular_total == 0:
        return first
    share = taste.popular_seen / taste.popular_total
    return (
        f"{first}\nThey have seen **{taste.popular_seen:,}** of the {taste.popular_total:,} "
        f"most popular {kind} in my catalogue ({share:.0%})."
    )


def third_person(result: RecommendationResult) -> RecommendationResult:
    """The picks with their reasons addressed to someone looking at another's picks."""
    picks = []
    for pick in result.picks:
        reason = pick["reason"]
        for pattern, replacement in _SECOND_PERSON:
            reason = pattern.sub(replacement, reason)
        picks.append({**pick, "reason": reason})
    return RecommendationResult(result.username, picks, result.media)


def _join(parts: list[str]) -> str:
    if len(parts) <= 1:
        return "".join(parts)
    return f"{', '.join(parts[:-1])} and {parts[-1]}"


class TasteService:
    def __init__(
        self, db: Database, recommendations: RecommendationService, media: MediaStore
    ) -> None:
        self.db = db
        self.recommendations = recommendations
        self.lists = recommendations.lists
        self.media = media

    async def linked_account(self, discord_user_id: int, display_name: str) -> str:
        """The AniList account a member linked; UserFacingError naming them when none."""
        username = await self.db.linked_username(discord_user_id)
        if username is None:
            raise UserFacingError(
                f"{display_name} hasn't linked an AniList account, so I don't know their "
                "taste; they can link one with /link."
            )
        return username

    async def _entries(
        self, username: str, media_type: str, discord_ids: Iterable[int], guard: WriteGuard
    ) -> tuple[str, list[dict]]:
        """AniList's spelling of the name, and the list with these members' button ratings
        applied (a rating means seen, as in /recommend)."""
        user_list = await self.lists.get_list(
            username, media_type, deadline_s=LIST_DEADLINE_S, guard=guard
        )
        by_id = {e["mediaId"]: e for e in user_list.entries}
        for discord_id in discord_ids:
            for media_id, rating in (await self.db.ratings_of(discord_id, media_type)).items():
                by_id[media_id] = {
                    "mediaId": media_id,
                    "score": float(rating),
                    "status": "COMPLETED",
                }
        return user_list.username, list(by_id.values())

    async def profile(
        self, username: str, media_type: str, *, allow_adult: bool, guard: WriteGuard
    ) -> ProfileResult:
        """The taste picture of an AniList user's list (button ratings of the Discord members
        linked to it count too). Raises UserFacingError while warming up, for an unknown or
        private user, and when nothing on the list is in the catalogue."""
        validate_username(username)
        catalogue = self.recommendations.ready_model(media_type).catalogue
        linked = await self.db.discord_ids_linked_to(username)
        name, entries = await self._entries(username, media_type, linked, guard)

        def analyse_and_draw() -> tuple[Taste, bytes]:
            taste = analyse_taste(entries, catalogue, allow_adult=allow_adult)
            return taste, draw_profile(taste, name, media_type) if taste.titles else b""

        taste, png = await asyncio.to_thread(analyse_and_draw)
        if not taste.titles:
            raise UserFacingError(
                f"Nothing on {name}'s {kind_of(media_type)} list is in my catalogue yet, so "
                "there is no taste to picture; try the other type, or later."
            )
        return ProfileResult(name, taste, png)

    async def match(
        self,
        caller_id: int,
        target_id: int,
        target_name: str,
        *,
        media_type: str,
        allow_adult: bool,
        guard: WriteGuard,
    ) -> MatchResult:
        """How the caller's and the member's lists agree. Raises UserFacingError when either
        has no link, when the member is the caller, and for an unknown or private list."""
        if target_id == caller_id:
            raise UserFacingError("That's you! Pick someone else to compare your taste with.")
        mine = await self.db.linked_username(caller_id)
        if mine is None:
            raise UserFacingError(
                "Link your AniList account with /link first, so I have a list of yours to "
                "compare with theirs."
            )
        theirs = await self.linked_account(target_id, target_name)
        (my_name, my_entries), (their_name, their_entries) = await asyncio.gather(
            self._entries(mine, media_type, [caller_id], guard),
            self._entries(theirs, media_type, [target_id], guard),
        )
        shared = scored_scores(my_entries).keys() & scored_scores(their_entries).keys()
        media = await self.media.media_by_ids(shared)
        unnamed = {
            m for m in shared if m not in media or (media[m].get("isAdult") and not allow_adult)
        }
        result = await asyncio.to_thread(taste_match, my_entries, their_entries, unnamed=unnamed)
        listed = [t.media_id for t in (*result.agree, *result.disagree)]
        titles = {m: media_title(media[m]) for m in listed}
        return MatchResult(my_name, their_name, result, titles)

    async def recommend_for(
        self, target_id: int, target_name: str, *, allow_adult: bool
    ) -> RecommendationResult:
        """Picks from the member's linked account (and their button ratings), with reasons
        in the third person; not logged as shown to them, since they never saw them."""
        username = await self.linked_account(target_id, target_name)
        self.recommendations.validate_request(username, None, "ANIME")
        result = await self.recommendations.recommend(
            discord_user_id=target_id,
            username=username,
            media_type="ANIME",
            preferences=None,
            count=RECOMMEND_FOR_COUNT,
            allow_adult=allow_adult,
            guard=self.db.guard(target_id),
            log_shown=False,
        )
        return third_person(result)
