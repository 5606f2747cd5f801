"""Gateway resilience and the places where Discord's rules make a bot's mistake visible."""

from __future__ import annotations

import asyncio

import aiohttp
import discord
import pytest
from discord import app_commands

from tests.fakes.discord import ALICE_ID, BOB_ID, GUILD_ID, NSFW_CHANNEL_ID


def ping_bot(bot_factory):
    bot = bot_factory()

    @bot.tree.command(name="ping", description="Pong")
    async def ping(interaction: discord.Interaction) -> None:
        where = "dm" if interaction.guild_id is None else f"#{interaction.channel.name}"
        await interaction.response.send_message(f"pong {interaction.user.name} {where}")

    return bot


async def test_gateway_drop_resumes_and_replays(emulator, bot_factory, run_bot):
    """After the socket drops (close 4000) discord.py reconnects to resume_gateway_url and
    RESUMEs; a command dispatched while it was away is replayed and answered."""
    bot = ping_bot(bot_factory)
    resumed = asyncio.Event()

    async def on_resumed() -> None:
        resumed.set()

    bot.add_listener(on_resumed)
    async with run_bot(bot):
        await bot.tree.sync()
        await emulator.drop_gateway()
        missed = await emulator.invoke("ping")  # sent while disconnected: kept for replay
        async with asyncio.timeout(5):
            await resumed.wait()
        await missed.wait_message()
        after = await emulator.invoke("ping", user="bob")
        reply = await after.wait_message()

    assert emulator.resume_count == 1 and emulator.identify_count == 1
    assert emulator.gateway_connections == 2
    assert emulator.events_of("resume")[0].data["replayed"] >= 1
    assert reply["content"] == "pong bob #general"


async def test_dm_interaction(emulator, bot_factory, run_bot):
    """A DM interaction (no guild, channel type 1, user instead of member, context 1) works."""
    bot = ping_bot(bot_factory)
    async with run_bot(bot):
        await bot.tree.sync()
        record = await emulator.invoke("ping", channel="dm", user="bob")
        reply = await record.wait_message()
    assert record.payload["context"] == 1 and "member" not in record.payload
    assert reply["content"] == "pong bob dm" and "guild_id" not in reply


async def test_guild_command_with_user_option_in_nsfw_channel(emulator, bot_factory, run_bot):
    """A guild-synced, age-restricted command is offered only in the nsfw channel; its
    interaction carries data.guild_id and resolves a user option to a Member."""
    bot = bot_factory()

    @bot.tree.command(name="compare", description="Compare lists", nsfw=True)
    @app_commands.guilds(GUILD_ID)
    async def compare(interaction: discord.Interaction, other: discord.Member) -> None:
        await interaction.response.send_message(f"{interaction.user.id} vs {other.id}")

    async with run_bot(bot):
        await bot.tree.sync(guild=discord.Object(GUILD_ID))
        try:
            await emulator.invoke("compare", {"other": "bob"})
        except LookupError as exc:
            assert "age-restricted" in str(exc)
        else:
            raise AssertionError("an nsfw command must not be offered in #general")
        record = await emulator.invoke("compare", {"other": "bob"}, channel="nsfw")
        reply = await record.wait_message()
    assert record.payload["data"]["guild_id"] == str(GUILD_ID)
    assert record.payload["channel_id"] == str(NSFW_CHANNEL_ID)
    assert reply["content"] == f"{ALICE_ID} vs {BOB_ID}"


@pytest.mark.parametrize("emulator", [{"response_deadline": 0.2}], indirect=True)
async def test_late_and_double_responses_are_rejected(emulator, bot_factory, run_bot):
    """Discord's rules are enforced: a first response after the deadline gets 404 (10062),
    a second initial response gets 400 (40060); both reach the bot as HTTP errors."""
    errors: list[int] = []
    both_failed = asyncio.Event()

    def note(exc: discord.HTTPException) -> None:
        errors.append(exc.code)
        if len(errors) == 2:
            both_failed.set()

    bot = bot_factory()

    @bot.tree.command(name="late", description="Too slow")
    async def late(interaction: discord.Interaction) -> None:
        await asyncio.sleep(0.4)
        try:
            await interaction.response.send_message("too late")
        except discord.NotFound as exc:
            note(exc)

    @bot.tree.command(name="twice", description="Answers twice")
    async def twice(interaction: discord.Interaction) -> None:
        await interaction.response.defer()
        # discord.py refuses a second response itself; go around it to reach the emulator.
        route = discord.http.Route(
            "POST", "/interactions/{i}/{t}/callback", i=interaction.id, t=interaction.token
        )
        try:
            await interaction.client.http.request(route, json={"type": 4, "data": {"content": "x"}})
        except discord.HTTPException as exc:
            note(exc)

    async with run_bot(bot):
        await bot.tree.sync()
        slow = await emulator.invoke("late")
        double = await emulator.invoke("twice")
        async with asyncio.timeout(5):
            await both_failed.wait()
    assert sorted(errors) == [10062, 40060]
    assert slow.responses == [] and slow.rejected[0]["code"] == 10062
    assert len(double.responses) == 1 and double.rejected[0]["code"] == 40060


async def test_unknown_routes_and_ids_use_discord_error_shape(emulator, bot_factory, run_bot):
    """Unknown routes and ids answer 404 with Discord's {"message", "code"} JSON, so a bot
    calling something the emulator does not model fails visibly."""
    async with run_bot(bot_factory()) as bot:
        channel = bot.get_channel(emulator.general.id)
        try:
            await channel.fetch_message(123)
        except discord.NotFound as exc:
            assert exc.code == 10008 and exc.text == "Unknown Message"
        else:
            raise AssertionError("fetching an unknown message must fail")
        async with aiohttp.ClientSession() as session:
            headers = {"Authorization": f"Bot {emulator.token}"}
            url = emulator.api_base + "/guilds/1/bans"
            async with session.get(url, headers=headers) as response:
                body = await response.json()
                assert response.status == 404
                assert response.headers["Content-Type"] == "application/json"
    assert body == {"message": "404: Not Found", "code": 0}
    assert [e["status"] for e in emulator.client_errors] == [404, 404]
