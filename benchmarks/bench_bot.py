"""Load benchmark of the whole bot: the real Anime8 bot, started as main.py starts it
(bot.core.serve), against the local Discord emulator in this process and the fake AniList in a
thread with its own event loop (in production AniList's work is not on the bot's loop; the
fake's GraphQL execution takes ~180 ms of Python per request and would otherwise be counted as
the bot's latency).

    python -m benchmarks.bench_bot            # full run (about 10 minutes on 2 cores)
    python -m benchmarks.bench_bot --quick    # smaller smoke run (about 2 minutes)

Prints tables only (latency percentiles beside their targets, AniList requests, event-loop lag
during /autotrain, resident memory); it passes or fails nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import logging
import random
import shlex
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

import psutil

from bot.anilist.rate_limit import RateLimiter
from tests.e2e.conftest import BotHarness, start_with_catalogue
from tests.fakes.anilist_server import FakeAniList, FakeData
from tests.fakes.discord_emulator import DiscordEmulator

LATENCY_S = 0.3  # added by the fake AniList to every request
BOT_REQUESTS_PER_MINUTE = 90  # the bot's setting (the highest it accepts)
FAKE_RATE_LIMIT = 1_000_000  # the fake never answers 429 here
BENCH_LIMITER_BUDGET = 100_000  # see swap_limiter()
DEFERRAL_TARGET_S = 0.100  # p99 at 50 concurrent
FINAL_TARGET_S = 1.5
REPLY_TIMEOUT_S = 30.0  # p95 at 10 concurrent, also during a catalogue build


@dataclass(frozen=True)
class Plan:
    catalogue: int
    rounds: dict[str, tuple[int, int]]  # label -> (concurrent users, rounds)
    feedback_users: int
    ratings_per_user: int
    big_catalogue: int  # 0: skip the second-size RSS figure
    train_timeout_s: float


FULL = Plan(
    catalogue=2000,
    rounds={"1": (1, 10), "10": (10, 5), "50": (50, 4), "10b": (10, 4), "50b": (50, 3)},
    feedback_users=2000,
    ratings_per_user=50,
    big_catalogue=5000,
    train_timeout_s=300,
)
QUICK = Plan(
    catalogue=2000,
    rounds={"1": (1, 3), "10": (10, 2), "50": (50, 1), "10b": (10, 1), "50b": (50, 1)},
    feedback_users=400,
    ratings_per_user=50,
    big_catalogue=0,
    train_timeout_s=120,
)


@asynccontextmanager
async def fake_anilist_in_thread(data: FakeData, **options) -> AsyncIterator[FakeAniList]:
    """A FakeAniList served from its own thread and event loop; its counters stay readable."""
    started = threading.Event()
    holder: dict[str, object] = {}

    def serve() -> None:
        async def main() -> None:
            loop = asyncio.get_running_loop()
            stop = asyncio.Event()
            async with FakeAniList(data, **options) as fake:
                holder.update(fake=fake, loop=loop, stop=stop)
                started.set()
                await stop.wait()

        asyncio.run(main())

    thread = threading.Thread(target=serve, name="fake-anilist", daemon=True)
    thread.start()
    await asyncio.to_thread(started.wait, 30)
    try:
        yield holder["fake"]
    finally:
        holder["loop"].call_soon_threadsafe(holder["stop"].set)
        await asyncio.to_thread(thread.join, 30)


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(q / 100 * len(ordered) + 0.4999)))
    return ordered[rank - 1]


def table(title: str, header: list[str], rows: list[list[str]]) -> None:
    widths = [max(len(str(c)) for c in column) for column in zip(header, *rows, strict=True)]
    line = "  ".join("-" * w for w in widths)
    print(f"\n{title}")
    print("  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)))
    print(line)
    for row in rows:
        last = len(widths) - 1
        cells = [
            str(c).ljust(w) if i in (0, last) and i else str(c).rjust(w) if i else str(c).ljust(w)
            for i, (c, w) in enumerate(zip(row, widths, strict=True))
        ]
        print("  ".join(cells))
    sys.stdout.flush()


def ms(seconds: float) -> str:
    return f"{seconds * 1000:,.0f}"


def mib(n_bytes: int) -> str:
    return f"{n_bytes / 2**20:,.0f}"


def swap_limiter(harness: BotHarness) -> None:
    """Give the running bot's AniList client a limiter with a budget the benchmark cannot
    exhaust: 90/min (the bot's maximum) would make 50-user rounds wait for the limiter, and
    this benchmark measures the bot, not the limiter."""
    harness.bot.anilist.limiter = RateLimiter(BENCH_LIMITER_BUDGET)


class Users:
    """Distinct Discord users paired with distinct, never-fetched AniList usernames."""

    def __init__(self, emulator: DiscordEmulator, count: int) -> None:
        self.emulator = emulator
        self.count = count
        self.next = 1

    def take(self) -> tuple[str, str]:
        if self.next > self.count:
            raise RuntimeError("the fixture has run out of fresh AniList users")
        name = f"user{self.next:02d}"
        self.next += 1
        discord_name = f"bench-{name}"
        self.emulator.add_user(discord_name)
        return discord_name, name


async def one_recommend(
    emulator: DiscordEmulator, discord_user: str, username: str
) -> tuple[float | None, float | None, str]:
    """(deferral s or None, final s or None, outcome): ok | error reply | no deferral."""
    record = await emulator.invoke(
        "recommend", {"username": username, "count": 5}, user=discord_user
    )
    try:
        message = await record.wait_message(timeout=REPLY_TIMEOUT_S)
    except TimeoutError:
        message = None
    deferral = record.responses[0].at - record.created_at if record.responses else None
    if message is None or not message.get("embeds"):
        outcome = "no deferral" if deferral is None else "error reply"
        return deferral, None, outcome
    final = next(
        e.at
        for e in reversed(emulator.events)
        if e.kind == "followup" and e.data.get("interaction_id") == record.id
    )
    return deferral, final - record.created_at, "ok"


@dataclass
class Samples:
    deferrals: list[float] = field(default_factory=list)
    finals: list[float] = field(default_factory=list)
    outcomes: Counter = field(default_factory=Counter)
    overlapped: int = 0
    rounds: int = 0


async def latency_rounds(
    emulator: DiscordEmulator,
    users: Users,
    concurrent: int,
    rounds: int,
    samples: Samples,
    build_running=None,
) -> None:
    for _ in range(rounds):
        pairs = [users.take() for _ in range(concurrent)]
        results = await asyncio.gather(*(one_recommend(emulator, d, u) for d, u in pairs))
        if build_running is not None and build_running():
            samples.overlapped += 1
        samples.rounds += 1
        samples.deferrals += [r[0] for r in results if r[0] is not None]
        samples.finals += [r[1] for r in results if r[1] is not None]
        samples.outcomes.update(r[2] for r in results)
        emulator.events.clear()  # keeps the emulator's event scans short
        await asyncio.sleep(0.2)


def latency_row(label: str, s: Samples, note: str) -> list[str]:
    def pct(values: list[float], q: float) -> str:
        return ms(percentile(values, q)) if values else "-"

    failed = ", ".join(f"{n} {k}" for k, n in s.outcomes.items() if k != "ok") or "0"
    return [
        label,
        str(sum(s.outcomes.values())),
        failed,
        pct(s.deferrals, 50),
        pct(s.deferrals, 95),
        pct(s.deferrals, 99),
        pct(s.finals, 50),
        pct(s.finals, 95),
        pct(s.finals, 99),
        note,
    ]


async def insert_feedback(harness: BotHarness, users: int, per_user: int) -> int:
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


async def autotrain_with_ticker(
    emulator: DiscordEmulator, timeout_s: float
) -> tuple[float, float, float, int, str]:
    lags: list[float] = []
    stop = asyncio.Event()

    async def ticker() -> None:
        while not stop.is_set():
            started = time.perf_counter()
            await asyncio.sleep(0.010)
            lags.append(time.perf_counter() - started - 0.010)

    tick = asyncio.create_task(ticker())
    started = time.monotonic()
    record = await emulator.invoke("autotrain", {"type": "ANIME"}, user="owner")
    try:
        message = await record.wait_message(
            lambda m: bool(m.get("content")) and not m["content"].startswith("Training "),
            timeout=timeout_s,
        )
        outcome = message["content"]
    except TimeoutError:
        outcome = f"no final message within {timeout_s:.0f} s"
    wall = time.monotonic() - started
    stop.set()
    await tick
    return wall, max(lags), percentile(lags, 99), len(lags), outcome


def rss() -> int:
    gc.collect()
    return psutil.Process().memory_info().rss


async def run(plan: Plan, quick: bool) -> None:
    started_all = time.monotonic()
    users_needed = sum(c * r for c, r in plan.rounds.values()) + 10
    t0 = time.perf_counter()
    data = FakeData.generate(media_per_type=plan.catalogue, seed=11, extra_users=users_needed)
    print(
        f"fixture: {plan.catalogue:,} titles per type, {users_needed} extra AniList users"
        f" (8 anime entries each), generated in {time.perf_counter() - t0:.1f} s"
    )
    print(
        f"settings: CATALOGUE_SIZE={plan.catalogue}, RECOMMEND_COOLDOWN_SECONDS=0,"
        f" ANILIST_REQUESTS_PER_MINUTE={BOT_REQUESTS_PER_MINUTE}; fake AniList latency"
        f" {LATENCY_S * 1000:.0f} ms/request, rate limit {FAKE_RATE_LIMIT:,}/min (no 429s)."
    )
    print(
        "NOTE: after each start the benchmark swaps the bot's AniList limiter for one with a"
        f" {BENCH_LIMITER_BUDGET:,}/min budget, so 50-user rounds measure the bot, not the"
        f" limiter (the bot's own {BOT_REQUESTS_PER_MINUTE}/min would queue them)."
    )
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    with tempfile.TemporaryDirectory(prefix="anime8-bench-") as tmp:
        async with (
            DiscordEmulator(heartbeat_interval_ms=1000) as emulator,
            fake_anilist_in_thread(
                data, rate_limit=FAKE_RATE_LIMIT, window_s=60, latency_s=LATENCY_S
            ) as fake,
        ):
            env = {
                "ANILIST_API_URL": fake.url.rstrip("/"),
                "BUILD_CATALOGUE": "true",
                "CATALOGUE_SIZE": str(plan.catalogue),
                "ANILIST_REQUESTS_PER_MINUTE": str(BOT_REQUESTS_PER_MINUTE),
                "RECOMMEND_COOLDOWN_SECONDS": "0",
                "LOG_LEVEL": "WARNING",
            }
            harness = BotHarness(emulator, Path(tmp) / "data", env)
            try:
                await bench(plan, quick, harness, emulator, fake, started_all)
            finally:
                if harness.bot is not None:
                    await harness.bot.close()
                if harness.task is not None:
                    await asyncio.wait({harness.task}, timeout=10)
            if emulator.errors:
                print("\nemulator errors:", *emulator.errors[:5], sep="\n  ")
    if plan.big_catalogue:
        remaining = 600 - (time.monotonic() - started_all)
        big = big_catalogue_rss(plan.big_catalogue, timeout_s=max(60.0, remaining - 30))
        table(
            "Resident memory, second size (separate process, same in-process setup)",
            ["catalogue per type", "RSS before bot MiB", "RSS bot ready MiB", "bot share MiB"],
            [big],
        )
    print(f"\ntotal wall time {time.monotonic() - started_all:.0f} s")


async def bench(
    plan: Plan,
    quick: bool,
    harness: BotHarness,
    emulator: DiscordEmulator,
    fake: FakeAniList,
    started_all: float,
) -> None:
    users = Users(emulator, sum(c * r for c, r in plan.rounds.values()) + 10)
    rss_before_bot = rss()

    # -- warm catalogue ----------------------------------------------------------------------
    before = fake.requests_total
    t0 = time.monotonic()
    bot = await start_with_catalogue(harness)
    build_wall = time.monotonic() - t0
    build_requests = fake.requests_total - before
    build_by_op = dict(fake.requests_by_operation)
    swap_limiter(harness)
    async with bot.db.conn.execute(
        "SELECT type, COUNT(*) FROM media WHERE in_catalogue = 1 GROUP BY type"
    ) as cur:
        counts = {row[0]: row[1] async for row in cur}
    print(
        f"catalogue prebuilt: {counts.get('ANIME', 0):,} anime + {counts.get('MANGA', 0):,}"
        f" manga in {build_wall:.1f} s (start, build and model rebuild)"
    )

    # -- AniList requests per /recommend -----------------------------------------------------
    discord_user, username = users.take()
    before = fake.requests_total
    await one_recommend(emulator, discord_user, username)
    cold = fake.requests_total - before
    before = fake.requests_total
    await one_recommend(emulator, discord_user, username)
    cached = fake.requests_total - before
    emulator.events.clear()

    # -- latency ------------------------------------------------------------------------------
    rows = []
    results: dict[str, Samples] = {}
    for label in ("1", "10", "50"):
        concurrent, rounds = plan.rounds[label]
        before = fake.requests_total
        samples = results[label] = Samples()
        await latency_rounds(emulator, users, concurrent, rounds, samples)
        per = (fake.requests_total - before) / max(1, sum(samples.outcomes.values()))
        rows.append(
            latency_row(f"{concurrent} concurrent", samples, f"{rounds} rounds, {per:.2f} req/rec")
        )
        harness.check_alive()

    # A forced rebuild of the whole catalogue (CATALOGUE_MAX_AGE_DAYS=0 on restart) competes.
    restarts = 0
    for label in ("10b", "50b"):
        concurrent, rounds = plan.rounds[label]
        samples = results[label] = Samples()
        for _ in range(rounds):
            keeper = harness.bot.catalogue
            if keeper is None or keeper.has_completed():
                await harness.restart(CATALOGUE_MAX_AGE_DAYS="0")
                swap_limiter(harness)
                restarts += 1
                await asyncio.sleep(0.5)  # the build is under way
            keeper = harness.bot.catalogue
            await latency_rounds(
                emulator,
                users,
                concurrent,
                1,
                samples,
                lambda k=keeper: k is not None and not k.has_completed(),
            )
        rows.append(
            latency_row(
                f"{concurrent} during build",
                samples,
                f"{rounds} rounds, build still running at end of {samples.overlapped}",
            )
        )
        harness.check_alive()
    table(
        "/recommend latency (ms) from INTERACTION_CREATE: deferral = first callback,"
        " final = follow-up with embeds (percentiles over successful replies only)",
        ["load", "n", "failed", "defer p50", "p95", "p99", "final p50", "p95", "p99", "note"],
        rows,
    )
    print(f"(builds forced by {restarts} restart(s) with CATALOGUE_MAX_AGE_DAYS=0)")

    def measured(label: str, which: str, q: float) -> str:
        samples = results[label]
        values = getattr(samples, which)
        text = f"{ms(percentile(values, q))} ms" if values else "-"
        failed = sum(n for k, n in samples.outcomes.items() if k != "ok")
        return text + (f" ({failed} of {sum(samples.outcomes.values())} failed)" if failed else "")

    table(
        "Targets",
        ["target", "measured", "limit"],
        [
            ["deferral p99, 50 concurrent", measured("50", "deferrals", 99), "< 100 ms"],
            ["final p95, 10 concurrent", measured("10", "finals", 95), "< 1,500 ms"],
            ["final p95, 10 concurrent during build", measured("10b", "finals", 95), "< 1,500 ms"],
        ],
    )
    # Let a rebuild still running finish, for its request count.
    if harness.bot.catalogue is not None:
        try:
            async with asyncio.timeout(120):
                await harness.bot.catalogue.wait_complete()
        except TimeoutError:
            pass
    table(
        "AniList requests (fake's counters)",
        ["what", "requests"],
        [
            ["/recommend, cold list (1 user, under 500 entries)", str(cold)],
            ["/recommend, cached list (same user again)", str(cached)],
            [
                f"catalogue build, {plan.catalogue:,}/type from empty",
                f"{build_requests} ({', '.join(f'{k} {v}' for k, v in build_by_op.items())})",
            ],
            [
                "forced rebuilds during the latency runs (Catalogue ops)",
                str(fake.requests_by_operation["Catalogue"] - build_by_op.get("Catalogue", 0)),
            ],
            ["429s sent by the fake in all", str(fake.rate_limited_sent)],
        ],
    )

    # -- /autotrain and event-loop lag --------------------------------------------------------
    inserted = await insert_feedback(harness, plan.feedback_users, plan.ratings_per_user)
    async with harness.bot.db.conn.execute("SELECT COUNT(*) FROM anilist_lists") as cur:
        (lists,) = await cur.fetchone()
    emulator.events.clear()
    wall, lag_max, lag_p99, ticks, outcome = await autotrain_with_ticker(
        emulator, plan.train_timeout_s
    )
    table(
        "/autotrain ANIME (invoked as the owner) with a 10 ms asyncio ticker in the bot's loop",
        ["feedback rows", "stored lists", "wall s", "ticks", "lag max ms", "lag p99 ms"],
        [[f"{inserted:,}", str(lists), f"{wall:.1f}", str(ticks), ms(lag_max), ms(lag_p99)]],
    )
    print(f"autotrain said: {outcome}")
    harness.check_alive()

    # -- memory -------------------------------------------------------------------------------
    after = rss()
    table(
        "Resident memory of this process (the bot runs in-process with the emulator and the"
        " fake AniList; both catalogues loaded, trained model in memory, after warm-up)",
        ["catalogue per type", "RSS before bot MiB", "RSS now MiB", "bot share MiB"],
        [[f"{plan.catalogue:,}", mib(rss_before_bot), mib(after), mib(after - rss_before_bot)]],
    )


def big_catalogue_rss(size: int, timeout_s: float) -> list[str]:
    command = [sys.executable, "-m", "benchmarks.bench_bot", "--rss-only", str(size)]
    try:
        done = subprocess.run(
            command, capture_output=True, text=True, timeout=timeout_s, check=False
        )
        figures = json.loads(done.stdout.strip().splitlines()[-1])
        return [
            f"{size:,}",
            mib(figures["before"]),
            mib(figures["after"]),
            mib(figures["after"] - figures["before"]),
        ]
    except (subprocess.TimeoutExpired, ValueError, IndexError, KeyError) as error:
        return [f"{size:,}", "-", "-", f"not measured ({type(error).__name__})"]


async def rss_only(size: int) -> None:
    """Child process: build a `size`-per-type catalogue, warm one /recommend, print RSS JSON."""
    data = FakeData.generate(media_per_type=size, seed=11, extra_users=3)
    with tempfile.TemporaryDirectory(prefix="anime8-bench-rss-") as tmp:
        async with (
            DiscordEmulator(heartbeat_interval_ms=1000) as emulator,
            FakeAniList(data, rate_limit=FAKE_RATE_LIMIT, window_s=60) as fake,
        ):
            env = {
                "ANILIST_API_URL": fake.url.rstrip("/"),
                "BUILD_CATALOGUE": "true",
                "CATALOGUE_SIZE": str(size),
                "ANILIST_REQUESTS_PER_MINUTE": str(BOT_REQUESTS_PER_MINUTE),
                "LOG_LEVEL": "WARNING",
            }
            harness = BotHarness(emulator, Path(tmp) / "data", env)
            before = rss()
            try:
                await harness.start()
                swap_limiter(harness)
                async with asyncio.timeout(400):
                    await harness.bot.catalogue.wait_complete()
                    await harness.bot.recommendations.models.wait_idle()
                for media_type in ("ANIME", "MANGA"):
                    record = await emulator.invoke(
                        "recommend", {"username": "user01", "type": media_type, "count": 5}
                    )
                    await record.wait_message(lambda m: bool(m.get("embeds")), timeout=60)
                after = rss()
            finally:
                await harness.stop()
    print(json.dumps({"before": before, "after": after}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller smoke run")
    parser.add_argument("--rss-only", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.rss_only:
        asyncio.run(rss_only(args.rss_only))
        return
    print(
        "command:",
        shlex.join([Path(sys.executable).name, "-m", "benchmarks.bench_bot", *sys.argv[1:]]),
    )
    print(f"host: {psutil.cpu_count()} CPUs, Python {sys.version.split()[0]}")
    asyncio.run(run(QUICK if args.quick else FULL, args.quick))


if __name__ == "__main__":
    main()
