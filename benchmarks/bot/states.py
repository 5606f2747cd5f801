"""The states the bot can be in, each started, measured under 50 concurrent /recommend with
the lag monitor running, then let finish so the next state starts from idle.

A state is an async context manager: entering starts it (and returns once it is under way),
the value it yields says whether it is still in progress, leaving waits for it to end.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass, field

from benchmarks.report import pct_ms, table
from tests.support.harness import BotHarness

from .cpu import CpuMeter, CpuUse, print_cpu
from .fixture import Plan
from .latency import STALL_S, InteractionClock, LagMonitor, Samples, recommend_round
from .remote_discord import RemoteDiscord

SETTLE_TIMEOUT_S = 900.0
STALL_PLACES = 3
SLOWEST_SHARE = 0.05


@dataclass
class Bench:
    """What every state works on. `cached` are users whose lists the bot already stores."""

    plan: Plan
    harness: BotHarness
    discord: RemoteDiscord
    fake_pid: int  # the fake AniList's process
    cached: list[tuple[str, str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # printed under the states table

    @property
    def recs(self):
        """The running bot's RecommendationService (a restart makes a new one)."""
        return self.harness.bot.recommendations

    def cpu_meter(self) -> CpuMeter:
        return CpuMeter(self.discord.pid, self.fake_pid)


