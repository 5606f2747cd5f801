"""/similar's work: finding the title someone means, and the titles like it that are new to them.

Title search and the picks come from the model serving each type (model.title_search,
model.similar, prepared when the model is loaded); both run in a worker thread. An
autocomplete choice's value is ``id:<media id>``: it is checked against the catalogue like
anything else a forged interaction may send, and text that is not such a value is searched.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass

from bot.anilist import (
    MEDIA_TYPES,
    AniListPrivateUser,
    AniListRateLimited,
    AniListUnavailable,
    AniListUserNotFound,
)
from bot.errors import UserFacingError
from bot.services.list_backed import ListBackedService
from bot.services.recommendations import LIST_DEADLINE_S
from bot.storage import WriteGuard
from model import Recommender, SimilarResult
from model.title_search import TitleMatch, choice_name

log = logging.getLogger(__name__)

CHOICE_PREFIX = "id:"
MAX_CHOICES = 25  # Discord's limit on autocomplete choices
MAX_TITLE_TEXT = 100
_CHOICE_VALUE = re.compile(rf"{CHOICE_PREFIX}([0-9]{{1,12}})")
FRANCHISE_FIELD_ROOM = 1024  # an embed field's value
_LIST_FAILURES = (AniListUserNotFound, AniListPrivateUser, AniListUnavailable, AniListRateLimited)


class NoSuchTitle(UserFacingError):
    def __init__(self, text: str) -> None:
        shown = text if len(text) <= 60 else text[:60] + "…"
        super().__init__(
            f"I don't know a title matching “{shown}”; start typing and pick one of the "
            "suggestions."
        )


class AdultTitle(UserFacingError):
    def __init__(self) -> None:
        super().__init__(
            "That title is for adults (18+); ask for titles like it in an age-restricted channel."
        )


@dataclass(frozen=True, slots=True)
class Seed:
    """The title /similar was asked about, in the model serving its type."""

    media_type: str
    media_id: int
    model: Recommender


@dataclass(frozen=True, slots=True)
class SimilarAnswer:
    seed: Seed
    picks: list[dict]  # JSON-ready for the stored message; see _picks_json
    media: dict[int, dict]
    note: str | None  # for the caller alone: why their list could not be left out


class SimilarService(ListBackedService):
    def _models(self, media_type: str | None) -> list[tuple[str, Recommender]]:
        """The ready models of the asked type (both without one); raises the reason (warming
        up, no catalogue yet) when none is ready."""
        ready, reason = [], None
        for kind in MEDIA_TYPES if media_type is None else (media_type,):
            try:
                ready.append((kind, self.recommendations.ready_model(kind)))
            except UserFacingError as error:
                reason = reason or error
        if not ready and reason is not None:
            raise reason
        return ready

    async def suggest(
        self, text: str, media_type: str | None, *, allow_adult: bool
    ) -> list[tuple[str, str]]:
        """Autocomplete choices ``(name, value)`` for what is typed so far, at most
        MAX_CHOICES, names at most 100 characters; none while no model is ready."""
        try:
            models = self._models(media_type)
        except UserFacingError:
            return []
        text = text[:MAX_TITLE_TEXT]

        def search() -> list[tuple[str, str]]:
            found = _search(models, text, allow_adult)
            return [
                (
                    choice_name(
                        model.prepare_lookups()[0],
                        match,
                        model.catalogue,
                        kind.lower() if media_type is None else "",
                    ),
                    f"{CHOICE_PREFIX}{model.catalogue.ids[match.row]}",
                )
                for kind, model, match in found
            ]

        return await asyncio.to_thread(search)

    async def resolve(self, title: str, media_type: str | None, *, allow_adult: bool) -> Seed:
        """The title meant by an autocomplete value or by typed text (its best match).

        Raises NoSuchTitle when nothing matches, AdultTitle for an adult title unless
        ``allow_adult``, and the model's reason while none is ready."""
        models = self._models(media_type)
        if not title.strip():
            raise NoSuchTitle(title)
        if chosen := _CHOICE_VALUE.fullmatch(title.strip()):
            # A suggestion's id: the title decides the type (the type option may have changed
            # since the suggestion was picked). An id no catalogue holds is refused, not
            # searched as text.
            media_id = int(chosen.group(1))
            serving = self.recommendations.models.serving_model
            seed = next(
                (
                    Seed(kind, media_id, model)
                    for kind in MEDIA_TYPES
                    if (model := serving(kind)) is not None and media_id in model.catalogue.index
                ),
                None,
            )
            if seed is None:
                raise NoSuchTitle(title)
        else:
            text = title[:MAX_TITLE_TEXT]
            found = await asyncio.to_thread(_search, models, text, allow_adult, 1)
            if not found:
                # Only an adult title matches: refuse it as adult, not as unknown.
                adult = [] if allow_adult else await asyncio.to_thread(_search, models, text, True)
                raise AdultTitle() if adult else NoSuchTitle(title)
            kind, model, match = found[0]
            seed = Seed(kind, model.catalogue.ids[match.row], model)
        catalogue = seed.model.catalogue
        if not allow_adult and bool(catalogue.adult[catalogue.index[seed.media_id]]):
            raise AdultTitle()
        return seed

    async def similar(
        self,
        seed: Seed,
        *,
        discord_user_id: int,
        count: int,
        allow_adult: bool,
        guard: WriteGuard | None = None,
    ) -> SimilarAnswer:
        """Up to ``count`` titles like the seed, leaving out the caller's linked AniList list
        and the titles they rated with the buttons.

        When the linked list cannot be read (gone, private, AniList down) the picks still come,
        with a note saying so. Raises UserFacingError when nothing is left to show.
        """
        entries: dict[int, dict] = {}
        note = None
        username = await self.db.linked_username(discord_user_id)
        if username is not None:
            try:
                user_list = await self.lists.get_list(
                    username, seed.media_type, deadline_s=LIST_DEADLINE_S, guard=guard
                )
                entries = {e["mediaId"]: e for e in user_list.entries}
            except _LIST_FAILURES as error:
                log.info("/similar without %s's list: %s", username, error.user_message)
                note = (
                    "I couldn't read your linked AniList list just now, so some of these may "
                    f"already be on it. ({error.user_message})"
                )
        ratings = await self.db.ratings_of(discord_user_id, seed.media_type)
        for media_id, rating in ratings.items():
            entries[media_id] = {"mediaId": media_id, "score": float(rating), "status": "COMPLETED"}
        found = await asyncio.to_thread(
            seed.model.similar,
            seed.media_id,
            list(entries.values()),
            k=count,
            allow_adult=allow_adult,
        )
        if not found.picks:
            raise UserFacingError(
                f"I found nothing like {seed.model.catalogue.titles[_row(seed)]} that is new to "
                "you; try another title."
            )
        media = await self.media.media_by_ids([p.media_id for p in found.picks])
        return SimilarAnswer(seed, _picks_json(seed, found), media, note)


