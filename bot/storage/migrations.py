"""The schema, as the migrations that build it, keyed on PRAGMA user_version.

Each entry moves the schema from version i to i + 1; `Database.open` applies the missing ones,
each in one transaction with its version bump, and refuses a database newer than the last.
"""

from __future__ import annotations

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
    # /settings: what each person chose (bot/storage/member_settings.py), and AniList's title
    # language of their linked account as last seen, which the ANILIST choice follows.
    """
    CREATE TABLE member_settings (
        discord_user_id INTEGER PRIMARY KEY,
        title_language TEXT NOT NULL DEFAULT 'ANILIST'
            CHECK (title_language IN ('ANILIST', 'ROMAJI', 'ENGLISH', 'NATIVE')),
        default_type TEXT NOT NULL DEFAULT 'ANIME' CHECK (default_type IN ('ANIME', 'MANGA')),
        spoiler_tags INTEGER NOT NULL DEFAULT 1 CHECK (spoiler_tags IN (0, 1)),
        anilist_title_language TEXT,
        updated_at REAL NOT NULL
    );
    """,
)
