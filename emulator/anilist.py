"""A fake AniList GraphQL API on 127.0.0.1, for the tests and the benchmark.

    data = FakeData.generate(media_per_type=1500, seed=8, extra_users=60)
    async with FakeAniList(data, rate_limit=30, window_s=60, retry_after_s=60) as fake:
        fake.url                      # POST GraphQL here
        fake.script(Fault.rate_limited(3), Fault.server_error(), Fault.passes(), ...)
        fake.latency_s = 0.05         # added to every request
        fake.requests_total, fake.requests_by_operation, fake.rate_limited_sent, fake.request_log

Every query is parsed and validated with graphql-core against emulator/anilist_subset.graphql
(a subset of AniList's schema written for this fake) and executed against `data`, which is
generated in code from a seed. What AniList does that the fake copies:
- error bodies and statuses: unknown user (404 "User not found"), private user (404 "Private
  User"), invalid query (400 "Cannot query field \"x\" on type \"Y\"."), page depth over 5,000
  (400), complexity over 500 (400 "Max query complexity should be 500 but got N.");
- the API switched off (403, scripted) and its exact 429 body with `Retry-After`;
- `X-RateLimit-Limit` / `X-RateLimit-Remaining` on every answer that is not a 429;
- a rolling rate limit: more than `rate_limit` requests in `window_s` seconds earns a 429 and a
  `retry_after_s` timeout during which every request gets a 429 (AniList's one-minute timeout);
- MediaListCollection chunking (chunk, perChunk <= 500, hasNextChunk, 11,000 entries at most),
  custom lists with entries hidden from the status lists, scores in any ScoreFormat;
- Page(page, perPage <= 50) { pageInfo { hasNextPage } media(type, sort, isAdult, id_in, ...) }
  with aliases; `id_in` may list more than 50 ids, a page still holds at most 50.

Complexity formula (AniList counts requested fields per alias, not results): every field node of
the operation counts 1, fragments expanded where they are used, aliases each counted. E.g.
`{ a: Page { media { id } } b: Page { media { id } } }` costs 6.

Scripted faults are consumed one per request, before the rate limit is applied; a scripted fault
does not count against the rate limit.
"""

from __future__ import annotations

import asyncio
import json
import math
import random
import re
import time
from collections import Counter, deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import web
from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLSchema,
    InlineFragmentNode,
    OperationDefinitionNode,
    build_schema,
    execute,
    parse,
    validate,
)
from graphql.execution.values import get_argument_values

SCHEMA_PATH = Path(__file__).with_name("anilist_subset.graphql")
MAX_COMPLEXITY = 500
MAX_PAGE_DEPTH = 5000
MAX_PER_PAGE = 50
MAX_PER_CHUNK = 500
MAX_LIST_ENTRIES = 11_000

TOO_MANY_REQUESTS_BODY = (
    '{"data": null,"errors": [{"message": "Too Many Requests.","status": 429}]}'
)
DISABLED_BODY = json.dumps(
    {
        "errors": [
            {
                "message": "The AniList API has been temporarily disabled due to severe stability"
                " issues. We hope to have it back up soon.",
                "status": 403,
            }
        ],
        "data": None,
    },
    separators=(",", ":"),
)

