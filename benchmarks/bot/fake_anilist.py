"""The fake AniList served from a child process, its counters read over a pipe.

In the bot's process the fake's GraphQL execution (pure Python) would hold the GIL the bot
needs, and its time would be counted as the bot's. Production AniList runs elsewhere, so the
benchmark runs the fake elsewhere too. FakeData.generate is deterministic from its seed, so the
child rebuilds the very data the parent would have had.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Any

from aiohttp import web

from tests.fakes.anilist_server import FakeAniList, FakeData

from .child import spawned


@dataclass(frozen=True)
class FakeStats:
    """A snapshot of the fake's counters; subtract two to count what happened between them."""

    requests: int
    by_operation: dict[str, int]
    rate_limited: int
    busy_s: float  # handler time less the injected latency: the fake's own CPU, mostly

    def __sub__(self, other: FakeStats) -> FakeStats:
        ops = {k: v - other.by_operation.get(k, 0) for k, v in self.by_operation.items()}
        return FakeStats(
            self.requests - other.requests,
            {k: v for k, v in ops.items() if v},
            self.rate_limited - other.rate_limited,
            self.busy_s - other.busy_s,
        )


class _TimedFake(FakeAniList):
    """FakeAniList that also adds up how long it spends on each request beyond its latency."""

    busy_s = 0.0

    async def _handle(self, request: web.Request) -> web.Response:
        started = time.perf_counter()
        try:
            return await super()._handle(request)
        finally:
            self.busy_s += max(0.0, time.perf_counter() - started - self.latency_s)


def _child(conn: Connection, data_args: dict[str, int], options: dict[str, Any]) -> None:
    """Child process: serve until told to stop; answer "stats" with a FakeStats."""

    async def main() -> None:
        loop = asyncio.get_running_loop()
        async with _TimedFake(FakeData.generate(**data_args), **options) as fake:
            conn.send(fake.url)
            while (command := await loop.run_in_executor(None, conn.recv)) != "stop":
                if command == "stats":
                    conn.send(
                        FakeStats(
                            fake.requests_total,
                            dict(fake.requests_by_operation),
                            fake.rate_limited_sent,
                            fake.busy_s,
                        )
                    )

    asyncio.run(main())


class RemoteAniList:
    """The parent's handle: the fake's URL, its counters and its process id."""

    def __init__(self, conn: Connection, url: str, pid: int):
        self.url = url
        self.pid = pid
        self._conn = conn
        self._lock = asyncio.Lock()  # one question on the pipe at a time

    async def stats(self) -> FakeStats:
        """The fake's counters now."""
        async with self._lock:
            return await asyncio.to_thread(self._ask, "stats")

    def _ask(self, command: str) -> FakeStats:
        self._conn.send(command)
        return self._conn.recv()


@asynccontextmanager
async def fake_anilist_process(
    *, media_per_type: int, seed: int, extra_users: int, **options: Any
) -> AsyncIterator[RemoteAniList]:
    """A FakeAniList with FakeData.generate(media_per_type, seed, extra_users) and FakeAniList
    `options` (latency_s, rate_limit, ...) in a spawned child; stopped on exit."""
    data_args = {"media_per_type": media_per_type, "seed": seed, "extra_users": extra_users}
    async with spawned(_child, (data_args, options), "fake-anilist") as (conn, url, pid):
        yield RemoteAniList(conn, url, pid)
