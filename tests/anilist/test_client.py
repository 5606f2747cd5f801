"""The AniList client against the fake: each failure ends in the right error after the right
number of requests."""

from __future__ import annotations

import asyncio
import json
import logging
import threading
import time

import pytest

from bot.anilist import (
    AniListClient,
    AniListPrivateUser,
    AniListQueryError,
    AniListRateLimited,
    AniListUnavailable,
    AniListUserNotFound,
    InvalidUsername,
)
from bot.anilist.client import MAX_RATE_LIMITED_RETRIES, _retry_after
from bot.anilist.rate_limit import Priority, RateLimiter
from bot.errors import UserFacingError
from tests.fakes.anilist_server import Fault

USER = "query UserExists($name: String) { User(name: $name) { id name } }"


async def test_user_exists_returns_anilist_spelling_with_one_request(client, fake):
    """/link stores AniList's casing of the name, and checking costs exactly one request."""
    assert await client.user_exists("aLiCe") == "Alice"
    assert fake.requests_by_operation == {"UserExists": 1}


@pytest.mark.parametrize(
    ("name", "error"),
    [("Nobody", AniListUserNotFound), ("Secretive", AniListPrivateUser)],
)
async def test_unknown_and_private_users_are_domain_errors(client, fake, name, error):
    """AniList's 404 "User not found" / "Private User" become their domain errors, not retried."""
    with pytest.raises(error) as raised:
        await client.user_exists(name)
    assert name in raised.value.user_message
    assert fake.requests_total == 1


@pytest.mark.parametrize("name", ["", "a", "x" * 21, "bad name", "héllo", "a_b", "<@123>", "ab;--"])
async def test_invalid_usernames_are_refused_without_a_request(client, lists, fake, name):
    """Anything but 2-20 ASCII letters and digits is refused before any request is made."""
    with pytest.raises(InvalidUsername):
        await client.user_exists(name)
    with pytest.raises(InvalidUsername):
        await lists.get_list(name, "ANIME")
    assert fake.requests_total == 0


async def test_invalid_query_is_a_bug_logged_with_its_name_and_never_retried(client, fake, caplog):
    """A 400 "Cannot query field" is our bug: not user-facing, logged with the query name."""
    caplog.set_level(logging.ERROR, logger="bot.anilist")
    with pytest.raises(AniListQueryError) as raised:
        await client.query("BrokenQuery", 'query BrokenQuery { User(name: "Alice") { x } }', {})
    assert not isinstance(raised.value, UserFacingError)
    assert 'Cannot query field "x" on type "User".' in raised.value.messages[0]
    assert "BrokenQuery" in caplog.text
    assert fake.requests_total == 1


async def test_server_error_is_retried_then_succeeds(client, fake):
    """One 500 costs one extra request and the caller still gets the answer."""
    fake.script(Fault.server_error(500))
    assert await client.user_exists("Alice") == "Alice"
    assert fake.requests_total == 2


async def test_repeated_server_errors_stop_after_max_attempts(client, fake):
    """Repeated 5xx end in AniListUnavailable after exactly max_attempts requests (no storm)."""
    fake.script(*[Fault.server_error(502)] * 10)
    with pytest.raises(AniListUnavailable):
        await client.user_exists("Alice")
    assert fake.requests_total == 3


async def test_api_disabled_is_unavailable_without_retry(client, fake):
    """AniList's 403 "temporarily disabled" means unavailable, and is not retried."""
    fake.script(Fault.disabled())
    with pytest.raises(AniListUnavailable) as raised:
        await client.user_exists("Alice")
    assert "disabled" in raised.value.reason
    assert fake.requests_total == 1


async def test_malformed_json_is_retried_like_a_server_error(client, fake):
    """A truncated body is retried once and then succeeds; repeated ones end in unavailable."""
    fake.script(Fault.malformed())
    assert await client.user_exists("Alice") == "Alice"
    assert fake.requests_total == 2
    fake.script(*[Fault.malformed()] * 3)
    with pytest.raises(AniListUnavailable):
        await client.user_exists("Alice")
    assert fake.requests_total == 5


async def test_answer_slower_than_the_timeout_is_retried(session, fake, limiter):
    """A request hanging past the client's timeout (1 s here) is abandoned and retried."""
    client = AniListClient(session, fake.url, limiter, timeout_s=1.0, backoff_s=0.01)
    fake.script(Fault.slow(1.5))
    started = time.monotonic()
    assert await client.user_exists("Alice") == "Alice"
    assert 1.0 <= time.monotonic() - started < 1.5
    assert fake.requests_total == 2


