"""Building the catalogue: few requests, the right titles, resumable, refreshed when old."""

from __future__ import annotations

import asyncio

import pytest
from graphql import parse

from bot.anilist.catalogue_builder import (
    PAGE_COMPLEXITY,
    PAGES_PER_REQUEST,
    RECOMMENDATIONS_PER_TITLE,
    CatalogueBuilder,
    CatalogueKeeper,
    catalogue_query,
)
from bot.storage.media import MediaStore
from tests.anilist.conftest import eventually
from tests.fakes.anilist_server import MAX_COMPLEXITY, Fault, query_complexity

SIZE = 600  # 12 pages of 50 per type: two requests each


def top_ids(fake_data, media_type: str, count: int) -> list[int]:
    titles = [m for m in fake_data.media.values() if m["type"] == media_type]
    titles.sort(key=lambda m: (-m["popularity"], m["id"]))
    return [m["id"] for m in titles[:count]]


def test_each_request_holds_as_many_pages_as_the_complexity_limit_allows():
    """The fake's AniList-style complexity of a full request is under 500; one page more is not."""
    full = query_complexity(parse(catalogue_query(range(1, PAGES_PER_REQUEST + 1))))
    assert full == PAGES_PER_REQUEST * PAGE_COMPLEXITY <= MAX_COMPLEXITY
    assert query_complexity(parse(catalogue_query(range(1, PAGES_PER_REQUEST + 2)))) > 500
    assert PAGES_PER_REQUEST > 1


async def test_catalogue_holds_the_most_popular_titles_with_few_requests(
    client, db, fake, fake_data
):
    """600 titles per type in 2 requests each (not 24 single pages), most popular first,
    adult titles included (age-restricted channels may show them), each with its top
    community recommendations."""
    builder = CatalogueBuilder(client, db, SIZE, max_age_days=7)
    await builder.run()
    store = MediaStore(db)
    assert fake.requests_by_operation == {"Catalogue": 4}
    assert fake.requests_total < 2 * SIZE / 50
    assert fake.rate_limited_sent == 0
    for media_type in ("ANIME", "MANGA"):
        catalogue = await store.catalogue(media_type)
        assert [m["id"] for m in catalogue] == top_ids(fake_data, media_type, SIZE)
        assert await store.catalogue_count(media_type) == SIZE
        assert builder.progress[media_type] == (SIZE, SIZE)
    title = (await store.catalogue("ANIME"))[0]
    ratings = [n["rating"] for n in title["recommendations"]["nodes"]]
    assert ratings == sorted(ratings, reverse=True)
    assert 0 < len(ratings) <= RECOMMENDATIONS_PER_TITLE
    assert set(title["coverImage"]) == {"extraLarge", "large", "color"}


async def test_fresh_catalogue_is_not_rebuilt(client, db, fake):
    """A complete catalogue younger than max_age_days costs no request at start-up."""
    await CatalogueBuilder(client, db, SIZE, max_age_days=7).run()
    before = fake.requests_total
    await CatalogueBuilder(client, db, SIZE, max_age_days=7).run()
    assert fake.requests_total == before


async def test_interrupted_build_resumes_where_it_stopped(client, db, fake, fake_data):
    """The API is disabled after the first request: 500 titles are kept, and the next run asks
    only for what is missing (1 + 2 requests, not 4)."""
    fake.script(Fault.passes(), Fault.disabled())
    await CatalogueBuilder(client, db, SIZE, max_age_days=7).run()
    store = MediaStore(db)
    assert await store.catalogue_count("ANIME") == 500
    assert (await store.catalogue_build("ANIME")).next_page == PAGES_PER_REQUEST + 1
    assert fake.requests_total == 2

    await CatalogueBuilder(client, db, SIZE, max_age_days=7).run()
    assert fake.requests_total == 2 + 3
    anime = [m["id"] for m in await store.catalogue("ANIME")]
    assert anime == top_ids(fake_data, "ANIME", SIZE)
    assert await store.catalogue_count("MANGA") == SIZE


