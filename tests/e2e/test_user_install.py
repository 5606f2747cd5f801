"""A user install: Anime8 added to a person's own account and used where the bot is not a
member (another server, a group DM), as well as the ordinary server install."""

from __future__ import annotations

import pytest

from tests.e2e.test_recommend import all_pages, media_id_of
from tests.fakes.discord import FLAG_EPHEMERAL, buttons

SERVER_ONLY = {"autotrain", "backup"}


async def test_synced_commands_say_where_they_are_offered(bot, emulator):
    """Every command is offered to both installs in every context, but /autotrain, which
    stays with a server's install and its channels."""
    synced = {c["name"]: c for c in emulator.global_commands}
    assert {"recommend", "link", "unlink", "forget", "help", "watchparty"} <= set(synced)
    for name, command in synced.items():
        if name in SERVER_ONLY:
            assert command["integration_types"] == [0], name
            assert command["contexts"] == [0], name
        else:
            assert command["integration_types"] == [0, 1], name
            assert command["contexts"] == [0, 1, 2], name
    with pytest.raises(LookupError):
        await emulator.invoke("autotrain", user="owner", channel="elsewhere", install="user")


@pytest.mark.parametrize("channel", ["group-dm", "elsewhere"])
async def test_recommend_through_a_user_install(ready_bot, emulator, channel):
    """In a group DM and in a server without the bot, /recommend shows its pages in one
    message; ▶ edits that message and a rating click is saved, with no follow-ups spent."""
    record = await emulator.invoke(
        "recommend", {"username": "Alice", "count": 3}, channel=channel, install="user"
    )
    message = await record.wait_message(timeout=20)
    assert record.payload["authorizing_integration_owners"] == {"1": str(emulator.alice.id)}
    assert message in emulator.channel_messages(channel)
    assert not message["flags"] & FLAG_EPHEMERAL
    pages = await all_pages(emulator, message)
    assert len({media_id_of(p) for p in pages}) == 3
    assert record.followups == []  # the picks are the deferred reply itself, paged in place
    media_id = media_id_of(pages[-1])
    click = await emulator.click(message["id"], f"anime8:rate:{media_id}:9", user="bob")
    receipt = await click.wait_message()
    assert receipt["content"].startswith("Saved: 9/10") and receipt["flags"] & FLAG_EPHEMERAL
    assert await ready_bot.db.ratings_of(emulator.bob.id, "ANIME") == {media_id: 9}
    assert all(b["custom_id"].startswith("anime8:") for b in buttons(pages[-1]))


async def test_link_through_a_user_install_in_a_group_dm(ready_bot, emulator):
    """/link works where only the user install applies, and /recommend then uses it."""
    link = await emulator.invoke(
        "link", {"username": "Alice"}, channel="group-dm", install="user", user="bob"
    )
    reply = await link.wait_message(timeout=20)
    assert reply["flags"] & FLAG_EPHEMERAL
    assert await ready_bot.db.linked_username(emulator.bob.id) == "Alice"
    record = await emulator.invoke("recommend", {}, channel="group-dm", install="user", user="bob")
    assert (await record.wait_message(timeout=20))["embeds"]


async def test_help_in_a_group_dm_links_the_user_install(bot, emulator):
    """/help works through a user install and offers the link that adds the app to an account."""
    record = await emulator.invoke("help", channel="group-dm", install="user")
    embed = (await record.wait_message())["embeds"][0]
    anywhere = next(f["value"] for f in embed["fields"] if f["name"] == "Use Anime8 anywhere")
    assert f"client_id={emulator.application_id}&integration_type=1" in anywhere


async def test_recommend_for_them_through_a_user_install_in_a_group_dm(ready_bot, emulator):
    """The user menu works where only the caller's own install reaches, and stays private."""
    linked = await emulator.invoke("link", {"username": "Alice"}, user="bob")
    await linked.wait_message(timeout=20)
    record = await emulator.invoke_user_command(
        "Recommend for them", "bob", channel="group-dm", install="user"
    )
    message = await record.wait_message(lambda m: bool(m["embeds"]), timeout=30)
    assert message["flags"] & FLAG_EPHEMERAL
    assert message["embeds"][0]["fields"][0]["name"] == "Predicted for Bob"
