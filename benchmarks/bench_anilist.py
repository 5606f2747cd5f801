"""Benchmark: build a 5,000-title catalogue per type against the fake AniList, then price a
warm /recommend.

    python -m benchmarks.bench_anilist            # AniList's real 30 requests per 60 s
    python -m benchmarks.bench_anilist --quick    # same limit per 3 s window (smoke run)

Prints the build's progress, then requests made, 429s received and wall time, and how many
requests one user's list costs uncached (1 for a list under 500 entries) and cached (0).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
import tempfile
import time
from pathlib import Path

import aiohttp

from bot.anilist import AniListClient
from bot.anilist.catalogue_builder import PAGES_PER_REQUEST, CatalogueBuilder
from bot.anilist.rate_limit import RateLimiter
from bot.anilist.user_lists import UserListService
from bot.storage import Database
from bot.storage.media import MediaStore
from tests.fakes.anilist_server import FakeAniList, FakeData

CATALOGUE_SIZE = 5000
# Enough titles that 5,000 per type remain once adult ones (about 5 %) are left out.
MEDIA_PER_TYPE = 5600


async def run(window_s: float, latency_s: float, per_window: int) -> None:
    started = time.perf_counter()
    data = FakeData.generate(media_per_type=MEDIA_PER_TYPE, seed=8, extra_users=5)
    print(f"fixture: {len(data.media):,} titles generated in {time.perf_counter() - started:.1f} s")
    with tempfile.TemporaryDirectory() as tmp:
        db = await Database.open(Path(tmp) / "bench.db")
        async with (
            FakeAniList(
                data, rate_limit=per_window, window_s=window_s, retry_after_s=window_s,
                latency_s=latency_s,
            ) as fake,
            aiohttp.ClientSession() as session,
        ):  # fmt: skip
            limiter = RateLimiter(per_window, window_seconds=window_s)
            client = AniListClient(session, fake.url, limiter)
            print(
                f"limit {per_window} requests per {window_s:g} s, {latency_s:g} s latency,"
                f" {PAGES_PER_REQUEST} pages of 50 per request"
            )
            started = time.perf_counter()
            await CatalogueBuilder(client, db, CATALOGUE_SIZE, max_age_days=7).run()
            wall = time.perf_counter() - started
            store = MediaStore(db)
            counts = {t: await store.catalogue_count(t) for t in ("ANIME", "MANGA")}
            titles = sum(counts.values())
            print(f"catalogue: {counts['ANIME']:,} anime + {counts['MANGA']:,} manga")
            print(
                f"catalogue build: {fake.requests_total} requests"
                f" (single pages would take {titles // 50}), {fake.rate_limited_sent} 429s,"
                f" wall time {wall:.1f} s"
            )

            lists = UserListService(client, db, cache_minutes=15)
            for label in ("uncached", "cached"):
                before = fake.requests_total
                started = time.perf_counter()
                user_list = await lists.get_list("Alice", "ANIME", deadline_s=30)
                print(
                    f"warm /recommend list fetch ({label}): {fake.requests_total - before}"
                    f" request(s), {len(user_list.entries)} entries,"
                    f" {time.perf_counter() - started:.2f} s"
                )
            print(f"429s received in all: {fake.rate_limited_sent}")
        await db.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="3 s window instead of 60 s")
    parser.add_argument("--latency", type=float, default=0.4, help="added per request (s)")
    parser.add_argument("--per-window", type=int, default=30, help="requests per window")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", stream=sys.stdout)
    logging.getLogger("bot.anilist").setLevel(logging.WARNING)
    asyncio.run(run(3.0 if args.quick else 60.0, args.latency, args.per_window))
    return 0


if __name__ == "__main__":
    sys.exit(main())
