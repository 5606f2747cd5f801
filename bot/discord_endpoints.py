"""Where discord.py sends REST calls and opens the Gateway.

discord.py keeps both as class attributes; production leaves them alone, while tests and
sandboxes point them at a local Discord emulator through DISCORD_API_BASE and
DISCORD_GATEWAY_URL, so the code path is the same everywhere.
"""

from __future__ import annotations

import discord
import yarl
from discord.gateway import DiscordWebSocket

_DEFAULT_API_BASE = discord.http.Route.BASE
_DEFAULT_GATEWAY = DiscordWebSocket.DEFAULT_GATEWAY


def apply_discord_endpoints(api_base: str | None, gateway_url: str | None) -> None:
    """Point discord.py at the given endpoints; None restores Discord's own."""
    discord.http.Route.BASE = api_base or _DEFAULT_API_BASE
    DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(gateway_url) if gateway_url else _DEFAULT_GATEWAY
