"""``python -m benchmarks.bench_similar DIR [--users 1000] [--lists all] [--seed 0]``

/similar's quality. Fits the collaborative state on DIR/train.jsonl.gz (the first ``--lists``
lists only, the evaluation users' own first, as bench_growth orders them, to see a young bot),
then takes ``--users`` test users (0 = all) drawn under ``--seed`` among those with at least 2
liked titles (score >= 8) in train and a held-out liked one in DIR/test.jsonl.gz. For each
liked train title of each such user, every method ranks titles like it for that user, leaving
out the title itself and the user's train list (the caller's linked list), and takes the top
10; the hits are the user's held-out liked titles. Per (user, title) query:

- similar: what /similar serves (model/similar.py: the blend, one title per franchise, no
  sequel before its prequel);
- EASE row: the title's raw row of EASE (λ = 200);
- ItemKNN row: the title's raw cosine row;
- community: AniList's recommendations of the title alone;
- co-watch share: P(B | A) over the lists seen, which the blend tempers (model/similar.py,
  NEIGHBOUR_POPULARITY);
- popularity: the count on train lists, the same for every title.

HR@10 and NDCG@10 are means over queries; distinct@10 is how many different titles the top
10s held over all queries, over the catalogue's size (a ranker that puts the same hits under
every title scores well here and badly there). A signal the data lacks (mal-5k has no community
recommendations and no relations) is reported as absent, not scored. Prints a table, then one
JSON line. Skips (exit 0) when DIR is missing.
"""

from __future__ import annotations

import argparse
import json
import random
import time
from collections.abc import Callable
from pathlib import Path

import torch

from benchmarks.bench_growth import liked_held_out, seen_order
from model import Recommender
from model.metrics import hit_at_k, ndcg_at_k
from model.offline.common import use_all_cores
from model.offline.data import read_catalogue, read_lists
from model.profile import Profile, build_profile
from model.similar import Signals, Similarity

K = 10
MIN_LIKED_IN_TRAIN = 2
Ranker = Callable[[Signals], torch.Tensor]
RAW: dict[str, Ranker] = {
    "EASE row": lambda s: s.ease,
    "ItemKNN row": lambda s: s.knn,
    "community": lambda s: s.community,
    "co-watch share": lambda s: s.cowatch,
}


def top_ids(scores: torch.Tensor, seed_row: int, profile: Profile, ids: tuple[int, ...]) -> list:
    """The top K ids of a raw ranking, off the seed and the user's list."""
    scores = scores.clone()
    scores[profile.rows] = -torch.inf
    scores[seed_row] = -torch.inf
    return [ids[i] for i in torch.topk(scores, K).indices.tolist()]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.bench_similar", description=__doc__)
    parser.add_argument("directory", type=Path)
    parser.add_argument("--users", type=int, default=1000, help="evaluation users (0 = all)")
    parser.add_argument("--lists", default="all", help='lists the bot has seen, or "all"')
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    if not (args.directory / "train.jsonl.gz").is_file():
        print(f"skipped: no benchmark data in {args.directory}")
        return
    use_all_cores()
    media = read_catalogue(args.directory)
    train = read_lists(args.directory / "train.jsonl.gz")
    liked = liked_held_out(read_lists(args.directory / "test.jsonl.gz"))
    liked_train = {
        user: [e["mediaId"] for e in entries if (e.get("score") or 0) >= 8]
        for user, entries in train.items()
    }
    eligible = sorted(u for u in liked if len(liked_train.get(u, ())) >= MIN_LIKED_IN_TRAIN)
    users = random.Random(args.seed).sample(eligible, len(eligible))
    if args.users > 0:
        users = users[: args.users]
    order = seen_order(train, users, args.seed)
    seen = order if args.lists == "all" else order[: int(args.lists)]

    start = time.perf_counter()
    recommender = Recommender(media, {u: train[u] for u in seen})
    recommender.fit()
    catalogue, collab = recommender.catalogue, recommender.collab
    similarity = Similarity(catalogue, collab)
    fit_seconds = time.perf_counter() - start
    count = collab.log_count if collab is not None else torch.zeros(len(catalogue))
    absent = {}
    if catalogue.community.values().numel() == 0:
        absent["community"] = "absent: the data has no AniList community recommendations"
    if collab is None:
        absent.update({name: "absent: no lists seen" for name in ("EASE row", "ItemKNN row")})
    has_relations = bool((torch.bincount(catalogue.franchise) > 1).any())

    names = ["similar", *RAW, "popularity"]
    totals = {name: [0.0, 0.0] for name in names}
    shown: dict[str, set[int]] = {name: set() for name in names}
    queries = 0
    start = time.perf_counter()
    for user in users:
        profile = build_profile(train[user], catalogue)
        relevant = liked[user]
        for media_id in liked_train[user]:
            if media_id not in catalogue.index:
                continue
            row = catalogue.index[media_id]
            queries += 1
            found = similarity.similar(row, profile, k=K, allow_adult=True)
            ranked = {"similar": [catalogue.ids[r] for r in found.picks]}
            for name, ranker in RAW.items():
                if name not in absent:
                    ranked[name] = top_ids(ranker(found.evidence), row, profile, catalogue.ids)
            ranked["popularity"] = top_ids(count, row, profile, catalogue.ids)
            for name, items in ranked.items():
                totals[name][0] += hit_at_k(items, relevant, K)
                totals[name][1] += ndcg_at_k(items, relevant, K)
                shown[name].update(items)
    rank_seconds = time.perf_counter() - start

    results: dict[str, dict[str, float] | str] = {}
    for name in names:
        if name in absent:
            results[name] = absent[name]
        else:
            hr, ndcg = totals[name]
            results[name] = {
                "hr@10": hr / max(queries, 1),
                "ndcg@10": ndcg / max(queries, 1),
                "distinct@10": len(shown[name]) / max(len(catalogue), 1),
            }
    lists_seen = collab.n_users if collab is not None else 0
    print(
        f"/similar on {args.directory}: {len(users)} test users with >= {MIN_LIKED_IN_TRAIN} "
        f"liked titles in train, {queries} queries (one per liked train title), "
        f"{lists_seen} lists seen, {len(catalogue)} titles, seed {args.seed}"
    )
    if not has_relations:
        print(
            "relations: absent in the data, so no franchise is grouped and none is left out "
            "of the picks"
        )
    print(f"{'method':<16}{'HR@10':>8}{'NDCG@10':>10}{'distinct@10':>13}")
    for name, row in results.items():
        if isinstance(row, str):
            print(f"{name:<16}{row}")
        else:
            print(
                f"{name:<16}{row['hr@10']:>8.4f}{row['ndcg@10']:>10.4f}{row['distinct@10']:>13.4f}"
            )
    print(f"fit {fit_seconds:.1f} s; {queries} queries in {rank_seconds:.1f} s")
    summary = {
        "users": len(users),
        "queries": queries,
        "lists": lists_seen,
        "relations": has_relations,
        "results": results,
    }
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
