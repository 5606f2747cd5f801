"""Jobs in child processes: model builds and training, out of the bot's GIL.

Fitting and training are seconds of CPU, partly in Python (JSON, building tensors from lists),
and a thread of the bot's process doing that holds the GIL in bursts that stall Discord's event
loop. A child process shares nothing with the loop but the CPU.

Children fork from one forkserver that has already imported the model code (torch included),
so a job starts in milliseconds rather than paying torch's import each time, and a fork never
copies the bot's threads (aiosqlite, executors), which could deadlock a forked child.

A job is a module-level function ``job(progress, *args) -> result``: ``progress(text)`` sends a
line to the parent, and the result (picklable) is what :meth:`ChildJobs.run` returns.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import traceback
from collections.abc import Awaitable, Callable
from multiprocessing.connection import Connection
from typing import Any

# Imported once by the forkserver, inherited by every job it forks.
PRELOAD = ["bot.services.model_build", "bot.services.training"]
JOIN_TIMEOUT_S = 10.0
# Builds and trainings run at a lower CPU priority than the bot: on a small machine they would
# otherwise take the cores from the process that must answer Discord within 3 s. They only
# take longer when the bot is busy.
CHILD_NICENESS = 10

ProgressCallback = Callable[[str], Awaitable[None]]


class ChildFailed(RuntimeError):
    """A job raised, or its process died; the message holds the child's traceback if any."""


def _context() -> multiprocessing.context.ForkServerContext:
    context = multiprocessing.get_context("forkserver")
    assert isinstance(context, multiprocessing.context.ForkServerContext)
    context.set_forkserver_preload(PRELOAD)
    return context


def _child_main(job: Callable[..., Any], args: tuple, conn: Connection) -> None:
    try:
        os.nice(CHILD_NICENESS)
        result = job(lambda text: conn.send(("progress", text)), *args)
        conn.send(("done", result))
    except BaseException:
        conn.send(("failed", traceback.format_exc()))
    finally:
        conn.close()


class ChildJobs:
    """Runs jobs in child processes and ends the ones still running on :meth:`terminate_all`."""

    def __init__(self) -> None:
        self._running: set[multiprocessing.process.BaseProcess] = set()

    @property
    def running(self) -> int:
        return len(self._running)

    async def run(
        self,
        job: Callable[..., Any],
        *args: Any,
        name: str,
        on_progress: ProgressCallback | None = None,
        timeout_s: float | None = None,
    ) -> Any:
        """Run ``job(progress, *args)`` in a child and return its result.

        Raises ChildFailed when the job raised or its process died, TimeoutError after
        ``timeout_s`` (the child is then killed). However this ends, cancellation included,
        the child is gone afterwards.
        """
        context = _context()
        receiver, sender = context.Pipe(duplex=False)
        process = context.Process(
            target=_child_main, args=(job, args, sender), name=name, daemon=True
        )
        # Starting may have to launch the forkserver (an interpreter importing torch).
        await asyncio.to_thread(process.start)
        sender.close()  # the child holds its own copy; EOF then means the child is gone
        self._running.add(process)
        try:
            async with asyncio.timeout(timeout_s):
                while True:
                    try:
                        kind, payload = await asyncio.to_thread(receiver.recv)
                    except EOFError:
                        raise ChildFailed(f"the {name} process died") from None
                    if kind == "progress":
                        if on_progress is not None:
                            await on_progress(payload)
                    elif kind == "done":
                        return payload
                    else:
                        raise ChildFailed(f"{name} failed in its process:\n{payload}")
        finally:
            if process.is_alive():
                process.terminate()
            # Terminating closes the child's end, so a recv still waiting in its thread ends.
            await asyncio.shield(asyncio.to_thread(process.join, JOIN_TIMEOUT_S))
            receiver.close()
            self._running.discard(process)

    def terminate_all(self) -> None:
        """End every running child at once (the bot is closing)."""
        for process in list(self._running):
            if process.is_alive():
                process.terminate()
