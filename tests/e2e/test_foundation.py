"""The foundation end to end: login, command sync, /help, the error handler, reconnects."""

from __future__ import annotations

import sqlite3

from discord import app_commands

from bot.error_handler import defer_publicly
from bot.errors import UserFacingError
from tests.fakes.discord import FLAG_EPHEMERAL, DiscordEmulator


async def test_login_and_command_sync(bot, emulator):
    """The bot logs in, syncs its commands globally once, and stores the schema hash."""
    assert emulator.identify_count == 1
    names = {c["name"] for c in emulator.global_commands}
    assert names == {
        "help",
        "recommend",
        "watchparty",
        "similar",
        "link",
        "unlink",
        "forget",
        "settings",
        "autotrain",
        "backup",
        "profile",
        "Recommend for them",
        "Taste match",
    }
    assert bot.failed_extensions == {}
    assert emulator.sync_calls == {"global": 1}
    assert bot.synced_commands is True
    assert bot.owner_ids == {emulator.owner.id}


async def test_restart_with_same_commands_does_not_sync_again(harness, emulator):
    """A restart with an unchanged command tree makes no sync call (Discord rate-limits them)."""
    await harness.start()
    first = await harness.restart()
    assert first.synced_commands is False
    assert emulator.sync_calls == {"global": 1}


async def test_dev_guild_sync(harness, emulator):
    """DEV_GUILD_ID syncs the commands to that guild only."""
    await harness.start(DEV_GUILD_ID=str(emulator.guild_id))
    assert {c["name"] for c in emulator.guild_commands[emulator.guild_id]} >= {"help"}
    assert emulator.global_commands == []


async def test_switching_dev_guild_on_and_off_never_shows_commands_twice(harness, emulator):
    """Global, then DEV_GUILD_ID, then global again: each switch syncs the new scope and
    empties the old one."""
    await harness.start()
    assert emulator.global_commands
    await harness.restart(DEV_GUILD_ID=str(emulator.guild_id))
    assert emulator.global_commands == []
    assert {c["name"] for c in emulator.guild_commands[emulator.guild_id]} >= {"recommend"}
    await harness.restart()
    assert emulator.guild_commands[emulator.guild_id] == []
    assert {c["name"] for c in emulator.global_commands} >= {"recommend"}


async def test_a_data_dir_reused_with_another_application_registers_its_commands(
    harness, emulator, tmp_path
):
    """The "already synced" record belongs to one application: a copied database must not
    leave another application without commands."""
    await harness.start()
    await harness.stop()
    async with DiscordEmulator(application_id=1100000000000000777) as other:
        harness.emulator = other
        try:
            bot = await harness.start()
            assert bot.synced_commands is True
            assert {c["name"] for c in other.global_commands} >= {"recommend", "help"}
            await harness.stop()
        finally:
            harness.emulator = emulator


async def test_owner_ids_setting_overrides_application_owner(harness, emulator):
    """OWNER_IDS replaces the application's owner as the set of owners."""
    bot = await harness.start(OWNER_IDS=f"{emulator.alice.id},{emulator.bob.id}")
    assert bot.owner_ids == {emulator.alice.id, emulator.bob.id}
    assert not bot.is_owner_id(emulator.owner.id)


async def test_help_answers_ephemerally_and_mentions_anilist(bot, emulator):
    """/help lists the commands and says the bot is unofficial and uses AniList data."""
    record = await emulator.invoke("help", user="bob")
    message = await record.wait_message()
    assert message["flags"] & FLAG_EPHEMERAL
    embed = message["embeds"][0]
    assert "unofficial" in embed["description"] and "AniList" in embed["description"]
    assert "/help" in [field["name"] for field in embed["fields"]]
    menus = next(f["value"] for f in embed["fields"] if f["name"] == "On a member")
    assert "**Recommend for them**" in menus and "**Taste match**" in menus
    stored = next(f["value"] for f in embed["fields"] if f["name"] == "What Anime8 stores")
    assert "90 days" in stored and "/forget" in stored


