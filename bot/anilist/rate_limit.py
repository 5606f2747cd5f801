"""One AniList request budget for the whole process, shared by every caller.

The budget is `per_minute` requests per rolling `window_seconds` (tests use a short window).
A burst may spend the whole budget at once. People waiting (Priority.INTERACTIVE) go first;
background work only takes a slot when no person waits and `background_reserve` slots
(default a tenth of the budget, at least one) stay free for people who may arrive.
"""

from __future__ import annotations

import asyncio
import bisect
import enum
import time
from collections import deque
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager


class Priority(enum.IntEnum):
    INTERACTIVE = 0
    BACKGROUND = 1


class WaitTooLong(Exception):
    """The wait for a slot would end after the caller's deadline."""

    def __init__(self, seconds: float) -> None:
        super().__init__(f"the next request slot is {seconds:.1f} s away")
        self.seconds = seconds


class RateLimiter:
    def __init__(
        self,
        per_minute: int,
        window_seconds: float = 60.0,
        *,
        background_reserve: int | None = None,
    ) -> None:
        if per_minute < 1 or window_seconds <= 0:
            raise ValueError("the budget needs at least one request per positive window")
        self.per_window = per_minute
        self.capacity = per_minute  # what the server's headers last let us believe
        self.window_seconds = window_seconds
        self.background_reserve = (
            max(1, per_minute // 10) if background_reserve is None else background_reserve
        )
        self._expiries: list[float] = []  # sorted: when each finished request leaves the window
        self._in_flight = 0
        self._paused_until = 0.0
        self.paused_seconds = 0.0  # in all, since start: time added to pauses by 429s
        self._waiting: dict[Priority, deque[object]] = {p: deque() for p in Priority}
        self._changed = asyncio.Event()

    # -- what callers use -----------------------------------------------------------------

    @asynccontextmanager
    async def slot(self, priority: Priority, deadline: float | None) -> AsyncIterator[None]:
        """Hold one slot of the rolling window while the request runs.

        `deadline` is a time.monotonic() value (None: wait as long as it takes). Raises
        WaitTooLong(seconds) at once when the wait cannot end before the deadline. The slot
        counts from when it is granted until the request ends, then for one more window: the
        server saw the request somewhere in between, so our window is never shorter than its.
        """
        await self._acquire(priority, deadline)
        try:
            yield
        finally:
            self._in_flight -= 1
            bisect.insort(self._expiries, time.monotonic() + self.window_seconds)
            self._notify()

    def pause(self, seconds: float) -> None:
        """After a 429: nobody sends for `seconds`; then the whole budget is back, until the next
        answer's X-RateLimit-Remaining says otherwise."""
        now = time.monotonic()
        until = max(self._paused_until, now + seconds)
        # Overlapping pauses count once: only the time this one adds past the current pause.
        self.paused_seconds += until - max(self._paused_until, now)
        self._paused_until = until
        self.capacity = self.per_window
        self._notify()

    def observe_remaining(self, remaining: int, sent_at: float) -> None:
        """Read X-RateLimit-Remaining of a request sent at `sent_at` (its slot still held).

        The budget becomes this request, plus ours that had finished when it was sent and are
        still in the window, plus what the server says is left (never above `per_minute`, never
        below 1): it shrinks when others share our quota or AniList lowers its limit, and grows
        back when the server has room.
        """
        # The server had certainly counted this request and ours that finished before it was
        # sent (`sent_at`, a time.monotonic() value); ours still in flight then may or may not
        # be counted, so leave them out: guessing the limit low costs a short wait, guessing
        # it high costs 429s. The floor of one keeps a request going now and then, whose
        # answer tells us when there is room again.
        self._used(time.monotonic())  # drops expired slots
        seen_by_server = bisect.bisect_left(self._expiries, sent_at + self.window_seconds) + 1
        self.capacity = max(1, min(self.per_window, seen_by_server + max(0, remaining)))
        self._notify()

    def paused_for(self) -> float:
        return max(0.0, self._paused_until - time.monotonic())

    def free_slots(self) -> int:
        return self._free(time.monotonic())

    def waiting(self, priority: Priority) -> int:
        """How many callers of this priority wait for a slot now."""
        return len(self._waiting[priority])

    # -- internals ------------------------------------------------------------------------

    def _used(self, now: float) -> int:
        expired = bisect.bisect_right(self._expiries, now)
        del self._expiries[:expired]
        return len(self._expiries) + self._in_flight

    def _free(self, now: float) -> int:
        return self.capacity - self._used(now)

    def _wait_estimate(self, priority: Priority, position: int, now: float) -> tuple[float, bool]:
        """(seconds until a slot is ours, whether that figure is exact or only a lower bound).

        `position` is the number of waiters of the same priority ahead of us; they get the
        first free slots, so we need one more than they do.
        """
        paused = max(0.0, self._paused_until - now)
        needed = position + 1
        if priority is Priority.BACKGROUND:
            if self._waiting[Priority.INTERACTIVE]:
                return max(paused, 0.0), False
            # With a budget of one, a reserve would starve background work forever.
            needed += min(self.background_reserve, self.capacity - 1)
        missing = needed - self._free(now)
        if missing <= 0:
            return paused, True
        if missing <= len(self._expiries):
            return max(paused, self._expiries[missing - 1] - now), True
        # Slots held by requests still in flight free up one window after those end.
        return max(paused, self.window_seconds), False

    async def _acquire(self, priority: Priority, deadline: float | None) -> None:
        me = object()
        queue = self._waiting[priority]
        queue.append(me)
        try:
            while True:
                now = time.monotonic()
                wait, exact = self._wait_estimate(priority, queue.index(me), now)
                if wait <= 0 and exact:
                    self._in_flight += 1
                    return
                if deadline is not None and now + wait > deadline:
                    raise WaitTooLong(wait)
                # Sleep until the estimate is due or something changes, then look again.
                # A lower bound is no wake-up time: wait for a change (or the deadline) instead.
                timeout = wait if exact else None
                if deadline is not None:
                    timeout = deadline - now if timeout is None else min(timeout, deadline - now)
                changed = self._changed
                try:
                    async with asyncio.timeout(timeout):
                        await changed.wait()
                except TimeoutError:
                    pass
        finally:
            queue.remove(me)
            self._notify()

    def _notify(self) -> None:
        self._changed.set()
        self._changed = asyncio.Event()
