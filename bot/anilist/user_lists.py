"""Users' AniList lists: fetched in 500-entry chunks, cached in SQLite, one fetch at a time.

A fetched list's titles (MEDIA_FIELDS of bot.anilist) are stored in MediaStore; a cached list
never reads them, so serving one parses no JSON.

Every list is read, custom lists too (they may hold entries hidden from the status lists), and
entries are de-duplicated by media id.

The owner's title language comes with each fetched list and goes to the member settings of
whoever linked that account (their "AniList's preference" in /settings).
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass
from typing import Any

from bot.anilist.client import AniListClient
from bot.anilist.errors import (
    AniListPrivateUser,
    AniListRateLimited,
    AniListUnavailable,
    AniListUserNotFound,
)
from bot.anilist.queries import (
    MEDIA_FIELDS,
    MEDIA_TYPES,
    Field,
    fields,
    render,
    validate_username,
)
from bot.storage import Database, MemberSettingsStore, UserForgotten, WriteGuard
from bot.storage.media import MediaStore, StoredList

log = logging.getLogger(__name__)

CHUNK_SIZE = 500
# AniList returns at most the 11,000 most recently updated entries: 22 chunks.
MAX_CHUNKS = 22
USE_RESOLUTION_S = 3600.0

ENTRY_FIELDS = fields(
    "mediaId", "status", "score(format: POINT_10_DECIMAL)", "progress", Field("media", MEDIA_FIELDS)
)
COLLECTION_FIELDS = fields(
    # The owner's title language comes along for two fields of complexity: /settings follows it.
    Field("user", fields("name", Field("options", fields("titleLanguage")))),
    "hasNextChunk",
    Field("lists", fields("name", "isCustomList", Field("entries", ENTRY_FIELDS))),
)
LIST_QUERY = (
    "query UserList($userName: String, $type: MediaType, $chunk: Int) {"
    " MediaListCollection(userName: $userName, type: $type, chunk: $chunk,"
    f" perChunk: {CHUNK_SIZE}) {{ {render(COLLECTION_FIELDS)} }} }}"
)


@dataclass(frozen=True, slots=True)
class UserList:
    username: str
    media_type: str
    fetched_at: float
    entries: list[dict[str, Any]]
    # The owner's UserTitleLanguage when the list was just fetched; None when it came from
    # the cache or AniList gave none.
    title_language: str | None = None


class UserListService:
    def __init__(
        self,
        client: AniListClient,
        db: Database,
        cache_minutes: float,
        member_settings: MemberSettingsStore | None = None,
    ) -> None:
        self._client = client
        self._db = db
        self._store = MediaStore(db)
        self._member_settings = member_settings
        self._cache_seconds = cache_minutes * 60
        self._fetching: dict[tuple[str, str], asyncio.Task[UserList]] = {}

    async def get_list(
        self,
        username: str,
        media_type: str,
        *,
        deadline_s: float | None = None,
        guard: WriteGuard | None = None,
    ) -> UserList:
        """The user's list of this type: entries {"mediaId", "score" (0-10, 0 = unscored),
        "status", "progress"}, under AniList's casing of the name.

        The username is checked before anything else (InvalidUsername, no request). A list
        fetched less than `cache_minutes` ago comes from SQLite (no request); otherwise it is
        fetched (one request per 500 entries), stored and returned. Concurrent calls for the
        same list share one fetch, run under the first caller's deadline. When a refresh fails
        because AniList is down or rate-limiting us, the stored (expired) copy is returned;
        when AniList says the user is gone or private, the stored copy is deleted. A fetched
        list is not stored when /forget erased the username, or the caller's `guard`, while
        it was being fetched (the caller still gets it).
        """
        username = validate_username(username)
        if media_type not in MEDIA_TYPES:
            raise ValueError(f"media_type must be one of {MEDIA_TYPES}, not {media_type!r}")
        guard = self._db.guard(username=username, base=guard)
        stored = await self._store.load_user_list(username, media_type)
        if stored is not None and time.time() - stored.fetched_at < self._cache_seconds:
            await self._note_use(stored)
            return _as_user_list(stored)
        key = (username.lower(), media_type)
        task = self._fetching.get(key)
        if task is None:
            task = asyncio.create_task(
                self._refresh(username, media_type, deadline_s, stored, guard)
            )
            self._fetching[key] = task
            task.add_done_callback(lambda done: self._fetch_finished(key, done))
        # shield: one caller giving up must not cancel the fetch the others wait for.
        return await asyncio.shield(task)

    def _fetch_finished(self, key: tuple[str, str], task: asyncio.Task[UserList]) -> None:
        self._fetching.pop(key, None)
        if not task.cancelled():
            task.exception()  # retrieved here so that no caller left is not an error

    async def _note_use(self, stored: StoredList) -> None:
        """Restart the stored list's retention, at most once an hour: retention counts in
        days, and a write per cached request would queue every request behind the writer."""
        now = time.time()
        if now - stored.used_at >= USE_RESOLUTION_S:
            await self._store.touch_user_list(stored.username, stored.media_type, now)

    async def _refresh(
        self,
        username: str,
        media_type: str,
        deadline_s: float | None,
        stored: StoredList | None,
        guard: WriteGuard,
    ) -> UserList:
        try:
            fetched, media = await self._fetch(username, media_type, deadline_s)
        except (AniListUserNotFound, AniListPrivateUser):
            # AniList no longer shows this list to anyone; neither do we.
            await self._store.delete_user_list(username, media_type)
            raise
        except (AniListUnavailable, AniListRateLimited) as error:
            if stored is None:
                raise
            log.warning("serving %s's expired %s list: %s", username, media_type, error)
            await self._note_use(stored)
            return _as_user_list(stored)
        try:
            await self._store.save_user_list(
                fetched.username, media_type, fetched.entries, media, fetched.fetched_at, guard
            )
        except UserForgotten:
            log.info("not caching %s's %s list: forgotten during the fetch", username, media_type)
        if self._member_settings is not None and fetched.title_language:
            await self._member_settings.remember_anilist_language(
                fetched.username, fetched.title_language
            )
        return fetched

    async def _fetch(
        self, username: str, media_type: str, deadline_s: float | None
    ) -> tuple[UserList, list[dict[str, Any]]]:
        """The list and the titles on it, as AniList sent them."""
        deadline = None if deadline_s is None else time.monotonic() + deadline_s
        canonical = username
        title_language = None
        entries: dict[int, dict[str, Any]] = {}
        media: dict[int, dict[str, Any]] = {}
        for chunk in range(1, MAX_CHUNKS + 1):
            data = await self._client.query(
                "UserList",
                LIST_QUERY,
                {"userName": username, "type": media_type, "chunk": chunk},
                deadline_s=None if deadline is None else deadline - time.monotonic(),
                username=username,
            )
            collection = data.get("MediaListCollection")
            if not collection:
                raise AniListUserNotFound(username)
            owner = collection.get("user") or {}
            canonical = owner.get("name") or canonical
            title_language = (owner.get("options") or {}).get("titleLanguage") or title_language
            for group in collection.get("lists") or ():
                for entry in group.get("entries") or ():
                    media_id = entry["mediaId"]
                    if media_id in entries:
                        continue
                    entries[media_id] = {
                        "mediaId": media_id,
                        "score": float(entry.get("score") or 0.0),
                        "status": entry["status"],
                        "progress": entry.get("progress"),
                    }
                    if entry.get("media"):
                        media[media_id] = entry["media"]
            if not collection.get("hasNextChunk"):
                break
        fetched = UserList(
            canonical, media_type, time.time(), list(entries.values()), title_language
        )
        return fetched, list(media.values())


def _as_user_list(stored: StoredList) -> UserList:
    return UserList(stored.username, stored.media_type, stored.fetched_at, stored.entries)
