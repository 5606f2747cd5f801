"""Event-loop lag: how late a sleep wakes up tells how long something held the loop."""

from __future__ import annotations

import asyncio

from prometheus_client import Histogram

SAMPLE_EVERY_S = 0.25


class LoopLagMonitor:
    """One background task observing the lag of each sleep into `histogram`.

    `start()` from setup_hook (with the server), `stop()` from close().
    """

    def __init__(self, histogram: Histogram, every_s: float = SAMPLE_EVERY_S) -> None:
        self._histogram = histogram
        self._every_s = every_s
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._sample(), name="anime8-loop-lag")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None

    async def _sample(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            due = loop.time() + self._every_s
            await asyncio.sleep(self._every_s)
            self._histogram.observe(max(0.0, loop.time() - due))
