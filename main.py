"""Start Anime8: read the settings once, set up logging, run the bot until a signal stops it."""

from __future__ import annotations

import asyncio
import logging
import sys

import discord

from bot.config import ConfigError, load_settings
from bot.core import Anime8Bot, serve
from bot.storage import DatabaseTooNew


def main() -> int:
    try:
        settings = load_settings()
    except ConfigError as error:
        print(f"anime8: {error}", file=sys.stderr)
        return 2
    # discord.py never logs the token; our own code never logs the settings' token field.
    discord.utils.setup_logging(level=getattr(logging, settings.log_level), root=True)
    try:
        asyncio.run(serve(Anime8Bot(settings), handle_signals=True))
    except discord.LoginFailure:
        print(
            "anime8: Discord rejected DISCORD_TOKEN; copy the bot token again from the "
            "Developer Portal (Bot > Reset Token) into .env.",
            file=sys.stderr,
        )
        return 2
    except DatabaseTooNew as error:
        print(f"anime8: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