async def test_cancelled_build_keeps_its_progress(client, db, fake):
    """Cancelling the build task (Bot.close) mid-request loses at most that request."""
    fake.latency_s = 0.2
    task = asyncio.create_task(CatalogueBuilder(client, db, SIZE, max_age_days=7).run())
    store = MediaStore(db)

    async def first_batch_stored() -> bool:
        return await store.catalogue_count("ANIME") >= 500

    await eventually(first_batch_stored)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert (await store.catalogue_build("ANIME")).completed_at is None
    sent = fake.requests_total
    fake.latency_s = 0
    await CatalogueBuilder(client, db, SIZE, max_age_days=7).run()
    assert fake.requests_total - sent == 3
    assert await store.catalogue_count("ANIME") == SIZE


async def test_old_catalogue_is_rebuilt_and_titles_that_fell_out_leave_it(client, db, fake):
    """Past max_age_days the catalogue is fetched again; a title no longer in it stays stored
    but is no longer in the catalogue."""
    store = MediaStore(db)
    await CatalogueBuilder(client, db, SIZE, max_age_days=7).run()
    await db.conn.execute("UPDATE catalogue_builds SET completed_at = completed_at - 8 * 86400")
    await db.conn.execute("UPDATE media SET updated_at = updated_at - 8 * 86400")
    await CatalogueBuilder(client, db, 100, max_age_days=7).run()
    assert fake.requests_by_operation["Catalogue"] == 4 + 2
    assert await store.catalogue_count("ANIME") == 100
    assert len(await store.media_by_ids(range(1, 1501))) == SIZE


async def test_list_fetch_does_not_replace_catalogue_titles(client, db, lists):
    """A list's copy of a catalogue title (no recommendations) never overwrites the
    catalogue's copy, and the title stays in the catalogue."""
    await CatalogueBuilder(client, db, SIZE, max_age_days=7).run()
    store = MediaStore(db)
    catalogue_ids = {m["id"] for m in await store.catalogue("ANIME")}
    heavy = await lists.get_list("HeavyWatcher", "ANIME")
    shared = catalogue_ids & {e["mediaId"] for e in heavy.entries}
    assert shared
    stored = await store.media_by_ids(shared)
    assert all("recommendations" in m for m in stored.values())
    assert await store.catalogue_count("ANIME") == SIZE


async def test_builder_reports_each_stored_batch_and_nothing_for_a_fresh_catalogue(
    client, db, fake
):
    """Each stored batch is reported (the last one as done), so the bot can rebuild its
    models as titles land; a pass over a fresh catalogue reports none, so nothing rebuilds."""
    batches: list[tuple[str, int, bool]] = []

    async def on_batch(media_type: str, fetched: int, done: bool) -> None:
        batches.append((media_type, fetched, done))

    await CatalogueBuilder(client, db, SIZE, max_age_days=7, on_batch=on_batch).run()
    assert batches == [
        ("ANIME", 500, False),
        ("ANIME", SIZE, True),
        ("MANGA", 500, False),
        ("MANGA", SIZE, True),
    ]
    batches.clear()
    assert await CatalogueBuilder(client, db, SIZE, max_age_days=7, on_batch=on_batch).run()
    assert batches == []


async def test_keeper_says_anilist_is_down_only_until_a_batch_arrives_again(client, db, fake):
    """After a failed pass the keeper reports AniList as failing; as soon as the next pass
    stores a batch, no type is reported failing any more (the manga part has not even started,
    and telling people AniList is down would be false)."""
    fake.outage_status = 503
    keeper = CatalogueKeeper(CatalogueBuilder(client, db, SIZE, max_age_days=7))
    keeper.start()
    try:
        await eventually(lambda: keeper.status("MANGA").failing, timeout_s=20)
        fake.outage_status = None
        fake.latency_s = 0.3  # so the pass is still going when we look
        await eventually(lambda: keeper.status("ANIME").fetched > 0, timeout_s=30)
        manga = keeper.status("MANGA")
        assert manga.fetched == 0 and not manga.failing
        await asyncio.wait_for(keeper.wait_complete(), 30)
    finally:
        await keeper.stop()
