"""User installs: integration_types and contexts decide where a command is offered, the
interaction says which install authorized it, and where only the user install applies the
bot cannot post in the channel and gets at most five follow-ups."""

from __future__ import annotations

import asyncio

import discord
import pytest
from discord import app_commands

from tests.fakes.discord import ELSEWHERE_CHANNEL_ID


def add_commands(bot) -> list[dict]:
    """/anywhere (both installs, every context), /server (guild install only); records what
    discord.py made of each interaction."""
    seen: list[dict] = []

    @bot.tree.command(name="anywhere", description="Offered everywhere")
    @app_commands.allowed_installs(guilds=True, users=True)
    @app_commands.allowed_contexts(guilds=True, dms=True, private_channels=True)
    async def anywhere(interaction: discord.Interaction, followups: int = 0) -> None:
        errors: list[int] = []
        seen.append(
            {
                "user_install": interaction.is_user_integration(),
                "guild_install": interaction.is_guild_integration(),
                "channel_type": getattr(interaction.channel, "type", None),
                "errors": errors,
            }
        )
        await interaction.response.defer()
        for n in range(followups + 1):  # the first replaces the deferred reply
            try:
                await interaction.followup.send(f"message {n}")
            except discord.HTTPException as error:
                errors.append(error.code)

    @bot.tree.command(name="server", description="Offered through a server install only")
    @app_commands.allowed_installs(guilds=True, users=False)
    async def server(interaction: discord.Interaction) -> None:
        await interaction.response.send_message("ok")

    return seen


async def test_synced_payload_and_where_commands_are_offered(emulator, bot_factory, run_bot):
    bot = bot_factory()
    add_commands(bot)
    async with run_bot(bot):
        await bot.tree.sync()
        synced = {c["name"]: c for c in emulator.global_commands}
        assert synced["anywhere"]["integration_types"] == [0, 1]
        assert synced["anywhere"]["contexts"] == [0, 1, 2]
        assert synced["server"]["integration_types"] == [0]
        # The guild install does not reach a server the bot is not in; a user install does.
        with pytest.raises(LookupError, match="not installed"):
            await emulator.invoke("anywhere", channel="elsewhere")
        with pytest.raises(LookupError, match="user install"):
            await emulator.invoke("server", channel="elsewhere", install="user")
        with pytest.raises(LookupError, match="user install"):
            await emulator.invoke("server", channel="general", install="user")


async def test_user_install_interactions(emulator, bot_factory, run_bot):
    bot = bot_factory()
    seen = add_commands(bot)
    async with run_bot(bot):
        await bot.tree.sync()
        elsewhere = await emulator.invoke(
            "anywhere", {"followups": 6}, channel="elsewhere", install="user"
        )
        for _ in range(100):  # the follow-ups are sent one by one; wait for the last refusal
            if seen and seen[0]["errors"]:
                break
            await asyncio.sleep(0.05)
        group = await emulator.invoke("anywhere", channel="group-dm", install="user")
        await group.wait_message()
        home = await emulator.invoke("anywhere", channel="general", install="user")
        await home.wait_message()
        # The bot cannot post in a server it is not a member of.
        with pytest.raises(discord.Forbidden):
            await bot.get_partial_messageable(ELSEWHERE_CHANNEL_ID).send("hello")

    assert elsewhere.payload["authorizing_integration_owners"] == {"1": str(emulator.alice.id)}
    assert elsewhere.payload["context"] == 0 and group.payload["context"] == 2
    assert seen[0] == {
        "user_install": True,
        "guild_install": False,
        "channel_type": discord.ChannelType.text,
        # The reply, then five follow-ups; the sixth is refused.
        "errors": [40094],
    }
    assert seen[1]["channel_type"] == discord.ChannelType.group and not seen[1]["guild_install"]
    # In the bot's own server its guild install applies as well: no follow-up limit there.
    assert seen[2]["user_install"] and seen[2]["guild_install"]
    assert len(elsewhere.followups) == 5
