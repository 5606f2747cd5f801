"""Limits the bot enforces itself: option bounds, which titles a button may rate, cooldowns.

Discord's client enforces an option's declared bounds, but the bot receives whatever an
interaction says; these tests send what a forged client could."""

from __future__ import annotations

import pytest

from tests.e2e.test_recommend import media_id_of, recommend
from tests.fakes.discord import FLAG_EPHEMERAL
from tests.support.harness import start_with_catalogue


async def count_rows(db, table: str) -> int:
    async with db.conn.execute(f"SELECT COUNT(*) FROM {table}") as cur:
        return (await cur.fetchone())[0]


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        ({"username": "Alice", "count": 1000}, "count must be a whole number from 1 to 10"),
        ({"username": "Alice", "count": 0}, "count must be a whole number from 1 to 10"),
        ({"preferences": "romance " * 40}, "300 characters or fewer"),
        ({"username": "A" * 21}, "2 to 20 letters and digits"),
        ({"username": "名前です"}, "2 to 20 letters and digits"),
    ],
)
async def test_forged_option_values_get_a_sentence_and_write_nothing(
    ready_bot, emulator, anilist, options, expected
):
    """Out-of-bounds values are refused at once, ephemerally, with no request and no row."""
    before = anilist.requests_total
    record = await emulator.invoke("recommend", options, user="bob")
    reply = await record.wait_message()
    assert expected in reply["content"] and reply["flags"] & FLAG_EPHEMERAL
    assert record.responses[0].type == 4  # answered at once: no public "thinking…"
    assert anilist.requests_total == before
    for table in ("recommendation_log", "recommendation_messages", "anilist_lists"):
        assert await count_rows(ready_bot.db, table) == 0, table


async def test_forged_link_username_is_refused(ready_bot, emulator, anilist):
    """/link checks the username's shape itself too."""
    record = await emulator.invoke("link", {"username": "x" * 50}, user="bob")
    reply = await record.wait_message()
    assert "2 to 20 letters and digits" in reply["content"] and reply["flags"] & FLAG_EPHEMERAL
    assert await ready_bot.db.linked_username(emulator.bob.id) is None


async def test_rating_button_rates_only_a_title_the_message_showed(
    ready_bot, emulator, anilist_data
):
    """A forged button naming a real title the message did not show stores nothing; the
    message's own buttons still rate."""
    message = await recommend(emulator, {"username": "Alice", "count": 2})
    shown = media_id_of(message)
    other = next(i for i in anilist_data.ids("ANIME", adult=False) if i != shown)
    await ready_bot.media_store.media_by_ids([other])  # a title the bot knows
    forged = f"anime8:rate:{other}:9"
    real = f"anime8:rate:{shown}:6"
    emulator.forge_buttons(message["id"], [forged, real])
    click = await emulator.click(message["id"], forged, user="bob")
    reply = await click.wait_message()
    assert "isn't one this message recommended" in reply["content"]
    assert reply["flags"] & FLAG_EPHEMERAL
    assert await count_rows(ready_bot.db, "feedback") == 0
    click = await emulator.click(message["id"], real, user="bob")
    assert (await click.wait_message())["content"].startswith("Saved: 6/10")
    assert await ready_bot.db.ratings_of(emulator.bob.id, "ANIME") == {shown: 6}


async def test_only_a_recommend_that_showed_picks_starts_the_cooldown(anilist, harness, emulator):
    """A mistyped or unknown username costs no cooldown; picks shown start it."""
    await start_with_catalogue(harness, RECOMMEND_COOLDOWN_SECONDS="10")
    for username in ("no spaces!", "NobodyHere"):
        record = await emulator.invoke("recommend", {"username": username}, user="bob")
        refused = await record.wait_message(lambda m: bool(m["content"]), timeout=20)
        assert "try again in" not in refused["content"]
    shown = await recommend(emulator, {"username": "Alice", "count": 1}, user="bob")
    assert shown["embeds"]
    record = await emulator.invoke("recommend", {"username": "Alice"}, user="bob")
    reply = await record.wait_message()
    assert "try again in" in reply["content"] and reply["flags"] & FLAG_EPHEMERAL
