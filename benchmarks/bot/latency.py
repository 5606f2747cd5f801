"""Timing what a member sees: a /recommend's deferral and final message, a rating click's ack,
and how late the bot's event loop runs a 10 ms sleep (its lag).

All times are from the emulator's INTERACTION_CREATE dispatch. one_recommend and click_acks
run in the emulator's process (benchmarks.bot.remote_discord); recommend_round and LagMonitor
run beside the bot.
"""

from __future__ import annotations

import asyncio
import dataclasses
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING

from benchmarks.report import pct_ms
from emulator.discord import DiscordEmulator, buttons

if TYPE_CHECKING:
    from discord import Client, Interaction

    from .remote_discord import RemoteDiscord

REPLY_TIMEOUT_S = 30.0
ACK_TIMEOUT_S = 10.0
LAG_INTERVAL_S = 0.010
STALL_S = 0.030  # a sleep this overdue is a stall whose place is recorded
WATCH_EVERY_S = 0.002
STALL_FRAMES = 3
NAMED_PATHS = ("/bot/", "/cogs/", "/model/", "/discord/", "/aiosqlite/", "/asyncio/")


@dataclass(frozen=True)
class Timeline:
    """Where one interaction's time to its first callback went, in system-wide monotonic
    seconds: `created` the emulator made it, `sent` its INTERACTION_CREATE frame was written to
    the bot's socket, `received` a listener on the bot's loop saw it (None until the bot's
    side fills it in), `acked` the emulator handled the bot's first callback."""

    interaction_id: int
    created: float
    sent: float
    acked: float
    received: float | None = None

    def parts(self) -> tuple[float, float, float] | None:
        """(in the emulator, on the way to the bot's loop, in the bot until its callback
        arrived) in seconds; None without the bot's side."""
        if self.received is None:
            return None
        return (self.sent - self.created, self.received - self.sent, self.acked - self.received)


@dataclass
class Reply:
    """One /recommend: seconds to the first callback and to the follow-up with embeds."""

    deferral: float | None
    final: float | None
    outcome: str  # ok | error reply | no deferral
    message: dict | None
    timeline: Timeline | None = None


async def one_recommend(
    emulator: DiscordEmulator, discord_user: str, username: str, media_type: str = "ANIME"
) -> Reply:
    """Invoke /recommend as `discord_user` for `username` and wait for its final message."""
    record = await emulator.invoke(
        "recommend", {"username": username, "type": media_type, "count": 5}, user=discord_user
    )
    sent = time.monotonic()  # invoke returns once the frame is written
    try:
        message = await record.wait_message(timeout=REPLY_TIMEOUT_S)
    except TimeoutError:
        message = None
    deferral = record.first_response_latency
    timeline = None
    if record.responses:
        timeline = Timeline(record.id, record.created_at, sent, record.responses[0].at)
    if message is None or not message.get("embeds"):
        outcome = "no deferral" if deferral is None else "error reply"
        return Reply(deferral, None, outcome, None, timeline)
    final = next(
        e.at
        for e in reversed(emulator.events)
        if e.kind == "followup" and e.data.get("interaction_id") == record.id
    )
    return Reply(deferral, final - record.created_at, "ok", message, timeline)


@dataclass
class Samples:
    """Replies of some rounds, and in how many rounds the measured state was running
    from the first reply's dispatch to the last reply."""

    deferrals: list[float] = field(default_factory=list)
    finals: list[float] = field(default_factory=list)
    outcomes: Counter = field(default_factory=Counter)
    rounds: int = 0
    in_progress: int = 0
    round_worst: list[float] = field(default_factory=list)  # each round's slowest deferral
    timelines: list[Timeline] = field(default_factory=list)  # those the bot's side completed

    @property
    def failed(self) -> str:
        """ "0", or the failures by kind."""
        return ", ".join(f"{n} {k}" for k, n in self.outcomes.items() if k != "ok") or "0"

    def add(self, replies: list[Reply]) -> None:
        deferrals = [r.deferral for r in replies if r.deferral is not None]
        self.deferrals += deferrals
        self.round_worst.append(max(deferrals, default=float("nan")))
        self.finals += [r.final for r in replies if r.final is not None]
        self.outcomes.update(r.outcome for r in replies)
        self.timelines += [r.timeline for r in replies if r.timeline and r.timeline.received]

    def slowest_parts(self, share: float) -> tuple[int, list[float]] | None:
        """The mean of Timeline.parts over the slowest `share` of the deferrals with a whole
        timeline: (how many, [seconds per part]); None when there are none."""
        ordered = sorted(self.timelines, key=lambda t: t.acked - t.created, reverse=True)
        chosen = ordered[: max(1, round(share * len(ordered)))] if ordered else []
        if not chosen:
            return None
        columns = zip(*(t.parts() for t in chosen), strict=True)
        return len(chosen), [sum(column) / len(chosen) for column in columns]


async def recommend_round(
    discord: RemoteDiscord,
    pairs: list[tuple[str, str]],
    samples: Samples,
    running: Callable[[], bool] = lambda: False,
    media_type: str = "ANIME",
    clock: InteractionClock | None = None,
) -> None:
    """One round: every pair's /recommend at once; counts the round as in progress when
    `running()` holds both before the dispatch and after the last reply. With `clock`, the
    replies' timelines get the bot's side."""
    before = running()
    if clock is None:
        samples.add(await discord.call("recommend_round", pairs, media_type))
    else:
        with clock:
            replies = await discord.call("recommend_round", pairs, media_type)
        samples.add([clock.complete(r) for r in replies])
    samples.rounds += 1
    samples.in_progress += before and running()


