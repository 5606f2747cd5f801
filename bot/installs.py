"""Where Anime8's commands are offered: through a server's install of the app and through a
person's own (user install), in servers, the bot's DMs and other private channels.

The tree's defaults are everywhere; commands that need a server say so with `server_only`.
"""

from __future__ import annotations

from typing import TypeVar

from discord import app_commands

EVERYWHERE_INSTALLS = app_commands.AppInstallationType(guild=True, user=True)
EVERYWHERE_CONTEXTS = app_commands.AppCommandContext(
    guild=True, dm_channel=True, private_channel=True
)

T = TypeVar("T")


def server_only(command: T) -> T:
    """Offer a command only through a server's install, in that server's channels.

    discord.py merges a command's flags over the tree's defaults one by one, so every flag
    the defaults turn on is turned off here explicitly."""
    command = app_commands.allowed_installs(guilds=True, users=False)(command)
    command = app_commands.allowed_contexts(guilds=True, dms=False, private_channels=False)(command)
    return app_commands.guild_only()(command)