async def test_429_within_deadline_waits_retry_after_and_succeeds(client, fake):
    """A 429 with Retry-After 1 and 5 s to spare: wait ~1 s, one retry, success."""
    fake.script(Fault.rate_limited(retry_after=1))
    started = time.monotonic()
    assert await client.user_exists("Alice", deadline_s=5) == "Alice"
    assert time.monotonic() - started >= 1.0
    assert fake.requests_total == 2


async def test_429_beyond_deadline_raises_with_retry_time_and_pauses_everyone(client, fake):
    """Retry-After 42 with a 5 s deadline: raise at once with the time; other callers then
    get the same answer without sending anything (the whole limiter is paused)."""
    fake.script(Fault.rate_limited(retry_after=42))
    with pytest.raises(AniListRateLimited) as raised:
        await client.user_exists("Alice", deadline_s=5)
    assert raised.value.retry_after == 42
    assert raised.value.user_message == "AniList is rate-limiting us; try again in 42 s."
    with pytest.raises(AniListRateLimited) as second:
        await client.user_exists("Bob", deadline_s=5)
    assert 40 <= second.value.retry_after <= 42
    assert fake.requests_total == 1


async def test_429_without_retry_after_means_sixty_seconds(client, fake):
    """No Retry-After header: the client assumes AniList's 60 s."""
    fake.script(Fault.rate_limited(retry_after=None))
    with pytest.raises(AniListRateLimited) as raised:
        await client.user_exists("Alice", deadline_s=5)
    assert raised.value.retry_after == 60
    assert client.limiter.paused_for() > 55
    assert fake.requests_total == 1


async def test_repeated_429s_are_bounded_even_without_deadline(client, fake):
    """Background work waits out each 429 but gives up after a bounded number of them."""
    fake.script(*[Fault.rate_limited(retry_after=0.1)] * 10)
    with pytest.raises(AniListRateLimited):
        await client.query("UserExists", USER, {"name": "Alice"}, priority=Priority.BACKGROUND)
    assert fake.requests_total == MAX_RATE_LIMITED_RETRIES + 1


async def test_after_a_429_the_whole_budget_is_back_once_retry_after_has_passed(session, fake):
    """A 429 says "0 left" until its reset. Read as a budget, that shrank ours to one request per
    minute and locked everyone out for 60 s; after Retry-After the full budget must be back."""
    client = AniListClient(session, fake.url, RateLimiter(30), backoff_s=0.01)
    fake.script(Fault.rate_limited(retry_after=1))
    started = time.monotonic()
    assert await client.user_exists("Alice", deadline_s=5) == "Alice"
    names = [f"user{n:02d}" for n in range(1, 6)]
    found = await asyncio.gather(*(client.user_exists(n, deadline_s=5) for n in names))
    assert found == names
    assert time.monotonic() - started < 4


def test_retry_time_comes_from_retry_after_then_the_reset_time_then_sixty_seconds():
    """AniList's 429 may carry Retry-After, only X-RateLimit-Reset (a Unix time), or neither."""
    assert _retry_after({"Retry-After": "2"}) == 2
    reset_in = _retry_after({"X-RateLimit-Reset": str(time.time() + 7)})
    assert 6 <= reset_in <= 7
    assert _retry_after({}) == 60
    assert _retry_after({"Retry-After": "soon"}) == 60


async def test_a_big_answer_is_parsed_off_the_event_loop(monkeypatch):
    """A catalogue page is a megabyte or more: its JSON is parsed in a worker thread, a small
    answer on the loop (a thread hop would cost more than the parse)."""
    from bot.anilist import client as anilist

    threads = []
    real_loads = anilist.json.loads

    def recording_loads(raw, *args, **kwargs):
        threads.append(threading.current_thread())
        return real_loads(raw, *args, **kwargs)

    monkeypatch.setattr(anilist.json, "loads", recording_loads)
    big = json.dumps({"data": {"x": "y" * anilist.PARSE_IN_THREAD_BYTES}}).encode()
    assert (await anilist._parse_json(big))["data"]["x"].startswith("y")
    assert (await anilist._parse_json(b'{"data": {}}')) == {"data": {}}
    assert await anilist._parse_json(b"<html>") is None
    assert threads[0] is not threading.main_thread()
    assert threads[1] is threading.main_thread()