async def test_error_handler_turns_failures_into_ephemeral_sentences(bot, emulator, caplog):
    """A domain error shows its sentence; a crash shows an error id that is also logged."""

    @bot.tree.command(name="oops")
    async def oops(interaction):
        raise UserFacingError("That went wrong in a way I can explain.")

    @bot.tree.command(name="boom")
    async def boom(interaction):
        raise RuntimeError("kaboom")

    explained = await emulator.invoke_raw({"name": "oops", "type": 1, "id": "1"})
    message = await explained.wait_message()
    assert message["content"] == "That went wrong in a way I can explain."
    assert message["flags"] & FLAG_EPHEMERAL

    crashed = await emulator.invoke_raw({"name": "boom", "type": 1, "id": "2"})
    message = await crashed.wait_message()
    assert message["flags"] & FLAG_EPHEMERAL
    assert "Something went wrong (error id " in message["content"]
    error_id = message["content"].split("error id ")[1].split(")")[0]
    assert any(error_id in r.getMessage() and r.exc_info for r in caplog.records)
    assert "kaboom" not in message["content"]


async def test_error_after_public_defer_is_ephemeral(bot, emulator):
    """A failure after a public "thinking…" reply removes it and answers only the caller."""

    @bot.tree.command(name="slow")
    async def slow(interaction):
        await defer_publicly(interaction)
        raise UserFacingError("AniList said no.")

    record = await emulator.invoke_raw({"name": "slow", "type": 1, "id": "3"})
    message = await record.wait_message(lambda m: m["content"] == "AniList said no.")
    assert message["flags"] & FLAG_EPHEMERAL
    assert record.original is None  # the public placeholder was deleted


async def test_failed_check_is_explained(bot, emulator):
    """A check failure (here a cooldown) reaches the user as a sentence."""

    @bot.tree.command(name="limited")
    @app_commands.checks.cooldown(1, 60)
    async def limited(interaction):
        await interaction.response.send_message("ok")

    first = await emulator.invoke_raw({"name": "limited", "type": 1, "id": "4"})
    assert (await first.wait_message())["content"] == "ok"
    second = await emulator.invoke_raw({"name": "limited", "type": 1, "id": "4"})
    message = await second.wait_message()
    assert "try again in" in message["content"] and message["flags"] & FLAG_EPHEMERAL


async def test_reconnect_after_gateway_drop(bot, emulator):
    """When the gateway socket drops, the bot resumes and serves the next command."""
    await emulator.drop_gateway()
    await emulator.wait_for(lambda e: e.kind == "resume", 10)
    record = await emulator.invoke("help")
    assert (await record.wait_message())["embeds"]
    assert emulator.resume_count == 1


async def test_database_is_migrated_in_data_dir(bot, harness):
    """setup_hook creates DATA_DIR/anime8.db with the schema; close() releases it."""
    path = harness.data_dir / "anime8.db"
    await harness.stop()
    with sqlite3.connect(path) as conn:
        tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master")}
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert {"feedback", "recommendation_log", "linked_accounts"} <= tables


async def test_options_from_a_stale_command_list_are_called_an_update_in_progress(bot, emulator):
    """Discord sends options that no longer match the synced commands (its client still shows
    the old ones): the user is told the commands are being updated, not that they erred."""
    command = next(c for c in emulator.global_commands if c["name"] == "link")
    stale = {"name": "link", "type": 1, "id": command["id"], "options": []}  # username missing
    record = await emulator.invoke_raw(stale)
    message = await record.wait_message()
    assert message["flags"] & FLAG_EPHEMERAL
    assert message["content"].startswith("My commands are being updated; please try again")


async def test_type_choices_read_anime_and_manga(bot, emulator):
    """The type option shows "Anime" and "Manga" in Discord's picker; the values stay."""
    synced = {c["name"]: c for c in emulator.global_commands}
    for name in ("recommend", "autotrain"):
        option = next(o for o in synced[name]["options"] if o["name"] == "type")
        assert option["choices"] == [
            {"name": "Anime", "value": "ANIME"},
            {"name": "Manga", "value": "MANGA"},
        ]
