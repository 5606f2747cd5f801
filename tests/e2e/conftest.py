"""End-to-end fixtures: the product bot, started as main.py starts it, against the emulators."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from bot.core import Anime8Bot
from bot.discord_endpoints import apply_discord_endpoints
from tests.fakes.anilist_server import FakeAniList, FakeData
from tests.fakes.discord import DiscordEmulator
from tests.support.harness import STEP_TIMEOUT, BotHarness, start_with_catalogue


@pytest.fixture
async def emulator() -> AsyncIterator[DiscordEmulator]:
    async with DiscordEmulator(heartbeat_interval_ms=1000) as emu:
        yield emu
    assert emu.errors == [], "\n".join(emu.errors)


@pytest.fixture
def bot_env() -> dict[str, str]:
    """Extra settings for the bot under test; tests and other fixtures add to it."""
    return {}


@pytest.fixture
async def harness(emulator, tmp_path, bot_env) -> AsyncIterator[BotHarness]:
    runner = BotHarness(emulator, tmp_path / "data", bot_env)
    try:
        yield runner
        runner.check_alive()
    finally:
        if runner.bot is not None:
            await runner.bot.close()
        if runner.task is not None:
            await asyncio.wait({runner.task}, timeout=STEP_TIMEOUT)
        apply_discord_endpoints(None, None)


@pytest.fixture
async def bot(harness) -> Anime8Bot:
    return await harness.start()


@pytest.fixture(scope="session")
def anilist_data() -> FakeData:
    """Small enough to build a catalogue in a blink, big enough to recommend from."""
    return FakeData.generate(media_per_type=300, seed=5, extra_users=30)


@pytest.fixture
async def anilist(anilist_data, bot_env) -> AsyncIterator[FakeAniList]:
    async with FakeAniList(anilist_data, rate_limit=1000) as server:
        bot_env.update(
            ANILIST_API_URL=server.url.rstrip("/"),
            BUILD_CATALOGUE="true",
            CATALOGUE_SIZE="300",
            ANILIST_REQUESTS_PER_MINUTE="90",
        )
        yield server


@pytest.fixture
async def ready_bot(anilist, harness) -> Anime8Bot:
    return await start_with_catalogue(harness)
