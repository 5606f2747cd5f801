"""AniList GraphQL client: one per process, every request through one shared RateLimiter.

Retries: 5xx, timeouts, connection errors and malformed JSON are retried with jittered
exponential backoff, `max_attempts` requests in all; a 429 pauses the whole limiter for its
Retry-After (else until its X-RateLimit-Reset, else 60 s), after which the full budget is back,
and is retried at most MAX_RATE_LIMITED_RETRIES times when that fits the caller's deadline;
other 4xx are never retried.
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
import random
import time
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import aiohttp

from bot.anilist.errors import (
    AniListPrivateUser,
    AniListQueryError,
    AniListRateLimited,
    AniListUnavailable,
    AniListUserNotFound,
)
from bot.anilist.queries import USER_QUERY, validate_username
from bot.anilist.rate_limit import Priority, RateLimiter, WaitTooLong

log = logging.getLogger(__name__)

DEFAULT_RETRY_AFTER_S = 60
MAX_RATE_LIMITED_RETRIES = 2
# Bodies at least this big are parsed in a thread (see _parse_json).
PARSE_IN_THREAD_BYTES = 64 * 1024


@dataclass(frozen=True, slots=True)
class AniListAccount:
    name: str  # AniList's spelling
    title_language: str | None  # its UserTitleLanguage, e.g. "ENGLISH"; None if not given


class _Transient(Exception):
    """A failure worth retrying: 5xx, timeout, connection error, malformed JSON."""


class _Throttled(Exception):
    def __init__(self, retry_after: float) -> None:
        super().__init__(f"429, retry after {retry_after} s")
        self.retry_after = retry_after


class AniListClient:
    def __init__(
        self,
        session: aiohttp.ClientSession,
        url: str,
        limiter: RateLimiter,
        *,
        timeout_s: float = 20.0,
        max_attempts: int = 3,
        backoff_s: float = 1.0,
    ) -> None:
        self._session = session
        self._url = url
        self.limiter = limiter
        self._timeout_s = timeout_s
        self._max_attempts = max_attempts
        self._backoff_s = backoff_s
        # Requests by outcome since start (see _outcome), read by the metrics at scrape time.
        self.outcomes: Counter[str] = Counter()

    async def user_exists(self, name: str, *, deadline_s: float | None = None) -> str:
        """AniList's spelling of the name (one cheap `User(name:)` query); raises
        InvalidUsername before any request, AniListUserNotFound when there is no such user."""
        return (await self.find_user(name, deadline_s=deadline_s)).name

    async def find_user(self, name: str, *, deadline_s: float | None = None) -> AniListAccount:
        """The account behind the name, as user_exists finds it (the same one request)."""
        name = validate_username(name)
        data = await self.query(
            "UserExists", USER_QUERY, {"name": name}, deadline_s=deadline_s, username=name
        )
        user = data.get("User")
        if not user:
            raise AniListUserNotFound(name)
        options = user.get("options") or {}
        return AniListAccount(user["name"], options.get("titleLanguage"))

    async def query(
        self,
        operation: str,
        query: str,
        variables: Mapping[str, Any],
        *,
        priority: Priority = Priority.INTERACTIVE,
        deadline_s: float | None = None,
        username: str | None = None,
    ) -> dict[str, Any]:
        """The response's `data`, or the AniList error it stands for (bot.anilist.errors).

        `deadline_s` is how long the caller can wait, in seconds from now (None: as long as it
        takes, for background work); `priority` orders the wait for the shared rate budget;
        `username` is the user the query is about, named in "not found" / "private" errors.
        """
        deadline = None if deadline_s is None else time.monotonic() + deadline_s
        payload = {"query": query, "variables": dict(variables), "operationName": operation}
        failures = 0
        throttled = 0
        # Bounded: every pass either returns, raises, or counts one failure or one 429.
        while True:
            try:
                async with self.limiter.slot(priority, deadline):
                    status, headers, raw = await self._post(payload, deadline)
                if status == 429:
                    raise _Throttled(_retry_after(headers))
                if status >= 500:
                    raise _Transient(f"HTTP {status}")
                return self._interpret(operation, status, await _parse_json(raw), username)
            except WaitTooLong as wait:
                self.outcomes["budget_exhausted"] += 1  # never sent: the caller cannot wait
                raise AniListRateLimited(wait.seconds) from None
            except _Throttled as answer:
                throttled += 1
                log.warning(
                    "AniList answered 429 to %s; pausing %s s", operation, answer.retry_after
                )
                self.limiter.pause(answer.retry_after)
                if throttled > MAX_RATE_LIMITED_RETRIES:
                    raise AniListRateLimited(answer.retry_after) from None
            except _Transient as failure:
                failures += 1
                delay = self._backoff_s * 2 ** (failures - 1) * random.uniform(0.5, 1.5)
                out_of_time = deadline is not None and time.monotonic() + delay > deadline
                if failures >= self._max_attempts or out_of_time:
                    log.warning("AniList failed %s %d times (%s)", operation, failures, failure)
                    raise AniListUnavailable(str(failure)) from None
                log.info("AniList %s failed (%s); retrying in %.1f s", operation, failure, delay)
                await asyncio.sleep(delay)

    async def _post(
        self, payload: dict[str, Any], deadline: float | None
    ) -> tuple[int, Mapping[str, str], bytes]:
        timeout = self._timeout_s
        if deadline is not None:
            # Past the caller's deadline the answer is useless; keep a floor so it can arrive.
            timeout = max(1.0, min(timeout, deadline - time.monotonic()))
        sent_at = time.monotonic()
        try:
            async with self._session.post(
                self._url, json=payload, timeout=aiohttp.ClientTimeout(total=timeout)
            ) as response:
                raw = await response.read()
                # A 429's "0 left" holds only until its reset time, which pause() covers;
                # read as a budget it would shrink ours to one request a minute.
                if response.status != 429:
                    self._observe_remaining(response.headers, sent_at)
                self.outcomes[_outcome(response.status)] += 1
                return response.status, response.headers, raw
        except (TimeoutError, aiohttp.ClientError) as error:
            self.outcomes["timeout" if isinstance(error, TimeoutError) else "connection_error"] += 1
            raise _Transient(type(error).__name__) from error

    def _observe_remaining(self, headers: Mapping[str, str], sent_at: float) -> None:
        try:
            remaining = int(headers["X-RateLimit-Remaining"])
        except (KeyError, ValueError):
            return
        self.limiter.observe_remaining(remaining, sent_at)

    def _interpret(
        self, operation: str, status: int, body: Any, username: str | None
    ) -> dict[str, Any]:
        """The data of a non-429, non-5xx answer, or the error it stands for."""
        if not isinstance(body, dict):
            if status < 400:
                raise _Transient(f"malformed JSON (HTTP {status})")
            body = {}
        errors = [e for e in body.get("errors") or () if isinstance(e, dict)]
        messages = [str(e.get("message", "")) for e in errors]
        if status == 403:
            # AniList answers 403 when the API is switched off ("temporarily disabled").
            raise AniListUnavailable("; ".join(messages) or "HTTP 403")
        for error, message in zip(errors, messages, strict=True):
            if message == "User not found":
                raise AniListUserNotFound(username)
            if message == "Private User":
                raise AniListPrivateUser(username)
            if isinstance(error.get("status"), int) and error["status"] >= 500:
                raise _Transient(f"error {error['status']}: {message}")
        if errors or status >= 400:
            failure = AniListQueryError(operation, messages or [f"HTTP {status}"])
            log.error("%s", failure)
            raise failure
        data = body.get("data")
        if not isinstance(data, dict):
            raise _Transient("response without data")
        return data


def _outcome(status: int) -> str:
    """A request's outcome by its HTTP status: ok, rate_limited, client_error, server_error."""
    if status == 429:
        return "rate_limited"
    if status >= 500:
        return "server_error"
    return "client_error" if status >= 400 else "ok"


async def _parse_json(raw: bytes) -> Any:
    """The parsed body, or None when it is not JSON. A catalogue page or a long list is a
    megabyte or more, which takes tens of milliseconds to parse: that happens in a thread, so
    the event loop keeps answering Discord."""
    try:
        if len(raw) < PARSE_IN_THREAD_BYTES:
            return json.loads(raw)
        return await asyncio.to_thread(json.loads, raw)
    except ValueError:
        return None


def _retry_after(headers: Mapping[str, str]) -> float:
    """How long a 429 asks everyone to wait: Retry-After, else until X-RateLimit-Reset (a Unix
    time), else AniList's documented 60 s."""
    for name, to_seconds in (
        ("Retry-After", lambda value: value),
        ("X-RateLimit-Reset", lambda value: value - time.time()),
    ):
        try:
            seconds = to_seconds(float(headers[name]))
        except (KeyError, ValueError):
            continue
        if math.isfinite(seconds) and 0 <= seconds <= 3600:
            return seconds
    return DEFAULT_RETRY_AFTER_S
