"""The order of the benchmark's sections, and the Goals table at the end.

One data directory serves every section: the in-process bot builds the catalogue and stores
the synthetic lists and ratings, the states run on it (the trainings leave trained models), and
the RSS section starts main.py on what is left, which is the bot a real deployment would be.
"""

from __future__ import annotations

import asyncio
import logging
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from benchmarks.report import mib, pct_ms, percentile, table
from tests.support.harness import start_with_catalogue

from . import states
from .fake_anilist import RemoteAniList, fake_anilist_process
from .fixture import (
    BENCH_LIMITER_BUDGET,
    BOT_REQUESTS_PER_MINUTE,
    FAKE_RATE_LIMIT,
    LATENCY_S,
    SEED,
    Plan,
    Users,
    bot_env,
    insert_feedback,
    new_harness,
    store_lists,
)
from .floor import Floor, measure_floor
from .latency import Samples, recommend_round
from .remote_discord import RemoteDiscord, discord_emulator_process
from .rss import Memory, bot_process_rss, imports_only_rss

MAPPINGS_SHOWN = 8

BUILD_TIMEOUT_S = 900.0


@dataclass
class Results:
    """Everything the Goals table reads."""

    states: list[states.StateResult] = field(default_factory=list)
    uncached: Samples | None = None
    cached: Samples | None = None
    acks: list[float] = field(default_factory=list)
    memory: list[Memory] = field(default_factory=list)
    floor: Floor | None = None


async def run(plan: Plan) -> None:
    """The whole benchmark for `plan`; prints tables as sections finish."""
    started = time.monotonic()
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    print_settings(plan)
    results = Results()
    with tempfile.TemporaryDirectory(prefix="anime8-bench-") as tmp:
        data_dir = Path(tmp) / "data"
        async with (
            discord_emulator_process() as discord,
            fake_anilist_process(
                media_per_type=plan.catalogue,
                seed=SEED,
                extra_users=plan.fresh_users,
                rate_limit=FAKE_RATE_LIMIT,
                window_s=60,
                latency_s=LATENCY_S,
            ) as fake,
        ):
            env = bot_env(plan, fake.url)
            users = Users(plan.fresh_users)
            await in_process(plan, discord, fake, data_dir, env, users, results)
            replies, results.memory = await bot_process_rss(discord, data_dir, env, users.take(2))
            print_memory(plan, replies, [await imports_only_rss(), *results.memory])
            await print_fake_totals(fake)
            if errors := await discord.call("errors"):
                print("\nemulator errors:", *errors[:5], sep="\n  ")
    print_goals(plan, results)
    print(f"\ntotal wall time {time.monotonic() - started:.0f} s")


def print_settings(plan: Plan) -> None:
    sizes = (
        f"{plan.catalogue:,} titles per type, {plan.lists_per_type:,} stored lists per type,"
        f" {plan.feedback_users * plan.ratings_per_user:,} anime ratings"
    )
    small = " (SMALLER than issue 11's RSS goal sizes)" if plan.name == "quick" else ""
    print(f"plan {plan.name}: {sizes}{small}")
    print(
        f"settings: RECOMMEND_COOLDOWN_SECONDS=0, AUTO_TRAIN=false (the automatic-training"
        f" state calls train_if_due itself), ANILIST_REQUESTS_PER_MINUTE="
        f"{BOT_REQUESTS_PER_MINUTE}; fake AniList in its own process, {LATENCY_S * 1000:.0f} ms"
        f" latency per request, rate limit {FAKE_RATE_LIMIT:,}/min."
    )
    print(
        f"NOTE: each start swaps the bot's AniList limiter for a {BENCH_LIMITER_BUDGET:,}/min"
        " one, so concurrent rounds measure the bot, not its limiter. The Discord emulator and"
        " the load it sends run in a process of their own, as Discord is not in the bot's."
    )


async def in_process(
    plan: Plan,
    discord: RemoteDiscord,
    fake: RemoteAniList,
    data_dir: Path,
    env: dict[str, str],
    users: Users,
    results: Results,
) -> None:
    """The sections that run the bot inside this process; stops it at the end."""
    harness = new_harness(discord, data_dir, env)
    try:
        await prepare(plan, harness, fake)
        bench = states.Bench(plan, harness, discord, fake.pid)
        await warm_cached_users(bench, users)
        results.states.append(await states.measure(bench, "idle", states.idle, keep_going=True))
        results.uncached, results.cached = await final_messages(bench, fake, users)
        for name, state, keep_going in states.STATES:
            results.states.append(await states.measure(bench, name, state, keep_going=keep_going))
        states.print_states(bench, results.states)
        results.acks = await acks_during_rebuild(bench)
        results.floor = await measure_floor(bench)
        await harness.stop()
    finally:
        if harness.bot is not None:
            await harness.bot.close()
        if harness.task is not None:
            await asyncio.wait({harness.task}, timeout=10)


