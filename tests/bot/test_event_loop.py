"""The loop main.py runs the bot on."""

from __future__ import annotations

import asyncio
import sys

import pytest

from bot.event_loop import new_event_loop, run


async def _loop_module() -> str:
    await asyncio.sleep(0)
    return type(asyncio.get_running_loop()).__module__


@pytest.mark.skipif(sys.platform == "win32", reason="uvloop does not build on Windows")
def test_run_runs_the_coroutine_on_uvloop():
    assert run(_loop_module()).startswith("uvloop")


def test_a_new_loop_is_the_kind_run_uses():
    loop = new_event_loop()
    try:
        assert loop.run_until_complete(_loop_module()) == run(_loop_module())
    finally:
        loop.close()


@pytest.mark.skipif(sys.platform == "win32", reason="uvloop does not build on Windows")
async def test_the_async_tests_run_on_the_bots_kind_of_loop():
    assert (await _loop_module()).startswith("uvloop")
