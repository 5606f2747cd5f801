"""The real bot, started as main.py starts it (bot.core.serve), inside the caller's event loop
against the emulators: shared by the end-to-end tests and the benchmarks, so that both drive the
bot the same way and neither imports the other's modules."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from bot.config import Settings, load_settings
from bot.core import Anime8Bot, serve
from tests.fakes.discord import DiscordEmulator

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


async def start_with_catalogue(
    harness: BotHarness, *, timeout_s: float = 60.0, **overrides: str
) -> Anime8Bot:
    """Start the bot and wait until its background catalogue build and model rebuilds end.

    Raises TimeoutError when they take longer than `timeout_s` (benchmarks with big
    catalogues pass more)."""
    bot = await harness.start(**overrides)
    async with asyncio.timeout(timeout_s):
        if bot.catalogue is not None:
            await bot.catalogue.wait_complete()
        await bot.recommendations.models.wait_idle()
    return bot
