"""Storage: migrations, the feedback contract, and deletion of a user's data."""

from __future__ import annotations

import asyncio
import sqlite3

import pytest

from bot.storage import MIGRATIONS, Database, forget_user, group_commit


@pytest.fixture
async def db(tmp_path):
    database = await Database.open(tmp_path / "anime8.db")
    yield database
    await database.close()


async def test_migrations_set_user_version_and_are_idempotent(tmp_path):
    """Opening twice runs each migration once and leaves user_version at the latest."""
    path = tmp_path / "anime8.db"
    first = await Database.open(path)
    await first.save_rating(1, 10, "ANIME", 7)
    await first.close()
    second = await Database.open(path)
    assert await second.schema_version() == len(MIGRATIONS)
    assert await second.ratings_of(1, "ANIME") == {10: 7}
    await second.close()


async def test_wal_and_foreign_keys_are_on(db):
    """The connection runs in WAL mode with foreign keys enforced."""
    async with db.conn.execute("PRAGMA journal_mode") as cur:
        assert (await cur.fetchone())[0] == "wal"
    async with db.conn.execute("PRAGMA foreign_keys") as cur:
        assert (await cur.fetchone())[0] == 1


async def test_feedback_contract_columns(db):
    """The feedback table keeps the column names other tools rely on."""
    async with db.conn.execute("PRAGMA table_info(feedback)") as cur:
        columns = {row["name"] async for row in cur}
    assert {
        "discord_user_id",
        "anilist_username",
        "media_id",
        "media_type",
        "rating",
        "created_at",
        "updated_at",
    } <= columns


async def test_second_rating_updates_the_row(db):
    """One row per user and title: a second rating replaces the first, keeping created_at."""
    await db.save_rating(5, 100, "ANIME", 3, "Alice")
    async with db.conn.execute("SELECT created_at FROM feedback") as cur:
        (created,) = await cur.fetchone()
    await db.save_rating(5, 100, "ANIME", 9)
    async with db.conn.execute(
        "SELECT rating, anilist_username, created_at, updated_at FROM feedback"
    ) as cur:
        rows = await cur.fetchall()
    assert len(rows) == 1
    assert rows[0]["rating"] == 9 and rows[0]["anilist_username"] == "Alice"
    assert rows[0]["created_at"] == created <= rows[0]["updated_at"]


@pytest.mark.parametrize("rating", [-1, 11])
async def test_rating_outside_0_to_10_is_refused_by_the_schema(db, rating):
    """The CHECK constraint stops an out-of-range rating even if code forgets to."""
    with pytest.raises(sqlite3.IntegrityError):
        await db.save_rating(5, 100, "ANIME", rating)
    assert await db.ratings_of(5, "ANIME") == {}


async def test_links_and_history(db):
    """Linking replaces an old link; history is per user and type."""
    await db.link_account(1, "Old")
    await db.link_account(1, "New")
    assert await db.linked_username(1) == "New"
    await db.log_recommendations(1, "New", "ANIME", [1, 2, 3])
    await db.log_recommendations(2, None, "ANIME", [9])
    assert await db.recently_recommended(1, "ANIME") == {1, 2, 3}
    assert await db.recently_recommended(1, "MANGA") == set()
    assert await db.unlink_account(1) is True
    assert await db.unlink_account(1) is False


async def test_forget_removes_only_that_user(db):
    """/forget deletes the caller's feedback, link, history and AniList lists, nobody else's."""
    await db.link_account(1, "Alice")
    await db.save_rating(1, 10, "ANIME", 8, "Alice")
    await db.save_rating(1, 11, "MANGA", 2, "Alice")
    await db.save_rating(2, 10, "ANIME", 5, "Bob")
    await db.log_recommendations(1, "Alice", "ANIME", [10, 12])
    await db.conn.execute(
        "INSERT INTO anilist_lists (username, media_type, fetched_at) VALUES ('alice', 'ANIME', 0)"
    )
    await db.conn.execute(
        "INSERT INTO anilist_list_entries (username, media_type, media_id, status, score)"
        " VALUES ('alice', 'ANIME', 10, 'COMPLETED', 9)"
    )
    counts = await forget_user(db, 1)
    assert (counts.feedback, counts.linked_accounts, counts.recommendation_log) == (2, 1, 2)
    assert counts.anilist_list_rows == 2  # the list and its one entry
    assert counts.total == 7
    assert await db.ratings_of(2, "ANIME") == {10: 5}
    async with db.conn.execute("SELECT COUNT(*) FROM anilist_list_entries") as cur:
        assert (await cur.fetchone())[0] == 0


