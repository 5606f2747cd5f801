"""What the benchmark runs on: sizes per mode, the bot's settings, users, and the stored lists
and ratings that make builds and trainings a real load rather than a few milliseconds."""

from __future__ import annotations

import random
import time
from dataclasses import dataclass
from pathlib import Path

from bot.anilist.rate_limit import RateLimiter
from tests.support.harness import BotHarness

from .remote_discord import RemoteDiscord

SEED = 11
LATENCY_S = 0.3  # added by the fake AniList to every request, as issue 11's goal assumes
BOT_REQUESTS_PER_MINUTE = 90  # the bot's setting (the highest it accepts)
FAKE_RATE_LIMIT = 1_000_000  # the fake never answers 429 here
BENCH_LIMITER_BUDGET = 100_000  # see swap_limiter()
STATUSES = ["COMPLETED", "COMPLETED", "COMPLETED", "CURRENT", "PLANNING", "DROPPED", "PAUSED"]


@dataclass(frozen=True)
class Plan:
    """Sizes of one run. Issue 11's RSS goal is stated for `catalogue`=5,000 per type and
    1,000 stored lists; the quick plan is smaller and says so in its output."""

    name: str
    catalogue: int  # titles per type
    lists_per_type: int  # synthetic stored lists of each type
    feedback_users: int  # synthetic raters of anime titles
    ratings_per_user: int
    state_rounds: int  # at most this many 50-user rounds per state
    final_rounds: int  # 20-user rounds, uncached then cached
    clicks: int
    train_timeout_s: float

    @property
    def fresh_users(self) -> int:
        """AniList users the fake must know: the 50 cached for the states, the uncached
        final-message rounds, and a few for warm-up."""
        return 50 + 20 * self.final_rounds + 5


FULL = Plan("full", 5000, 500, 1000, 50, 4, 3, 200, 900)
QUICK = Plan("quick", 2000, 150, 300, 50, 2, 1, 200, 300)


def bot_env(plan: Plan, anilist_url: str) -> dict[str, str]:
    """Settings for the bot under test. AUTO_TRAIN is off so that no training starts on its
    own during another state's samples; the automatic-training state calls the same
    train_if_due the bot's own loop calls."""
    return {
        "ANILIST_API_URL": anilist_url.rstrip("/"),
        "BUILD_CATALOGUE": "true",
        "CATALOGUE_SIZE": str(plan.catalogue),
        "ANILIST_REQUESTS_PER_MINUTE": str(BOT_REQUESTS_PER_MINUTE),
        "RECOMMEND_COOLDOWN_SECONDS": "0",
        "AUTO_TRAIN": "false",
        "TRAINING_TIMEOUT_MINUTES": str(plan.train_timeout_s / 60),
        "LOG_LEVEL": "WARNING",
    }


def new_harness(discord: RemoteDiscord, data_dir: Path, env: dict[str, str]) -> BotHarness:
    """A BotHarness whose every (re)start gets the benchmark's AniList limiter."""
    return _BenchHarness(discord, data_dir, env)  # RemoteDiscord serves as its emulator


class _BenchHarness(BotHarness):
    async def start(self, **overrides: str):
        bot = await super().start(**overrides)
        swap_limiter(self)
        return bot


def swap_limiter(harness: BotHarness) -> None:
    """Give the running bot's AniList client a limiter with a budget the benchmark cannot
    exhaust: 90/min (the bot's maximum) would make 50-user rounds wait for the limiter, and
    this benchmark measures the bot, not the limiter."""
    harness.bot.anilist.limiter = RateLimiter(BENCH_LIMITER_BUDGET)


class Users:
    """Discord users paired with AniList usernames the fake knows (user01, user02, ...),
    handed out once each so that a first /recommend is always an uncached list. The
    emulator's process adds each Discord user on its first /recommend."""

    def __init__(self, count: int) -> None:
        self.count = count
        self.next = 1

    def take(self, n: int) -> list[tuple[str, str]]:
        """`n` fresh (discord name, AniList username) pairs; RuntimeError when used up."""
        if self.next + n - 1 > self.count:
            raise RuntimeError("the plan has run out of fresh AniList users")
        pairs = [(f"bench-user{k:02d}", f"user{k:02d}") for k in range(self.next, self.next + n)]
        self.next += n
        return pairs


async def store_lists(harness: BotHarness, per_type: int) -> int:
    """Store `per_type` synthetic AniList lists of each type (20-200 entries, scores from a
    per-title quality plus a per-user bias) through the bot's MediaStore; returns entries."""
    bot = harness.bot
    rng = random.Random(SEED)
    now = time.time()
    entries_total = 0
    for media_type in ("ANIME", "MANGA"):
        ids = [m["id"] for m in await bot.media_store.catalogue(media_type)]
        quality = {m: rng.gauss(0, 1.5) for m in ids}
        for number in range(per_type):
            bias = rng.gauss(6.5, 1)
            entries = [
                {
                    "mediaId": media_id,
                    "status": rng.choice(STATUSES),
                    "score": max(0.0, min(10.0, round(bias + quality[media_id], 1))),
                    "progress": rng.randrange(1, 25),
                }
                for media_id in rng.sample(ids, min(len(ids), rng.randrange(20, 201)))
            ]
            entries_total += len(entries)
            await bot.media_store.save_user_list(
                f"synthetic{number:04d}", media_type, entries, [], now
            )
    return entries_total


async def insert_feedback(harness: BotHarness, users: int, per_user: int) -> int:
    """Insert `users` x `per_user` synthetic anime ratings in one transaction; returns rows."""
    db = harness.bot.db
    async with db.conn.execute(
        "SELECT id FROM media WHERE type = 'ANIME' AND in_catalogue = 1"
    ) as cur:
        ids = [row[0] async for row in cur]
    rng = random.Random(42)
    quality = {m: rng.gauss(0, 1.5) for m in ids}
    now = time.time()
    rows = []
    for number in range(users):
        bias = rng.gauss(6, 1)
        for media_id in rng.sample(ids, min(per_user, len(ids))):
            rating = max(0, min(10, round(bias + quality[media_id] + rng.gauss(0, 1))))
            rows.append((10**15 + number, None, media_id, "ANIME", rating, now, now))
    await db.conn.execute("BEGIN")
    await db.conn.executemany(
        "INSERT OR REPLACE INTO feedback (discord_user_id, anilist_username, media_id,"
        " media_type, rating, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
        rows,
    )
    await db.conn.execute("COMMIT")
    return len(rows)
