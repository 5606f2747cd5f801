"""The real discord.py client logs in, syncs and answers commands against the emulator."""

from __future__ import annotations

import asyncio
import io

import discord
import pytest
from discord import app_commands

from tests.fakes.discord import (
    ALICE_ID,
    BOB_ID,
    BOT_USER_ID,
    FLAG_EPHEMERAL,
    GENERAL_CHANNEL_ID,
    GUILD_ID,
    NSFW_CHANNEL_ID,
    OWNER_ID,
)


async def test_login_ready_and_guild(emulator, bot_factory, run_bot):
    """Login, READY and GUILD_CREATE are complete enough for discord.py to build its cache:
    the bot user, the guild with its owner, both channels (one age-restricted) and members."""
    bot = bot_factory()
    async with run_bot(bot):
        assert bot.user.id == BOT_USER_ID
        guild = bot.get_guild(GUILD_ID)
        assert guild is not None and guild.owner_id == OWNER_ID
        assert guild.get_channel(GENERAL_CHANNEL_ID).is_nsfw() is False
        assert guild.get_channel(NSFW_CHANNEL_ID).is_nsfw() is True
        assert guild.member_count == 4 and guild.me.guild_permissions.send_messages
        assert emulator.identify_count == 1 and emulator.gateway_connections == 1
        assert emulator.events_of("identify")[0].data["intents"] == discord.Intents.default().value


async def test_members_intent_gets_every_member(emulator, bot_factory, run_bot):
    """With the members intent the GUILD_CREATE lists everyone, so the guild counts as chunked."""
    bot = bot_factory(intents=discord.Intents.default() | discord.Intents(members=True))
    async with run_bot(bot):
        guild = bot.get_guild(GUILD_ID)
        assert {m.id for m in guild.members} == {OWNER_ID, ALICE_ID, BOB_ID, BOT_USER_ID}
        assert guild.chunked and guild.get_member(OWNER_ID).guild_permissions.administrator


async def test_wrong_token_is_a_login_failure(emulator, bot_factory):
    """A token the emulator does not know gets 401 on GET /users/@me: LoginFailure."""
    bot = bot_factory()
    try:
        async with asyncio.timeout(5):
            with pytest.raises(discord.LoginFailure):
                await bot.login("not-the-token")
    finally:
        await bot.close()
    assert emulator.client_errors[0]["status"] == 401


async def test_application_owner_is_bot_owner(emulator, bot_factory, run_bot):
    """Bot.is_owner falls back to application_info(): the application's owner is the owner."""
    bot = bot_factory()
    async with run_bot(bot):
        assert await bot.is_owner(discord.Object(OWNER_ID))
        assert not await bot.is_owner(discord.Object(ALICE_ID))


@pytest.mark.parametrize("emulator", [{"team_owned": True}], indirect=True)
async def test_team_owned_application_owners(emulator, bot_factory, run_bot):
    """With a team-owned application, admins and developers are owners, read-only members not."""
    async with run_bot(bot_factory()) as bot:
        info = await bot.application_info()
        assert info.team is not None and info.team.owner_id == OWNER_ID
        assert await bot.is_owner(discord.Object(OWNER_ID))
        assert await bot.is_owner(discord.Object(ALICE_ID))  # developer
        assert not await bot.is_owner(discord.Object(BOB_ID))  # read-only


def add_search_command(tree: app_commands.CommandTree, **kwargs) -> None:
    @tree.command(name="search", description="Search a title", **kwargs)
    @app_commands.describe(title="What to look for", kind="Anime or manga", limit="How many")
    @app_commands.choices(
        kind=[
            app_commands.Choice(name="Anime", value="anime"),
            app_commands.Choice(name="Manga", value="manga"),
        ]
    )
    async def search(
        interaction: discord.Interaction,
        title: str,
        kind: app_commands.Choice[str],
        limit: app_commands.Range[int, 1, 10] = 3,
    ) -> None:
        await interaction.response.send_message(f"{kind.value}:{title}:{limit}")


