"""Which titles may be shown, and in what order: exclusion rules, preferences, diversity."""

from __future__ import annotations

import random
from collections.abc import Collection

import torch

from .catalogue import GENRES, Catalogue
from .preferences import Preferences
from .profile import Profile

TAG_PRESENT = 0.3  # tag rank (0-1) from which a title counts as having the tag


def allowed(
    catalogue: Catalogue,
    profile: Profile,
    *,
    allow_adult: bool,
    recently_shown: Collection[int],
    repeat_chance: float,
    rng: random.Random,
    preferences: Preferences | None,
) -> torch.Tensor:
    """Boolean mask of titles that may be recommended to this user."""
    mask = torch.ones(len(catalogue), dtype=torch.bool)
    mask[profile.rows] = False  # on the list under any status, PLANNING included
    if not allow_adult:
        mask &= ~catalogue.adult
    # Rows gathered first and cleared in one indexing: a tensor write per row costs more
    # than the rest of this function.
    hidden = [
        catalogue.index[media_id]
        for media_id in sorted(set(recently_shown))
        if media_id in catalogue.index and rng.random() >= repeat_chance
    ]
    if hidden:
        mask[hidden] = False
    sequels, prequels = catalogue.prequel_pairs
    if sequels.numel():  # hide sequels of something the user has not watched
        seen = torch.zeros(len(catalogue), dtype=torch.bool)
        seen[list(profile.seen_rows)] = True
        mask[sequels[~seen[prequels]]] = False
    if preferences is not None:
        mask &= ~_has_any(catalogue, preferences.exclude_genres, preferences.exclude_tags)
    return mask


def _columns(names: Collection[str], vocabulary: tuple[str, ...]) -> list[int]:
    wanted = {n.lower() for n in names}
    return [col for col, name in enumerate(vocabulary) if name.lower() in wanted]


def _has_any(catalogue: Catalogue, genres: Collection[str], tags: Collection[str]) -> torch.Tensor:
    hit = catalogue.genres[:, _columns(genres, GENRES)].sum(1) > 0
    tag_cols = _columns(tags, catalogue.tag_names)
    if tag_cols:
        hit |= (catalogue.tags[:, tag_cols] >= TAG_PRESENT).any(1)
    return hit


def preference_match(catalogue: Catalogue, preferences: Preferences) -> torch.Tensor:
    """Share (0-1) of the requested genres and tags each title carries (tags by rank)."""
    genre_cols = _columns(preferences.include_genres, GENRES)
    tag_cols = _columns(preferences.include_tags, catalogue.tag_names)
    wanted = len(preferences.include_genres) + len(preferences.include_tags)
    if not wanted:
        return torch.zeros(len(catalogue))
    hits = catalogue.genres[:, genre_cols].sum(1) + catalogue.tags[:, tag_cols].sum(1)
    return hits / wanted


def diversify(
    catalogue: Catalogue, order: list[int], relevance: torch.Tensor, k: int, penalty: float
) -> list[int]:
    """Greedy MMR over the ranked ``order``: at most one title per franchise, and a title's
    relevance (scaled to 0-1 over the pool) loses ``penalty`` x its top genre overlap (Jaccard)
    with titles already picked."""
    pool = order[: max(5 * k, 50)]
    if not pool:
        return []
    rel = relevance[pool]
    rel = (rel - rel.min()) / (rel.max() - rel.min()).clamp(min=1e-9)
    genres = catalogue.genres[pool]
    overlap = torch.zeros(len(pool))
    taken = torch.zeros(len(pool), dtype=torch.bool)
    franchises: set[int] = set()
    picks: list[int] = []
    while len(picks) < k:
        gain = torch.where(taken, -torch.inf, rel - penalty * overlap)
        best = int(torch.argmax(gain))
        if gain[best] == -torch.inf:
            break
        taken[best] = True
        franchise = int(catalogue.franchise[pool[best]])
        if franchise in franchises:
            continue
        franchises.add(franchise)
        picks.append(pool[best])
        inter = genres @ genres[best]
        union = genres.sum(1) + genres[best].sum() - inter
        overlap = torch.maximum(overlap, inter / union.clamp(min=1.0))
    return picks
