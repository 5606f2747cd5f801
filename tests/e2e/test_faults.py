"""Fault tests: concurrency, fuzzed interactions, corrupt checkpoints, AniList storms."""

from __future__ import annotations

import asyncio
import logging
import random

from tests.fakes.anilist_server import Fault
from tests.fakes.discord import FLAG_EPHEMERAL, buttons
from tests.support.harness import start_with_catalogue


async def _shown_message(emulator, count=5):
    record = await emulator.invoke("recommend", {"username": "Alice", "count": count})
    return await record.wait_message(timeout=20)


async def test_concurrent_rating_clicks_store_each_users_last_rating(ready_bot, emulator):
    """1,000 clicks from 200 users at once: one row per user and title, holding their last click."""
    message = await _shown_message(emulator, count=1)
    media_id = int(buttons(message)[0]["custom_id"].split(":")[2])
    users = [emulator.add_user(f"rater{n}") for n in range(200)]
    rng = random.Random(3)
    expected: dict[int, int] = {}
    # Each user's five clicks go in order; different users' clicks interleave freely.
    ratings = {user.id: [rng.randint(0, 10) for _ in range(5)] for user in users}

    async def clicks_of(user) -> None:
        for rating in ratings[user.id]:
            record = await emulator.click(message, f"anime8:rate:{media_id}:{rating}", user=user)
            await record.wait_message(timeout=30)
        expected[user.id] = ratings[user.id][-1]

    await asyncio.gather(*(clicks_of(user) for user in users))
    async with ready_bot.db.conn.execute(
        "SELECT discord_user_id, rating FROM feedback WHERE media_id = ?", (media_id,)
    ) as cur:
        stored = {row[0]: row[1] async for row in cur}
    assert stored == expected


async def test_fuzzed_interactions_never_escape_or_store_bad_rows(ready_bot, emulator, caplog):
    """Random option values and types, odd Unicode, forged ids, unknown commands: all answered
    with a sentence or ignored; no exception escapes the handler and no invalid row is stored."""
    rng = random.Random(11)
    message = await _shown_message(emulator, count=1)
    weird = ["", " ", "\u0000", "💥" * 300, "a" * 5000, "ＡＬＩＣＥ", "'; DROP TABLE feedback;--"]
    weird += ["".join(chr(rng.randint(32, 0x2FFF)) for _ in range(rng.randint(1, 80)))]
    values = [*weird, -1, 0, 11, 10**30, 3.5, True, None]
    for _ in range(40):
        options = [
            {"name": name, "type": rng.choice([3, 4, 5, 10]), "value": rng.choice(values)}
            for name in rng.sample(["username", "type", "preferences", "count", "bogus"], 3)
        ]
        name = rng.choice(["recommend", "link", "autotrain", "nonexistent"])
        record = await emulator.invoke_raw(
            {"name": name, "type": 1, "id": "1", "options": options}, user="bob"
        )
        if name != "nonexistent":
            reply = await record.first_response(timeout=10)
            assert reply.type in (4, 5)  # a sentence, or a deferral followed by one
    for custom_id in ["anime8:rate:" + "💥" * 30, "anime8:page:x:y:z", "anime8:rate::"]:
        emulator.forge_buttons(message["id"], [custom_id])
        click = await emulator.click(message["id"], custom_id, user="bob")
        reply = await click.wait_message()
        assert reply["flags"] & FLAG_EPHEMERAL
    await asyncio.sleep(0.2)
    # Nothing unexpected: no "error id" traceback, no discord.py "Ignoring exception", no
    # unretrieved task exception.
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert errors == []
    async with ready_bot.db.conn.execute(
        "SELECT COUNT(*) FROM feedback WHERE rating NOT BETWEEN 0 AND 10"
    ) as cur:
        assert (await cur.fetchone())[0] == 0
    help_record = await emulator.invoke("help")
    assert (await help_record.wait_message())["embeds"]


async def test_corrupt_checkpoint_falls_back(anilist, harness, emulator):
    """A corrupt newest checkpoint at start-up: the bot starts and recommends anyway."""
    models = harness.data_dir / "models"
    models.mkdir(parents=True)
    (models / "anime-v3.pt").write_bytes(b"not a checkpoint at all")
    bot = await start_with_catalogue(harness)
    assert bot.recommendations.models.model_version("ANIME") == 0
    message = await _shown_message(emulator, count=2)
    assert message["embeds"]


async def test_anilist_storm_then_recovery(anilist, harness, emulator):
    """429s, 500s, timeouts, malformed JSON and a disabled API: clear sentences, then normal
    service."""
    # The catalogue is fetched with the usual timeout: the fake AniList shares the bot's
    # loop, so on a busy machine a 500-title page can take longer than the 0.5 s under test.
    await start_with_catalogue(harness)
    ready_bot = await harness.restart(ANILIST_TIMEOUT_SECONDS="0.5")
    await ready_bot.recommendations.models.wait_idle()

    async def ask(username: str) -> dict:
        record = await emulator.invoke("recommend", {"username": username}, user="bob")
        return await record.wait_message(lambda m: bool(m["content"] or m["embeds"]), timeout=30)

    anilist.script(Fault.rate_limited(retry_after=90))
    reply = await ask("user01")
    assert "try again in 90 s" in reply["content"] and reply["flags"] & FLAG_EPHEMERAL
    # While the pause lasts nobody is sent to AniList; the wait is told without a request.
    before = anilist.requests_total
    assert "try again in" in (await ask("user02"))["content"]
    assert anilist.requests_total == before
    # Skip the rest of the 90 s pause rather than sleep through it.
    ready_bot.anilist.limiter._paused_until = 0.0
    storms = [
        [Fault.server_error()] * 3,
        [Fault.slow(2.0)] * 3,  # each beyond the bot's 0.5 s request timeout
        [Fault.malformed()] * 3,
        [Fault.disabled()],
    ]
    for number, faults in enumerate(storms, start=3):
        anilist.script(*faults)
        reply = await ask(f"user{number:02d}")
        assert "AniList isn't answering" in reply["content"], reply
        assert reply["flags"] & FLAG_EPHEMERAL
    assert (await ask("user09"))["embeds"]  # AniList is back: service resumes