async def test_sync_records_schema_globally_and_per_guild(emulator, bot_factory, run_bot):
    """tree.sync() and tree.sync(guild=...) PUT their schema; the emulator keeps both scopes,
    counts the calls and answers ids discord.py turns into AppCommand objects."""
    bot = bot_factory()
    add_search_command(bot.tree)

    @bot.tree.command(name="admin-only", description="Guild command")
    @app_commands.guilds(GUILD_ID)
    async def admin_only(interaction: discord.Interaction) -> None:
        await interaction.response.send_message("ok")

    async with run_bot(bot):
        synced_global = await bot.tree.sync()
        synced_guild = await bot.tree.sync(guild=discord.Object(GUILD_ID))
        await bot.tree.sync()

    assert [c.name for c in synced_global] == ["search"]
    assert synced_global[0].id == int(emulator.global_commands[0]["id"])
    assert [c.name for c in synced_guild] == ["admin-only"]
    assert synced_guild[0].guild_id == GUILD_ID
    assert emulator.sync_calls == {"global": 2, str(GUILD_ID): 1}
    options = {o["name"]: o for o in emulator.global_commands[0]["options"]}
    assert [o["type"] for o in options.values()] == [3, 3, 4]  # string, string, integer
    assert [c["value"] for c in options["kind"]["choices"]] == ["anime", "manga"]
    assert options["limit"]["min_value"] == 1 and options["limit"]["max_value"] == 10
    assert options["limit"].get("required", False) is False


async def test_slash_command_reply_and_options(emulator, bot_factory, run_bot):
    """A type-2 INTERACTION_CREATE built from the synced schema reaches the command with typed
    options; its type-4 reply is recorded as the interaction's original message."""
    bot = bot_factory()
    add_search_command(bot.tree)
    async with run_bot(bot):
        await bot.tree.sync()
        record = await emulator.invoke("search", {"title": "Frieren", "kind": "anime", "limit": 5})
        first = await record.first_response()
        message = await record.wait_message()
    assert first.type == 4 and first.at >= record.created_at
    assert message["content"] == "anime:Frieren:5"
    assert message["author"]["id"] == str(BOT_USER_ID) and not record.ephemeral
    assert emulator.get_message(message["id"])["channel_id"] == str(GENERAL_CHANNEL_ID)


async def test_ephemeral_and_deferred_followup_and_edit(emulator, bot_factory, run_bot):
    """Ephemeral replies carry flag 64; a deferred reply is a "thinking" original replaced by
    the first follow-up; a later follow-up is its own message; edit_original_response edits."""
    bot = bot_factory()

    @bot.tree.command(name="secret", description="Ephemeral reply")
    async def secret(interaction: discord.Interaction) -> None:
        await interaction.response.send_message("only you", ephemeral=True)

    @bot.tree.command(name="slow", description="Deferred reply")
    async def slow(interaction: discord.Interaction) -> None:
        await interaction.response.defer(thinking=True)
        await interaction.followup.send("first result")
        await interaction.followup.send("second result")
        await interaction.edit_original_response(content="first result (edited)")

    async with run_bot(bot):
        await bot.tree.sync()
        hidden = await emulator.invoke("secret")
        await hidden.wait_message()
        slow_record = await emulator.invoke("slow", user="bob")
        await slow_record.wait_message(lambda m: m["content"].endswith("(edited)"))

    assert hidden.ephemeral and hidden.original["flags"] & FLAG_EPHEMERAL
    assert [r.name for r in slow_record.responses] == ["DEFERRED_CHANNEL_MESSAGE_WITH_SOURCE"]
    assert slow_record.original["content"] == "first result (edited)"
    assert [m["content"] for m in slow_record.followups] == ["second result"]


async def test_file_upload_is_multipart(emulator, bot_factory, run_bot):
    """Replies with files arrive as multipart (payload_json + files[n]); the bytes are kept
    and served back at the attachment URL."""
    bot = bot_factory()

    @bot.tree.command(name="export", description="Send a file")
    async def export(interaction: discord.Interaction) -> None:
        data = discord.File(io.BytesIO(b"id,title\n1,Frieren\n"), filename="list.csv")
        await interaction.response.send_message("your list", file=data)

    async with run_bot(bot):
        await bot.tree.sync()
        record = await emulator.invoke("export")
        message = await record.wait_message()
        attachment = message["attachments"][0]
        fetched = await bot.http.get_from_cdn(attachment["url"])
    assert record.responses[0].files == [("list.csv", b"id,title\n1,Frieren\n")]
    assert attachment["filename"] == "list.csv" and attachment["size"] == 19
    assert fetched == b"id,title\n1,Frieren\n"
