"""Titles in a person's language, falling back to romaji, then to any title, then the id."""

from __future__ import annotations

import pytest

from model.titles import from_anilist, title_in

FULL = {
    "id": 1,
    "title": {
        "romaji": "Shingeki no Kyojin",
        "english": "Attack on Titan",
        "native": "進撃の巨人",
        "userPreferred": "Shingeki no Kyojin",
    },
}
NO_ENGLISH = {"id": 2, "title": {"romaji": "Mushishi", "english": None, "native": "蟲師"}}


@pytest.mark.parametrize(
    ("media", "language", "expected"),
    [
        (FULL, "ROMAJI", "Shingeki no Kyojin"),
        (FULL, "ENGLISH", "Attack on Titan"),
        (FULL, "NATIVE", "進撃の巨人"),
        (NO_ENGLISH, "ENGLISH", "Mushishi"),
        (FULL, "PIRATE", "Shingeki no Kyojin"),
        ({"id": 3, "title": {"native": "ネイティブ"}}, "ENGLISH", "ネイティブ"),
        ({"id": 4, "title": None}, "NATIVE", "#4"),
    ],
)
def test_title_in_a_language_or_the_nearest_one(media, language, expected):
    """The asked language when the title has it; else romaji, else any title, else the id."""
    assert title_in(media, language) == expected


@pytest.mark.parametrize(
    ("anilist", "ours"),
    [
        ("ROMAJI", "ROMAJI"),
        ("ENGLISH_STYLISED", "ENGLISH"),
        ("NATIVE", "NATIVE"),
        (None, None),
        ("KLINGON", None),
    ],
)
def test_anilists_user_title_language_maps_to_ours(anilist, ours):
    """AniList's stylised variants read as the plain language; anything else as unknown."""
    assert from_anilist(anilist) == ours
