"""/settings storage: choices kept in memory and in SQLite, AniList's title language of linked
accounts, and /forget taking both."""

from __future__ import annotations

import sqlite3

import pytest

from bot.storage import DEFAULT_SETTINGS, Database, MemberSettingsStore, UserForgotten, forget_user


@pytest.fixture
async def db(tmp_path):
    database = await Database.open(tmp_path / "anime8.db")
    yield database
    await database.close()


async def test_choices_are_stored_and_read_back_after_a_reopen(tmp_path):
    """A choice changes only what it names; the settings come back the same from a new process."""
    path = tmp_path / "anime8.db"
    db = await Database.open(path)
    store = await MemberSettingsStore.open(db)
    assert store.get(1) == DEFAULT_SETTINGS
    await store.choose(1, title_language="ENGLISH")
    chosen = await store.choose(1, default_type="MANGA", spoiler_tags=False)
    assert (chosen.title_language, chosen.default_type, chosen.spoiler_tags) == (
        "ENGLISH",
        "MANGA",
        False,
    )
    assert store.get(2) == DEFAULT_SETTINGS
    await db.close()

    reopened = await Database.open(path)
    assert (await MemberSettingsStore.open(reopened)).get(1) == chosen
    await reopened.close()


@pytest.mark.parametrize(
    "change", [{"title_language": "KLINGON"}, {"default_type": "NOVEL"}, {"title_language": ""}]
)
async def test_a_value_that_is_no_choice_is_refused(db, change):
    """The store refuses what no select offers, and stores nothing."""
    store = await MemberSettingsStore.open(db)
    with pytest.raises(ValueError):
        await store.choose(1, **change)
    async with db.reader.execute("SELECT COUNT(*) FROM member_settings") as cur:
        assert (await cur.fetchone())[0] == 0


async def test_the_schema_refuses_what_the_code_would_too(db):
    """CHECK constraints stop a bad value even if code forgets to check."""
    with pytest.raises(sqlite3.IntegrityError):
        await db.write(
            "INSERT INTO member_settings (discord_user_id, title_language, updated_at)"
            " VALUES (1, 'KLINGON', 0)"
        )


async def test_anilist_preference_follows_the_linked_account_and_degrades_to_romaji(db):
    """With "AniList's preference", titles are in the linked account's language (stylised
    variants read as plain ones), in romaji while that is unknown; a chosen language wins."""
    store = await MemberSettingsStore.open(db)
    await db.link_account(1, "Alice")
    await db.link_account(2, "alice")  # another member linked to the same account
    await db.link_account(3, "Bob")
    assert store.get(1).display_language == "ROMAJI"
    await store.remember_anilist_language("ALICE", "ENGLISH_STYLISED")
    assert [store.get(u).display_language for u in (1, 2, 3)] == ["ENGLISH", "ENGLISH", "ROMAJI"]
    await store.choose(2, title_language="NATIVE")
    assert store.get(2).display_language == "NATIVE"
    await store.remember_anilist_language("Alice", "SOMETHING_NEW")  # unknown to us: romaji
    assert store.get(1).display_language == "ROMAJI"
    await store.remember_anilist_language("Alice", "NATIVE")
    await db.unlink_account(1)
    await store.forget_anilist_language(1)
    assert store.get(1).anilist_title_language is None
    assert (await MemberSettingsStore.open(db)).get(2).anilist_title_language == "NATIVE"


async def test_an_unchanged_language_writes_nothing(db, monkeypatch):
    """Every list fetch reports the owner's language: only a change costs a transaction."""
    store = await MemberSettingsStore.open(db)
    await db.link_account(1, "Alice")
    await store.remember_anilist_language("Alice", "ENGLISH")
    opened = []
    transaction = db.transaction

    def counting_transaction():
        opened.append(1)
        return transaction()

    monkeypatch.setattr(db, "transaction", counting_transaction)
    await store.remember_anilist_language("Alice", "ENGLISH")
    await store.remember_anilist_language("NobodyLinked", "NATIVE")
    assert opened == []
    await store.remember_anilist_language("Alice", "NATIVE")
    assert opened == [1]


async def test_forget_deletes_the_settings_and_refuses_a_choice_begun_before_it(db):
    """/forget deletes the row and counts it; memory then reads the defaults, a choice whose
    guard predates the /forget stores nothing, and a later one works."""
    store = await MemberSettingsStore.open(db)
    await db.link_account(1, "Alice")
    await store.choose(1, default_type="MANGA")
    await store.choose(2, default_type="MANGA")
    before = db.guard(1)
    counts = await forget_user(db, 1)
    assert counts.member_settings == 1 and counts.total == 2  # the link and the settings
    assert store.get(1) == DEFAULT_SETTINGS
    assert store.get(2).default_type == "MANGA"
    with pytest.raises(UserForgotten):
        await store.choose(1, guard=before, spoiler_tags=False)
    await store.remember_anilist_language("Alice", "ENGLISH")  # no longer linked: no row
    assert (await MemberSettingsStore.open(db)).get(1) == DEFAULT_SETTINGS
    await store.choose(1, guard=db.guard(1), spoiler_tags=False)
    assert store.get(1).spoiler_tags is False
