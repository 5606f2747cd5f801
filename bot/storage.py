"""SQLite storage: one aiosqlite connection, schema migrations keyed on PRAGMA user_version.

Table and column names of `feedback` are a contract (other tools read them); keep them.
Every write goes through `Database.transaction()`: the connection is shared by all coroutines,
so without one lock a write could land inside another coroutine's open transaction (and be
rolled back with it, or lost with a killed process). A committed write survives a killed process.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import aiosqlite

# Each entry moves the schema from version i to i + 1. Append; never edit a released one.
MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE feedback (
        discord_user_id INTEGER NOT NULL,
        anilist_username TEXT,
        media_id INTEGER NOT NULL,
        media_type TEXT NOT NULL CHECK (media_type IN ('ANIME', 'MANGA')),
        rating INTEGER NOT NULL CHECK (rating BETWEEN 0 AND 10),
        created_at REAL NOT NULL,
        updated_at REAL NOT NULL,
        PRIMARY KEY (discord_user_id, media_id)
    );
    CREATE TABLE recommendation_log (
        id INTEGER PRIMARY KEY,
        discord_user_id INTEGER NOT NULL,
        anilist_username TEXT,
        media_id INTEGER NOT NULL,
        media_type TEXT NOT NULL,
        shown_at REAL NOT NULL
    );
    CREATE INDEX recommendation_log_user
        ON recommendation_log (discord_user_id, media_type, shown_at);
    CREATE TABLE linked_accounts (
        discord_user_id INTEGER PRIMARY KEY,
        anilist_username TEXT NOT NULL,
        linked_at REAL NOT NULL
    );
    -- Titles as AniList describes them: the catalogue plus titles seen on users' lists.
    CREATE TABLE media (
        id INTEGER PRIMARY KEY,
        type TEXT NOT NULL,
        popularity INTEGER NOT NULL DEFAULT 0,
        is_adult INTEGER NOT NULL DEFAULT 0,
        in_catalogue INTEGER NOT NULL DEFAULT 0,
        data TEXT NOT NULL,
        updated_at REAL NOT NULL
    );
    CREATE INDEX media_type_popularity ON media (type, popularity DESC);
    -- Users' AniList lists: ids, statuses and scores only (training data and list cache).
    CREATE TABLE anilist_lists (
        username TEXT NOT NULL COLLATE NOCASE,
        media_type TEXT NOT NULL,
        fetched_at REAL NOT NULL,
        PRIMARY KEY (username, media_type)
    );
    CREATE TABLE anilist_list_entries (
        username TEXT NOT NULL COLLATE NOCASE,
        media_type TEXT NOT NULL,
        media_id INTEGER NOT NULL,
        status TEXT NOT NULL,
        score REAL NOT NULL,
        progress INTEGER,
        PRIMARY KEY (username, media_type, media_id),
        FOREIGN KEY (username, media_type)
            REFERENCES anilist_lists (username, media_type) ON DELETE CASCADE
    );
    -- Resumable catalogue builds: where the last build got to.
    CREATE TABLE catalogue_builds (
        media_type TEXT PRIMARY KEY,
        target INTEGER NOT NULL,
        next_page INTEGER NOT NULL,
        fetched INTEGER NOT NULL,
        started_at REAL NOT NULL,
        completed_at REAL
    );
    CREATE TABLE meta (
        key TEXT PRIMARY KEY,
        value TEXT NOT NULL
    );
    """,
    # Shown recommendations, so the page buttons of any message work after a restart. Keyed
    # by the /recommend interaction, known before the message is sent (a click can then never
    # arrive before its picks are stored); the message carries it as interaction_metadata.id.
    """
    CREATE TABLE recommendation_messages (
        interaction_id INTEGER PRIMARY KEY,
        requester_id INTEGER NOT NULL,
        media_type TEXT NOT NULL,
        picks TEXT NOT NULL,
        created_at REAL NOT NULL
    );
    """,
)


@dataclass(frozen=True, slots=True)
class ForgetCounts:
    feedback: int
    linked_accounts: int
    recommendation_log: int
    anilist_list_rows: int

    @property
    def total(self) -> int:
        return (
            self.feedback + self.linked_accounts + self.recommendation_log + self.anilist_list_rows
        )


