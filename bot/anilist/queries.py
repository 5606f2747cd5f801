"""AniList's vocabulary and our queries: media types, usernames, and selections built from data
(so callers can compute a query's complexity before sending it)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from bot.anilist.errors import InvalidUsername

MAX_COMPLEXITY = 500
MAX_PAGE_DEPTH = 5000
MAX_PER_PAGE = 50
# AniList usernames: ASCII letters and digits only (checked before any request is made).
USERNAME_RE = re.compile(r"[A-Za-z0-9]{2,20}")
# AniList's MediaType values, the two kinds of title the bot recommends.
MEDIA_TYPES = ("ANIME", "MANGA")


def validate_username(name: str) -> str:
    """The name, stripped; InvalidUsername (before any request) when it cannot be one."""
    name = name.strip()
    if not USERNAME_RE.fullmatch(name):
        raise InvalidUsername()
    return name


@dataclass(frozen=True, slots=True)
class Field:
    """One field of a selection: `name` may carry arguments, e.g. "score(format: POINT_100)"."""

    name: str
    children: tuple[Field, ...] = ()


def fields(*names: str | Field) -> tuple[Field, ...]:
    return tuple(n if isinstance(n, Field) else Field(n) for n in names)


def render(selection: Iterable[Field]) -> str:
    parts = []
    for field in selection:
        if field.children:
            parts.append(f"{field.name} {{ {render(field.children)} }}")
        else:
            parts.append(field.name)
    return " ".join(parts)


def count_fields(selection: Iterable[Field]) -> int:
    """AniList's query complexity of a selection: every requested field counts once."""
    return sum(1 + count_fields(field.children) for field in selection)


# What the recommender needs of a title, on users' lists and in the catalogue alike.
MEDIA_FIELDS = fields(
    "id",
    "type",
    "format",
    Field("title", fields("romaji", "english", "native", "userPreferred")),
    "genres",
    Field("tags", fields("name", "rank", "category", "isAdult", "isMediaSpoiler")),
    "isAdult",
    "popularity",
    "meanScore",
    "averageScore",
    "episodes",
    "chapters",
    Field("startDate", fields("year", "month", "day")),
    "seasonYear",
    Field(
        "relations",
        fields(Field("edges", fields("relationType", Field("node", fields("id", "type"))))),
    ),
    Field("coverImage", fields("extraLarge", "large", "color")),
    "siteUrl",
)

# A user's title language is in their general options (User.options.titleLanguage, a
# UserTitleLanguage), not in mediaListOptions.
USER_QUERY = (
    "query UserExists($name: String) { User(name: $name) { id name options { titleLanguage } } }"
)