class InteractionClock:
    """``with InteractionClock(bot):`` a listener on the bot's loop notes when each
    interaction reached it; :meth:`complete` puts that time into a reply's timeline. It runs
    as the bot's listener tasks do, so it sees an interaction when the loop gets to it."""

    def __init__(self, bot: Client) -> None:
        self._bot = bot
        self._received: dict[int, float] = {}

    async def _on_interaction(self, interaction: Interaction) -> None:
        self._received[interaction.id] = time.monotonic()

    def __enter__(self) -> InteractionClock:
        self._bot.add_listener(self._on_interaction, "on_interaction")
        return self

    def __exit__(self, *_exc: object) -> None:
        self._bot.remove_listener(self._on_interaction, "on_interaction")

    def complete(self, reply: Reply) -> Reply:
        timeline = reply.timeline
        if timeline is None or timeline.interaction_id not in self._received:
            return reply
        received = self._received.pop(timeline.interaction_id)
        return dataclasses.replace(reply, timeline=dataclasses.replace(timeline, received=received))


class LagMonitor:
    """A task on the running loop that sleeps LAG_INTERVAL_S at a time and records how much
    later than asked each sleep ended: the longest time the loop was busy elsewhere.

    Beside it a watchdog thread looks at the loop's thread every few milliseconds; once a
    sleep is STALL_S overdue it records where that thread is (its innermost frames in the
    project or in discord.py, aiosqlite and asyncio), once per stall: ``stalls`` counts the
    places, so a table can say what held the loop.
    """

    def __init__(self) -> None:
        self.lags: list[float] = []
        self.stalls: Counter[str] = Counter()
        self._task: asyncio.Task | None = None
        self._due = 0.0  # perf_counter time the current sleep should end (0: none yet)
        self._stop = threading.Event()
        self._watchdog: threading.Thread | None = None

    async def __aenter__(self) -> LagMonitor:
        self._task = asyncio.create_task(self._sample(), name="bench-lag-monitor")
        self._watchdog = threading.Thread(
            target=self._watch, args=(threading.get_ident(),), daemon=True
        )
        self._watchdog.start()
        return self

    async def __aexit__(self, *_exc: object) -> None:
        self._task.cancel()
        await asyncio.gather(self._task, return_exceptions=True)
        self._stop.set()
        await asyncio.to_thread(self._watchdog.join)

    async def _sample(self) -> None:
        while True:
            started = time.perf_counter()
            self._due = started + LAG_INTERVAL_S
            await asyncio.sleep(LAG_INTERVAL_S)
            self.lags.append(max(0.0, time.perf_counter() - started - LAG_INTERVAL_S))

    def _watch(self, loop_thread: int) -> None:
        seen = 0.0  # the sleep whose stall was recorded
        while not self._stop.wait(WATCH_EVERY_S):
            due = self._due
            if due == seen or time.perf_counter() - due < STALL_S:
                continue
            frame = sys._current_frames().get(loop_thread)
            if frame is not None:
                self.stalls[_where(frame)] += 1
                seen = due

    def cells(self) -> list[str]:
        """[samples, max ms, p99 ms]."""
        return [str(len(self.lags)), pct_ms(self.lags, 100), pct_ms(self.lags, 99)]


def _where(frame: FrameType) -> str:
    """The innermost frame of a stack, then the next STALL_FRAMES - 1 worth naming (in the
    project, discord.py, aiosqlite or asyncio), innermost first. An innermost select() means
    the loop had nothing to run yet could not go on: another thread held the GIL."""
    names = [_name(frame)]
    frame = frame.f_back
    while frame is not None and len(names) < STALL_FRAMES:
        if any(part in frame.f_code.co_filename for part in NAMED_PATHS):
            names.append(_name(frame))
        frame = frame.f_back
    return " < ".join(names)


def _name(frame: FrameType) -> str:
    return f"{Path(frame.f_code.co_filename).name}:{frame.f_lineno} {frame.f_code.co_name}"


async def click_acks(
    emulator: DiscordEmulator, messages: list[dict], clicks: int
) -> tuple[list[float], int]:
    """`clicks` rating clicks at once, spread over `messages`' rating buttons, each by a
    distinct Discord user; returns (seconds to each click's first callback, clicks without
    one within ACK_TIMEOUT_S)."""
    targets = [
        (message, b["custom_id"])
        for message in messages
        for b in buttons(message)
        if b.get("custom_id", "").startswith("anime8:rate:")
    ]
    if not targets:
        raise RuntimeError("no rating buttons on the recommendation messages")
    users = [emulator.add_user(f"clicker{n:03d}") for n in range(clicks)]

    async def one(n: int) -> float | None:
        message, custom_id = targets[n % len(targets)]
        record = await emulator.click(message, custom_id, user=users[n])
        try:
            await record.first_response(timeout=ACK_TIMEOUT_S)
        except TimeoutError:
            return None
        return record.first_response_latency

    acks = await asyncio.gather(*(one(n) for n in range(clicks)))
    emulator.events.clear()
    return [a for a in acks if a is not None], sum(a is None for a in acks)
