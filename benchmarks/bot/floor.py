"""What the goals would measure if the bot did no work of its own: the floor that discord.py,
the emulator and two cores set.

Each pair of rows runs the same load twice on the running bot, once as it is and once with its
own work taken out by patching this process's classes (the bot runs in the benchmark's
process; nothing here is used by the bot itself):

- cached /recommend, 20 concurrent: the scoring replaced by the picks the same call gave
  before (each user's first call in the floor's warm-up round), so what is left is discord.py,
  the database reads and writes, and rendering the page;
- rating clicks, all at once during a model rebuild: the click's work (two reads and a commit)
  replaced by the ephemeral reply alone.

A goal the floor row already misses cannot be met by making the bot's own work cheaper. A
second table says what each interaction cost in CPU: the loop thread's milliseconds per
interaction times the interactions that arrive at once is how long the last one must wait for
the loop, whatever else runs.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import discord

from benchmarks.report import pct_ms, table
from cogs.ui.buttons import RatingButton
from model.recommender import Recommender

from . import states
from .cpu import CpuUse
from .latency import Samples, recommend_round


@dataclass
class Floor:
    """The real and no-work figures of both pairs."""

    cached: Samples
    cached_floor: Samples
    acks: list[float]
    acks_floor: list[float]
    cpu: list[tuple[str, int, CpuUse]]  # (load, interactions in it, its CPU)


@contextmanager
def memoised_scoring() -> Iterator[None]:
    """Recommender.recommend answers each (model, list) with its first answer, without
    scoring again."""
    real = Recommender.recommend
    answers: dict[tuple[int, tuple[int, ...]], Any] = {}

    def recommend(self: Recommender, entries: list[dict], *args: Any, **kwargs: Any) -> Any:
        key = (id(self), tuple(sorted(e["mediaId"] for e in entries)))
        if key not in answers:
            answers[key] = real(self, entries, *args, **kwargs)
        return answers[key]

    Recommender.recommend = recommend  # type: ignore[method-assign]
    try:
        yield
    finally:
        Recommender.recommend = real  # type: ignore[method-assign]


@contextmanager
def clicks_without_work() -> Iterator[None]:
    """A rating click answers with its ephemeral sentence and does nothing else."""
    real = RatingButton.act

    async def act(self: RatingButton, interaction: discord.Interaction, bot: Any) -> None:
        await interaction.response.send_message("Saved.", ephemeral=True)

    RatingButton.act = act  # type: ignore[method-assign]
    try:
        yield
    finally:
        RatingButton.act = real  # type: ignore[method-assign]


async def measure_floor(bench: states.Bench) -> Floor:
    """Both pairs on the bot as it is now (idle, models trained); prints the table."""
    users = bench.cached[:20]
    rounds = bench.plan.final_rounds
    clicks = bench.plan.clicks
    cached, cached_floor = Samples(), Samples()
    cpu = []

    async def recommends(samples: Samples, label: str) -> None:
        with bench.cpu_meter() as meter:
            for _ in range(rounds):
                await recommend_round(bench.discord, users, samples)
        cpu.append((label, rounds * len(users), meter.use))

    async def click_round(label: str) -> list[float]:
        async with states.model_rebuild(bench):
            with bench.cpu_meter() as meter:
                acks, _ = await bench.discord.call("click_acks", clicks)
        cpu.append((label, clicks, meter.use))
        return acks

    await recommends(cached, "cached /recommend")
    with memoised_scoring():
        await recommend_round(bench.discord, users, Samples())  # fills the memo
        await recommends(cached_floor, "cached /recommend, scoring left out")
    acks = await click_round("rating click, during a rebuild")
    with clicks_without_work():
        acks_floor = await click_round("rating click doing no work, during a rebuild")
    floor = Floor(cached, cached_floor, acks, acks_floor, cpu)
    print_floor(bench, floor)
    return floor


def print_floor(bench: states.Bench, floor: Floor) -> None:
    rounds = bench.plan.final_rounds
    clicks = bench.plan.clicks
    table(
        "The floor: the same load with the bot's own work taken out (ms from INTERACTION_CREATE)",
        ["figure", "as the bot is", "no work", "goal"],
        [
            [
                f"final p95, 20 concurrent cached /recommend ({rounds} rounds), scoring"
                " replaced by an earlier answer",
                pct_ms(floor.cached.finals, 95),
                pct_ms(floor.cached_floor.finals, 95),
                "< 100",
            ],
            [
                f"click ack p99, {clicks} concurrent during a rebuild, the click's reads and"
                " commit left out",
                pct_ms(floor.acks, 99),
                pct_ms(floor.acks_floor, 99),
                "< 100",
            ],
        ],
    )
    table(
        "CPU per interaction in the same loads (ms of CPU time; wall s is the whole load)",
        ["load", "interactions", "wall s", "bot loop thread", "bot process", "emulator + load"],
        [
            [
                label,
                str(n),
                f"{use.wall:.1f}",
                f"{1000 * use.loop / n:.2f}",
                f"{1000 * use.bot / n:.2f}",
                f"{1000 * use.emulator / n:.2f}",
            ]
            for label, n, use in floor.cpu
        ],
        labels=(0,),
    )
    label, n, use = floor.cpu[-1]
    print(
        f"{n} clicks arriving at once at {1000 * use.loop / n:.2f} ms of loop-thread CPU each"
        f" keep the loop busy {use.loop * 1000:.0f} ms: the last ack cannot come sooner."
    )
