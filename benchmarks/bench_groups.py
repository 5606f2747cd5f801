"""``python -m benchmarks.bench_groups DIR [--groups 300] [--size 3] [--seed 0]``

Watch-party quality. Fits the recommender on DIR/train.jsonl.gz as the bot serves it (net
trained, installed only if it ranks better), then forms ``--groups`` random groups of
``--size`` test users (users with held-out liked entries and a train list; members drawn
without replacement within a group, groups independently, all from ``--seed``). For each
group, every method ranks the same candidates (nothing on any member's train list except
PLANNING, which mal-5k does not have) and takes the top 10:

- group: the watch-party ranker (model/group.py: a member's predicted dislike vetoes a title);
- average: the mean of the members' standardised scores;
- one member: the first member's scores alone.

Figures, against each member's held-out entries scored >= 8 (FORMAT.md's "liked"):

- all liked one: share of groups whose top 10 holds a title every member liked;
- each member hit: share of groups whose top 10 holds, for every member, a title they liked;
- min NDCG@10: mean over groups of the lowest member NDCG@10;
- mean NDCG@10: mean over groups and members;
- held-out disliked: of the (member, pick) pairs where the member has the pick among their
  held-out entries, the share they scored 5 or less (misery that actually happened; lower is
  better).

Every method goes through the same diversification as served picks (one title per franchise).

Prints a table, then one JSON line. Skips (exit 0) when DIR is missing.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from pathlib import Path

import torch

from benchmarks.bench_growth import liked_held_out
from model.group import (
    average_relevance,
    first_member_relevance,
    group_candidates,
    group_relevance,
    member_scores,
    top_rows,
)
from model.metrics import ndcg_at_k
from model.offline.common import fitted_recommender, use_all_cores
from model.offline.data import read_catalogue, read_lists

K = 10
DISLIKED_AT_MOST = 5
METHODS = {
    "group": group_relevance,
    "average": average_relevance,
    "one member": first_member_relevance,
}


def draw_groups(users: list[str], groups: int, size: int, seed: int) -> list[list[str]]:
    """``groups`` random groups of ``size`` distinct users, reproducible under ``seed``."""
    rng = random.Random(seed)
    return [rng.sample(users, size) for _ in range(groups)]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.bench_groups", description=__doc__)
    parser.add_argument("directory", type=Path)
    parser.add_argument("--groups", type=int, default=300)
    parser.add_argument("--size", type=int, default=3, help="members per group")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    if not (args.directory / "train.jsonl.gz").is_file():
        print(f"skipped: no benchmark data in {args.directory}")
        return
    if args.size < 2:
        sys.exit("a group has at least two members")
    use_all_cores()
    media = read_catalogue(args.directory)
    train = read_lists(args.directory / "train.jsonl.gz")
    test = read_lists(args.directory / "test.jsonl.gz")
    liked = liked_held_out(test)
    held_out = {
        u: {e["mediaId"]: e.get("score") or 0 for e in entries} for u, entries in test.items()
    }
    eligible = sorted(u for u in liked if train.get(u))
    groups = draw_groups(eligible, args.groups, args.size, args.seed)

    recommender, fit_seconds = fitted_recommender(media, train, cold=False, seed=args.seed)
    print(f"  fitted and trained in {fit_seconds:.1f} s", flush=True)
    catalogue = recommender.catalogue
    diversity = recommender.config.diversity
    cache: dict[str, object] = {}

    def scores_of(user: str):
        if user not in cache:
            cache[user] = member_scores(recommender, train[user])
        return cache[user]

    totals = {
        name: {"all_liked": 0, "each_hit": 0, "min_ndcg": 0.0, "mean_ndcg": 0.0} for name in METHODS
    }
    judged = {name: [0, 0] for name in METHODS}  # held-out (member, pick) pairs, disliked
    start = time.perf_counter()
    for members in groups:
        scores = [scores_of(u) for u in members]
        candidates = group_candidates(catalogue, [s.profile for s in scores], allow_adult=True)
        relevance = torch.stack([s.relevance for s in scores])
        rating = torch.stack([s.rating for s in scores])
        for name, rank in METHODS.items():
            ranked = rank(relevance, rating, candidates)
            ids = [catalogue.ids[r] for r in top_rows(catalogue, ranked, K, diversity)]
            ndcgs = [ndcg_at_k(ids, liked[u], K) for u in members]
            row = totals[name]
            row["all_liked"] += any(all(i in liked[u] for u in members) for i in ids)
            row["each_hit"] += all(any(i in liked[u] for i in ids) for u in members)
            row["min_ndcg"] += min(ndcgs)
            row["mean_ndcg"] += sum(ndcgs) / len(ndcgs)
            for user in members:
                scored = [held_out[user][i] for i in ids if i in held_out.get(user, {})]
                judged[name][0] += len(scored)
                judged[name][1] += sum(score <= DISLIKED_AT_MOST for score in scored)
    rank_seconds = time.perf_counter() - start
    n = len(groups)
    results = {name: {key: value / n for key, value in row.items()} for name, row in totals.items()}
    for name, (pairs, disliked) in judged.items():
        results[name]["held_out_pairs"] = pairs
        results[name]["held_out_disliked"] = disliked / pairs if pairs else float("nan")

    print(
        f"groups on {args.directory}: {n} random groups of {args.size} test users, seed "
        f"{args.seed}, top {K} ({len(catalogue)} titles, net installed: {recommender.trained})"
    )
    print(
        f"{'method':<14}{'all liked one':>15}{'each member hit':>17}{'min NDCG@10':>13}"
        f"{'mean NDCG@10':>14}{'held-out disliked':>19}"
    )
    for name, row in results.items():
        disliked = f"{row['held_out_disliked']:.4f} of {row['held_out_pairs']}"
        print(
            f"{name:<14}{row['all_liked']:>15.4f}{row['each_hit']:>17.4f}"
            f"{row['min_ndcg']:>13.4f}{row['mean_ndcg']:>14.4f}{disliked:>19}"
        )
    print(f"fit + train {fit_seconds:.1f} s; scoring and ranking {rank_seconds:.1f} s")
    print(json.dumps({"groups": n, "size": args.size, "seed": args.seed, "results": results}))


if __name__ == "__main__":
    main()