GENRES = (
    "Action", "Adventure", "Comedy", "Drama", "Ecchi", "Fantasy", "Hentai", "Horror",
    "Mahou Shoujo", "Mecha", "Music", "Mystery", "Psychological", "Romance", "Sci-Fi",
    "Slice of Life", "Sports", "Supernatural", "Thriller",
)  # fmt: skip
TAG_CATEGORIES = {
    "Theme-Action": ("Martial Arts", "Swordplay", "Gunfights", "Super Power", "Battle Royale"),
    "Theme-Drama": ("Tragedy", "Coming of Age", "Rivalry", "Revenge", "Found Family"),
    "Setting-Scene": ("School", "Space", "Urban", "Rural", "Post-Apocalyptic", "Dungeon"),
    "Cast-Main Cast": ("Female Protagonist", "Male Protagonist", "Ensemble Cast", "Anti-Hero"),
    "Theme-Fantasy": ("Magic", "Isekai", "Dragons", "Mythology", "Gods"),
    "Theme-Sci-Fi": ("Robots", "Time Manipulation", "Cyberpunk", "Aliens", "Virtual World"),
    "Theme-Slice of Life": ("Iyashikei", "Food", "Cute Girls Doing Cute Things", "Family Life"),
    "Technical": ("Episodic", "Non-fiction", "Full CGI", "Anthology"),
    "Sexual Content": ("Nudity", "Large Breasts", "Sex"),
}
ADULT_TAGS = {"Nudity", "Sex"}
TAG_IDS = {name: i for i, name in enumerate(n for names in TAG_CATEGORIES.values() for n in names)}
ANIME_FORMATS = ("TV", "TV", "TV", "MOVIE", "OVA", "ONA", "SPECIAL", "TV_SHORT")
MANGA_FORMATS = ("MANGA", "MANGA", "MANGA", "NOVEL", "ONE_SHOT")
STATUSES = ("CURRENT", "PLANNING", "COMPLETED", "DROPPED", "PAUSED", "REPEATING")
STATUS_WEIGHTS = (10, 20, 55, 6, 6, 3)
SCORE_STEP = {"POINT_100": 1, "POINT_10_DECIMAL": 1, "POINT_10": 10, "POINT_5": 20, "POINT_3": 25}


# -- fixture data -------------------------------------------------------------------------


@dataclass
class FakeUser:
    id: int
    name: str
    score_format: str
    private_profile: bool = False
    private_lists: bool = False
    title_language: str = "ROMAJI"  # User.options.titleLanguage
    custom_lists: dict[str, tuple[str, ...]] = field(default_factory=dict)  # type -> names
    entries: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # type -> entries


@dataclass
class FakeData:
    """Titles and users; everything is derived from the seed, so two runs see the same data."""

    media: dict[int, dict[str, Any]]
    users: dict[str, FakeUser]  # lower-case name -> user

    @classmethod
    def generate(cls, media_per_type: int = 1500, seed: int = 8, extra_users: int = 60) -> FakeData:
        rng = random.Random(seed)
        media: dict[int, dict[str, Any]] = {}
        ids_by_type = {
            "ANIME": list(range(1, media_per_type + 1)),
            "MANGA": list(range(100_001, 100_001 + media_per_type)),
        }
        for media_type, ids in ids_by_type.items():
            for number, media_id in enumerate(ids, start=1):
                media[media_id] = _make_media(rng, media_id, media_type, number)
        _link_relations(rng, media, ids_by_type)
        _add_recommendations(rng, media, ids_by_type)
        data = cls(media, {})
        data._add_users(rng, ids_by_type, extra_users)
        return data

    def user(self, name: str) -> FakeUser | None:
        return self.users.get(name.lower())

    def ids(self, media_type: str, *, adult: bool | None = None) -> list[int]:
        return [
            m["id"]
            for m in self.media.values()
            if m["type"] == media_type and (adult is None or m["isAdult"] == adult)
        ]

    def _add_users(
        self, rng: random.Random, ids_by_type: dict[str, list[int]], extra_users: int
    ) -> None:
        def add(name: str, score_format: str, sizes: dict[str, int], **options: Any) -> FakeUser:
            user = FakeUser(len(self.users) + 1000, name, score_format, **options)
            for media_type, size in sizes.items():
                chosen = rng.sample(
                    ids_by_type[media_type], min(size, len(ids_by_type[media_type]))
                )
                user.entries[media_type] = [
                    self._make_entry(rng, user, media_id, position)
                    for position, media_id in enumerate(chosen)
                ]
            self.users[name.lower()] = user
            return user

        alice = add("Alice", "POINT_10_DECIMAL", {"ANIME": 40, "MANGA": 15})
        # Three entries only on a custom list (hidden from the status lists), two on both.
        _put_on_custom_list(alice, "ANIME", "Favourites", alice.entries["ANIME"][:5], hidden=3)
        bob = add("Bob", "POINT_100", {"ANIME": 25}, title_language="ENGLISH")
        _put_on_custom_list(bob, "ANIME", "Rewatch", bob.entries["ANIME"][:6], hidden=0)
        _put_on_custom_list(bob, "ANIME", "Top", bob.entries["ANIME"][3:9], hidden=2)
        add("HeavyWatcher", "POINT_5", {"ANIME": 1234})
        add("Secretive", "POINT_10", {"ANIME": 10}, private_profile=True, private_lists=True)
        # AniList's User and MediaListCollection may disagree about privacy.
        add("HalfHidden", "POINT_10", {"ANIME": 10}, private_lists=True)
        for number in range(1, extra_users + 1):
            add(f"user{number:02d}", "POINT_10", {"ANIME": 8, "MANGA": 4})

    def _make_entry(
        self, rng: random.Random, user: FakeUser, media_id: int, position: int
    ) -> dict[str, Any]:
        step = SCORE_STEP[user.score_format]
        scored = rng.random() < 0.8
        return {
            "id": user.id * 100_000 + position,
            "userId": user.id,
            "mediaId": media_id,
            "status": rng.choices(STATUSES, STATUS_WEIGHTS)[0],
            "score100": rng.randrange(step, 101, step) if scored else 0,
            "scoreFormat": user.score_format,
            "progress": rng.randint(0, 24),
            "repeat": 0,
            "hiddenFromStatusLists": False,
            "customLists": (),
            "updatedAt": 1_700_000_000 - position * 3600,
            "media": self.media[media_id],
        }