@dataclass
class StateResult:
    name: str
    samples: Samples
    lag: LagMonitor
    seconds: float
    cpu: CpuUse  # over the state's rounds
    round_cpu: list[CpuUse]  # over each round

    def round_cells(self) -> list[str]:
        """Round by round: the slowest deferral (ms), the bot's CPU per /recommend (ms), the
        cores the rest of the machine (build and training children) kept busy, and the share
        of the round some runnable task waited for a core."""
        # Every round sends the same /recommends.
        n = max(1, sum(self.samples.outcomes.values()) // max(1, self.samples.rounds))
        return [
            " / ".join(f"{1000 * worst:.0f}" for worst in self.samples.round_worst),
            " / ".join(f"{1000 * use.bot / n:.1f}" for use in self.round_cpu),
            " / ".join(f"{use.cores()['rest']:.2f}" for use in self.round_cpu),
            " / ".join(use.waiting() for use in self.round_cpu),
        ]

    def row(self) -> list[str]:
        s = self.samples
        return [
            self.name,
            str(sum(s.outcomes.values())),
            s.failed,
            pct_ms(s.deferrals, 50),
            pct_ms(s.deferrals, 95),
            pct_ms(s.deferrals, 99),
            *self.lag.cells(),
            f"{s.in_progress} of {s.rounds} rounds",
        ]


async def poll_until(predicate: Callable[[], bool], timeout_s: float) -> None:
    """Return once `predicate()` holds; TimeoutError after `timeout_s`. Polled because the
    bot exposes no event for these conditions (and the benchmark must not add one)."""
    async with asyncio.timeout(timeout_s):
        while not predicate():  # noqa: ASYNC110
            await asyncio.sleep(0.01)


State = Callable[[Bench], AbstractAsyncContextManager[Callable[[], bool]]]


async def measure(bench: Bench, name: str, state: State, *, keep_going: bool) -> StateResult:
    """Rounds of 50 cached /recommend while `state` runs: `plan.state_rounds` of them, fewer
    when `keep_going` is false and the state ended (one round at least)."""
    samples = Samples()
    started = time.monotonic()
    async with state(bench) as running, LagMonitor() as lag:
        rounds: list[CpuUse] = []
        with bench.cpu_meter() as meter:
            for _ in range(bench.plan.state_rounds):
                clock = InteractionClock(bench.harness.bot)
                with bench.cpu_meter() as round_meter:
                    await recommend_round(
                        bench.discord, bench.cached, samples, running, clock=clock
                    )
                rounds.append(round_meter.use)
                if not keep_going and not running():
                    break
                await asyncio.sleep(0.1)
    bench.harness.check_alive()
    return StateResult(name, samples, lag, time.monotonic() - started, meter.use, rounds)


@asynccontextmanager
async def idle(bench: Bench) -> AsyncIterator[Callable[[], bool]]:
    """Nothing in the background; "in progress" here means the bot really was idle."""
    recs = bench.recs
    keeper = bench.harness.bot.catalogue
    yield (
        lambda: (
            not recs.models.is_building("ANIME")
            and not recs.models.is_building("MANGA")
            and not recs.training_in_progress
            and (keeper is None or keeper.has_completed())
        )
    )


@asynccontextmanager
async def model_rebuild(bench: Bench) -> AsyncIterator[Callable[[], bool]]:
    """Both types' models rebuilt from every stored list (in the build child process)."""
    recs = bench.recs
    recs.models.request_rebuild("ANIME")
    recs.models.request_rebuild("MANGA")
    yield lambda: recs.models.is_building("ANIME") or recs.models.is_building("MANGA")
    async with asyncio.timeout(SETTLE_TIMEOUT_S):
        await recs.models.wait_idle()


@asynccontextmanager
async def catalogue_build(bench: Bench) -> AsyncIterator[Callable[[], bool]]:
    """A restart with CATALOGUE_MAX_AGE_DAYS=0, which refetches the whole catalogue. Rounds
    start once the restarted bot serves both types (from the fitted state it left)."""
    bot = await bench.harness.restart(CATALOGUE_MAX_AGE_DAYS="0")
    recs = bot.recommendations
    await poll_until(
        lambda: all(recs.models.serving_model(t) is not None for t in ("ANIME", "MANGA")), 120
    )
    keeper = bot.catalogue
    yield lambda: keeper is not None and not keeper.has_completed()
    async with asyncio.timeout(SETTLE_TIMEOUT_S):
        if keeper is not None:
            await keeper.wait_complete()
        await bot.recommendations.models.wait_idle()


@asynccontextmanager
async def automatic_training(bench: Bench) -> AsyncIterator[Callable[[], bool]]:
    """train_if_due("MANGA"), the call the bot's automatic-training loop makes; it is due
    because nothing was trained yet and the stored manga lists grew past the threshold."""
    recs = bench.recs
    task = asyncio.create_task(recs.train_if_due("MANGA"))
    await poll_until(lambda: recs.training_in_progress or task.done(), 10)
    yield lambda: not task.done()
    async with asyncio.timeout(SETTLE_TIMEOUT_S):
        report = await task
    said = report.summary() if report is not None else "not due (None)"
    bench.notes.append(f"automatic training (MANGA) said: {said}")


@asynccontextmanager
async def owner_training(bench: Bench) -> AsyncIterator[Callable[[], bool]]:
    """/autotrain type:ANIME invoked by the application's owner through the emulator."""
    recs = bench.recs
    said = asyncio.create_task(
        bench.discord.call(
            "owner_command", "autotrain", {"type": "ANIME"}, bench.plan.train_timeout_s + 60
        )
    )
    # The command defers before it takes the training lock: wait for the lock, not the defer.
    await poll_until(lambda: recs.training_in_progress or said.done(), 10)
    yield lambda: recs.training_in_progress
    bench.notes.append(f"/autotrain ANIME (owner) said: {await said}")


STATES: list[tuple[str, State, bool]] = [
    ("model rebuild", model_rebuild, False),
    ("catalogue build", catalogue_build, False),
    ("automatic training", automatic_training, False),
    ("owner training", owner_training, False),
]


def print_states(bench: Bench, results: list[StateResult]) -> None:
    table(
        "Deferral (first callback) at 50 concurrent cached /recommend, and event-loop lag"
        " (10 ms sleeps on the bot's loop), per state",
        [
            "state",
            "n",
            "failed",
            "defer p50",
            "p95",
            "p99",
            "lag samples",
            "lag max",
            "lag p99",
            "state in progress through",
        ],
        [r.row() for r in results],
    )
    for note in bench.notes:
        print(note)
    table(
        "Each state round by round: its slowest deferral, the bot's CPU per /recommend, and"
        " the cores its children and the OS kept busy",
        [
            "state",
            "slowest deferral ms",
            "bot CPU ms per /recommend",
            "rest, cores",
            "a task waited for a core",
        ],
        [[r.name, *r.round_cells()] for r in results],
    )
    print_deferral_parts(results)
    print_cpu("CPU over each state's rounds", [(r.name, r.cpu) for r in results])
    rows = [
        [r.name, str(count), place]
        for r in results
        for place, count in r.lag.stalls.most_common(STALL_PLACES)
    ]
    table(
        f"Where the loop's thread was when a 10 ms sleep ran {STALL_S * 1000:.0f} ms late"
        f" (the {STALL_PLACES} most frequent places per state, innermost frame first)",
        ["state", "stalls", "place"],
        rows or [["-", "0", "no stall"]],
    )


def print_deferral_parts(results: list[StateResult]) -> None:
    """Per state, where the deferrals' time went: all of them, and the slowest ones."""
    rows = []
    for r in results:
        for label, share in (("all", 1.0), (f"slowest {SLOWEST_SHARE:.0%}", SLOWEST_SHARE)):
            found = r.samples.slowest_parts(share)
            if found is None:
                continue
            n, parts = found
            rows.append(
                [r.name, label, str(n), f"{1000 * sum(parts):.0f}"]
                + [f"{1000 * part:.0f}" for part in parts]
            )
    table(
        "Where the deferrals' time went, mean ms: the emulator writing INTERACTION_CREATE, the"
        " frame reaching a listener on the bot's loop, and the bot until the emulator had"
        " its first callback",
        ["state", "deferrals", "n", "total", "in the emulator", "to the bot's loop", "in the bot"],
        rows or [["-", "none", "0", "-", "-", "-", "-"]],
        labels=(0, 1),
    )
