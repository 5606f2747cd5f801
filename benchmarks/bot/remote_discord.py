"""The Discord emulator in a process of its own, with the load it generates.

Real Discord does its work on other machines: an emulator in the bot's process would charge
its JSON, websocket frames and bookkeeping to the bot's event loop and GIL, and the load
generator (many concurrent /recommends and clicks) with it. Here a spawned child runs the
emulator and the timed rounds (benchmarks.bot.latency) on its own loop; the bot, in the
benchmark's process, reaches it over loopback exactly as it would reach Discord. The parent
holds a RemoteDiscord: the emulator's addresses, what BotHarness waits on, and the rounds.

Messages stay in the child (the click round presses buttons on the last ones it saw), so
nothing big is pickled on the bot's loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import itertools
import threading
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from multiprocessing.connection import Connection
from typing import Any

from emulator.discord import DiscordEmulator
from emulator.discord.world import EmuEvent

from .child import spawned
from .latency import Reply, click_acks, one_recommend

POLL_S = 0.05
KEEP_MESSAGES = 50  # recommendation messages the click round spreads its clicks over


class _Driver:
    """The child's side: each public coroutine is one call a RemoteDiscord can make."""

    def __init__(self, emulator: DiscordEmulator) -> None:
        self.emulator = emulator
        self.messages: list[dict] = []

    def _user(self, name: str) -> None:
        if name not in self.emulator.users:
            self.emulator.add_user(name)

    async def recommend_round(
        self, pairs: list[tuple[str, str]], media_type: str = "ANIME"
    ) -> list[Reply]:
        """Every (Discord user, AniList username) pair's /recommend at once."""
        for discord_user, _ in pairs:
            self._user(discord_user)
        replies = await asyncio.gather(
            *(one_recommend(self.emulator, d, u, media_type) for d, u in pairs)
        )
        self.messages = (self.messages + [r.message for r in replies if r.message])[-KEEP_MESSAGES:]
        self.emulator.events.clear()  # keeps the emulator's event scans short
        return [dataclasses.replace(r, message=None) for r in replies]

    async def click_acks(self, clicks: int) -> tuple[list[float], int]:
        """`clicks` rating clicks at once on the last recommendation messages."""
        return await click_acks(self.emulator, self.messages, clicks)

    async def owner_command(self, name: str, options: dict, timeout_s: float) -> str:
        """Invoke `name` as the application's owner; the content of its last message that
        is not a progress line ("Training …"), or a sentence saying none came."""
        record = await self.emulator.invoke(name, options, user="owner")
        await record.first_response(timeout=10)
        try:
            message = await record.wait_message(
                lambda m: bool(m.get("content")) and not m["content"].startswith("Training "),
                timeout=timeout_s,
            )
        except TimeoutError:
            return "no final message in time"
        return message["content"]

    async def events_since(self, after: float) -> list[EmuEvent]:
        return [e for e in self.emulator.events if e.at >= after]

    async def wait_until_ready(self, timeout_s: float) -> None:
        await self.emulator.wait_until_ready(timeout_s)

    async def errors(self) -> list[str]:
        return list(self.emulator.errors)


def _child(conn: Connection) -> None:
    """Serve calls until told to stop: ("stop") or (call id, method name, args)."""

    async def main() -> None:
        loop = asyncio.get_running_loop()
        sending = threading.Lock()

        def answer(call_id: int, task: asyncio.Task) -> None:
            if task.cancelled():  # cancelled only on "stop": nobody waits for it any more
                return
            error = task.exception()
            reply = (call_id, False, repr(error)) if error else (call_id, True, task.result())
            with sending:
                conn.send(reply)

        async with DiscordEmulator(heartbeat_interval_ms=1000) as emulator:
            driver = _Driver(emulator)
            conn.send((emulator.token, emulator.api_base, emulator.gateway_url))
            tasks = set()
            while (message := await loop.run_in_executor(None, conn.recv)) != "stop":
                call_id, name, args = message
                task = asyncio.create_task(getattr(driver, name)(*args))
                tasks.add(task)
                task.add_done_callback(tasks.discard)
                task.add_done_callback(lambda t, i=call_id: answer(i, t))
            for task in tasks:
                task.cancel()

    asyncio.run(main())


class RemoteDiscord:
    """The parent's handle on the emulator child: what BotHarness needs of an emulator
    (token, URLs, wait_for, wait_until_ready), the timed rounds, and the child's pid."""

    def __init__(
        self, conn: Connection, pid: int, token: str, api_base: str, gateway_url: str
    ) -> None:
        self.pid = pid
        self.token, self.api_base, self.gateway_url = token, api_base, gateway_url
        self._conn = conn
        self._ids = itertools.count()
        self._pending: dict[int, asyncio.Future] = {}
        self._loop = asyncio.get_running_loop()
        self._reader = threading.Thread(target=self._read, name="bench-discord-pipe", daemon=True)
        self._reader.start()

    def _read(self) -> None:
        while True:
            try:
                call_id, ok, value = self._conn.recv()
            except (EOFError, OSError):
                break
            self._loop.call_soon_threadsafe(self._settle, call_id, ok, value)
        # The child is gone: a call still waiting would otherwise wait forever.
        with contextlib.suppress(RuntimeError):  # the loop has closed: nobody is waiting
            self._loop.call_soon_threadsafe(self._fail_pending)

    def _fail_pending(self) -> None:
        for future in self._pending.values():
            if not future.done():
                future.set_exception(RuntimeError("the Discord emulator process ended"))
        self._pending.clear()

    def _settle(self, call_id: int, ok: bool, value: Any) -> None:
        future = self._pending.pop(call_id, None)
        if future is None or future.done():
            return
        if ok:
            future.set_result(value)
        else:
            future.set_exception(RuntimeError(f"in the Discord emulator process: {value}"))

    async def call(self, name: str, *args: Any) -> Any:
        """Run the child's ``_Driver.<name>(*args)`` and return its result."""
        call_id = next(self._ids)
        future = self._loop.create_future()
        self._pending[call_id] = future
        self._conn.send((call_id, name, args))
        return await future

    async def wait_for(
        self,
        predicate: Callable[[EmuEvent], bool],
        timeout: float = 5.0,  # noqa: ASYNC109 - the emulator's own signature
        *,
        after: float = 0.0,
    ) -> EmuEvent:
        """The first event (at or after monotonic time ``after``, which is system-wide on
        Linux) matching ``predicate``, polled every POLL_S."""
        async with asyncio.timeout(timeout):
            while True:
                for event in await self.call("events_since", after):
                    if predicate(event):
                        return event
                await asyncio.sleep(POLL_S)

    async def wait_until_ready(self, timeout: float = 5.0) -> None:  # noqa: ASYNC109
        await self.call("wait_until_ready", timeout)


@asynccontextmanager
async def discord_emulator_process() -> AsyncIterator[RemoteDiscord]:
    """A DiscordEmulator in a spawned child (see the module's docstring); stopped on exit."""
    async with spawned(_child, (), "discord-emulator") as (conn, addresses, pid):
        yield RemoteDiscord(conn, pid, *addresses)
