"""The shared request budget: bursts, waiting, priorities, and what the server's headers say."""

from __future__ import annotations

import asyncio
import time

import pytest

from bot.anilist import AniListClient
from bot.anilist.catalogue_builder import CatalogueBuilder
from bot.anilist.rate_limit import Priority, RateLimiter, WaitTooLong
from bot.anilist.user_lists import UserListService
from tests.anilist.conftest import LIMIT, WINDOW_S, eventually
from tests.fakes.anilist_server import FakeAniList


async def test_fifty_concurrent_list_fetches_share_the_budget_without_429s(lists, fake):
    """50 different users at once against a 30-per-window limit: 30 go at once, 20 wait for
    the window to roll; no 429 is sent and no request is sent twice."""
    names = [f"user{n:02d}" for n in range(1, 51)]
    started = time.monotonic()
    results = await asyncio.gather(*(lists.get_list(n, "ANIME", deadline_s=10) for n in names))
    elapsed = time.monotonic() - started
    assert [r.username for r in results] == names
    assert fake.rate_limited_sent == 0
    assert fake.requests_total == 50
    assert sorted(v["userName"] for _, v in fake.request_log) == names
    assert WINDOW_S <= elapsed < 2 * WINDOW_S + 1


async def test_a_burst_spends_the_budget_at_once(client, fake):
    """No artificial spacing: 30 requests within the budget go out together."""
    started = time.monotonic()
    await asyncio.gather(*(client.user_exists(f"user{n:02d}") for n in range(1, LIMIT + 1)))
    assert time.monotonic() - started < 0.5 * WINDOW_S
    assert fake.requests_total == LIMIT


async def test_wait_that_cannot_fit_the_deadline_raises_at_once():
    """A full window and a deadline shorter than the wait: WaitTooLong now, not later."""
    limiter = RateLimiter(2, window_seconds=5)
    for _ in range(2):
        async with limiter.slot(Priority.INTERACTIVE, None):
            pass
    started = time.monotonic()
    with pytest.raises(WaitTooLong) as raised:
        async with limiter.slot(Priority.INTERACTIVE, time.monotonic() + 1):
            pass
    assert time.monotonic() - started < 0.1
    assert 4.5 < raised.value.seconds <= 5


async def test_people_waiting_go_before_background_work():
    """With the window full, a person who queued after the background job is served first."""
    limiter = RateLimiter(3, window_seconds=0.5, background_reserve=0)
    for _ in range(3):
        async with limiter.slot(Priority.INTERACTIVE, None):
            pass
    served: list[str] = []

    async def take(priority: Priority, name: str) -> None:
        async with limiter.slot(priority, None):
            served.append(name)

    background = asyncio.create_task(take(Priority.BACKGROUND, "background"))
    await asyncio.sleep(0.05)
    person = asyncio.create_task(take(Priority.INTERACTIVE, "person"))
    await asyncio.gather(background, person)
    assert served == ["person", "background"]


async def test_background_work_leaves_the_last_slots_for_people():
    """Background work stops short of the reserve; a person arriving then is served at once."""
    limiter = RateLimiter(10, window_seconds=5, background_reserve=2)
    for _ in range(8):
        async with limiter.slot(Priority.BACKGROUND, None):
            pass
    with pytest.raises(WaitTooLong):
        async with limiter.slot(Priority.BACKGROUND, time.monotonic() + 0.2):
            pass
    started = time.monotonic()
    for _ in range(2):
        async with limiter.slot(Priority.INTERACTIVE, time.monotonic() + 0.2):
            pass
    assert time.monotonic() - started < 0.1


async def test_server_saying_less_is_left_shrinks_the_budget(session, fake_data):
    """Our budget says 60, the server allows 10: after one answer's X-RateLimit-Remaining the
    client keeps to the server's figure, so 20 more requests meet no 429."""
    async with FakeAniList(fake_data, rate_limit=10, window_s=WINDOW_S) as small:
        client = AniListClient(session, small.url, RateLimiter(60, window_seconds=WINDOW_S))
        await client.user_exists("Alice")
        names = [f"user{n:02d}" for n in range(1, 21)]
        await asyncio.gather(*(client.user_exists(n, deadline_s=10) for n in names))
        assert small.rate_limited_sent == 0
        assert small.requests_total == 21


async def test_people_are_not_stuck_behind_a_running_catalogue_build(fake, session, db):
    """A catalogue build has used what background work may take; a list request still goes
    out at once on the reserved slot instead of waiting for the window."""
    limiter = RateLimiter(4, window_seconds=30, background_reserve=1)
    client = AniListClient(session, fake.url, limiter)
    build = asyncio.create_task(CatalogueBuilder(client, db, 2000, 7).run())
    await eventually(lambda: fake.requests_by_operation["Catalogue"] == 3)
    started = time.monotonic()
    await UserListService(client, db, 15).get_list("Alice", "ANIME", deadline_s=5)
    assert time.monotonic() - started < 1
    assert not build.done()  # the build waits for the window; the person did not
    build.cancel()
    with pytest.raises(asyncio.CancelledError):
        await build
