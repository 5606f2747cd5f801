"""SQLite storage: aiosqlite connections, schema migrations keyed on PRAGMA user_version.

Table and column names of `feedback` are a contract (other tools read them); keep them.
Every write goes through `Database.transaction()` or `Database.write()` on `Database.conn`: that
connection is shared by all coroutines, so without one lock a write could land inside another
coroutine's open transaction (and be rolled back with it, or lost with a killed process). A
committed write survives a killed process.

Reads outside a transaction go through `Database.reader`, a second, read-only connection: each
aiosqlite connection runs its statements one after another in its own thread, and in WAL mode a
reader never waits for the writer, so a read (a rating click's lookup, a cached list) never
queues behind a long write, nor a write behind a long read.

Linked accounts are also kept in memory (a few bytes per person): `/recommend` and rating
clicks ask for them before they acknowledge Discord, which must take no database round trip.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import Counter
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiosqlite

from bot.storage.group_commit import GroupCommit
from bot.storage.guards import UserForgotten, WriteGuard
from bot.storage.migrations import MIGRATIONS


def _save_ratings(count: int) -> str:
    """One statement storing `count` ratings; a later rating of the same title by the same
    user, in the statement or stored, replaces the earlier one."""
    values = ", ".join(["(?, ?, ?, ?, ?, ?, ?)"] * count)
    return (
        "INSERT INTO feedback (discord_user_id, anilist_username, media_id, media_type,"
        f" rating, created_at, updated_at) VALUES {values}"
        " ON CONFLICT (discord_user_id, media_id) DO UPDATE SET"
        " rating = excluded.rating, updated_at = excluded.updated_at,"
        " anilist_username = COALESCE(excluded.anilist_username, feedback.anilist_username)"
    )


class DatabaseTooNew(Exception):
    """The database was written by a newer Anime8; the message is one sentence for the operator."""


class Database:
    """Owns the aiosqlite connection. Open with `await Database.open(path)`; close with close()."""

    def __init__(self, conn: aiosqlite.Connection, reader: aiosqlite.Connection) -> None:
        self.conn = conn
        # Every request's reads share this one connection's thread. Those on a request's path
        # use execute_fetchall: one trip to that thread, where execute, fetch and close are
        # three, each queued behind every other request's.
        self.reader = reader
        self._write_lock = asyncio.Lock()
        self._links: dict[int, str] = {}
        self._ratings = GroupCommit(self.write, _save_ratings)
        self.ratings_saved: Counter[str] = Counter()  # by save_rating since start, by type
        # Erasures since start-up, by "user:<id>" / "name:<lower-case username>". In memory is
        # enough: a request that was running when the process stopped cannot write any more.
        self._erasures: dict[str, int] = {}

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[aiosqlite.Connection]:
        """One write transaction at a time; rolled back when the body raises."""
        async with self._write_lock:
            await self.conn.execute("BEGIN IMMEDIATE")
            try:
                yield self.conn
            except BaseException:
                await self.conn.execute("ROLLBACK")
                raise
            await self.conn.execute("COMMIT")

    async def write(self, sql: str, params: tuple | list = ()) -> int:
        """Run one write statement, atomically; returns the rows it changed.

        The connection is in autocommit mode, where a statement is its own transaction: one
        trip to the connection's thread, where BEGIN, the statement and COMMIT would be three,
        each waiting its turn on a busy event loop."""
        async with self._write_lock:
            cur = await self.conn.execute(sql, params)
            return cur.rowcount

    @classmethod
    async def open(cls, path: str | Path) -> Database:
        if str(path) != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        conn = await _connect(path)
        reader = conn
        try:
            await conn.execute("PRAGMA journal_mode = WAL")
            # NORMAL in WAL mode loses nothing when the process dies, only on power loss.
            await conn.execute("PRAGMA synchronous = NORMAL")
            await conn.execute("PRAGMA foreign_keys = ON")
            db = cls(conn, reader)
            await db._migrate(path)
            if str(path) != ":memory:":  # a second :memory: connection is another database
                db.reader = reader = await _connect(path)
                await reader.execute("PRAGMA query_only = ON")
            await db._load_links()
        except BaseException:
            await conn.close()
            if reader is not conn:
                await reader.close()
            raise
        return db

    async def close(self) -> None:
        await self._ratings.drain()  # ratings being committed: let them land
        if self.reader is not self.conn:
            await self.reader.close()
        await self.conn.close()

    async def _migrate(self, path: str | Path) -> None:
        async with self.conn.execute("PRAGMA user_version") as cur:
            version = first_column(await cur.fetchone())
        if version > len(MIGRATIONS):
            # Running older code on it could misread or damage what the newer code wrote.
            raise DatabaseTooNew(
                f"The database {path} has schema version {version}, newer than this "
                f"Anime8 understands ({len(MIGRATIONS)}); run the newer Anime8 or restore a "
                "backup."
            )
        for number, script in enumerate(MIGRATIONS[version:], start=version + 1):
            # executescript commits first, so wrap the script and the version bump ourselves.
            await self.conn.executescript(
                f"BEGIN;\n{script}\nPRAGMA user_version = {number};\nCOMMIT;"
            )

    async def ping(self) -> None:
        """Returns once the database answers a query (for the health check)."""
        async with self.reader.execute("SELECT 1") as cur:
            await cur.fetchone()

    async def schema_version(self) -> int:
        async with self.reader.execute("PRAGMA user_version") as cur:
            return first_column(await cur.fetchone())

    # -- guarding writes against a concurrent /forget -------------------------------------

    def guard(
        self,
        discord_user_id: int | None = None,
        username: str | None = None,
        *,
        base: WriteGuard | None = None,
    ) -> WriteGuard:
        """A guard for writes on behalf of this user and/or AniList username, plus `base`'s."""
        keys = [] if discord_user_id is None else [f"user:{discord_user_id}"]
        if username is not None:
            keys.append(f"name:{username.lower()}")
        marks = dict(base.marks) if base is not None else {}
        marks.update({key: self._erasures.get(key, 0) for key in keys if key not in marks})
        return WriteGuard(tuple(marks.items()))

    def check_guard(self, guard: WriteGuard | None) -> None:
        """Raise UserForgotten when /forget erased a key of `guard` since it was made.

        Call it inside the transaction of the write it protects."""
        if guard is not None and any(self._erasures.get(k, 0) != n for k, n in guard.marks):
            raise UserForgotten()

    def note_erased(self, discord_user_id: int | None = None, username: str | None = None) -> None:
        """Record, inside the transaction that erased them, that /forget erased this user's
        and/or this AniList username's data: their guards' writes are refused from now on.
        The user's link leaves memory with it."""
        keys = [] if discord_user_id is None else [f"user:{discord_user_id}"]
        if username is not None:
            keys.append(f"name:{username.lower()}")
        for key in keys:
            self._erasures[key] = self._erasures.get(key, 0) + 1
        if discord_user_id is not None:
            self._links.pop(discord_user_id, None)

    # -- meta -------------------------------------------------------------------------------

    async def get_meta(self, key: str) -> str | None:
        async with self.reader.execute("SELECT value FROM meta WHERE key = ?", (key,)) as cur:
            row = await cur.fetchone()
        return None if row is None else row["value"]

    async def set_meta(self, key: str, value: str) -> None:
        await self.write(
            "INSERT INTO meta (key, value) VALUES (?, ?) "
            "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            (key, value),
        )

    # -- feedback ---------------------------------------------------------------------------

    async def save_rating(
        self,
        discord_user_id: int,
        media_id: int,
        media_type: str,
        rating: int,
        anilist_username: str | None = None,
    ) -> None:
        """Store a rating, returning once it is committed; a second rating of the same title by
        the same user replaces it.

        Ratings that arrive together are committed in one statement (a group commit): under a
        burst of clicks each waits for one commit, not for a transaction per click before it.
        A row the schema refuses fails only its own call.
        """
        now = time.time()
        await self._ratings.save(
            (discord_user_id, anilist_username, media_id, media_type, rating, now, now)
        )
        self.ratings_saved[media_type] += 1

    async def ratings_of(self, discord_user_id: int, media_type: str) -> dict[int, int]:
        rows = await self.reader.execute_fetchall(
            "SELECT media_id, rating FROM feedback WHERE discord_user_id = ? AND media_type = ?",
            (discord_user_id, media_type),
        )
        return {row["media_id"]: row["rating"] for row in rows}

    async def feedback_count(self, media_type: str) -> int:
        async with self.reader.execute(
            "SELECT COUNT(*) FROM feedback WHERE media_type = ?", (media_type,)
        ) as cur:
            return first_column(await cur.fetchone())

    async def all_feedback(self, media_type: str) -> list[tuple[int, str | None, int, int]]:
        """Every rating of one type as (discord_user_id, anilist_username, media_id, rating)."""
        async with self.reader.execute(
            "SELECT discord_user_id, anilist_username, media_id, rating FROM feedback"
            " WHERE media_type = ?",
            (media_type,),
        ) as cur:
            rows = await cur.fetchall()
        # A hundred thousand rows or more: convert them off the event loop.
        return await asyncio.to_thread(lambda: [tuple(row) for row in rows])

    # -- linked accounts --------------------------------------------------------------------

    async def _load_links(self) -> None:
        async with self.reader.execute(
            "SELECT discord_user_id, anilist_username FROM linked_accounts"
        ) as cur:
            self._links = {row[0]: row[1] async for row in cur}

    async def link_account(self, discord_user_id: int, anilist_username: str) -> None:
        async with self.transaction() as conn:
            await conn.execute(
                "INSERT INTO linked_accounts (discord_user_id, anilist_username, linked_at)"
                " VALUES (?, ?, ?) ON CONFLICT (discord_user_id) DO UPDATE SET"
                " anilist_username = excluded.anilist_username, linked_at = excluded.linked_at",
                (discord_user_id, anilist_username, time.time()),
            )
            self._links[discord_user_id] = anilist_username

    async def linked_username(self, discord_user_id: int) -> str | None:
        """The AniList username this Discord user linked, or None; answered from memory."""
        return self._links.get(discord_user_id)

    async def discord_ids_linked_to(self, anilist_username: str) -> list[int]:
        """The Discord users whose link names this AniList account (any letter case)."""
        name = anilist_username.lower()
        return sorted(user for user, linked in self._links.items() if linked.lower() == name)

    async def unlink_account(self, discord_user_id: int) -> bool:
        async with self.transaction() as conn:
            removed = await conn.execute(
                "DELETE FROM linked_accounts WHERE discord_user_id = ?", (discord_user_id,)
            )
            self._links.pop(discord_user_id, None)
        return removed.rowcount > 0

    # -- recommendation history -------------------------------------------------------------

    async def log_recommendations(
        self,
        discord_user_id: int,
        anilist_username: str | None,
        media_type: str,
        media_ids: Iterable[int],
        guard: WriteGuard | None = None,
    ) -> None:
        """Record titles shown to a user; raises UserForgotten when `guard` was erased."""
        now = time.time()
        rows = [(discord_user_id, anilist_username, m, media_type, now) for m in media_ids]
        async with self.transaction() as conn:
            self.check_guard(guard)
            await conn.executemany(
                "INSERT INTO recommendation_log (discord_user_id, anilist_username, media_id,"
                " media_type, shown_at) VALUES (?, ?, ?, ?, ?)",
                rows,
            )

    async def recently_recommended(
        self, discord_user_id: int, media_type: str, within_days: float = 90.0
    ) -> set[int]:
        rows = await self.reader.execute_fetchall(
            "SELECT DISTINCT media_id FROM recommendation_log"
            " WHERE discord_user_id = ? AND media_type = ? AND shown_at >= ?",
            (discord_user_id, media_type, time.time() - within_days * 86400),
        )
        return {row["media_id"] for row in rows}

    async def save_recommendation_message(
        self,
        interaction_id: int,
        requester_id: int,
        media_type: str,
        picks: list[dict],
        guard: WriteGuard | None = None,
    ) -> None:
        """Store a shown message's picks; raises UserForgotten when `guard` was erased."""
        async with self.transaction() as conn:
            self.check_guard(guard)
            await conn.execute(
                "INSERT OR REPLACE INTO recommendation_messages"
                " (interaction_id, requester_id, media_type, picks, created_at)"
                " VALUES (?, ?, ?, ?, ?)",
                (interaction_id, requester_id, media_type, json.dumps(picks), time.time()),
            )

    async def rating_target(
        self, interaction_id: int | None, media_id: int
    ) -> tuple[list[dict] | None, dict[str, Any] | None]:
        """A rating click's one read: the picks stored for the message the bot sent in answer
        to `interaction_id` (None when none are), and stored title `media_id` (None when it
        is not stored)."""
        rows = await self.reader.execute_fetchall(
            "SELECT (SELECT picks FROM recommendation_messages WHERE interaction_id = ?)"
            " AS picks, (SELECT data FROM media WHERE id = ?) AS data",
            (interaction_id, media_id),
        )
        row = next(iter(rows))  # a SELECT without FROM is always one row
        picks = None if row["picks"] is None else json.loads(row["picks"])
        return picks, None if row["data"] is None else json.loads(row["data"])

    async def recommendation_message(
        self, interaction_id: int
    ) -> tuple[int, str, list[dict]] | None:
        """(requester_id, media_type, picks) of a message the bot showed, or None."""
        rows = await self.reader.execute_fetchall(
            "SELECT requester_id, media_type, picks FROM recommendation_messages"
            " WHERE interaction_id = ?",
            (interaction_id,),
        )
        row = next(iter(rows), None)
        if row is None:
            return None
        return row["requester_id"], row["media_type"], json.loads(row["picks"])


async def _connect(path: str | Path) -> aiosqlite.Connection:
    conn = await aiosqlite.connect(path, isolation_level=None)
    conn.row_factory = aiosqlite.Row
    await conn.execute("PRAGMA busy_timeout = 5000")
    return conn


def first_column(row: aiosqlite.Row | tuple | None) -> Any:
    """The first value of the row an aggregate or PRAGMA query always returns."""
    if row is None:
        raise RuntimeError("the query returned no row")
    return row[0]
