"""The event loop the bot runs on: uvloop's where it is installed (Linux and macOS), else
asyncio's own.

A burst of interactions is bounded by the loop's own work per interaction (reading gateway
frames, sending the HTTP callbacks), and uvloop's transports do that work in C. main.py, the
playground and the benchmarks all start the bot through :func:`run`, so each runs the loop a
deployment runs.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")


def new_event_loop() -> asyncio.AbstractEventLoop:
    """A new loop of the kind :func:`run` uses."""
    try:
        import uvloop
    except ImportError:  # Windows: uvloop does not build there
        return asyncio.new_event_loop()
    return uvloop.new_event_loop()


def run(main: Coroutine[Any, Any, T]) -> T:
    """``asyncio.run(main)`` on a loop from :func:`new_event_loop`."""
    with asyncio.Runner(loop_factory=new_event_loop) as runner:
        return runner.run(main)
