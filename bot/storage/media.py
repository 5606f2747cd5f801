"""Stored AniList data: titles (table `media`), users' lists, catalogue build progress.

Reads go through `Database.reader`, writes through `Database.conn`; media dicts are AniList's
JSON as fetched.

Titles in the catalogue belong to the catalogue builder: saving a list never overwrites them
(their stored copy also holds AniList's recommendations, which list queries do not ask for).
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from bot.storage.database import Database, WriteGuard, first_column

# SQLite allows 32,766 host parameters; keep well under it.
IDS_PER_QUERY = 900
SERIALISE_ON_LOOP = 20  # titles; see media_rows


@dataclass(frozen=True, slots=True)
class StoredList:
    username: str
    media_type: str
    fetched_at: float
    used_at: float
    entries: list[dict[str, Any]]


@dataclass(frozen=True, slots=True)
class CatalogueBuild:
    media_type: str
    target: int
    next_page: int
    fetched: int
    started_at: float
    completed_at: float | None


class MediaStore:
    def __init__(self, db: Database) -> None:
        self._db = db
        self._conn = db.conn
        self._reader = db.reader
        self._transaction = db.transaction

    # -- titles ---------------------------------------------------------------------------

    async def catalogue(self, media_type: str) -> list[dict[str, Any]]:
        """Catalogue titles of one type, most popular first."""
        async with self._reader.execute(
            "SELECT data FROM media WHERE type = ? AND in_catalogue = 1"
            " ORDER BY popularity DESC, id",
            (media_type,),
        ) as cur:
            rows = await cur.fetchall()
        # Tens of megabytes of JSON: parsing it on the event loop would stall Discord.
        return await asyncio.to_thread(lambda: [json.loads(row[0]) for row in rows])

    async def catalogue_count(self, media_type: str) -> int:
        """How many titles of this type the catalogue holds."""
        async with self._reader.execute(
            "SELECT COUNT(*) FROM media WHERE type = ? AND in_catalogue = 1", (media_type,)
        ) as cur:
            return first_column(await cur.fetchone())

    async def media_by_ids(self, ids: Iterable[int]) -> dict[int, dict[str, Any]]:
        """Stored titles by id, catalogue or not; ids not stored are left out."""
        wanted = list(dict.fromkeys(ids))
        found: dict[int, dict[str, Any]] = {}
        for start in range(0, len(wanted), IDS_PER_QUERY):
            batch = wanted[start : start + IDS_PER_QUERY]
            marks = ",".join("?" * len(batch))
            rows = await self._reader.execute_fetchall(
                f"SELECT id, data FROM media WHERE id IN ({marks})", batch
            )
            found.update({row["id"]: json.loads(row["data"]) for row in rows})
        return found

    async def _upsert_media(self, rows: list[tuple], *, in_catalogue: bool) -> None:
        """Store rows from :func:`media_rows`; call inside a transaction."""
        # A list's copy of a title never replaces the catalogue's richer copy.
        guard = "" if in_catalogue else " WHERE media.in_catalogue = 0"
        await self._conn.executemany(
            "INSERT INTO media (id, type, popularity, is_adult, in_catalogue, data, updated_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET"
            " type = excluded.type, popularity = excluded.popularity,"
            " is_adult = excluded.is_adult, in_catalogue = excluded.in_catalogue,"
            f" data = excluded.data, updated_at = excluded.updated_at{guard}",
            rows,
        )

    # -- users' lists ---------------------------------------------------------------------

    async def save_user_list(
        self,
        username: str,
        media_type: str,
        entries: Iterable[Mapping[str, Any]],
        media: Iterable[Mapping[str, Any]],
        fetched_at: float,
        guard: WriteGuard | None = None,
    ) -> None:
        """Replace the stored list (the username's casing too) and store its titles.

        Fetching counts as using the list (its retention starts again). Raises UserForgotten,
        storing nothing, when /forget erased `guard` meanwhile."""
        rows = [
            (username, media_type, e["mediaId"], e["status"], e["score"], e.get("progress"))
            for e in entries
        ]
        # Serialised before taking the write lock, so other writers never wait for JSON.
        titles = await media_rows(media, in_catalogue=False, now=fetched_at)
        async with self._transaction():
            self._db.check_guard(guard)
            await self._upsert_media(titles, in_catalogue=False)
            # Deleting the list row drops its entries too (ON DELETE CASCADE).
            await self._conn.execute(
                "DELETE FROM anilist_lists WHERE username = ? AND media_type = ?",
                (username, media_type),
            )
            await self._conn.execute(
                "INSERT INTO anilist_lists (username, media_type, fetched_at, used_at)"
                " VALUES (?, ?, ?, ?)",
                (username, media_type, fetched_at, fetched_at),
            )
            await self._conn.executemany(
                "INSERT INTO anilist_list_entries"
                " (username, media_type, media_id, status, score, progress)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                rows,
            )

    async def load_user_list(self, username: str, media_type: str) -> StoredList | None:
        """The stored list of this username and type (any casing), or None."""
        rows = await self._reader.execute_fetchall(
            "SELECT username, fetched_at, used_at FROM anilist_lists"
            " WHERE username = ? AND media_type = ?",
            (username, media_type),
        )
        head = next(iter(rows), None)
        if head is None:
            return None
        rows = await self._reader.execute_fetchall(
            "SELECT media_id, status, score, progress FROM anilist_list_entries"
            " WHERE username = ? AND media_type = ? ORDER BY rowid",
            (username, media_type),
        )
        entries = [
            {
                "mediaId": row["media_id"],
                "score": row["score"],
                "status": row["status"],
                "progress": row["progress"],
            }
            for row in rows
        ]
        return StoredList(
            head["username"], media_type, head["fetched_at"], head["used_at"], entries
        )

    async def touch_user_list(self, username: str, media_type: str, used_at: float) -> None:
        """Note that a request used the stored list: its retention counts from `used_at`."""
        async with self._transaction():
            await self._conn.execute(
                "UPDATE anilist_lists SET used_at = ? WHERE username = ? AND media_type = ?",
                (used_at, username, media_type),
            )

    async def delete_user_list(self, username: str, media_type: str) -> None:
        """Forget the stored list (AniList says it is gone or private)."""
        async with self._transaction():
            await self._conn.execute(
                "DELETE FROM anilist_lists WHERE username = ? AND media_type = ?",
                (username, media_type),
            )

    async def all_lists(self, media_type: str) -> dict[str, list[dict[str, Any]]]:
        """Every stored list of this type, expired ones too (training data): username ->
        entries {"mediaId", "score" (0-10, 0 = unscored), "status"}."""
        async with self._reader.execute(
            "SELECT l.username, e.media_id, e.score, e.status FROM anilist_lists l"
            " JOIN anilist_list_entries e"
            " ON e.username = l.username AND e.media_type = l.media_type"
            " WHERE l.media_type = ? ORDER BY l.username, e.rowid",
            (media_type,),
        ) as cur:
            rows = await cur.fetchall()

        def group() -> dict[str, list[dict[str, Any]]]:
            lists: dict[str, list[dict[str, Any]]] = {}
            for username, media_id, score, status in rows:
                lists.setdefault(username, []).append(
                    {"mediaId": media_id, "score": score, "status": status}
                )
            return lists

        # Hundreds of thousands of entries once many people used the bot: group off the loop.
        return await asyncio.to_thread(group)

    async def list_count(self, media_type: str) -> int:
        """How many lists of this type are stored."""
        async with self._reader.execute(
            "SELECT COUNT(*) FROM anilist_lists WHERE media_type = ?", (media_type,)
        ) as cur:
            return first_column(await cur.fetchone())

    # -- catalogue builds -----------------------------------------------------------------

    async def catalogue_build(self, media_type: str) -> CatalogueBuild | None:
        """Where the last catalogue build of this type got to, or None."""
        async with self._reader.execute(
            "SELECT media_type, target, next_page, fetched, started_at, completed_at"
            " FROM catalogue_builds WHERE media_type = ?",
            (media_type,),
        ) as cur:
            row = await cur.fetchone()
        return None if row is None else CatalogueBuild(*row)

    async def start_catalogue_build(
        self, media_type: str, target: int, started_at: float
    ) -> CatalogueBuild:
        """Start a build from page 1 (the titles stored so far stay until it completes)."""
        build = CatalogueBuild(media_type, target, 1, 0, started_at, None)
        async with self._transaction():
            await self._conn.execute(
                "INSERT INTO catalogue_builds"
                " (media_type, target, next_page, fetched, started_at, completed_at)"
                " VALUES (?, ?, ?, ?, ?, NULL) ON CONFLICT (media_type) DO UPDATE SET"
                " target = excluded.target, next_page = excluded.next_page,"
                " fetched = excluded.fetched, started_at = excluded.started_at,"
                " completed_at = NULL",
                (media_type, target, build.next_page, build.fetched, started_at),
            )
        return build

    async def save_catalogue_batch(
        self,
        build: CatalogueBuild,
        media: Iterable[Mapping[str, Any]],
        next_page: int,
        fetched: int,
        completed_at: float | None,
    ) -> CatalogueBuild:
        """Store fetched titles and where the build got to, together, so a restart resumes.

        On completion, titles this build did not fetch leave the catalogue (they stay stored
        for lists that hold them).
        """
        titles = await media_rows(media, in_catalogue=True, now=time.time())
        async with self._transaction():
            await self._upsert_media(titles, in_catalogue=True)
            await self._conn.execute(
                "UPDATE catalogue_builds SET next_page = ?, fetched = ?, completed_at = ?"
                " WHERE media_type = ?",
                (next_page, fetched, completed_at, build.media_type),
            )
            if completed_at is not None:
                await self._conn.execute(
                    "UPDATE media SET in_catalogue = 0"
                    " WHERE type = ? AND in_catalogue = 1 AND updated_at < ?",
                    (build.media_type, build.started_at),
                )
        return CatalogueBuild(
            build.media_type, build.target, next_page, fetched, build.started_at, completed_at
        )


async def media_rows(
    media: Iterable[Mapping[str, Any]], *, in_catalogue: bool, now: float
) -> list[tuple]:
    """Rows of the `media` table for these titles. Serialising hundreds of titles takes
    milliseconds of CPU, so more than a few are serialised in a thread."""

    def rows(items: list[Mapping[str, Any]]) -> list[tuple]:
        return [
            (
                m["id"],
                m["type"],
                m.get("popularity") or 0,
                int(bool(m.get("isAdult"))),
                int(in_catalogue),
                json.dumps(m, separators=(",", ":")),
                now,
            )
            for m in items
        ]

    items = list(media)
    if len(items) <= SERIALISE_ON_LOOP:
        return rows(items)
    return await asyncio.to_thread(rows, items)
