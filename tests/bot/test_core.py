"""How the bot's process reacts to SIGINT and SIGTERM (bot.core.serve's handlers)."""

from __future__ import annotations

import asyncio
import signal

import pytest

from bot import core


async def test_a_signal_ends_a_task_that_lost_its_first_cancellation(monkeypatch):
    monkeypatch.setattr(core, "RECANCEL_AFTER_S", 0.05)
    lost = asyncio.Event()

    async def connecting() -> None:
        try:
            await asyncio.sleep(3600)
        except asyncio.CancelledError:
            lost.set()  # as a library's own timeout handling can
        await asyncio.sleep(3600)

    task = asyncio.create_task(connecting())
    await asyncio.sleep(0)
    core._stop(task, signal.SIGTERM)
    async with asyncio.timeout(5):
        with pytest.raises(asyncio.CancelledError):
            await task
    assert lost.is_set()
