"""What each person chose with /settings (table `member_settings`), and AniList's title language
of their linked account as last seen, which the "AniList's preference" choice follows.

Kept in memory as well, like links: commands read them before they acknowledge Discord, which
must take no database round trip. Every write goes through one transaction that updates the
row and the memory together. A /forget deletes the row (bot/storage/erasure.py); what memory
still holds for that person then reads as the defaults, because each entry keeps the
WriteGuard taken when it was stored, and /forget invalidates it.
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass
from typing import Any

import aiosqlite

from bot.anilist.queries import MEDIA_TYPES
from bot.storage.database import Database
from bot.storage.guards import UserForgotten, WriteGuard
from model.titles import LANGUAGES, ROMAJI, from_anilist

FOLLOW_ANILIST = "ANILIST"
# What a person may choose for titles: AniList's preference, or one language.
TITLE_CHOICES = (FOLLOW_ANILIST, *LANGUAGES)

_UPSERT = (
    "INSERT INTO member_settings (discord_user_id, title_language, default_type, spoiler_tags,"
    " anilist_title_language, updated_at) VALUES (?, ?, ?, ?, ?, ?)"
    " ON CONFLICT (discord_user_id) DO UPDATE SET title_language = excluded.title_language,"
    " default_type = excluded.default_type, spoiler_tags = excluded.spoiler_tags,"
    " anilist_title_language = excluded.anilist_title_language,"
    " updated_at = excluded.updated_at"
)


@dataclass(frozen=True, slots=True)
class MemberSettings:
    """One person's settings; the defaults are what someone who never used /settings gets."""

    title_language: str = FOLLOW_ANILIST  # one of TITLE_CHOICES
    default_type: str = "ANIME"  # for /recommend and /watchparty without `type`
    spoiler_tags: bool = True  # tag lists show spoiler tags, hidden as ||spoilers||
    # AniList's title language of the linked account (ROMAJI, ENGLISH or NATIVE), as last
    # seen; None when unknown (not linked, not fetched yet, AniList down).
    anilist_title_language: str | None = None

    @property
    def display_language(self) -> str:
        """The language titles are shown in: the chosen one, or AniList's preference of the
        linked account, romaji while that is unknown."""
        if self.title_language != FOLLOW_ANILIST:
            return self.title_language
        return self.anilist_title_language or ROMAJI


DEFAULT_SETTINGS = MemberSettings()


class MemberSettingsStore:
    """Everyone's settings, in memory and in SQLite; `await MemberSettingsStore.open(db)`."""

    def __init__(self, db: Database) -> None:
        self._db = db
        self._entries: dict[int, tuple[MemberSettings, WriteGuard]] = {}

    @classmethod
    async def open(cls, db: Database) -> MemberSettingsStore:
        store = cls(db)
        async with db.reader.execute(
            "SELECT discord_user_id, title_language, default_type, spoiler_tags,"
            " anilist_title_language FROM member_settings"
        ) as cur:
            async for row in cur:
                settings = MemberSettings(row[1], row[2], bool(row[3]), row[4])
                store._entries[row[0]] = (settings, db.guard(row[0]))
        return store

    def get(self, discord_user_id: int) -> MemberSettings:
        """This person's settings (the defaults if they have none); answered from memory."""
        entry = self._entries.get(discord_user_id)
        if entry is None:
            return DEFAULT_SETTINGS
        settings, guard = entry
        try:
            self._db.check_guard(guard)
        except UserForgotten:  # /forget deleted the row since this entry was stored
            del self._entries[discord_user_id]
            return DEFAULT_SETTINGS
        return settings

    async def choose(
        self,
        discord_user_id: int,
        *,
        guard: WriteGuard | None = None,
        title_language: str | None = None,
        default_type: str | None = None,
        spoiler_tags: bool | None = None,
    ) -> MemberSettings:
        """Store the choices given (None: unchanged) and return the settings now in force.

        Raises ValueError for a value that is not a choice, UserForgotten when /forget erased
        the person since `guard` was taken (then nothing is stored)."""
        changes: dict[str, Any] = {}
        if title_language is not None:
            if title_language not in TITLE_CHOICES:
                raise ValueError(f"title_language must be one of {TITLE_CHOICES}")
            changes["title_language"] = title_language
        if default_type is not None:
            if default_type not in MEDIA_TYPES:
                raise ValueError(f"default_type must be one of {MEDIA_TYPES}")
            changes["default_type"] = default_type
        if spoiler_tags is not None:
            changes["spoiler_tags"] = bool(spoiler_tags)
        async with self._db.transaction() as conn:
            self._db.check_guard(guard)
            settings = dataclasses.replace(self.get(discord_user_id), **changes)
            await self._write(conn, {discord_user_id: settings})
        return settings

    async def remember_anilist_language(self, username: str, anilist_language: str | None) -> None:
        """Note AniList's title language (its UserTitleLanguage, e.g. "ENGLISH_STYLISED") of
        this account for everyone linked to it; None when AniList gave none."""
        language = from_anilist(anilist_language)
        if not await self._linked_with_other_language(username, language):
            return  # the usual case (nothing changed) costs no transaction
        async with self._db.transaction() as conn:
            # Read again under the write lock: a /forget or /unlink may have run meanwhile.
            changed = {
                user_id: dataclasses.replace(self.get(user_id), anilist_title_language=language)
                for user_id in await self._linked_with_other_language(username, language)
            }
            await self._write(conn, changed)

    async def forget_anilist_language(self, discord_user_id: int) -> None:
        """Drop the AniList title language noted for this person (they unlinked)."""
        if self.get(discord_user_id).anilist_title_language is None:
            return
        async with self._db.transaction() as conn:
            settings = dataclasses.replace(self.get(discord_user_id), anilist_title_language=None)
            await self._write(conn, {discord_user_id: settings})

    async def _linked_with_other_language(self, username: str, language: str | None) -> list[int]:
        linked = await self._db.discord_ids_linked_to(username)
        return [u for u in linked if self.get(u).anilist_title_language != language]

    async def _write(self, conn: aiosqlite.Connection, rows: dict[int, MemberSettings]) -> None:
        """Write these people's rows and memory entries; call inside the write transaction,
        whose lock keeps any other write from reading memory before the commit."""
        now = time.time()
        await conn.executemany(
            _UPSERT,
            [
                (
                    user_id,
                    settings.title_language,
                    settings.default_type,
                    int(settings.spoiler_tags),
                    settings.anilist_title_language,
                    now,
                )
                for user_id, settings in rows.items()
            ],
        )
        for user_id, settings in rows.items():
            self._entries[user_id] = (settings, self._db.guard(user_id))
