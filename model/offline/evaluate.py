"""``python -m model.evaluate DIR [--cold]``

Fits on DIR/train.jsonl.gz, recommends for the users of DIR/test.jsonl.gz and scores the top 10
against their held-out liked entries (score >= 8), per FORMAT.md, for this recommender and for
popularity, ItemKNN and EASE (λ = 200) fitted in the same run. Prints a table, timings, and
finally one JSON line with everything.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections.abc import Callable
from pathlib import Path

import torch

from ..catalogue import Catalogue
from ..collab import Collab, fit_collab
from ..metrics import hit_at_k, ndcg_at_k, recall_at_k
from ..profile import LIKED_SCORE, Profile, build_profile
from .common import fitted_recommender, recommend_ids, use_all_cores
from .data import read_catalogue, read_lists

K = 10
Ranker = Callable[[Profile], torch.Tensor]


def _baselines(catalogue: Catalogue, collab: Collab, cold: bool) -> dict[str, Ranker]:
    rankers: dict[str, Ranker] = {
        "popularity": lambda p: collab.log_count.clone(),
        "itemknn": lambda p: collab.bucket_scores(p)[1].sum(0),
        "ease": lambda p: collab.bucket_scores(p)[0].sum(0),
    }
    if cold:  # what a fresh bot can see without other lists: AniList's popularity field
        rankers["catalogue_popularity"] = lambda p: catalogue.log_popularity.clone()
    return rankers


def _top(scores: torch.Tensor, profile: Profile, catalogue: Catalogue) -> list[int]:
    scores[profile.rows] = -torch.inf
    return [catalogue.ids[i] for i in torch.topk(scores, K).indices.tolist()]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m model.evaluate", description=__doc__)
    parser.add_argument("directory", type=Path)
    parser.add_argument("--cold", action="store_true", help="no other users' lists")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    use_all_cores()
    media = read_catalogue(args.directory)
    train = read_lists(args.directory / "train.jsonl.gz")
    test = read_lists(args.directory / "test.jsonl.gz")

    recommender, fit_seconds = fitted_recommender(media, train, cold=args.cold, seed=args.seed)
    catalogue = recommender.catalogue
    collab = recommender.collab
    if collab is None:  # cold: the baselines still need the train lists, outside our timing
        collab = fit_collab([build_profile(e, catalogue) for e in train.values()], len(catalogue))
    rankers = _baselines(catalogue, collab, args.cold)

    names = ["anime8", *rankers]
    totals = {name: [0.0, 0.0, 0.0] for name in names}
    shown: dict[str, set[int]] = {name: set() for name in names}
    latencies = []
    users = 0
    for user, held_out in test.items():
        liked = {e["mediaId"] for e in held_out if (e.get("score") or 0) >= LIKED_SCORE}
        if not liked:
            continue
        users += 1
        entries = train.get(user, [])
        start = time.perf_counter()
        ranked = {"anime8": recommend_ids(recommender, entries, K, args.seed)}
        latencies.append((time.perf_counter() - start) * 1000)
        profile = build_profile(entries, catalogue)
        for name, ranker in rankers.items():
            ranked[name] = _top(ranker(profile), profile, catalogue)
        for name, items in ranked.items():
            for slot, metric in enumerate((ndcg_at_k, recall_at_k, hit_at_k)):
                totals[name][slot] += metric(items, liked, K)
            shown[name].update(items)

    results = {
        name: {
            "ndcg@10": totals[name][0] / max(users, 1),
            "recall@10": totals[name][1] / max(users, 1),
            "hr@10": totals[name][2] / max(users, 1),
            "coverage@10": len(shown[name]) / max(len(catalogue), 1),
        }
        for name in names
    }
    ordered = sorted(latencies)
    timings = {
        "fit_s": round(fit_seconds, 2),
        "recommend_total_s": round(sum(latencies) / 1000, 2),
        "per_user_median_ms": round(statistics.median(ordered), 2) if ordered else None,
        "per_user_p95_ms": round(ordered[int(0.95 * (len(ordered) - 1))], 2) if ordered else None,
    }
    mode = "cold" if args.cold else "warm"
    print(f"{mode} evaluation on {args.directory} ({users} users, {len(catalogue)} titles)")
    print(f"{'method':<22}{'NDCG@10':>9}{'Recall@10':>11}{'HR@10':>8}{'coverage@10':>13}")
    for name, row in results.items():
        print(
            f"{name:<22}{row['ndcg@10']:>9.4f}{row['recall@10']:>11.4f}"
            f"{row['hr@10']:>8.4f}{row['coverage@10']:>13.4f}"
        )
    print(
        f"fit {timings['fit_s']} s; recommend total {timings['recommend_total_s']} s; "
        f"per user median {timings['per_user_median_ms']} ms, p95 {timings['per_user_p95_ms']} ms"
    )
    summary = {"mode": mode, "users": users, "results": results, "timings": timings}
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