async def test_recommendation_messages_round_trip_and_are_forgotten(db):
    """A shown message's picks are stored for its page buttons and deleted with the requester."""
    picks = [{"media_id": 1, "score": 8.5, "reason": "because"}]
    await db.save_recommendation_message(99, 7, "ANIME", picks)  # keyed by interaction id
    assert await db.recommendation_message(99) == (7, "ANIME", picks)
    assert await db.recommendation_message(100) is None
    counts = await forget_user(db, 7)
    assert counts.recommendation_log == 1
    assert await db.recommendation_message(99) is None


async def test_a_write_never_lands_inside_another_coroutines_transaction(db):
    """A rating saved while another coroutine's transaction is open waits for it, so that
    transaction's rollback cannot take the rating with it."""
    import asyncio

    entered = asyncio.Event()

    async def failing_batch():
        async with db.transaction() as conn:
            await conn.execute("INSERT INTO meta (key, value) VALUES ('k', 'v')")
            entered.set()
            await asyncio.sleep(0.05)
            raise RuntimeError("batch failed")

    batch = asyncio.create_task(failing_batch())
    await entered.wait()
    await db.save_rating(1, 5, "ANIME", 8)
    with pytest.raises(RuntimeError):
        await batch
    assert await db.ratings_of(1, "ANIME") == {5: 8}
    assert await db.get_meta("k") is None


async def test_links_answer_from_memory_and_survive_a_reopen(tmp_path):
    """Links are kept in memory (read before Discord is acknowledged) and always match the
    table: after link, relink, unlink, /forget, and after reopening the database."""
    path = tmp_path / "anime8.db"
    db = await Database.open(path)
    await db.link_account(1, "Alice")
    await db.link_account(2, "Bob")
    await db.link_account(2, "Bobby")
    await db.link_account(3, "Carol")
    assert await db.unlink_account(3)
    assert not await db.unlink_account(3)
    await forget_user(db, 1)
    assert [await db.linked_username(u) for u in (1, 2, 3)] == [None, "Bobby", None]
    await db.close()

    reopened = await Database.open(path)
    assert [await reopened.linked_username(u) for u in (1, 2, 3)] == [None, "Bobby", None]
    async with reopened.reader.execute("SELECT discord_user_id FROM linked_accounts") as cur:
        assert [row[0] async for row in cur] == [2]
    await reopened.close()


async def test_the_reader_cannot_write_and_sees_every_commit(db):
    """Reads go through a second, query-only connection that sees what the writer committed."""
    await db.save_rating(1, 10, "ANIME", 7)
    assert await db.ratings_of(1, "ANIME") == {10: 7}
    assert db.reader is not db.conn
    with pytest.raises(sqlite3.OperationalError):
        await db.reader.execute("DELETE FROM feedback")


async def test_ratings_arriving_together_commit_together_and_a_bad_one_fails_alone(db):
    """A burst of clicks is one transaction; a row the schema refuses (rating 11) fails only its
    own call, and every other rating of the burst is stored."""
    calls = [db.save_rating(user, 10 + user, "ANIME", user % 11) for user in range(1, 40)]
    calls.append(db.save_rating(99, 5, "ANIME", 11))
    results = await asyncio.gather(*calls, return_exceptions=True)
    assert all(r is None for r in results[:-1])
    assert isinstance(results[-1], sqlite3.IntegrityError)
    for user in range(1, 40):
        assert await db.ratings_of(user, "ANIME") == {10 + user: user % 11}
    assert await db.ratings_of(99, "ANIME") == {}


async def test_a_burst_of_ratings_takes_one_or_two_trips_to_the_writer(db, monkeypatch):
    """Each trip to the writer's thread waits its turn on the event loop: a burst of clicks
    is one statement (no BEGIN and COMMIT around it), or two when the first click's own
    statement was already under way."""
    trips = []
    execute = db.conn.execute

    def counting_execute(sql, *args):
        trips.append(sql.split()[0])
        return execute(sql, *args)

    monkeypatch.setattr(db.conn, "execute", counting_execute)
    await asyncio.gather(*(db.save_rating(user, 7, "ANIME", 8) for user in range(50)))
    assert 1 <= len(trips) <= 2 and set(trips) == {"INSERT"}
    assert await db.feedback_count("ANIME") == 50


async def test_a_burst_bigger_than_one_statement_is_stored_whole(db, monkeypatch):
    monkeypatch.setattr(group_commit, "ROWS_PER_STATEMENT", 7)
    rows_per_statement = []
    execute = db.conn.execute

    def counting_execute(sql, *args):
        rows_per_statement.append(sql.count("(?, ?, ?, ?, ?, ?, ?)"))
        return execute(sql, *args)

    monkeypatch.setattr(db.conn, "execute", counting_execute)
    await asyncio.gather(*(db.save_rating(user, 7, "ANIME", user % 11) for user in range(30)))
    assert max(rows_per_statement) <= 7 and sum(rows_per_statement) == 30
    assert await db.feedback_count("ANIME") == 30
    assert await db.ratings_of(29, "ANIME") == {7: 29 % 11}
