"""A local Discord emulator for end-to-end tests of the real discord.py client (and for
`make playground`, which puts a web page in front of it).

emulator.py holds DiscordEmulator and its state; its behaviour is split by area: rest.py
(REST routes), messages.py (the message store and Discord's limits), gateway.py (the
websocket), driver.py (what tests do as users). world.py has the fixed ids and records,
validation.py Discord's checks, reading.py helpers to read messages back.
"""

from emulator.discord.emulator import DiscordEmulator
from emulator.discord.reading import buttons, point_discord_at, render_message, selects
from emulator.discord.world import (
    ADMIN_ROLE_ID,
    ALICE_ID,
    BOB_ID,
    BOT_ROLE_ID,
    BOT_USER_ID,
    ELSEWHERE_CHANNEL_ID,
    FLAG_EPHEMERAL,
    GENERAL_CHANNEL_ID,
    GROUP_DM_CHANNEL_ID,
    GUILD_ID,
    NSFW_CHANNEL_ID,
    OTHER_GUILD_ID,
    OWNER_ID,
    SEND_POLLS,
)

__all__ = [
    "ADMIN_ROLE_ID",
    "ALICE_ID",
    "BOB_ID",
    "BOT_ROLE_ID",
    "BOT_USER_ID",
    "DiscordEmulator",
    "ELSEWHERE_CHANNEL_ID",
    "FLAG_EPHEMERAL",
    "GENERAL_CHANNEL_ID",
    "GROUP_DM_CHANNEL_ID",
    "GUILD_ID",
    "NSFW_CHANNEL_ID",
    "OTHER_GUILD_ID",
    "OWNER_ID",
    "SEND_POLLS",
    "buttons",
    "point_discord_at",
    "render_message",
    "selects",
]
