"""``python -m benchmarks.bench_rebuild DIR [--sizes 100,1000,10000] [--seed 0]``

What a model rebuild costs as the bot's stored lists grow, and whether the bot's event loop
stays free meanwhile. For each size S it stores DIR's 5,000 most popular titles (the largest
catalogue the bot keeps) and S lists drawn from DIR/train.jsonl.gz (with replacement once S
exceeds the file's users, each draw stored under a name of its own) in a fresh DATA_DIR, then
has the bot's RecommendationService rebuild the ANIME model exactly as the running bot does:
fit in a child process (bot.model_build), then map the fitted state in the bot's process.

Columns: the child's time and peak memory (its high-water RSS), the wall time until the new
model serves, the fitted file's size, the bot process's RSS before and after (the fitted
state is memory-mapped, so it is paged in as scoring touches it), and the lag of a task on
the bot's event loop that asks to wake every 10 ms, during the whole rebuild. Prints a table
and one JSON line; passes or fails nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import psutil

from benchmarks.report import mib, percentile, table
from bot.config import Settings
from bot.services.model_build import fitted_path
from bot.services.recommendations import RecommendationService
from bot.storage import Database
from bot.storage.media import MediaStore
from model.offline.data import read_catalogue, read_lists

CATALOGUE_SIZE = 5000  # the bot's largest CATALOGUE_SIZE
TICK_S = 0.010


@dataclass(frozen=True)
class Row:
    lists: int
    entries: int
    child_s: float
    child_peak: int
    wall_s: float
    file_size: int
    rss_before: int
    rss_after: int
    lag_max: float
    lag_p99: float

    def cells(self) -> list[str]:
        return [
            f"{self.lists:,}",
            f"{self.entries:,}",
            f"{self.child_s:.1f}",
            mib(self.child_peak),
            f"{self.wall_s:.1f}",
            mib(self.file_size),
            mib(self.rss_before),
            mib(self.rss_after),
            f"{self.lag_max * 1000:.0f}",
            f"{self.lag_p99 * 1000:.0f}",
            "yes" if self.lag_max < 0.050 else "no",
        ]


def draw_lists(train: dict[str, list[dict]], size: int, seed: int) -> dict[str, list[dict]]:
    """``size`` lists of ``train``: a shuffled sample, then draws with replacement."""
    rng = random.Random(seed)
    users = sorted(train)
    rng.shuffle(users)
    chosen = users[:size] + [rng.choice(users) for _ in range(max(0, size - len(users)))]
    return {f"user{n}": train[user] for n, user in enumerate(chosen)}


async def store(db: Database, titles: list[dict], lists: dict[str, list[dict]]) -> int:
    """The catalogue through MediaStore, the lists in one bulk transaction (a fixture, not the
    path under test); returns the number of list entries stored."""
    media = MediaStore(db)
    build = await media.start_catalogue_build("ANIME", len(titles), time.time())
    await media.save_catalogue_batch(build, titles, 2, len(titles), time.time())
    now = time.time()
    async with db.transaction() as conn:
        await conn.executemany(
            "INSERT INTO anilist_lists (username, media_type, fetched_at, used_at)"
            " VALUES (?, 'ANIME', ?, ?)",
            [(name, now, now) for name in lists],
        )
        rows = [
            (name, "ANIME", e["mediaId"], e.get("status") or "COMPLETED", e.get("score") or 0.0)
            for name, entries in lists.items()
            for e in entries
        ]
        await conn.executemany(
            "INSERT OR IGNORE INTO anilist_list_entries"
            " (username, media_type, media_id, status, score) VALUES (?, ?, ?, ?, ?)",
            rows,
        )
    return len(rows)


async def measure(titles: list[dict], lists: dict[str, list[dict]], root: Path) -> Row:
    """Store, then time one rebuild through the service while a ticker samples the loop."""
    settings = Settings(discord_token="bench", data_dir=root, auto_train=False)
    db = await Database.open(settings.database_path)
    service = RecommendationService(settings, db, MediaStore(db), lists=None)
    try:
        entries = await store(db, titles, lists)
        process = psutil.Process()
        rss_before = process.memory_info().rss
        lags: list[float] = []
        done = asyncio.Event()

        async def ticker() -> None:
            while not done.is_set():
                asked = time.perf_counter()
                await asyncio.sleep(TICK_S)
                lags.append(time.perf_counter() - asked - TICK_S)

        ticking = asyncio.create_task(ticker())
        started = time.perf_counter()
        service.models.request_rebuild("ANIME")
        await service.models.wait_idle()
        wall = time.perf_counter() - started
        done.set()
        await ticking
        model = service.models.serving_model("ANIME")
        if model is None or model.collab is None:
            raise RuntimeError("the rebuild did not produce a fitted model")
        built = service.models.last_build("ANIME")
        return Row(
            lists=len(lists),
            entries=entries,
            child_s=built.seconds,
            child_peak=built.peak_rss,
            wall_s=wall,
            file_size=fitted_path(settings.models_dir, "ANIME").stat().st_size,
            rss_before=rss_before,
            rss_after=process.memory_info().rss,
            lag_max=max(lags),
            lag_p99=percentile(lags, 99),
        )
    finally:
        await service.close()
        await db.close()


async def run(directory: Path, sizes: list[int], seed: int) -> None:
    catalogue = read_catalogue(directory)
    titles = sorted(catalogue, key=lambda m: -(m.get("popularity") or 0))[:CATALOGUE_SIZE]
    train = read_lists(directory / "train.jsonl.gz")
    # The first child of a process also starts the forkserver (an interpreter importing torch),
    # once per bot process: a small unprinted build keeps that out of the first row.
    with tempfile.TemporaryDirectory(prefix="anime8-rebuild-") as tmp:
        await measure(titles, draw_lists(train, 10, seed), Path(tmp))
    rows = []
    for size in sizes:
        with tempfile.TemporaryDirectory(prefix="anime8-rebuild-") as tmp:
            rows.append(await measure(titles, draw_lists(train, size, seed), Path(tmp)))
    table(
        f"ANIME model rebuild, {len(titles):,} titles, lists drawn from {directory.name}"
        f" (seed {seed}); lag = 10 ms ticker on the bot's loop during the rebuild",
        [
            "lists",
            "entries",
            "child s",
            "child peak MiB",
            "wall s",
            "file MiB",
            "bot RSS before MiB",
            "after MiB",
            "lag max ms",
            "lag p99 ms",
            "loop free (<50 ms)",
        ],
        [row.cells() for row in rows],
    )
    print(json.dumps([row.__dict__ for row in rows]))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.bench_rebuild", description=__doc__)
    parser.add_argument("directory", type=Path)
    parser.add_argument("--sizes", default="100,1000,10000")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    if not (args.directory / "train.jsonl.gz").is_file():
        print(f"no benchmark data in {args.directory}; nothing measured")
        return
    sizes = [int(s) for s in args.sizes.split(",")]
    asyncio.run(run(args.directory, sizes, args.seed))


if __name__ == "__main__":
    main()
