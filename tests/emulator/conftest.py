"""Fixtures for the emulator's own tests: a started emulator and a way to run a throwaway bot."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable

import discord
import pytest
from discord.ext import commands

from tests.fakes.discord import DiscordEmulator, point_discord_at

STEP_TIMEOUT = 5.0


@pytest.fixture
async def emulator(request: pytest.FixtureRequest) -> AsyncIterator[DiscordEmulator]:
    """A started emulator that discord.py points at. Options for DiscordEmulator come from
    ``@pytest.mark.parametrize("emulator", [{...}], indirect=True)``."""
    options = {"heartbeat_interval_ms": 500, **getattr(request, "param", {})}
    async with DiscordEmulator(**options) as emu:
        restore = point_discord_at(emu.api_base, emu.gateway_url)
        try:
            yield emu
        finally:
            restore()
    assert emu.errors == [], "\n".join(emu.errors)


def make_bot(**options) -> commands.Bot:
    """A minimal bot, not the product's: only what each test adds to its tree."""
    # guild_ready_timeout: on_ready waits this long after the last GUILD_CREATE (2 s default).
    options.setdefault("intents", discord.Intents.default())
    options.setdefault("guild_ready_timeout", 0.1)
    return commands.Bot(command_prefix=commands.when_mentioned, **options)


@contextlib.asynccontextmanager
async def running(bot: commands.Bot, emu: DiscordEmulator) -> AsyncIterator[commands.Bot]:
    """Start ``bot`` against ``emu``, wait until both sides are ready, always close it.

    The bot's own task is watched: if it dies (a KeyError on a malformed payload kills the
    gateway task, not one interaction) the test fails with that exception, not a timeout."""
    task = asyncio.create_task(bot.start(emu.token), name="bot-under-test")
    try:
        ready = asyncio.ensure_future(bot.wait_until_ready())
        done, _ = await asyncio.wait(
            {task, ready}, timeout=STEP_TIMEOUT, return_when="FIRST_COMPLETED"
        )
        if task in done:
            ready.cancel()
            task.result()  # raises the bot's failure
            raise AssertionError("bot stopped before it was ready")
        if ready not in done:
            ready.cancel()
            raise TimeoutError("bot not ready in time")
        await emu.wait_until_ready(STEP_TIMEOUT)
        yield bot
        if task.done():
            task.result()
    finally:
        await bot.close()
        with contextlib.suppress(asyncio.CancelledError):
            async with asyncio.timeout(STEP_TIMEOUT):
                await task


@pytest.fixture
def bot_factory() -> Callable[..., commands.Bot]:
    return make_bot


@pytest.fixture
def run_bot(emulator: DiscordEmulator) -> Callable[[commands.Bot], AsyncIterator[commands.Bot]]:
    return lambda bot: running(bot, emulator)