def _row(seed: Seed) -> int:
    return seed.model.catalogue.index[seed.media_id]


def _search(
    models: Sequence[tuple[str, Recommender]],
    text: str,
    allow_adult: bool,
    limit: int = MAX_CHOICES,
) -> list[tuple[str, Recommender, TitleMatch]]:
    """The best matches over every model, best first."""
    found = [
        (kind, model, match)
        for kind, model in models
        for match in model.find_titles(text, limit=limit, allow_adult=allow_adult)
    ]
    found.sort(key=lambda hit: -hit[2].score)
    return found[:limit]


def franchise_line(seed: Seed, franchise: Sequence[int], room: int = FRANCHISE_FIELD_ROOM) -> str:
    """The seed's other franchise entries as one line, "A, B, C and 4 more", within ``room``
    characters."""
    titles = [seed.model.catalogue.titles[seed.model.catalogue.index[m]] for m in franchise]
    for shown in range(len(titles), 0, -1):
        rest = len(titles) - shown
        line = ", ".join(titles[:shown]) + (f" and {rest} more" if rest else "")
        if len(line) <= room:
            return line
    return f"{len(titles)} titles"


def _picks_json(seed: Seed, found: SimilarResult) -> list[dict]:
    """The picks as the stored message keeps them, read by cogs/ui/similar_page: ``score``
    (the caller's predicted rating, 0 without a list) and ``reason`` as /recommend's,
    ``similar_to`` (the seed's media id), ``personal`` (whether ``score`` is a prediction) and,
    on the first pick, ``franchise``: the seed's other franchise entries as one line."""
    picks = []
    for position, pick in enumerate(found.picks):
        item = {
            "media_id": pick.media_id,
            "score": pick.rating if pick.rating is not None else 0.0,
            "reason": pick.reason,
            "similar_to": seed.media_id,
            "personal": pick.rating is not None,
        }
        if position == 0 and found.franchise:
            item["franchise"] = franchise_line(seed, found.franchise)
        picks.append(item)
    return picks