def _make_media(rng: random.Random, media_id: int, media_type: str, number: int) -> dict[str, Any]:
    adult = rng.random() < 0.05
    genres = rng.sample([g for g in GENRES if g != "Hentai"], rng.randint(1, 4))
    if adult:
        genres.append("Hentai")
    tags = []
    for rank_order, (category, name) in enumerate(
        rng.sample([(c, n) for c, names in TAG_CATEGORIES.items() for n in names], 6)
    ):
        tags.append(
            {
                "id": TAG_IDS[name],
                "name": name,
                "category": category,
                "rank": max(1, 95 - rank_order * 12 - rng.randint(0, 10)),
                "isMediaSpoiler": rng.random() < 0.1,
                "isAdult": name in ADULT_TAGS,
            }
        )
    year = rng.randint(1980, 2025)
    is_anime = media_type == "ANIME"
    title = f"{'Anime' if is_anime else 'Manga'} Title {number}"
    mean = rng.randint(40, 90)
    return {
        "id": media_id,
        "type": media_type,
        "format": rng.choice(ANIME_FORMATS if is_anime else MANGA_FORMATS),
        "status": "FINISHED" if year < 2024 else "RELEASING",
        "title": {
            "romaji": title,
            "english": f"{title} (EN)" if rng.random() < 0.7 else None,
            "native": f"タイトル{number}",
            "userPreferred": title,
        },
        # Every third title has an accented synonym, for title search (no rng draw: the rest
        # of the data stays as it was).
        "synonyms": [f"Série Numéro {number}"] if number % 3 == 0 else [],
        "description": f"The story of {title}.<br><i>Fake</i> data.",
        "startDate": {"year": year, "month": rng.randint(1, 12), "day": rng.randint(1, 28)},
        "season": rng.choice(("WINTER", "SPRING", "SUMMER", "FALL")) if is_anime else None,
        "seasonYear": year if is_anime else None,
        "episodes": rng.randint(1, 64) if is_anime else None,
        "chapters": None if is_anime else rng.randint(1, 300),
        "coverImage": {
            "extraLarge": f"https://img.example/cover/xl/{media_id}.jpg",
            "large": f"https://img.example/cover/l/{media_id}.jpg",
            "medium": f"https://img.example/cover/m/{media_id}.jpg",
            "color": f"#{rng.randrange(0x1000000):06x}",
        },
        "genres": genres,
        "averageScore": mean - rng.randint(0, 3),
        "meanScore": mean,
        "popularity": rng.randint(100, 400_000),
        "favourites": rng.randint(0, 20_000),
        "tags": tags,
        "isAdult": adult,
        "siteUrl": f"https://anilist.co/{media_type.lower()}/{media_id}",
        "_relations": [],
        "_recommendations": [],
    }


