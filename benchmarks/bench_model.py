"""Fit time and single-user latency of the recommender on the mal-5k benchmark.

Run: ``.venv/bin/python benchmarks/bench_model.py``. Reads ../shared/benchmark/mal-5k next to
the repository (or /work/shared); skips with a message when the data is absent. The latency is
over 10,000 candidates: the 7,169-title catalogue padded with synthetic titles.
"""

from __future__ import annotations

import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.report import mal_5k  # noqa: E402
from model import Recommender  # noqa: E402
from model.offline.common import use_all_cores  # noqa: E402
from model.offline.data import read_catalogue, read_lists  # noqa: E402

CANDIDATES = 10_000


def main() -> None:
    directory = mal_5k()
    if directory is None:
        return
    use_all_cores()
    catalogue = read_catalogue(directory)
    train = read_lists(directory / "train.jsonl.gz")
    template = catalogue[0]
    padding = [
        {**template, "id": 10_000_000 + i, "title": {"romaji": f"Filler {i}"}, "popularity": i}
        for i in range(CANDIDATES - len(catalogue))
    ]
    start = time.perf_counter()
    recommender = Recommender(catalogue + padding, train)
    fit = recommender.fit()
    stats = recommender.train(seed=0)
    print(f"fit (EASE, ItemKNN, stats) {fit.seconds:.1f} s; train {stats.seconds:.1f} s")
    print(
        f"total set-up {time.perf_counter() - start:.1f} s over {len(recommender.catalogue)} titles"
    )

    users = random.Random(0).sample(sorted(train), 200)
    latencies = []
    for user in users:
        begin = time.perf_counter()
        recommender.recommend(train[user], k=10, allow_adult=True)
        latencies.append((time.perf_counter() - begin) * 1000)
    latencies.sort()
    print(
        f"single-user recommend over {len(recommender.catalogue)} candidates: "
        f"median {statistics.median(latencies):.1f} ms, "
        f"p95 {latencies[int(0.95 * (len(latencies) - 1))]:.1f} ms, max {latencies[-1]:.1f} ms"
    )


if __name__ == "__main__":
    main()
