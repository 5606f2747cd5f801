"""Retention and schema safety: what expires, what stays, and databases of other versions."""

from __future__ import annotations

import os
import sqlite3
import time

import pytest

from bot.config import Settings
from bot.services.retention import prune_checkpoints, prune_expired
from bot.storage import MIGRATIONS, Database, DatabaseTooNew, UserForgotten, forget_user
from bot.storage.media import MediaStore

DAY = 86400.0
NOW = 1_800_000_000.0


@pytest.fixture
async def db(tmp_path):
    database = await Database.open(tmp_path / "anime8.db")
    yield database
    await database.close()


def title(media_id: int) -> dict:
    return {"id": media_id, "type": "ANIME", "title": {"romaji": f"T{media_id}"}}


def entry(media_id: int) -> dict:
    return {"mediaId": media_id, "status": "COMPLETED", "score": 8.0}


async def rows(db: Database, sql: str) -> list[tuple]:
    async with db.conn.execute(sql) as cur:
        return [tuple(row) for row in await cur.fetchall()]


async def test_prune_deletes_what_was_not_used_within_the_retention(db, tmp_path):
    """A list unused for longer than LIST_RETENTION_DAYS goes with its entries and the titles
    only it held; a list used recently, ratings, links and catalogue titles stay."""
    settings = Settings(discord_token="t", data_dir=tmp_path, list_retention_days=90)
    store = MediaStore(db)
    await store.save_user_list(
        "Old", "ANIME", [entry(1), entry(2)], [title(1), title(2)], NOW - 100 * DAY
    )
    await store.save_user_list("Fresh", "ANIME", [entry(2)], [title(2)], NOW - 100 * DAY)
    await store.touch_user_list("fresh", "ANIME", NOW - 10 * DAY)  # used since: kept
    await db.save_rating(5, 1, "ANIME", 7)
    await db.link_account(5, "Old")
    await db.save_recommendation_message(1, 5, "ANIME", [{"media_id": 1}])
    await db.log_recommendations(5, "Old", "ANIME", [1])
    await db.conn.execute("UPDATE recommendation_log SET shown_at = ?", (NOW - 91 * DAY,))
    await db.conn.execute("UPDATE recommendation_messages SET created_at = ?", (NOW - 91 * DAY,))
    await db.conn.execute("UPDATE media SET updated_at = ?", (NOW - 100 * DAY,))
    counts = await prune_expired(db, settings, now=NOW)
    assert (counts.lists, counts.list_entries) == (1, 2)
    assert (counts.recommendation_log, counts.recommendation_messages) == (1, 1)
    assert await rows(db, "SELECT username FROM anilist_lists") == [("Fresh",)]
    assert await rows(db, "SELECT id FROM media ORDER BY id") == [(1,), (2,)]  # rated, listed
    assert await db.ratings_of(5, "ANIME") == {1: 7}
    assert await db.linked_username(5) == "Old"
    await db.conn.execute("DELETE FROM feedback")
    assert (await prune_expired(db, settings, now=NOW)).media == 1  # title 1: nothing holds it
    assert (await prune_expired(db, settings, now=NOW)).total == 0


def test_prune_checkpoints_keeps_the_newest_three_per_type(tmp_path):
    """Older versions and stale temporary files go; each type keeps its newest three."""
    for version in range(1, 6):
        (tmp_path / f"anime-v{version}.pt").write_bytes(b"x")
    (tmp_path / "manga-v1.pt").write_bytes(b"x")
    stale = tmp_path / ".tmp-dead.pt"
    stale.write_bytes(b"x")
    os.utime(stale, (time.time() - 2 * DAY, time.time() - 2 * DAY))
    (tmp_path / ".tmp-saving.pt").write_bytes(b"x")  # a save in progress
    deleted = prune_checkpoints(tmp_path, "ANIME")
    assert sorted(p.name for p in deleted) == [".tmp-dead.pt", "anime-v1.pt", "anime-v2.pt"]
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        ".tmp-saving.pt",
        "anime-v3.pt",
        "anime-v4.pt",
        "anime-v5.pt",
        "manga-v1.pt",
    ]
    assert prune_checkpoints(tmp_path, "MANGA") == []