def _link_relations(
    rng: random.Random, media: dict[int, dict[str, Any]], ids_by_type: dict[str, list[int]]
) -> None:
    # Franchises: runs of consecutive ids linked as sequel/prequel chains.
    for ids in ids_by_type.values():
        for earlier, later in zip(ids, ids[1:], strict=False):
            if rng.random() < 0.25:
                media[earlier]["_relations"].append(("SEQUEL", later))
                media[later]["_relations"].append(("PREQUEL", earlier))
    for anime_id, manga_id in zip(
        ids_by_type["ANIME"][::9], ids_by_type["MANGA"][::9], strict=False
    ):
        media[anime_id]["_relations"].append(("ADAPTATION", manga_id))
        media[manga_id]["_relations"].append(("SOURCE", anime_id))


def _add_recommendations(
    rng: random.Random, media: dict[int, dict[str, Any]], ids_by_type: dict[str, list[int]]
) -> None:
    recommendation_id = 1
    for ids in ids_by_type.values():
        for media_id in ids:
            for target in rng.sample(ids, rng.randint(0, 12)):
                if target == media_id:
                    continue
                # AniList returns null for a recommended title that was deleted.
                kept = target if rng.random() > 0.05 else None
                media[media_id]["_recommendations"].append(
                    (recommendation_id, rng.randint(1, 400), kept)
                )
                recommendation_id += 1


def _put_on_custom_list(
    user: FakeUser, media_type: str, name: str, entries: list[dict[str, Any]], hidden: int
) -> None:
    user.custom_lists[media_type] = (*user.custom_lists.get(media_type, ()), name)
    for position, entry in enumerate(entries):
        entry["customLists"] = (*entry["customLists"], name)
        entry["hiddenFromStatusLists"] = entry["hiddenFromStatusLists"] or position < hidden


# -- GraphQL execution ----------------------------------------------------------------------


