"""Small synthetic catalogue and lists for the model tests (no /work/shared needed).

Two taste groups: "mecha" fans rate Action/Mecha/Sci-Fi titles high and Romance low, "romance"
fans the reverse, so collaborative and content signal both exist and a trained net can tell
the groups apart. Titles come in franchises with PREQUEL/SEQUEL relations.
"""

from __future__ import annotations

import random

import pytest

GROUP_GENRES = {
    "mecha": ["Action", "Mecha", "Sci-Fi"],
    "romance": ["Romance", "Slice of Life", "Comedy"],
}
GROUP_TAGS = {"mecha": "Space", "romance": "School"}


def make_media(media_id: int, title: str, group: str, **extra) -> dict:
    """One AniList-shaped Media of a taste group."""
    media = {
        "id": media_id,
        "type": "ANIME",
        "format": "TV",
        "title": {"romaji": title, "english": None},
        "genres": list(GROUP_GENRES[group]),
        "tags": [{"name": GROUP_TAGS[group], "rank": 80}],
        "popularity": 1000 * (100 - media_id % 100),
        "meanScore": 70,
        "isAdult": False,
        "startDate": {"year": 2000 + media_id % 20},
    }
    media.update(extra)
    return media


def make_catalogue(n_franchises: int = 12) -> list[dict]:
    """``2 * n_franchises`` franchises of two titles (first, then its sequel) plus one adult
    title; ids: franchise f has ids 10f+1 (first) and 10f+2 (sequel)."""
    words = "Aurora Blaze Comet Dusk Ember Frost Gale Haze Iris Jade Koi Lumen Mist Nova".split()
    media = []
    for f in range(2 * n_franchises):
        group = "mecha" if f % 2 == 0 else "romance"
        name = f"{words[f % len(words)]}{f} {group.title()}"
        first, sequel = 10 * f + 1, 10 * f + 2
        media.append(
            make_media(
                first,
                name,
                group,
                relations={
                    "edges": [{"relationType": "SEQUEL", "node": {"id": sequel, "type": "ANIME"}}]
                },
                recommendations={
                    "nodes": [{"rating": 5, "mediaRecommendation": {"id": first + 20}}]
                },
            )
        )
        media.append(
            make_media(
                sequel,
                f"{name} Season 2",
                group,
                relations={
                    "edges": [{"relationType": "PREQUEL", "node": {"id": first, "type": "ANIME"}}]
                },
            )
        )
    media.append(make_media(999, "Adult Mecha Special", "mecha", isAdult=True, popularity=10**7))
    return media


def make_lists(catalogue: list[dict], n_users: int = 40, seed: int = 0) -> dict[str, list[dict]]:
    """Users alternate between the two groups; each lists 70% of its own group's titles
    (rated 8-10) and 20% of the other group's (rated 2-5)."""
    rng = random.Random(seed)
    lists = {}
    for u in range(n_users):
        group = "mecha" if u % 2 == 0 else "romance"
        entries = []
        for media in catalogue:
            mine = media["genres"] == GROUP_GENRES[group]
            if media["isAdult"] or rng.random() > (0.7 if mine else 0.2):
                continue
            score = rng.randint(8, 10) if mine else rng.randint(2, 5)
            entries.append({"mediaId": media["id"], "score": score, "status": "COMPLETED"})
        lists[f"user{u}"] = entries
    return lists


@pytest.fixture
def catalogue() -> list[dict]:
    return make_catalogue()


@pytest.fixture
def lists(catalogue) -> dict[str, list[dict]]:
    return make_lists(catalogue)
