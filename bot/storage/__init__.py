"""SQLite storage: the connections and migrations (database), and AniList's data as stored
(media: titles, users' lists, catalogue builds)."""

from bot.storage.database import Database, DatabaseTooNew
from bot.storage.erasure import ForgetCounts, PruneCounts, forget_user, prune_before
from bot.storage.guards import UserForgotten, WriteGuard
from bot.storage.media import CatalogueBuild, MediaStore, StoredList
from bot.storage.migrations import MIGRATIONS

__all__ = [
    "MIGRATIONS",
    "CatalogueBuild",
    "Database",
    "DatabaseTooNew",
    "ForgetCounts",
    "MediaStore",
    "PruneCounts",
    "StoredList",
    "UserForgotten",
    "WriteGuard",
    "forget_user",
    "prune_before",
]
