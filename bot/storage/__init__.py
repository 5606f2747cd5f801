"""SQLite storage: the connections and migrations (database), AniList's data as stored
(media: titles, users' lists, catalogue builds) and what people chose with /settings
(member_settings)."""

from bot.storage.database import Database, DatabaseTooNew
from bot.storage.erasure import ForgetCounts, PruneCounts, forget_user, prune_before
from bot.storage.guards import UserForgotten, WriteGuard
from bot.storage.media import CatalogueBuild, MediaStore, StoredList
from bot.storage.member_settings import (
    DEFAULT_SETTINGS,
    TITLE_CHOICES,
    MemberSettings,
    MemberSettingsStore,
)
from bot.storage.migrations import MIGRATIONS

__all__ = [
    "DEFAULT_SETTINGS",
    "MIGRATIONS",
    "TITLE_CHOICES",
    "CatalogueBuild",
    "Database",
    "DatabaseTooNew",
    "ForgetCounts",
    "MediaStore",
    "MemberSettings",
    "MemberSettingsStore",
    "PruneCounts",
    "StoredList",
    "UserForgotten",
    "WriteGuard",
    "forget_user",
    "prune_before",
]
