"""Fixtures for the AniList tests: a fake AniList on 127.0.0.1 with a 30-per-2-seconds limit.

The client's limiter uses the same short window, so rate-limit behaviour shows in seconds.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Awaitable, Callable

import aiohttp
import pytest

from bot.anilist import AniListClient
from bot.anilist.rate_limit import RateLimiter
from bot.anilist.user_lists import UserListService
from bot.storage import Database
from tests.fakes.anilist_server import FakeAniList, FakeData

WINDOW_S = 2.0
LIMIT = 30


@pytest.fixture(scope="session")
def fake_data() -> FakeData:
    """Generated once: tests only read it."""
    return FakeData.generate(media_per_type=1500, seed=8, extra_users=60)


@pytest.fixture
async def fake(fake_data: FakeData):
    async with FakeAniList(
        fake_data, rate_limit=LIMIT, window_s=WINDOW_S, retry_after_s=WINDOW_S
    ) as server:
        yield server


@pytest.fixture
async def session():
    async with aiohttp.ClientSession() as http:
        yield http


@pytest.fixture
def limiter() -> RateLimiter:
    return RateLimiter(LIMIT, window_seconds=WINDOW_S)


@pytest.fixture
def client(session: aiohttp.ClientSession, fake: FakeAniList, limiter: RateLimiter):
    # 5 s: answers of several MB take over a second on a busy 2-core machine.
    return AniListClient(session, fake.url, limiter, timeout_s=5.0, backoff_s=0.01)


@pytest.fixture
async def db(tmp_path):
    database = await Database.open(tmp_path / "t.db")
    yield database
    await database.close()


@pytest.fixture
def lists(client: AniListClient, db: Database) -> UserListService:
    return UserListService(client, db, cache_minutes=15)


async def eventually(condition: Callable[[], Awaitable[bool] | bool], timeout_s: float = 5.0):
    """Wait (bounded) until `condition()` holds; fail the test if it never does."""
    for _ in range(int(timeout_s / 0.01)):
        result = condition()
        if await result if inspect.isawaitable(result) else result:
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"condition not met within {timeout_s} s")
