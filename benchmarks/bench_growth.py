"""``python -m benchmarks.bench_growth DIR [--users 300] [--seed 0] [--sizes 25,75,200,500,all]``

Quality as the bot grows. The bot "has seen" S lists of DIR/train.jsonl.gz: the evaluation
users' own lists first, then other users', in an order drawn from ``--seed``. At each size it
does what the bot would: a Recommender on exactly those S lists, ``train()`` (which installs
the new net only if it beats the policy without it), then ``recommend()``. Rows, on the same
evaluation users and FORMAT.md's protocol (NDCG@10 against held-out liked entries of
DIR/test.jsonl.gz):

- default: what the bot serves with S lists (the serving policy, model/policy.py);
- cold: what the bot serves with no lists at all (the cold blend; the same at every size);
- EASE: EASE (λ = 200) fitted on the S lists, ranking every title off the user's list.

The goal is default >= cold and >= EASE at every size. "default-cold" comes with the
standard error of that paired difference: a gap within about one is what another draw of
evaluation users could reverse. Prints a table, then one JSON line.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import statistics
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

import torch

from model import Recommender
from model.metrics import ndcg_at_k
from model.offline.common import recommend_ids, use_all_cores
from model.offline.data import read_catalogue, read_lists
from model.profile import LIKED_SCORE, build_profile

K = 10
DEFAULT_SIZES = "25,75,200,500,all"


def liked_held_out(test: Mapping[str, list[dict]]) -> dict[str, set[int]]:
    """Per test user, the held-out media ids scored >= 8 (users with none left out)."""
    liked = {
        user: {e["mediaId"] for e in entries if (e.get("score") or 0) >= LIKED_SCORE}
        for user, entries in test.items()
    }
    return {user: ids for user, ids in liked.items() if ids}


def paired_se(a: Sequence[float], b: Sequence[float]) -> float:
    """Standard error of the mean of a - b over the same users: how far apart two means on
    these users can be by the draw of users alone."""
    return statistics.stdev(x - y for x, y in zip(a, b, strict=True)) / math.sqrt(len(a))


def seen_order(train: Mapping[str, list], users: Sequence[str], seed: int) -> list[str]:
    """Every train user, the evaluation users first; each group shuffled under ``seed``."""
    rng = random.Random(seed)
    first = [u for u in users if u in train]
    rng.shuffle(first)
    chosen = set(first)
    rest = sorted(u for u in train if u not in chosen)
    rng.shuffle(rest)
    return first + rest


def ease_ids(recommender: Recommender, entries: list[dict]) -> list[int]:
    """EASE's top K off the user's list, from the recommender's fitted collaborative state."""
    catalogue, collab = recommender.catalogue, recommender.collab
    profile = build_profile(entries, catalogue)
    scores = collab.bucket_scores(profile)[0].sum(0)
    scores[profile.rows] = -torch.inf
    return [catalogue.ids[i] for i in torch.topk(scores, K).indices.tolist()]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.bench_growth", description=__doc__)
    parser.add_argument("directory", type=Path)
    parser.add_argument("--users", type=int, default=300, help="evaluation users")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--sizes", default=DEFAULT_SIZES, help='comma-separated; "all" = every list'
    )
    args = parser.parse_args(argv)
    use_all_cores()
    media = read_catalogue(args.directory)
    train = read_lists(args.directory / "train.jsonl.gz")
    liked = liked_held_out(read_lists(args.directory / "test.jsonl.gz"))
    eligible = sorted(u for u in liked if train.get(u))
    users = random.Random(args.seed).sample(eligible, min(args.users, len(eligible)))
    order = seen_order(train, users, args.seed)
    sizes = [len(order) if s == "all" else min(int(s), len(order)) for s in args.sizes.split(",")]

    def ndcgs(rank) -> list[float]:
        return [ndcg_at_k(rank(train[u]), liked[u], K) for u in users]

    def served(bot: Recommender):
        return lambda entries: recommend_ids(bot, entries, K, args.seed)

    cold_bot = Recommender(media)
    cold_each = ndcgs(served(cold_bot))
    cold = statistics.fmean(cold_each)
    columns = []
    for size in sizes:
        start = time.perf_counter()
        bot = Recommender(media, {u: train[u] for u in order[:size]})
        stats = bot.train(seed=args.seed)
        train_seconds = time.perf_counter() - start
        default_each = ndcgs(lambda entries, b=bot: recommend_ids(b, entries, K, args.seed))
        columns.append(
            {
                "lists": size,
                "default": statistics.fmean(default_each),
                "cold": cold,
                "ease": statistics.fmean(ndcgs(lambda entries, b=bot: ease_ids(b, entries))),
                "default_minus_cold_se": paired_se(default_each, cold_each),
                "net_installed": stats.improved,
                "train_s": round(train_seconds, 1),
            }
        )
        print(f"  {size} lists: trained in {train_seconds:.1f} s", flush=True)

    print(
        f"growth on {args.directory}: NDCG@10 over {len(users)} evaluation users, seed {args.seed}"
    )
    print(f"{'lists seen':<22}" + "".join(f"{c['lists']:>9}" for c in columns))
    for name, key in (("default", "default"), ("cold", "cold"), ("EASE", "ease")):
        print(f"{name:<22}" + "".join(f"{c[key]:>9.4f}" for c in columns))
    ratio = [c["default"] / max(c["cold"], c["ease"], 1e-9) for c in columns]
    print(f"{'default/max(cold,EASE)':<22}" + "".join(f"{r:>9.3f}" for r in ratio))
    print(f"{'default-cold':<22}" + "".join(f"{c['default'] - c['cold']:>+9.4f}" for c in columns))
    print(
        f"{'  standard error':<22}"
        + "".join(f"{c['default_minus_cold_se']:>9.4f}" for c in columns)
    )
    print(f"{'default/EASE':<22}" + "".join(f"{c['default'] / c['ease']:>9.3f}" for c in columns))
    print(f"{'net installed':<22}" + "".join(f"{str(c['net_installed']):>9}" for c in columns))
    print(f"{'fit + train s':<22}" + "".join(f"{c['train_s']:>9.1f}" for c in columns))
    print(json.dumps({"users": len(users), "seed": args.seed, "sizes": columns}))


if __name__ == "__main__":
    main()