class FakeError(Exception):
    """An error AniList reports with this message and status."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


def convert_score(score100: float, score_format: str) -> float:
    if score_format == "POINT_100":
        return float(round(score100))
    if score_format == "POINT_10_DECIMAL":
        return round(score100 / 10, 1)
    if score_format == "POINT_10":
        return float(round(score100 / 10))
    if score_format == "POINT_5":
        return float(round(score100 / 20))
    if score100 == 0:
        return 0.0
    return 1.0 if score100 <= 35 else 2.0 if score100 <= 60 else 3.0


def build_fake_schema(data: FakeData) -> GraphQLSchema:
    schema = build_schema(SCHEMA_PATH.read_text())
    resolvers = _Resolvers(data, schema)
    query = schema.query_type
    query.fields["Page"].resolve = resolvers.page
    query.fields["MediaListCollection"].resolve = resolvers.media_list_collection
    query.fields["User"].resolve = resolvers.user
    schema.get_type("Page").fields["media"].resolve = lambda page, _info, **_args: page["_media"]
    schema.get_type("MediaList").fields["score"].resolve = _resolve_score
    media_type = schema.get_type("Media")
    media_type.fields["relations"].resolve = resolvers.relations
    media_type.fields["recommendations"].resolve = resolvers.recommendations
    return schema


def _resolve_score(entry: dict[str, Any], _info: Any, format: str | None = None) -> float:
    return convert_score(entry["score100"], format or entry["scoreFormat"])


class _Resolvers:
    def __init__(self, data: FakeData, schema: GraphQLSchema) -> None:
        self.data = data
        self.page_media_field = schema.get_type("Page").fields["media"]
        # Popularity order per type, computed once: most catalogue pages ask for it.
        self.by_popularity = sorted(data.media.values(), key=lambda m: (-m["popularity"], m["id"]))

    def page(self, _root: Any, info: Any, page: int | None = None, perPage: int | None = None):
        page = max(1, page or 1)
        per_page = max(1, min(perPage or MAX_PER_PAGE, MAX_PER_PAGE))
        if page * per_page > MAX_PAGE_DEPTH:
            raise FakeError(
                "Page depth exceeds maximum allowed for API requests (5000 entries)", 400
            )
        # pageInfo depends on the media filter, so read the media field's arguments here.
        media_args: dict[str, Any] = {}
        for node in info.field_nodes[0].selection_set.selections:
            if isinstance(node, FieldNode) and node.name.value == "media":
                media_args = get_argument_values(self.page_media_field, node, info.variable_values)
                break
        matches = self._find_media(**media_args)
        start = (page - 1) * per_page
        return {
            "_media": matches[start : start + per_page],
            "pageInfo": {
                "total": len(matches),
                "perPage": per_page,
                "currentPage": page,
                "lastPage": max(1, math.ceil(len(matches) / per_page)),
                "hasNextPage": len(matches) > start + per_page,
            },
        }

    def _find_media(
        self,
        id: int | None = None,
        type: str | None = None,
        isAdult: bool | None = None,
        id_in: list[int] | None = None,
        id_not_in: list[int] | None = None,
        genre_in: list[str] | None = None,
        tag_in: list[str] | None = None,
        sort: list[str] | None = None,
    ) -> list[dict[str, Any]]:
        sort_key = (sort or ["ID"])[0]
        if sort_key.startswith("POPULARITY"):
            candidates: Iterable[dict[str, Any]] = self.by_popularity
        else:
            candidates = sorted(self.data.media.values(), key=lambda m: m["id"])
        wanted = None if id_in is None else set(id_in)
        unwanted = set(id_not_in or ())
        found = [
            m
            for m in candidates
            if (id is None or m["id"] == id)
            and (type is None or m["type"] == type)
            and (isAdult is None or m["isAdult"] == isAdult)
            and (wanted is None or m["id"] in wanted)
            and m["id"] not in unwanted
            and (not genre_in or set(genre_in) & set(m["genres"]))
            and (not tag_in or set(tag_in) & {t["name"] for t in m["tags"]})
        ]
        if sort_key == "SCORE_DESC":
            found.sort(key=lambda m: -m["averageScore"])
        elif sort_key == "SCORE":
            found.sort(key=lambda m: m["averageScore"])
        if sort_key in ("POPULARITY", "ID_DESC"):
            found.reverse()
        return found

    def _visible_user(self, name: str | None, user_id: int | None, *, lists: bool) -> FakeUser:
        user = None
        if name is not None:
            user = self.data.user(name)
        elif user_id is not None:
            user = next((u for u in self.data.users.values() if u.id == user_id), None)
        if user is None:
            raise FakeError("User not found", 404)
        if user.private_lists if lists else user.private_profile:
            raise FakeError("Private User", 404)
        return user

    def user(self, _root: Any, _info: Any, id: int | None = None, name: str | None = None):
        user = self._visible_user(name, id, lists=False)
        return _user_dict(user)

    def media_list_collection(
        self,
        _root: Any,
        _info: Any,
        userId: int | None = None,
        userName: str | None = None,
        type: str | None = None,
        status_in: list[str] | None = None,
        chunk: int | None = None,
        perChunk: int | None = None,
        **_ignored: Any,  # e.g. forceSingleCompletedList: completed entries are one list here
    ) -> dict[str, Any]:
        user = self._visible_user(userName, userId, lists=True)
        media_type = type or "ANIME"
        entries = sorted(user.entries.get(media_type, ()), key=lambda e: -e["updatedAt"])
        entries = entries[:MAX_LIST_ENTRIES]
        if status_in:
            entries = [e for e in entries if e["status"] in status_in]
        has_next = False
        if chunk is not None:
            size = max(1, min(perChunk or MAX_PER_CHUNK, MAX_PER_CHUNK))
            start = (max(1, chunk) - 1) * size
            has_next = len(entries) > start + size
            entries = entries[start : start + size]
        groups = []
        for status in STATUSES:
            members = [
                e for e in entries if e["status"] == status and not e["hiddenFromStatusLists"]
            ]
            if members:
                groups.append(_group(status.title(), members, status=status, custom=False))
        for name in user.custom_lists.get(media_type, ()):
            members = [e for e in entries if name in e["customLists"]]
            if members:
                groups.append(_group(name, members, status=None, custom=True))
        return {"lists": groups, "user": _user_dict(user), "hasNextChunk": has_next}

    def relations(self, media: dict[str, Any], _info: Any) -> dict[str, Any]:
        return {
            "edges": [
                {"id": media["id"] * 1000 + i, "relationType": kind, "node": self.data.media[other]}
                for i, (kind, other) in enumerate(media["_relations"])
            ]
        }

    def recommendations(
        self,
        media: dict[str, Any],
        _info: Any,
        sort: list[str] | None = None,
        page: int | None = None,
        perPage: int | None = None,
    ) -> dict[str, Any]:
        recommendations = list(media["_recommendations"])
        if sort and sort[0].startswith("RATING"):
            recommendations.sort(key=lambda r: r[1], reverse=sort[0] == "RATING_DESC")
        size = max(1, min(perPage or 25, 25))
        start = (max(1, page or 1) - 1) * size
        return {
            "nodes": [
                {
                    "id": rid,
                    "rating": rating,
                    "mediaRecommendation": None if target is None else self.data.media[target],
                }
                for rid, rating, target in recommendations[start : start + size]
            ]
        }


def _user_dict(user: FakeUser) -> dict[str, Any]:
    return {
        "id": user.id,
        "name": user.name,
        "siteUrl": f"https://anilist.co/user/{user.name}",
        "options": {"titleLanguage": user.title_language},
        "mediaListOptions": {"scoreFormat": user.score_format},
    }


def _group(
    name: str, entries: list[dict[str, Any]], *, status: str | None, custom: bool
) -> dict[str, Any]:
    return {
        "name": name,
        "entries": entries,
        "isCustomList": custom,
        "isSplitCompletedList": False,
        "status": status,
    }


def query_complexity(document: DocumentNode, operation_name: str | None = None) -> int:
    """The formula in the module docstring: field nodes, fragments expanded, aliases counted."""
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    operation = next(
        (o for o in operations if o.name and o.name.value == operation_name), operations[0]
    )

    def count(selection_set: Any, depth: int) -> int:
        if selection_set is None or depth > 50:  # bounded even for cyclic fragments
            return 0
        total = 0
        for node in selection_set.selections:
            if isinstance(node, FieldNode):
                total += 1 + count(node.selection_set, depth + 1)
            elif isinstance(node, InlineFragmentNode):
                total += count(node.selection_set, depth + 1)
            elif isinstance(node, FragmentSpreadNode) and node.name.value in fragments:
                total += count(fragments[node.name.value].selection_set, depth + 1)
        return total

    return count(operation.selection_set, 0)


# -- the HTTP server ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Fault:
    """One scripted answer: kind is pass | rate_limited | server_error | disabled | malformed |
    slow (answer normally after `delay_s`)."""

    kind: str
    retry_after: float | None = None
    status: int = 500
    delay_s: float = 0.0

    @classmethod
    def passes(cls) -> Fault:
        return cls("pass")

    @classmethod
    def rate_limited(cls, retry_after: float | None = None) -> Fault:
        return cls("rate_limited", retry_after=retry_after)

    @classmethod
    def server_error(cls, status: int = 500) -> Fault:
        return cls("server_error", status=status)

    @classmethod
    def disabled(cls) -> Fault:
        return cls("disabled")

    @classmethod
    def malformed(cls) -> Fault:
        return cls("malformed")

    @classmethod
    def slow(cls, delay_s: float) -> Fault:
        return cls("slow", delay_s=delay_s)


class FakeAniList:
    def __init__(
        self,
        data: FakeData,
        *,
        rate_limit: int = 30,
        window_s: float = 60.0,
        retry_after_s: float = 60.0,
        latency_s: float = 0.0,
    ) -> None:
        self.data = data
        self.schema = build_fake_schema(data)
        # Validation outcome and complexity per (query text, operation name): clients send the
        # same few queries again and again, and validating one costs as much as running it.
        self._checked: dict[tuple[str, str | None], tuple[int, dict[str, Any]] | None] = {}
        self.rate_limit = rate_limit
        self.window_s = window_s
        self.retry_after_s = retry_after_s
        self.latency_s = latency_s
        self.requests_total = 0
        self.requests_by_operation: Counter[str] = Counter()
        self.rate_limited_sent = 0
        self.request_log: list[tuple[str, dict[str, Any]]] = []  # (operation, variables)
        self._faults: deque[Fault] = deque()
        # While set, every request gets this HTTP status (an outage), scripted faults or not.
        self.outage_status: int | None = None
        self._arrivals: deque[float] = deque()
        self._timeout_until = 0.0
        self._runner: web.AppRunner | None = None
        self.url = ""

    def script(self, *faults: Fault) -> None:
        self._faults.extend(faults)

    async def start(self) -> str:
        app = web.Application(client_max_size=8 * 1024 * 1024)
        app.router.add_post("/", self._handle)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        host, port = self._runner.addresses[0][:2]
        self.url = f"http://{host}:{port}/"
        return self.url

    async def close(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def __aenter__(self) -> FakeAniList:
        await self.start()
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self.close()

    async def _handle(self, request: web.Request) -> web.Response:
        self.requests_total += 1
        try:
            payload = await request.json()
            query = payload["query"]
            variables = payload.get("variables") or {}
            document = parse(query)
        except (ValueError, KeyError, TypeError, GraphQLError) as error:
            self.requests_by_operation["<unparsable>"] += 1
            return _json_response(400, {"data": None, "errors": [_error(str(error), 400)]})
        operation = payload.get("operationName") or _operation_name(document) or "<anonymous>"
        self.requests_by_operation[operation] += 1
        self.request_log.append((operation, variables))
        if self.latency_s:
            await asyncio.sleep(self.latency_s)
        if self.outage_status is not None:
            return web.Response(status=self.outage_status, text="<html>Service Unavailable</html>")
        fault = self._faults.popleft() if self._faults else None
        if fault is not None and fault.kind != "pass":
            answer = await self._fault_answer(fault)
            if answer is not None:
                return answer
        if self._over_limit():
            return self._too_many_requests(self._timeout_until - time.monotonic())
        status, body = self._execute(query, document, variables, payload.get("operationName"))
        return _json_response(status, body, self._limit_headers())

    async def _fault_answer(self, fault: Fault) -> web.Response | None:
        if fault.kind == "rate_limited":
            return self._too_many_requests(fault.retry_after)
        if fault.kind == "server_error":
            return web.Response(status=fault.status, text="<html>Internal Server Error</html>")
        if fault.kind == "disabled":
            return web.Response(status=403, text=DISABLED_BODY, content_type="application/json")
        if fault.kind == "malformed":
            return web.Response(status=200, text='{"data": {"Page', content_type="application/json")
        if fault.kind == "slow":
            await asyncio.sleep(fault.delay_s)
            return None
        raise ValueError(f"unknown fault {fault.kind!r}")

    def _over_limit(self) -> bool:
        now = time.monotonic()
        if now < self._timeout_until:
            return True
        while self._arrivals and self._arrivals[0] <= now - self.window_s:
            self._arrivals.popleft()
        if len(self._arrivals) >= self.rate_limit:
            self._timeout_until = now + self.retry_after_s
            return True
        self._arrivals.append(now)
        return False

    def _too_many_requests(self, retry_after: float | None) -> web.Response:
        self.rate_limited_sent += 1
        # AniList's 429 says nothing is left until the reset; the budget is back after it.
        headers = {"X-RateLimit-Limit": str(self.rate_limit), "X-RateLimit-Remaining": "0"}
        if retry_after is not None:
            headers["Retry-After"] = str(math.ceil(retry_after))
            headers["X-RateLimit-Reset"] = str(math.ceil(time.time() + retry_after))
        return web.Response(
            status=429,
            text=TOO_MANY_REQUESTS_BODY,
            content_type="application/json",
            headers=headers,
        )

    def _limit_headers(self) -> dict[str, str]:
        remaining = max(0, self.rate_limit - len(self._arrivals))
        return {"X-RateLimit-Limit": str(self.rate_limit), "X-RateLimit-Remaining": str(remaining)}

    def _execute(
        self,
        query: str,
        document: DocumentNode,
        variables: dict[str, Any],
        operation_name: str | None,
    ) -> tuple[int, dict[str, Any]]:
        key = (query, operation_name)
        if key not in self._checked:
            self._checked[key] = self._check(document, operation_name)
        refused = self._checked[key]
        if refused is not None:
            return refused
        result = execute(
            self.schema, document, variable_values=variables, operation_name=operation_name
        )
        if not result.errors:
            return 200, {"data": result.data}
        errors = []
        for error in result.errors:
            original = error.original_error
            status = original.status if isinstance(original, FakeError) else 500
            errors.append(_graphql_error(error, status))
        return errors[0]["status"], {"errors": errors, "data": result.data}

    def _check(
        self, document: DocumentNode, operation_name: str | None
    ) -> tuple[int, dict[str, Any]] | None:
        """The 400 answer AniList gives to an invalid or too complex query, else None."""
        problems = validate(self.schema, document)
        if problems:
            return 400, {"data": None, "errors": [_graphql_error(e, 400) for e in problems]}
        complexity = query_complexity(document, operation_name)
        if complexity > MAX_COMPLEXITY:
            message = f"Max query complexity should be {MAX_COMPLEXITY} but got {complexity}."
            return 400, {"data": None, "errors": [_error(message, 400)]}
        return None


def _operation_name(document: DocumentNode) -> str | None:
    for definition in document.definitions:
        if isinstance(definition, OperationDefinitionNode) and definition.name:
            return definition.name.value
    return None


def _error(message: str, status: int) -> dict[str, Any]:
    return {"message": message, "status": status}


def _graphql_error(error: GraphQLError, status: int) -> dict[str, Any]:
    # graphql-core quotes names with '...'; AniList's server quotes them with "...".
    message = re.sub(r"'([^']*)'", r'"\1"', error.message)
    body = _error(message, status)
    if error.locations:
        body["locations"] = [{"line": loc.line, "column": loc.column} for loc in error.locations]
    return body


def _json_response(
    status: int, body: dict[str, Any], headers: dict[str, str] | None = None
) -> web.Response:
    return web.Response(
        status=status,
        text=json.dumps(body, separators=(",", ":"), ensure_ascii=False),
        content_type="application/json",
        headers=headers,
    )
