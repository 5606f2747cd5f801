"""`python -m playground`: the real bot, a Discord emulator and a page to use it through.

The bot starts exactly as main.py starts it (`bot.core.serve` on an `Anime8Bot`, signals
handled), only pointed at the emulator by its DISCORD_API_BASE and DISCORD_GATEWAY_URL
settings. Settings come from the environment alone: a `.env` holding a real bot token is not
read, so a playground can run beside a real deployment without touching it.

PLAYGROUND_PORT (default 8080) is the page's port; PLAYGROUND_ANILIST=fake swaps AniList for
the offline demo set (demo_data.py); DATA_DIR defaults to data/playground.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import sys
from collections.abc import Mapping

import discord

from bot.config import ConfigError, load_settings
from bot.core import Anime8Bot, serve
from emulator.anilist import FakeAniList
from emulator.discord import DiscordEmulator
from playground.demo_data import demo_data
from playground.web import PlaygroundWeb

log = logging.getLogger("playground")
DEFAULT_PORT = 8080


def bot_environment(
    environ: Mapping[str, str], emulator: DiscordEmulator, anilist_url: str | None
) -> dict[str, str]:
    """The bot's settings: the caller's environment, aimed at the emulator (and the offline
    AniList when `anilist_url` is given), with defaults suited to trying the bot out."""
    env = dict(environ)
    env.update(
        DISCORD_TOKEN=emulator.token,
        DISCORD_API_BASE=emulator.api_base,
        DISCORD_GATEWAY_URL=emulator.gateway_url,
    )
    env.setdefault("DATA_DIR", os.path.join("data", "playground"))
    # Trying things out means asking again and again; the real cooldown would get in the way.
    env.setdefault("RECOMMEND_COOLDOWN_SECONDS", "0")
    if anilist_url is not None:
        env["ANILIST_API_URL"] = anilist_url.rstrip("/")
    else:
        # Two requests' worth of the most popular titles: enough to try, kind to AniList.
        env.setdefault("CATALOGUE_SIZE", "1000")
    return env


async def run_playground(environ: Mapping[str, str]) -> int:
    """Serve the page and run the bot until a signal stops it; returns the exit status."""
    try:
        port = int(environ.get("PLAYGROUND_PORT", DEFAULT_PORT))
    except ValueError:
        print("playground: PLAYGROUND_PORT must be a port number.", file=sys.stderr)
        return 2
    offline = environ.get("PLAYGROUND_ANILIST", "real").strip().lower() == "fake"
    async with contextlib.AsyncExitStack() as stack:
        emulator = await stack.enter_async_context(DiscordEmulator(heartbeat_interval_ms=30_000))
        emulator.guild_name = "Anime8 Playground"
        web = PlaygroundWeb(emulator)
        try:
            await web.start(port)
        except OSError as error:
            reason = error.strerror or str(error)
            print(
                f"playground: cannot listen on port {port} ({reason}); "
                "set PLAYGROUND_PORT to a free one.",
                file=sys.stderr,
            )
            return 2
        stack.push_async_callback(web.close)
        anilist_url = None
        if offline:
            web.demo = demo_data(web.url)
            fake = await stack.enter_async_context(FakeAniList(web.demo, rate_limit=1000))
            anilist_url = fake.url
        try:
            settings = load_settings(bot_environment(environ, emulator, anilist_url), None)
        except ConfigError as config_error:
            print(f"playground: {config_error}", file=sys.stderr)
            return 2
        discord.utils.setup_logging(level=getattr(logging, settings.log_level), root=True)
        # One line per request between the bot and the emulator would drown the bot's own log.
        logging.getLogger("aiohttp.access").setLevel(logging.WARNING)
        where = "the offline demo AniList" if offline else "the real AniList"
        # flush: a script or test reading our output waits for this line.
        print(
            f"Anime8 playground: open {web.url} (bot data in {settings.data_dir}, {where})",
            flush=True,
        )
        bot = Anime8Bot(settings)
        watcher = asyncio.create_task(_follow_status(bot, emulator, web))
        try:
            await serve(bot, handle_signals=True)
        finally:
            watcher.cancel()
        for problem in emulator.errors:
            log.warning("emulator error: %s", problem)
    return 0


async def _follow_status(bot: Anime8Bot, emulator: DiscordEmulator, web: PlaygroundWeb) -> None:
    """Keep the page's status line true: online once the bot has its guild, ready once the
    catalogue and the first model builds are in (as tests/support/harness.py waits)."""
    await emulator.wait_until_ready(timeout=3600)
    web.status = "warming up"
    if bot.catalogue is not None:
        await bot.catalogue.wait_complete()
    await bot.recommendations.models.wait_idle()
    web.status = "ready"


def main() -> int:
    return asyncio.run(run_playground(os.environ))


if __name__ == "__main__":
    sys.exit(main())