class Database:
    """Owns the aiosqlite connection. Open with `await Database.open(path)`; close with close()."""

    def __init__(self, conn: aiosqlite.Connection) -> None:
        self.conn = conn
        self._write_lock = asyncio.Lock()

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

    async def write(self, sql: str, params: tuple = ()) -> int:
        """Run one write statement in its own transaction; returns the rows it changed."""
        async with self.transaction() as conn:
            cur = await conn.execute(sql, params)
            return cur.rowcount

    @classmethod
    async def open(cls, path: str | Path) -> Database:
        if str(path) != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        conn = await aiosqlite.connect(path, isolation_level=None)
        conn.row_factory = aiosqlite.Row
        await conn.execute("PRAGMA journal_mode = WAL")
        # NORMAL in WAL mode loses nothing when the process dies, only on power loss.
        await conn.execute("PRAGMA synchronous = NORMAL")
        await conn.execute("PRAGMA foreign_keys = ON")
        await conn.execute("PRAGMA busy_timeout = 5000")
        db = cls(conn)
        await db._migrate()
        return db

    async def close(self) -> None:
        await self.conn.close()

    async def _migrate(self) -> None:
        async with self.conn.execute("PRAGMA user_version") as cur:
            (version,) = await cur.fetchone()
        for number, script in enumerate(MIGRATIONS[version:], start=version + 1):
            # executescript commits first, so wrap the script and the version bump ourselves.
            await self.conn.executescript(
                f"BEGIN;\n{script}\nPRAGMA user_version = {number};\nCOMMIT;"
            )

    async def schema_version(self) -> int:
        async with self.conn.execute("PRAGMA user_version") as cur:
            (version,) = await cur.fetchone()
        return version

    # -- meta -------------------------------------------------------------------------------

    async def get_meta(self, key: str) -> str | None:
        async with self.conn.execute("SELECT value FROM meta WHERE key = ?", (key,)) as cur:
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
        """Store a rating; a second rating of the same title by the same user replaces it."""
        now = time.time()
        await self.write(
            "INSERT INTO feedback (discord_user_id, anilist_username, media_id, media_type,"
            " rating, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (discord_user_id, media_id) DO UPDATE SET"
            " rating = excluded.rating, updated_at = excluded.updated_at,"
            " anilist_username = COALESCE(excluded.anilist_username, feedback.anilist_username)",
            (discord_user_id, anilist_username, media_id, media_type, rating, now, now),
        )

    async def ratings_of(self, discord_user_id: int, media_type: str) -> dict[int, int]:
        async with self.conn.execute(
            "SELECT media_id, rating FROM feedback WHERE discord_user_id = ? AND media_type = ?",
            (discord_user_id, media_type),
        ) as cur:
            return {row["media_id"]: row["rating"] async for row in cur}

    async def feedback_count(self, media_type: str) -> int:
        async with self.conn.execute(
            "SELECT COUNT(*) FROM feedback WHERE media_type = ?", (media_type,)
        ) as cur:
            (count,) = await cur.fetchone()
        return count

    async def all_feedback(self, media_type: str) -> list[tuple[int, str | None, int, int]]:
        """Every rating of one type as (discord_user_id, anilist_username, media_id, rating)."""
        async with self.conn.execute(
            "SELECT discord_user_id, anilist_username, media_id, rating FROM feedback"
            " WHERE media_type = ?",
            (media_type,),
        ) as cur:
            rows = await cur.fetchall()
        # A hundred thousand rows or more: convert them off the event loop.
        return await asyncio.to_thread(lambda: [tuple(row) for row in rows])

    # -- linked accounts --------------------------------------------------------------------

    async def link_account(self, discord_user_id: int, anilist_username: str) -> None:
        await self.write(
            "INSERT INTO linked_accounts (discord_user_id, anilist_username, linked_at)"
            " VALUES (?, ?, ?) ON CONFLICT (discord_user_id) DO UPDATE SET"
            " anilist_username = excluded.anilist_username, linked_at = excluded.linked_at",
            (discord_user_id, anilist_username, time.time()),
        )

    async def linked_username(self, discord_user_id: int) -> str | None:
        async with self.conn.execute(
            "SELECT anilist_username FROM linked_accounts WHERE discord_user_id = ?",
            (discord_user_id,),
        ) as cur:
            row = await cur.fetchone()
        return None if row is None else row["anilist_username"]

    async def unlink_account(self, discord_user_id: int) -> bool:
        removed = await self.write(
            "DELETE FROM linked_accounts WHERE discord_user_id = ?", (discord_user_id,)
        )
        return removed > 0

    # -- recommendation history -------------------------------------------------------------

    async def log_recommendations(
        self,
        discord_user_id: int,
        anilist_username: str | None,
        media_type: str,
        media_ids: Iterable[int],
    ) -> None:
        now = time.time()
        rows = [(discord_user_id, anilist_username, m, media_type, now) for m in media_ids]
        async with self.transaction() as conn:
            await conn.executemany(
                "INSERT INTO recommendation_log (discord_user_id, anilist_username, media_id,"
                " media_type, shown_at) VALUES (?, ?, ?, ?, ?)",
                rows,
            )

    async def recently_recommended(
        self, discord_user_id: int, media_type: str, within_days: float = 90.0
    ) -> set[int]:
        async with self.conn.execute(
            "SELECT DISTINCT media_id FROM recommendation_log"
            " WHERE discord_user_id = ? AND media_type = ? AND shown_at >= ?",
            (discord_user_id, media_type, time.time() - within_days * 86400),
        ) as cur:
            return {row["media_id"] async for row in cur}

    async def save_recommendation_message(
        self, interaction_id: int, requester_id: int, media_type: str, picks: list[dict]
    ) -> None:
        await self.write(
            "INSERT OR REPLACE INTO recommendation_messages"
            " (interaction_id, requester_id, media_type, picks, created_at)"
            " VALUES (?, ?, ?, ?, ?)",
            (interaction_id, requester_id, media_type, json.dumps(picks), time.time()),
        )

    async def recommendation_message(
        self, interaction_id: int
    ) -> tuple[int, str, list[dict]] | None:
        """(requester_id, media_type, picks) of a message the bot showed, or None."""
        async with self.conn.execute(
            "SELECT requester_id, media_type, picks FROM recommendation_messages"
            " WHERE interaction_id = ?",
            (interaction_id,),
        ) as cur:
            row = await cur.fetchone()
        if row is None:
            return None
        return row["requester_id"], row["media_type"], json.loads(row["picks"])

    # -- forgetting a user ------------------------------------------------------------------

    async def forget_user(self, discord_user_id: int) -> ForgetCounts:
        """Delete everything stored about one Discord user, in one transaction.

        Their AniList lists go too when the user linked or rated under that username.
        """
        async with self.transaction():
            async with self.conn.execute(
                "SELECT anilist_username FROM linked_accounts WHERE discord_user_id = ?"
                " UNION SELECT anilist_username FROM feedback"
                " WHERE discord_user_id = ? AND anilist_username IS NOT NULL",
                (discord_user_id, discord_user_id),
            ) as cur:
                usernames = [row[0] async for row in cur]
            list_rows = 0
            for name in usernames:
                # Entries go by cascade, which rowcount does not report: count them first.
                async with self.conn.execute(
                    "SELECT COUNT(*) FROM anilist_list_entries WHERE username = ?", (name,)
                ) as cur:
                    (entries,) = await cur.fetchone()
                cur = await self.conn.execute(
                    "DELETE FROM anilist_lists WHERE username = ?", (name,)
                )
                list_rows += entries + cur.rowcount
            counts = []
            for table in ("feedback", "linked_accounts", "recommendation_log"):
                cur = await self.conn.execute(
                    f"DELETE FROM {table} WHERE discord_user_id = ?", (discord_user_id,)
                )
                counts.append(cur.rowcount)
            cur = await self.conn.execute(
                "DELETE FROM recommendation_messages WHERE requester_id = ?", (discord_user_id,)
            )
            counts[-1] += cur.rowcount
        return ForgetCounts(*counts, anilist_list_rows=list_rows)
