"""A title in the language a person reads titles in: romaji, English or native.

AniList gives most titles a romaji and a native title, and many an English one; `userPreferred`
is romaji for the unauthenticated requests the bot makes. A missing title falls back to
romaji (as AniList's own site does), then to whatever the title has.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

ROMAJI, ENGLISH, NATIVE = "ROMAJI", "ENGLISH", "NATIVE"
LANGUAGES = (ROMAJI, ENGLISH, NATIVE)

_ORDER = {
    ROMAJI: ("romaji", "userPreferred", "english", "native"),
    ENGLISH: ("english", "romaji", "userPreferred", "native"),
    NATIVE: ("native", "romaji", "userPreferred", "english"),
}


def title_in(media: Mapping[str, Any], language: str = ROMAJI) -> str:
    """The media's title in `language` (one of LANGUAGES; anything else reads as romaji),
    else the nearest one it has, else its id as "#123"."""
    title = media.get("title") or {}
    for key in _ORDER.get(language, _ORDER[ROMAJI]):
        if title.get(key):
            return str(title[key])
    return f"#{media.get('id')}"


def from_anilist(user_title_language: str | None) -> str | None:
    """Our language for AniList's UserTitleLanguage (ROMAJI_STYLISED reads as ROMAJI, ...);
    None when AniList gave none we know."""
    if not user_title_language:
        return None
    language = user_title_language.removesuffix("_STYLISED")
    return language if language in LANGUAGES else None