async def prepare(plan: Plan, harness, fake: RemoteAniList) -> None:
    """Build the catalogue from empty, store the synthetic lists and ratings, and rebuild
    the models on them, printing how long each took."""
    t0 = time.monotonic()
    before = await fake.stats()
    bot = await start_with_catalogue(harness, timeout_s=BUILD_TIMEOUT_S)
    build = await fake.stats() - before
    t1 = time.monotonic()
    entries = await store_lists(harness, plan.lists_per_type)
    ratings = await insert_feedback(harness, plan.feedback_users, plan.ratings_per_user)
    t2 = time.monotonic()
    for media_type in ("ANIME", "MANGA"):
        bot.recommendations.models.request_rebuild(media_type)
    async with asyncio.timeout(BUILD_TIMEOUT_S):
        await bot.recommendations.models.wait_idle()
    t3 = time.monotonic()
    table(
        "Preparation (in-process bot, empty data directory)",
        ["step", "seconds", "what"],
        [
            ["catalogue build", f"{t1 - t0:.1f}", f"{build.requests} AniList requests"],
            ["store lists, ratings", f"{t2 - t1:.1f}", f"{entries:,} entries, {ratings:,} ratings"],
            ["rebuild both models", f"{t3 - t2:.1f}", f"{2 * plan.lists_per_type:,} lists"],
        ],
    )


async def warm_cached_users(bench: states.Bench, users: Users) -> None:
    """Fetch and store 50 users' lists, so that the states' rounds are cached /recommends;
    then wait out any rebuild their new lists asked for."""
    bench.cached = users.take(50)
    await recommend_round(bench.discord, bench.cached, Samples())
    async with asyncio.timeout(states.SETTLE_TIMEOUT_S):
        await bench.recs.models.wait_idle()


async def final_messages(
    bench: states.Bench, fake: RemoteAniList, users: Users
) -> tuple[Samples, Samples]:
    """20 concurrent /recommend for never-fetched users, then the same users again (cached);
    prints both with AniList round trips per request."""
    pairs = [users.take(20) for _ in range(bench.plan.final_rounds)]
    rows, measured = [], []
    for label in ("uncached", "cached"):
        samples = Samples()
        before = await fake.stats()
        with bench.cpu_meter() as meter:
            for round_pairs in pairs:
                await recommend_round(
                    bench.discord,
                    round_pairs,
                    samples,
                    lambda: bench.recs.models.is_building("ANIME"),
                )
        spent = await fake.stats() - before
        n = sum(samples.outcomes.values())
        cpu = meter.use
        rows.append(
            [
                label,
                str(n),
                samples.failed,
                pct_ms(samples.finals, 50),
                pct_ms(samples.finals, 95),
                f"{spent.requests / max(1, n):.2f}",
                f"{1000 * spent.busy_s / max(1, spent.requests):.0f}",
                f"{1000 * cpu.loop / max(1, n):.1f}",
                f"{1000 * cpu.bot / max(1, n):.1f}",
                f"{samples.in_progress} of {samples.rounds}",
            ]
        )
        measured.append(samples)
    table(
        "Final message (follow-up with embeds) at 20 concurrent /recommend, ms from"
        f" INTERACTION_CREATE; fake AniList latency {LATENCY_S * 1000:.0f} ms",
        [
            "lists",
            "n",
            "failed",
            "p50",
            "p95",
            "AniList req/rec",
            "fake CPU ms/req",
            "bot loop CPU ms/rec",
            "bot CPU ms/rec",
            "rounds with an anime model rebuild running",
        ],
        rows,
    )
    return measured[0], measured[1]


