"""A benchmark helper process: spawned, asked over a pipe, stopped on exit."""

from __future__ import annotations

import asyncio
import multiprocessing
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from multiprocessing.connection import Connection
from typing import Any

START_TIMEOUT_S = 120.0


@asynccontextmanager
async def spawned(
    target: Callable[..., None], args: tuple, name: str
) -> AsyncIterator[tuple[Connection, Any, int]]:
    """Run ``target(conn, *args)`` in a spawned child; yields (the parent's end of the pipe,
    the first thing the child sent, which says it is serving, the child's pid). On exit it
    sends "stop", waits for the child, and terminates it if it has not ended.

    Spawned rather than forked: the bench process has threads (aiosqlite, executors) that a
    fork would copy in whatever state they are in."""
    context = multiprocessing.get_context("spawn")
    parent, child = context.Pipe()
    process = context.Process(target=target, args=(child, *args), name=name, daemon=True)
    process.start()
    child.close()  # the child holds its own copy; EOF then means the child is gone
    try:
        if not await asyncio.to_thread(parent.poll, START_TIMEOUT_S):
            raise TimeoutError(f"the {name} process did not start")
        yield parent, parent.recv(), process.pid
    finally:
        if process.is_alive():
            parent.send("stop")
            await asyncio.to_thread(process.join, 10)
        if process.is_alive():
            process.terminate()
        parent.close()
