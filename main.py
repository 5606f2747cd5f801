"""Start Anime8: read the settings once, set up logging, run the bot until a signal stops it."""

from __future__ import annotations

import asyncio
import logging
import os
import sys
import threading

import discord

from bot.config import ConfigError, load_settings
from bot.core import Anime8Bot, serve
from bot.ops.logs import configure_logging
from bot.ops.server import MetricsPortUnavailable
from bot.storage import DatabaseTooNew
from bot.storage.lock import DataDirInUse


def main() -> int:
    try:
        settings = load_settings()
    except ConfigError as error:
        print(f"anime8: {error}", file=sys.stderr)
        return 2
    # discord.py never logs the token, nor does our code; the handler redacts it regardless.
    configure_logging(settings)
    try:
        asyncio.run(serve(Anime8Bot(settings), handle_signals=True))
    except discord.LoginFailure:
        print(
            "anime8: Discord rejected DISCORD_TOKEN; copy the bot token again from the "
            "Developer Portal (Bot > Reset Token) into .env.",
            file=sys.stderr,
        )
        return 2
    except (DatabaseTooNew, DataDirInUse, MetricsPortUnavailable) as error:
        print(f"anime8: {error}", file=sys.stderr)
        return 2
    if any(
        t.is_alive() and not t.daemon
        for t in threading.enumerate()
        if t is not threading.main_thread()
    ):
        # The bot is closed and its database with it; what is left is a model build's CPU work,
        # which nothing needs any more. The interpreter would wait for it at exit.
        logging.getLogger(__name__).info("stopping without waiting for a model build")
        logging.shutdown()
        os._exit(0)
    return 0


if __name__ == "__main__":
    sys.exit(main())
