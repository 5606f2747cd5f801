"""Retention and /forget end to end: expired data goes, buttons stay polite, and a /forget
that races a running /recommend leaves nothing behind."""

from __future__ import annotations

import asyncio
import os
import sqlite3
import sys
import time

from bot.services.retention import prune_expired
from bot.storage import MIGRATIONS
from tests.e2e.test_process import REPO
from tests.e2e.test_recommend import media_id_of, recommend
from tests.fakes.anilist_server import Fault
from tests.fakes.discord import FLAG_EPHEMERAL, buttons

DAY = 86400.0


async def count(db, sql: str, params: tuple = ()) -> int:
    async with db.conn.execute(sql, params) as cur:
        return (await cur.fetchone())[0]


async def test_after_retention_page_buttons_say_so_and_rating_buttons_work(ready_bot, emulator):
    """Once the retention has passed, the cached list, history and stored picks are gone; ▶
    says the picks expired, while the rating buttons still rate the title they show."""
    message = await recommend(emulator, {"username": "Alice", "count": 2})
    media_id = media_id_of(message)
    assert await count(ready_bot.db, "SELECT COUNT(*) FROM anilist_lists") == 1
    counts = await prune_expired(ready_bot.db, ready_bot.settings, now=time.time() + 91 * DAY)
    assert (counts.lists, counts.recommendation_log, counts.recommendation_messages) == (1, 2, 1)
    forward = next(b for b in buttons(message) if b["label"] == "▶")
    page = await emulator.click(message, forward["custom_id"], user="alice")
    reply = await page.wait_message()
    assert "expired" in reply["content"] and reply["flags"] & FLAG_EPHEMERAL
    click = await emulator.click(message, f"anime8:rate:{media_id}:4", user="bob")
    assert (await click.wait_message())["content"].startswith("Saved: 4/10")
    assert await ready_bot.db.ratings_of(emulator.bob.id, "ANIME") == {media_id: 4}


async def test_forget_during_a_running_recommend_leaves_no_rows(ready_bot, emulator, anilist):
    """/forget confirmed while /recommend waits for a slow AniList list: the /recommend then
    writes nothing (no list, history or stored message) and says why, ephemerally."""
    await (await emulator.invoke("link", {"username": "Alice"}, user="alice")).wait_message()
    anilist.script(Fault.slow(2.0))
    running = await emulator.invoke("recommend", {"count": 3}, user="alice")
    await running.first_response()  # deferred: the list fetch starts right after
    # Forget once AniList has been asked: a /forget that finished before the fetch began
    # would test an ordinary /recommend after a /forget instead.
    async with asyncio.timeout(10):
        while not any(op == "UserList" for op, _ in anilist.request_log):  # noqa: ASYNC110
            await asyncio.sleep(0.01)
    prompt = await (await emulator.invoke("forget", user="alice")).wait_message()
    confirm = await emulator.click(prompt, buttons(prompt)[0]["custom_id"], user="alice")
    await confirm.first_response()
    assert emulator.get_message(prompt["id"])["content"].startswith("Done: deleted")
    assert any(op == "UserList" for op, _ in anilist.request_log)  # asked, not yet answered
    assert running.followups == []  # /recommend is still waiting for it
    reply = await running.wait_message(lambda m: bool(m["content"]), timeout=20)
    assert "deleted while I was working" in reply["content"] and reply["flags"] & FLAG_EPHEMERAL
    db, user = ready_bot.db, emulator.alice.id
    assert await count(db, "SELECT COUNT(*) FROM anilist_lists WHERE username = 'alice'") == 0
    assert (
        await count(
            db, "SELECT COUNT(*) FROM recommendation_log WHERE discord_user_id = ?", (user,)
        )
        == 0
    )
    assert (
        await count(
            db, "SELECT COUNT(*) FROM recommendation_messages WHERE requester_id = ?", (user,)
        )
        == 0
    )
    assert await db.linked_username(user) is None


async def test_main_refuses_a_database_newer_than_the_code(emulator, tmp_path):
    """python main.py on a database of a newer schema prints one line and exits with 2,
    leaving the database as it was."""
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    path = data_dir / "anime8.db"
    with sqlite3.connect(path) as conn:
        conn.execute(f"PRAGMA user_version = {len(MIGRATIONS) + 1}")
    env = {
        **os.environ,
        "DISCORD_TOKEN": emulator.token,
        "DATA_DIR": str(data_dir),
        "DISCORD_API_BASE": emulator.api_base,
        "DISCORD_GATEWAY_URL": emulator.gateway_url,
        "BUILD_CATALOGUE": "false",
        "LOG_LEVEL": "ERROR",
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable, str(REPO / "main.py"), cwd=tmp_path, env=env, stderr=asyncio.subprocess.PIPE
    )
    async with asyncio.timeout(60):
        _, stderr = await process.communicate()
    lines = stderr.decode().strip().splitlines()
    assert process.returncode == 2
    assert len(lines) == 1 and lines[0].startswith("anime8: The database "), lines
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS) + 1
