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

from bot.errors import UserFacingError

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
    # Retention: a cached list expires counted from the last time the bot used it, so record
    # that; the indexes serve the periodic pruning and /forget.
    """
    ALTER TABLE anilist_lists ADD COLUMN used_at REAL NOT NULL DEFAULT 0;
    UPDATE anilist_lists SET used_at = fetched_at;
    CREATE INDEX anilist_lists_used ON anilist_lists (used_at);
    CREATE INDEX recommendation_log_shown ON recommendation_log (shown_at);
    CREATE INDEX recommendation_messages_created ON recommendation_messages (created_at);
    CREATE INDEX recommendation_messages_requester ON recommendation_messages (requester_id);
    """,
)


class DatabaseTooNew(Exception):
    """The database was written by a newer Anime8; the message is one sentence for the operator."""


class UserForgotten(UserFacingError):
    """A request's write was refused because /forget erased its user (or list) meanwhile."""

    def __init__(self) -> None:
        super().__init__(
            "Your data was deleted while I was working on this, so I kept nothing; "
            "run the command again if you like."
        )


@dataclass(frozen=True, slots=True)
class WriteGuard:
    """How often /forget had erased each key (user or AniList username) when a request began.

    Writes made on the request's behalf check, inside their own transaction, that the counts
    are unchanged; /forget bumps them inside its transaction, so whichever order the two run
    in, nothing the request writes outlives the /forget.
    """

    marks: tuple[tuple[str, int], ...] = ()


@dataclass(frozen=True, slots=True)
class PruneCounts:
    lists: int
    list_entries: int
    recommendation_log: int
    recommendation_messages: int
    media: int

    @property
    def total(self) -> int:
        return (
            self.lists
            + self.list_entries
            + self.recommendation_log
            + self.recommendation_messages
            + self.media
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
        try:
            await db._migrate(path)
        except BaseException:
            await conn.close()
            raise
        return db

    async def close(self) -> None:
        await self.conn.close()

    async def _migrate(self, path: str | Path) -> None:
        async with self.conn.execute("PRAGMA user_version") as cur:
            (version,) = await cur.fetchone()
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

    async def schema_version(self) -> int:
        async with self.conn.execute("PRAGMA user_version") as cur:
            (version,) = await cur.fetchone()
        return version

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

    def _erased(self, key: str) -> None:
        self._erasures[key] = self._erasures.get(key, 0) + 1

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

    async def discord_ids_linked_to(self, anilist_username: str) -> list[int]:
        """The Discord users whose link names this AniList account (any letter case)."""
        async with self.conn.execute(
            "SELECT discord_user_id FROM linked_accounts WHERE anilist_username = ?"
            " COLLATE NOCASE ORDER BY discord_user_id",
            (anilist_username,),
        ) as cur:
            return [row["discord_user_id"] async for row in cur]

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
        async with self.conn.execute(
            "SELECT DISTINCT media_id FROM recommendation_log"
            " WHERE discord_user_id = ? AND media_type = ? AND shown_at >= ?",
            (discord_user_id, media_type, time.time() - within_days * 86400),
        ) as cur:
            return {row["media_id"] async for row in cur}

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

        That is their ratings, link, history and stored messages, and the cached AniList list
        of every username they linked, rated under or asked for, unless another person's link
        still uses that list. Requests of theirs still running write nothing afterwards (see
        WriteGuard).
        """
        async with self.transaction() as conn:
            async with conn.execute(
                "SELECT anilist_username FROM linked_accounts WHERE discord_user_id = ?"
                " UNION SELECT anilist_username FROM feedback WHERE discord_user_id = ?"
                " UNION SELECT anilist_username FROM recommendation_log"
                " WHERE discord_user_id = ?",
                (discord_user_id,) * 3,
            ) as cur:
                names = {row[0].lower() for row in await cur.fetchall() if row[0]}
            list_rows = 0
            for name in sorted(names):
                async with conn.execute(
                    "SELECT 1 FROM linked_accounts WHERE discord_user_id != ?"
                    " AND lower(anilist_username) = ?",
                    (discord_user_id, name),
                ) as cur:
                    if await cur.fetchone() is not None:
                        continue  # someone else's link still serves from this list
                list_rows += await self._delete_lists_of(conn, name)
                self._erased(f"name:{name}")
            counts = []
            for table in ("feedback", "linked_accounts", "recommendation_log"):
                cur = await conn.execute(
                    f"DELETE FROM {table} WHERE discord_user_id = ?", (discord_user_id,)
                )
                counts.append(cur.rowcount)
            cur = await conn.execute(
                "DELETE FROM recommendation_messages WHERE requester_id = ?", (discord_user_id,)
            )
            counts[-1] += cur.rowcount
            self._erased(f"user:{discord_user_id}")
        return ForgetCounts(*counts, anilist_list_rows=list_rows)

    @staticmethod
    async def _delete_lists_of(conn: aiosqlite.Connection, username: str) -> int:
        """Delete every cached list of `username`; returns list plus entry rows deleted."""
        # Entries go by cascade, which rowcount does not report: count them first.
        async with conn.execute(
            "SELECT COUNT(*) FROM anilist_list_entries WHERE username = ?", (username,)
        ) as cur:
            (entries,) = await cur.fetchone()
        cur = await conn.execute("DELETE FROM anilist_lists WHERE username = ?", (username,))
        return entries + cur.rowcount

    # -- retention --------------------------------------------------------------------------

    async def prune_before(self, cutoff: float) -> PruneCounts:
        """Delete what was last used before `cutoff` (a time.time() value), in one transaction.

        Cached lists not used since then (and their entries: the training data they gave),
        history shown before then, stored messages created before then, and titles kept only
        for lists: out of the catalogue, on no list, unrated and in no remaining history.
        Ratings and links stay until /forget or /unlink.
        """
        async with self.transaction() as conn:
            async with conn.execute(
                "SELECT COUNT(*) FROM anilist_list_entries e JOIN anilist_lists l"
                " ON e.username = l.username AND e.media_type = l.media_type"
                " WHERE l.used_at < ?",
                (cutoff,),
            ) as cur:
                (entries,) = await cur.fetchone()
            lists = await conn.execute("DELETE FROM anilist_lists WHERE used_at < ?", (cutoff,))
            history = await conn.execute(
                "DELETE FROM recommendation_log WHERE shown_at < ?", (cutoff,)
            )
            messages = await conn.execute(
                "DELETE FROM recommendation_messages WHERE created_at < ?", (cutoff,)
            )
            media = await conn.execute(
                "DELETE FROM media WHERE in_catalogue = 0 AND updated_at < ?"
                " AND id NOT IN (SELECT media_id FROM anilist_list_entries)"
                " AND id NOT IN (SELECT media_id FROM feedback)"
                " AND id NOT IN (SELECT media_id FROM recommendation_log)",
                (cutoff,),
            )
        return PruneCounts(
            lists.rowcount, entries, history.rowcount, messages.rowcount, media.rowcount
        )
