"""``python -m model.recommend_batch DIR --k 10 --out FILE [--cold]``

Reads only DIR/catalogue.jsonl.gz and DIR/train.jsonl.gz and writes one JSON line per train
user, ``{"user": ..., "items": [mediaId, ...]}``, so anyone can score the output on their data.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from .common import fitted_recommender, recommend_ids, use_all_cores
from .data import read_catalogue, read_lists


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m model.recommend_batch", description=__doc__)
    parser.add_argument("directory", type=Path)
    parser.add_argument("--k", type=int, default=10)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--cold", action="store_true", help="no other users' lists")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    use_all_cores()
    catalogue = read_catalogue(args.directory)
    train = read_lists(args.directory / "train.jsonl.gz")
    recommender, _ = fitted_recommender(catalogue, train, cold=args.cold, seed=args.seed)
    with args.out.open("w", encoding="utf-8") as out:
        for user, entries in train.items():
            items = recommend_ids(recommender, entries, args.k, args.seed)
            out.write(json.dumps({"user": user, "items": items}) + "\n")


if __name__ == "__main__":
    main()