async def test_forget_deletes_lists_asked_for_unless_someone_else_links_them(db):
    """/forget takes the lists of names the user linked or asked for; a list another person
    has linked stays."""
    store = MediaStore(db)
    for name in ("Mine", "Asked", "Shared"):
        await store.save_user_list(name, "ANIME", [entry(1)], [title(1)], time.time())
    await db.link_account(1, "Mine")
    await db.log_recommendations(1, "Asked", "ANIME", [1])
    await db.log_recommendations(1, "Shared", "ANIME", [1])
    await db.link_account(2, "shared")
    counts = await forget_user(db, 1)
    assert counts.anilist_list_rows == 4  # two lists and their entries
    assert await rows(db, "SELECT username FROM anilist_lists") == [("Shared",)]


async def test_writes_guarded_before_a_forget_are_refused_after_it(db):
    """A request's guard, taken before /forget, makes its later writes fail and store nothing."""
    guard = db.guard(1, "Alice")
    other = db.guard(2)
    await forget_user(db, 1)
    with pytest.raises(UserForgotten):
        await db.log_recommendations(1, "Alice", "ANIME", [1], guard)
    with pytest.raises(UserForgotten):
        await db.save_recommendation_message(9, 1, "ANIME", [], guard)
    await db.log_recommendations(2, None, "ANIME", [1], other)  # someone else's: unaffected
    assert await rows(db, "SELECT discord_user_id FROM recommendation_log") == [(2,)]
    await db.log_recommendations(1, None, "ANIME", [3], db.guard(1))  # a new request may write


def build_at(path, version: int) -> None:
    """A database as the code of schema `version` left it, with data in every table."""
    with sqlite3.connect(path) as conn:
        for number, script in enumerate(MIGRATIONS[:version], start=1):
            conn.executescript(script)
            conn.execute(f"PRAGMA user_version = {number}")
        if version >= 1:
            conn.execute("INSERT INTO feedback VALUES (1, 'Alice', 10, 'ANIME', 8, 1.0, 2.0)")
            conn.execute("INSERT INTO linked_accounts VALUES (1, 'Alice', 1.0)")
            conn.execute("INSERT INTO recommendation_log VALUES (1, 1, 'Alice', 10, 'ANIME', 3.0)")
            conn.execute("INSERT INTO media VALUES (10, 'ANIME', 5, 0, 1, '{\"id\": 10}', 1.0)")
            conn.execute(
                "INSERT INTO anilist_lists (username, media_type, fetched_at)"
                " VALUES ('Alice', 'ANIME', 4.0)"
            )
            conn.execute(
                "INSERT INTO anilist_list_entries VALUES ('Alice', 'ANIME', 10, 'COMPLETED', 8, 1)"
            )
        if version >= 2:
            conn.execute("INSERT INTO recommendation_messages VALUES (7, 1, 'ANIME', '[]', 5.0)")


@pytest.mark.parametrize("version", range(len(MIGRATIONS)))
async def test_every_earlier_schema_migrates_to_the_current_one_keeping_data(tmp_path, version):
    """Opening a database of any earlier version brings it to the current one, data intact."""
    path = tmp_path / "anime8.db"
    build_at(path, version)
    db = await Database.open(path)
    try:
        assert await db.schema_version() == len(MIGRATIONS)
        if version >= 1:
            assert await db.ratings_of(1, "ANIME") == {10: 8}
            assert await db.linked_username(1) == "Alice"
            stored = await MediaStore(db).load_user_list("alice", "ANIME")
            assert stored is not None and [e["mediaId"] for e in stored.entries] == [10]
            if version < 3:
                # A list cached before retention existed counts as used when it was fetched.
                assert await rows(db, "SELECT used_at FROM anilist_lists") == [(4.0,)]
        if version >= 2:
            assert await db.recommendation_message(7) == (1, "ANIME", [])
        await db.save_recommendation_message(8, 1, "ANIME", [])  # the current code works on it
    finally:
        await db.close()


async def test_a_database_newer_than_the_code_is_refused_untouched(tmp_path):
    """A schema version this code does not know stops it with one sentence; nothing changes."""
    path = tmp_path / "anime8.db"
    build_at(path, len(MIGRATIONS))
    with sqlite3.connect(path) as conn:
        conn.execute(f"PRAGMA user_version = {len(MIGRATIONS) + 1}")
    with pytest.raises(DatabaseTooNew, match="newer than this Anime8 understands") as caught:
        await Database.open(path)
    assert str(caught.value).count(". ") == 0 and str(caught.value).endswith(".")
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS) + 1
