"""Shared set-up of the offline CLIs (evaluate, recommend_batch) on a FORMAT.md directory."""

from __future__ import annotations

import os
import random
import time
from collections.abc import Mapping, Sequence

import torch

from ..recommender import Recommender


def use_all_cores() -> None:
    """Offline runs own the machine: one intra-op thread per core."""
    torch.set_num_threads(max(os.cpu_count() or 1, 1))


def fitted_recommender(
    catalogue: Sequence[Mapping], train: Mapping[str, list], *, cold: bool, seed: int = 0
) -> tuple[Recommender, float]:
    """A recommender ready to serve, and the seconds it took. Cold: no lists at all (each
    user is then served from the catalogue and their own entries only). Warm: fit on every
    train list and train the net."""
    start = time.perf_counter()
    recommender = Recommender(catalogue, {} if cold else train)
    if cold:
        recommender.fit()
    else:
        recommender.train(seed=seed)
    return recommender, time.perf_counter() - start


def recommend_ids(
    recommender: Recommender, entries: list[dict], k: int, seed: int = 0
) -> list[int]:
    """The benchmark ranks every title off the user's list, so adult titles are allowed."""
    picks = recommender.recommend(entries, k=k, allow_adult=True, rng=random.Random(seed))
    return [pick.media_id for pick in picks]
