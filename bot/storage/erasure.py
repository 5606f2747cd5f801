"""Erasing what is stored: everything about one person (/forget), and what retention says has
expired. Both run in one transaction and note what they erased on the Database, so requests
still running write nothing that outlives them (see WriteGuard)."""

from __future__ import annotations

from dataclasses import dataclass

import aiosqlite

from bot.storage.database import Database, first_column


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
    member_settings: int = 0

    @property
    def total(self) -> int:
        return (
            self.feedback
            + self.linked_accounts
            + self.recommendation_log
            + self.anilist_list_rows
            + self.member_settings
        )


async def forget_user(db: Database, discord_user_id: int) -> ForgetCounts:
    """Delete everything stored about one Discord user, in one transaction.

    That is their ratings, link, /settings, history and stored messages, and the cached
    AniList list of every username they linked, rated under or asked for, unless another
    person's link still uses that list. Requests of theirs still running write nothing
    afterwards (see WriteGuard).
    """
    async with db.transaction() as conn:
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
            list_rows += await _delete_lists_of(conn, name)
            db.note_erased(username=name)
        counts = []
        for table in ("feedback", "linked_accounts", "recommendation_log", "member_settings"):
            cur = await conn.execute(
                f"DELETE FROM {table} WHERE discord_user_id = ?", (discord_user_id,)
            )
            counts.append(cur.rowcount)
        cur = await conn.execute(
            "DELETE FROM recommendation_messages WHERE requester_id = ?", (discord_user_id,)
        )
        counts[2] += cur.rowcount
        db.note_erased(discord_user_id)
    feedback, links, history, settings = counts
    return ForgetCounts(feedback, links, history, list_rows, member_settings=settings)


async def _delete_lists_of(conn: aiosqlite.Connection, username: str) -> int:
    """Delete every cached list of `username`; returns list plus entry rows deleted."""
    # Entries go by cascade, which rowcount does not report: count them first.
    async with conn.execute(
        "SELECT COUNT(*) FROM anilist_list_entries WHERE username = ?", (username,)
    ) as cur:
        entries = first_column(await cur.fetchone())
    cur = await conn.execute("DELETE FROM anilist_lists WHERE username = ?", (username,))
    return entries + cur.rowcount


async def prune_before(db: Database, cutoff: float) -> PruneCounts:
    """Delete what was last used before `cutoff` (a time.time() value), in one transaction.

    Cached lists not used since then (and their entries: the training data they gave),
    history shown before then, stored messages created before then, and titles kept only
    for lists: out of the catalogue, on no list, unrated and in no remaining history.
    Ratings and links stay until /forget or /unlink.
    """
    async with db.transaction() as conn:
        async with conn.execute(
            "SELECT COUNT(*) FROM anilist_list_entries e JOIN anilist_lists l"
            " ON e.username = l.username AND e.media_type = l.media_type"
            " WHERE l.used_at < ?",
            (cutoff,),
        ) as cur:
            entries = first_column(await cur.fetchone())
        lists = await conn.execute("DELETE FROM anilist_lists WHERE used_at < ?", (cutoff,))
        history = await conn.execute("DELETE FROM recommendation_log WHERE shown_at < ?", (cutoff,))
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
    return PruneCounts(lists.rowcount, entries, history.rowcount, messages.rowcount, media.rowcount)
