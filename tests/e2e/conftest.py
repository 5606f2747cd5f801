"""End-to-end fixtures: the product bot, started as main.py starts it, against the emulators."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.config import Settings, load_settings
from bot.core import Anime8Bot, serve
from bot.discord_endpoints import apply_discord_endpoints
from tests.fakes.anilist_server import FakeAniList, FakeData
from tests.fakes.discord_emulator import DiscordEmulator

STEP_TIMEOUT = 10.0


class BotHarness:
    """Starts, restarts and stops the real bot; fails loudly if the bot's task dies."""

    def __init__(self, emulator: DiscordEmulator, data_dir: Path, env: dict[str, str]) -> None:
        self.emulator = emulator
        self.data_dir = data_dir
        self.env = env
        self.bot: Anime8Bot | None = None
        self.task: asyncio.Task | None = None

    def settings(self, **overrides: str) -> Settings:
        env = {
            "DISCORD_TOKEN": self.emulator.token,
            "DATA_DIR": str(self.data_dir),
            "DISCORD_API_BASE": self.emulator.api_base,
            "DISCORD_GATEWAY_URL": self.emulator.gateway_url,
            "BUILD_CATALOGUE": "false",
            "RECOMMEND_COOLDOWN_SECONDS": "0",
            **self.env,
            **overrides,
        }
        return load_settings(env, env_file=None)

    async def start(self, **overrides: str) -> Anime8Bot:
        """Start a new bot process-equivalent; returns once it identified and has its guild."""
        started = time.monotonic()
        bot = Anime8Bot(self.settings(**overrides), guild_ready_timeout=0.1)
        self.bot = bot
        self.task = asyncio.create_task(serve(bot), name="anime8-under-test")
        # setup_hook (database, cogs, command sync) runs before the gateway connects.
        identified = asyncio.ensure_future(
            self.emulator.wait_for(lambda e: e.kind == "identify", STEP_TIMEOUT, after=started)
        )
        done, _ = await asyncio.wait(
            {self.task, identified}, timeout=STEP_TIMEOUT, return_when=asyncio.FIRST_COMPLETED
        )
        if self.task in done:
            identified.cancel()
            self.task.result()
            raise AssertionError("the bot stopped before it was ready")
        if identified not in done:
            identified.cancel()
            raise TimeoutError("the bot did not identify in time")
        identified.result()
        await self.emulator.wait_until_ready(STEP_TIMEOUT)
        return bot

    def check_alive(self) -> None:
        if self.task is not None and self.task.done():
            self.task.result()
            raise AssertionError("the bot's task ended on its own")

    async def stop(self) -> None:
        if self.bot is None or self.task is None:
            return
        self.check_alive()
        await self.bot.close()
        async with asyncio.timeout(STEP_TIMEOUT):
            await self.task
        self.bot = self.task = None

    async def restart(self, **overrides: str) -> Anime8Bot:
        await self.stop()
        return await self.start(**overrides)


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


async def start_with_catalogue(harness: BotHarness, **overrides: str) -> Anime8Bot:
    """Start the bot and wait until its background catalogue build and model rebuilds end."""
    bot = await harness.start(**overrides)
    async with asyncio.timeout(60):
        if bot.catalogue is not None:
            await bot.catalogue.wait_complete()
        await bot.recommendations.models.wait_idle()
    return bot


@pytest.fixture
async def ready_bot(anilist, harness) -> Anime8Bot:
    return await start_with_catalogue(harness)