async def acks_during_rebuild(bench: states.Bench) -> list[float]:
    """`plan.clicks` rating clicks at once, on the last recommendation messages, while both
    models rebuild; prints the table."""
    async with states.model_rebuild(bench) as running:
        acks, missing = await bench.discord.call("click_acks", bench.plan.clicks)
        during = running()
    table(
        f"Rating click ack (first callback) at {bench.plan.clicks} concurrent clicks during a"
        " rebuild of both models, ms from INTERACTION_CREATE",
        ["clicks", "no ack", "p50", "p95", "p99", "max", "rebuild still running at the end"],
        [
            [
                str(len(acks) + missing),
                str(missing),
                pct_ms(acks, 50),
                pct_ms(acks, 95),
                pct_ms(acks, 99),
                pct_ms(acks, 100),
                "yes" if during else "no",
            ]
        ],
    )
    return acks


def print_memory(plan: Plan, replies: str, readings: list[Memory]) -> None:
    rows = []
    for memory in readings:
        rows.append([memory.moment, "bot (python main.py)", mib(memory.bot), mib(memory.bot_file)])
        rows += [["", f"child: {name}", mib(rss), ""] for name, rss in memory.children]
    table(
        f"Resident memory (MiB) of the bot as its own process: {plan.catalogue:,} titles per"
        f" type, {2 * plan.lists_per_type:,} stored lists, trained models; warm-up"
        f" /recommend: {replies}",
        ["reading", "process", "RSS MiB", "of which file-backed"],
        rows,
        labels=(0, 1),
    )
    table(
        f"What the bot's RSS is: its {MAPPINGS_SHOWN} largest mappings per reading",
        ["reading", "mapping", "resident MiB"],
        [
            [memory.moment, _short(path), mib(size)]
            for memory in readings
            for path, size in memory.mappings[:MAPPINGS_SHOWN]
        ],
        labels=(0, 1),
    )


def _short(path: str) -> str:
    """A mapped file's name with its place: the data directory's part, or the package it is
    in (site-packages/<package>/...)."""
    parts = Path(path).parts
    for anchor in ("site-packages", "data"):
        if anchor in parts:
            return "/".join(parts[parts.index(anchor) + 1 :])
    return path


async def print_fake_totals(fake: RemoteAniList) -> None:
    stats = await fake.stats()
    ops = ", ".join(f"{k} {v}" for k, v in sorted(stats.by_operation.items()))
    table(
        "Fake AniList, whole run (counted in its own process)",
        ["requests", "by operation", "429s sent"],
        [[str(stats.requests), ops, str(stats.rate_limited)]],
    )


def print_goals(plan: Plan, r: Results) -> None:
    """Issue 11's goal table with what this run measured; it judges nothing else."""
    rows = []
    for s in r.states:
        rows.append(
            goal_row(f"deferral p99, 50 concurrent, {s.name}", s.samples.deferrals, 99, 0.100, "<")
        )
    for s in r.states:
        rows.append(goal_row(f"event-loop lag max, {s.name}", s.lag.lags, 100, 0.050, "<"))
    rows.append(goal_row("final p95, 20 concurrent, uncached", r.uncached.finals, 95, 0.6, "<="))
    rows.append(goal_row("final p95, 20 concurrent, cached", r.cached.finals, 95, 0.100, "<"))
    rows.append(
        goal_row(f"click ack p99, {plan.clicks} concurrent, rebuild", r.acks, 99, 0.100, "<")
    )
    if r.floor is not None:
        rows.append(
            goal_row(
                "floor: cached final p95, scoring left out",
                r.floor.cached_floor.finals,
                95,
                0.1,
                "<",
            )
        )
        rows.append(
            goal_row("floor: click ack p99, its work left out", r.floor.acks_floor, 99, 0.1, "<")
        )
    rss_mib = max(m.bot for m in r.memory) / 2**20  # the larger reading
    sized = "" if plan.name == "full" else " (quick sizes: not the goal's)"
    rows.append(
        [
            f"bot RSS, larger reading{sized}",
            f"{rss_mib:,.0f} MiB",
            "<= 400 MiB",
            "yes" if rss_mib <= 400 else "no",
        ]
    )
    table("Goals (issue 11)", ["figure", "measured", "goal", "met?"], rows)


def goal_row(label: str, values: list[float], q: float, goal_s: float, op: str) -> list[str]:
    if not values:
        return [label, "-", f"{op} {goal_s * 1000:,.0f} ms", "not measured"]
    value = percentile(values, q)
    met = value < goal_s if op == "<" else value <= goal_s
    return [
        label,
        f"{value * 1000:,.0f} ms",
        f"{op} {goal_s * 1000:,.0f} ms",
        "yes" if met else "no",
    ]
