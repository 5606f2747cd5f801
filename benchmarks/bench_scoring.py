"""Where one /recommend's scoring time goes, and what batching concurrent ones could save.

Run: ``.venv/bin/python -m benchmarks.bench_scoring``. It serves as the bot does (one torch
thread, as bot.core sets it) a recommender fitted on 1,000 shuffled mal-5k lists over 5,000 titles
(issue 11's sizes) with a net installed, then scores 20 other users' lists: the cached /recommend
burst of benchmarks/bench_bot. Each stage is timed alone, per user; then the net's forward
pass, the one stage whose input stacks without change, is timed once for all 20 together.
The net has random weights: training may decide not to install one, and a forward pass costs
the same whatever the weights. Skips with a message when ../shared/benchmark is absent.
"""

from __future__ import annotations

import random
import statistics
import time
from collections.abc import Callable

import torch

from benchmarks.report import mal_5k, table
from model import Recommender
from model.features import FEATURE_NAMES, features, user_context
from model.net import RecommenderNet
from model.offline.data import read_catalogue, read_lists
from model.policy import ranking_scores
from model.profile import build_profile

TITLES = 5_000
LISTS = 1_000
BURST = 20
ROUNDS = 5


def timed(work: Callable[[], object]) -> float:
    """Seconds one call of `work` takes (the best of ROUNDS, to leave out the machine's noise)."""
    best = float("inf")
    for _ in range(ROUNDS):
        start = time.perf_counter()
        work()
        best = min(best, time.perf_counter() - start)
    return best


def main() -> None:
    directory = mal_5k()
    if directory is None:
        return
    torch.set_num_threads(1)
    catalogue = read_catalogue(directory)[:TITLES]
    train = read_lists(directory / "train.jsonl.gz")
    users = sorted(train)
    random.Random(0).shuffle(users)
    recommender = Recommender(catalogue, {u: train[u] for u in users[:LISTS]})
    recommender.fit()
    cat, collab = recommender.catalogue, recommender.collab
    torch.manual_seed(0)
    net = RecommenderNet(len(FEATURE_NAMES))
    net.eval()
    recommender.load_state_dict({"features": list(FEATURE_NAMES), "net": net.state_dict()})
    burst = [train[u] for u in users[LISTS : LISTS + BURST]]

    profiles = [build_profile(entries, cat) for entries in burst]
    contexts = [user_context(cat, p) for p in profiles]
    matrices = [features(cat, collab, c) for c in contexts]
    stacked = torch.cat(matrices)

    per_user = {
        "whole recommend (k 5)": [
            timed(lambda e=e: recommender.recommend(e, k=5, allow_adult=True)) for e in burst
        ],
        "  profile and content context": [
            timed(lambda e=e: user_context(cat, build_profile(e, cat))) for e in burst
        ],
        "  feature matrix": [timed(lambda c=c: features(cat, collab, c)) for c in contexts],
        "    of which collaborative products": [
            timed(lambda p=p: (collab.bucket_scores(p), collab.edlae_scores(p))) for p in profiles
        ],
        "  ranking scores (net, EASE, cold)": [
            timed(lambda m=m: ranking_scores(m, collab, net)) for m in matrices
        ],
    }
    with torch.no_grad():
        per_user["    of which the net's forward pass"] = [
            timed(lambda m=m: net(m)) for m in matrices
        ]
        batched_net = timed(lambda: net(stacked)) / BURST
    rows = [
        [name, f"{statistics.mean(s) * 1000:.2f}", f"{sum(s) * 1000:.0f}"]
        for name, s in per_user.items()
    ]
    rows.append(
        [
            f"  net forward, {BURST} users stacked in one call",
            f"{batched_net * 1000:.2f}",
            f"{batched_net * BURST * 1000:.0f}",
        ]
    )
    table(
        f"Scoring one cached /recommend, one torch thread: {len(cat):,} titles,"
        f" {collab.n_users:,} lists, a net installed; {BURST} users' lists (best of {ROUNDS} runs)",
        ["stage", "ms per user", f"ms for all {BURST}"],
        rows,
        labels=(0,),
    )
    whole = sum(per_user["whole recommend (k 5)"])
    change = batched_net * BURST - sum(per_user["    of which the net's forward pass"])
    print(
        f"Stacking the {BURST} forward passes into one call changes their time by"
        f" {change * 1000:+.0f} ms, against {whole * 1000:.0f} ms for the {BURST} recommends."
    )


if __name__ == "__main__":
    main()
