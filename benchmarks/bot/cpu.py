"""Where the machine's CPU went during a timed section.

Latency on two cores depends on who else wants them: the bot's event-loop thread, its other
threads (scoring, the database reader), the emulator with the load it generates, the fake
AniList, and the rest (the bot's build and training children, the OS); on a virtual machine
also "steal", time the hypervisor gave to other guests while this one was ready to run. A
meter reads each one's CPU time before and after a section; the difference, divided by the
section's wall time, is how many cores it kept busy. A loop thread near one core means the
loop itself was the bottleneck; a machine near all its cores means everyone waited for one.
How long they waited is the kernel's CPU pressure (/proc/pressure/cpu, "some"): the time a
runnable task waited for a core.
"""

from __future__ import annotations

import re
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType

import psutil

from benchmarks.report import table

THREADS_SHOWN = 3
PRESSURE = Path("/proc/pressure/cpu")
# Columns of CpuUse.cells(), in order.
PARTS = (
    "loop thread",
    "other bot threads",
    "emulator + load",
    "fake AniList",
    "rest",
    "steal",
    "idle",
)


@dataclass(frozen=True)
class _Reading:
    at: float  # perf_counter seconds
    busy: float  # CPU seconds the whole machine spent running something
    steal: float  # CPU seconds the hypervisor took
    loop: float  # CPU seconds of the bot's event-loop thread
    bot: float  # of the bot's process, every thread
    emulator: float
    fake: float
    threads: Counter[str]  # CPU seconds of the bot's other threads, by name (see _threads)
    waited: float | None  # seconds some task waited for a core since boot; None: not known


@dataclass(frozen=True)
class CpuUse:
    """CPU seconds each part used over `wall` seconds of a section."""

    wall: float
    loop: float
    bot: float
    emulator: float
    fake: float
    busy: float
    steal: float
    threads: Counter[str] = field(default_factory=Counter)  # the other bot threads, by name
    waited: float | None = None  # seconds some runnable task waited for a core

    def waiting(self) -> str:
        """The share of the wall time some runnable task waited for a core, as "N%"."""
        if self.waited is None:
            return "-"
        return f"{100 * self.waited / max(self.wall, 1e-9):.0f}%"

    def cores(self) -> dict[str, float]:
        """Cores each part kept busy on average; they add up to the machine's cores."""
        wall = max(self.wall, 1e-9)
        rest = max(0.0, self.busy - self.bot - self.emulator - self.fake)
        idle = max(0.0, psutil.cpu_count() * wall - self.busy - self.steal)
        seconds = [
            self.loop,
            self.bot - self.loop,
            self.emulator,
            self.fake,
            rest,
            self.steal,
            idle,
        ]
        return {part: s / wall for part, s in zip(PARTS, seconds, strict=True)}

    def cells(self) -> list[str]:
        return [f"{c:.2f}" for c in self.cores().values()]


class CpuMeter:
    """``with CpuMeter(emulator_pid, fake_pid) as meter: ...`` then ``meter.use``. Enter and
    leave it on the bot's event loop: the loop thread's time is that thread's own clock (to
    the nanosecond, where the other processes' are in 10 ms ticks)."""

    def __init__(self, emulator_pid: int, fake_pid: int) -> None:
        self._pids = (emulator_pid, fake_pid)
        self._loop_thread = 0
        self._start: _Reading | None = None
        self.use: CpuUse | None = None

    def __enter__(self) -> CpuMeter:
        self._loop_thread = threading.get_ident()
        self._start = self._read()
        return self

    def __exit__(
        self, _type: type | None, _error: BaseException | None, _tb: TracebackType | None
    ) -> None:
        if threading.get_ident() != self._loop_thread:
            raise RuntimeError("a CpuMeter must be left on the thread that entered it")
        end, start = self._read(), self._start
        self.use = CpuUse(
            wall=end.at - start.at,
            loop=end.loop - start.loop,
            bot=end.bot - start.bot,
            emulator=end.emulator - start.emulator,
            fake=end.fake - start.fake,
            busy=end.busy - start.busy,
            steal=end.steal - start.steal,
            # A thread that began inside the section counts from zero; one that ended in it
            # is gone from the end reading, and its time only shows in "other bot threads".
            threads=Counter(
                {name: end.threads[name] - start.threads[name] for name in end.threads}
            ),
            waited=None if end.waited is None else end.waited - start.waited,
        )

    def _read(self) -> _Reading:
        machine = psutil.cpu_times()
        # Linux counts guest time inside user and nice, so it is not added again.
        busy = sum(getattr(machine, f, 0.0) for f in ("user", "nice", "system", "irq", "softirq"))
        emulator, fake = (_cpu_seconds(psutil.Process(pid)) for pid in self._pids)
        return _Reading(
            time.perf_counter(),
            busy,
            getattr(machine, "steal", 0.0),
            time.thread_time(),
            time.process_time(),
            emulator,
            fake,
            self._threads(),
            _cpu_pressure(),
        )

    def _threads(self) -> Counter[str]:
        """CPU seconds of each of this process's threads but the loop's, summed by name with
        its number taken off ("anime8-score_0" and "anime8-score_1" are "anime8-score")."""
        names = {t.native_id: t.name for t in threading.enumerate()}
        loop = threading.get_native_id()
        seconds: Counter[str] = Counter()
        for thread in psutil.Process().threads():
            if thread.id != loop:
                name = names.get(thread.id, "not a Python thread (torch, SQLite, ...)")
                name = re.sub(r"[-_]\d+(?=$| )", "", name)
                seconds[name] += thread.user_time + thread.system_time
        return seconds


def _cpu_pressure() -> float | None:
    """Seconds since boot that some runnable task waited for a core, or None on a kernel
    without pressure stall information."""
    try:
        some = PRESSURE.read_text().splitlines()[0]
    except (OSError, IndexError):
        return None
    fields = dict(part.split("=") for part in some.split()[1:])
    return int(fields["total"]) / 1e6  # microseconds


def _cpu_seconds(process: psutil.Process) -> float:
    times = process.cpu_times()
    return times.user + times.system


def print_cpu(title: str, rows: list[tuple[str, CpuUse]]) -> None:
    """One row per section: its wall time and the cores each part kept busy."""
    table(
        f"{title}: cores kept busy on average, of the machine's {psutil.cpu_count()}",
        ["section", "wall s", *PARTS, "a task waited for a core"],
        [[name, f"{use.wall:.1f}", *use.cells(), use.waiting()] for name, use in rows],
        labels=(0,),
    )
    table(
        f"{title}: the other bot threads that kept most busy ({THREADS_SHOWN} per section)",
        ["section", "thread", "cores"],
        [
            [name, thread, f"{seconds / max(use.wall, 1e-9):.2f}"]
            for name, use in rows
            for thread, seconds in use.threads.most_common(THREADS_SHOWN)
            if seconds > 0
        ]
        or [["-", "none busy", "0"]],
        labels=(0, 1),
    )
