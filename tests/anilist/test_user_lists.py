"""Fetching, merging, caching and sharing users' lists."""

from __future__ import annotations

import asyncio

import pytest

from bot.anilist import AniListPrivateUser, AniListUserNotFound
from bot.anilist.user_lists import CHUNK_SIZE, UserListService
from bot.storage.media import MediaStore
from tests.fakes.anilist_server import Fault, convert_score


def expected_ids(fake_data, name: str, media_type: str = "ANIME") -> set[int]:
    return {e["mediaId"] for e in fake_data.user(name).entries[media_type]}


async def test_list_over_500_entries_is_fetched_in_chunks(lists, fake, fake_data):
    """1,234 entries arrive in 3 chunks of at most 500 (chunk 1, 2, 3), each entry once."""
    user_list = await lists.get_list("HeavyWatcher", "ANIME")
    assert len(user_list.entries) == 1234
    assert {e["mediaId"] for e in user_list.entries} == expected_ids(fake_data, "HeavyWatcher")
    assert fake.requests_by_operation == {"UserList": 3}
    assert [v["chunk"] for _, v in fake.request_log] == [1, 2, 3]
    assert 2 * CHUNK_SIZE < 1234


@pytest.mark.parametrize("name", ["Alice", "Bob"])
async def test_custom_lists_are_merged_and_deduplicated(lists, fake_data, name):
    """Entries only on custom lists (hidden from status lists) are kept; entries on several
    lists appear once."""
    user = fake_data.user(name)
    hidden = {e["mediaId"] for e in user.entries["ANIME"] if e["hiddenFromStatusLists"]}
    assert hidden  # the fixture has entries that only a custom list shows
    user_list = await lists.get_list(name, "ANIME")
    ids = [e["mediaId"] for e in user_list.entries]
    assert len(ids) == len(set(ids))
    assert set(ids) == expected_ids(fake_data, name)


async def test_entries_carry_status_progress_and_a_0_to_10_score(lists, fake_data):
    """Bob scores on POINT_100; entries come back on one 0-10 scale (0 = unscored)."""
    user_list = await lists.get_list("bob", "ANIME")
    assert user_list.username == "Bob"
    source = {e["mediaId"]: e for e in fake_data.user("Bob").entries["ANIME"]}
    for entry in user_list.entries:
        original = source[entry["mediaId"]]
        assert entry["score"] == convert_score(original["score100"], "POINT_10_DECIMAL")
        assert 0 <= entry["score"] <= 10
        assert (entry["status"], entry["progress"]) == (original["status"], original["progress"])
    assert any(e["score"] == 0 for e in user_list.entries)


async def test_media_carry_the_fields_the_recommender_needs(lists, db):
    """Each title on a fetched list is stored with tags (rank...), relations, cover, title
    variants..."""
    user_list = await lists.get_list("Alice", "MANGA")
    ids = {e["mediaId"] for e in user_list.entries}
    stored = await MediaStore(db).media_by_ids(ids)
    assert set(stored) == ids
    media = next(iter(stored.values()))
    for key in ("id", "type", "format", "title", "genres", "tags", "isAdult", "popularity",
                "meanScore", "averageScore", "episodes", "chapters", "startDate", "seasonYear",
                "relations", "coverImage", "siteUrl"):  # fmt: skip
        assert key in media
    assert set(media["tags"][0]) == {"name", "rank", "category", "isAdult", "isMediaSpoiler"}
    assert set(media["title"]) == {"romaji", "english", "native", "userPreferred"}
    assert set(media["coverImage"]) == {"extraLarge", "large", "color"}


async def test_cached_list_costs_no_request_until_it_expires(lists, fake, db):
    """Within list_cache_minutes a list comes from SQLite; after, one request refreshes it,
    and meanwhile the expired list stays stored (training data)."""
    first = await lists.get_list("Alice", "ANIME")
    cached = await lists.get_list("ALICE", "ANIME")
    assert fake.requests_total == 1
    assert cached.username == "Alice"
    assert cached.entries == first.entries

    await db.conn.execute("UPDATE anilist_lists SET fetched_at = fetched_at - 16 * 60")
    stored = await MediaStore(db).all_lists("ANIME")
    assert len(stored["Alice"]) == len(first.entries)
    assert set(stored["Alice"][0]) == {"mediaId", "score", "status"}

    refreshed = await lists.get_list("alice", "ANIME")
    assert fake.requests_total == 2
    assert refreshed.entries == first.entries


async def test_concurrent_requests_for_one_list_share_one_fetch(lists, fake):
    """Ten people asking for the same list at once (any casing) cause one request."""
    fake.latency_s = 0.2
    names = ["Alice", "alice", "ALICE", "aLiCe", "Alice"] * 2
    results = await asyncio.gather(*(lists.get_list(n, "ANIME") for n in names))
    assert fake.requests_total == 1
    assert all(r.entries == results[0].entries for r in results)


async def test_one_caller_giving_up_does_not_cancel_the_shared_fetch(lists, fake):
    """A cancelled waiter leaves the shared fetch running for the others."""
    fake.latency_s = 0.3
    quitter = asyncio.create_task(lists.get_list("Alice", "ANIME"))
    stayer = asyncio.create_task(lists.get_list("Alice", "ANIME"))
    await asyncio.sleep(0.1)
    quitter.cancel()
    assert len((await stayer).entries) == 40
    assert fake.requests_total == 1


async def test_expired_list_is_served_when_anilist_is_down(lists, fake, db):
    """Refresh fails (API disabled): the stored, expired list is better than an error."""
    first = await lists.get_list("Alice", "ANIME")
    await db.conn.execute("UPDATE anilist_lists SET fetched_at = fetched_at - 16 * 60")
    fake.script(Fault.disabled())
    again = await lists.get_list("Alice", "ANIME")
    assert again.entries == first.entries
    assert fake.requests_total == 2


@pytest.mark.parametrize("name", ["Secretive", "HalfHidden"])
async def test_private_lists_are_refused_and_forgotten(client, db, fake, fake_data, name):
    """A list that turned private (whole profile, or only the lists) is deleted from storage,
    not served from cache."""
    store = MediaStore(db)
    entries = [{"mediaId": 1, "score": 7.0, "status": "COMPLETED", "progress": 3}]
    await store.save_user_list(name, "ANIME", entries, [fake_data.media[1]], fetched_at=0.0)
    service = UserListService(client, db, cache_minutes=15)
    with pytest.raises(AniListPrivateUser):
        await service.get_list(name, "ANIME")
    assert await store.load_user_list(name, "ANIME") is None
    assert fake.requests_total == 1


async def test_unknown_user_is_a_domain_error_after_one_request(lists, fake):
    """No such user: AniListUserNotFound naming them, one request, no retry."""
    with pytest.raises(AniListUserNotFound, match="Nobody"):
        await lists.get_list("Nobody", "ANIME")
    assert fake.requests_total == 1


async def test_stored_lists_and_titles_are_readable_through_media_store(lists, db):
    """all_lists and media_by_ids expose what list fetches stored."""
    alice = await lists.get_list("Alice", "ANIME")
    await lists.get_list("user01", "ANIME")
    store = MediaStore(db)
    all_lists = await store.all_lists("ANIME")
    assert set(all_lists) == {"Alice", "user01"}
    ids = [e["mediaId"] for e in alice.entries]
    found = await store.media_by_ids(ids + [999_999])
    assert set(found) == set(ids) and all(found[i]["id"] == i for i in ids)
    assert await store.catalogue_count("ANIME") == 0
