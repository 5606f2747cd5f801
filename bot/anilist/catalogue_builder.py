"""The catalogue: AniList's most popular titles per type, built in the background, resumable.

CatalogueBuilder does one pass (build, resume or refresh each type); CatalogueKeeper owns the
loop that runs passes for as long as the bot runs: it retries a failed or partial pass with
bounded, jittered backoff and refreshes a catalogue once it is older than its maximum age.

Each request asks for as many aliased `Page` fields as fit under AniList's query complexity
limit (500, counted as requested fields per alias), each page 50 titles, sorted by popularity.
Page depth (page * perPage) stays within AniList's 5,000 limit because the catalogue never
holds more than 5,000 titles per type.
"""

from __future__ import annotations

import asyncio
import logging
import math
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from bot.anilist.client import AniListClient
from bot.anilist.errors import AniListRateLimited, AniListUnavailable
from bot.anilist.queries import (
    MAX_COMPLEXITY,
    MAX_PAGE_DEPTH,
    MAX_PER_PAGE,
    MEDIA_FIELDS,
    MEDIA_TYPES,
    Field,
    count_fields,
    fields,
    render,
)
from bot.anilist.rate_limit import Priority
from bot.storage import Database
from bot.storage.media import CatalogueBuild, MediaStore

log = logging.getLogger(__name__)

RECOMMENDATIONS_PER_TITLE = 10

# Only the catalogue asks for what /similar needs beyond ranking a list: synonyms, which title
# search matches, and the community recommendations (list queries ask for neither).
CATALOGUE_MEDIA_FIELDS = (
    *MEDIA_FIELDS,
    Field("synonyms"),
    Field(
        f"recommendations(sort: [RATING_DESC], perPage: {RECOMMENDATIONS_PER_TITLE})",
        fields(Field("nodes", fields("rating", Field("mediaRecommendation", fields("id"))))),
    ),
)
# Adult titles stay in: age-restricted channels may be shown them; the recommender filters
# them out everywhere else.
MEDIA_ARGUMENTS = "type: $type, sort: [POPULARITY_DESC]"


def _page_selection(page: int) -> Field:
    return Field(
        f"p{page}: Page(page: {page}, perPage: $perPage)",
        (
            Field("pageInfo", fields("hasNextPage")),
            Field(f"media({MEDIA_ARGUMENTS})", CATALOGUE_MEDIA_FIELDS),
        ),
    )


PAGE_COMPLEXITY = count_fields((_page_selection(1),))
PAGES_PER_REQUEST = MAX_COMPLEXITY // PAGE_COMPLEXITY


def catalogue_query(pages: range) -> str:
    selection = render(_page_selection(page) for page in pages)
    return f"query Catalogue($type: MediaType, $perPage: Int) {{ {selection} }}"


# Called after each stored batch with (media type, titles stored so far in this build, whether
# this batch completed the build).
BatchCallback = Callable[[str, int, bool], Awaitable[None]]


class CatalogueBuilder:
    def __init__(
        self,
        client: AniListClient,
        db: Database,
        size: int,
        max_age_days: float,
        on_batch: BatchCallback | None = None,
    ) -> None:
        self._client = client
        self._store = MediaStore(db)
        # Beyond 5,000 titles AniList refuses the pages (page depth).
        self.size = max(0, min(size, MAX_PAGE_DEPTH))
        self.max_age_s = max_age_days * 86400
        self._on_batch = on_batch
        self.progress: dict[str, tuple[int, int]] = {}
        self.batches = 0  # stored by this builder, over all its passes

    async def run(self) -> bool:
        """One pass over both types: build, resume or refresh what needs it.

        Titles land in table `media` (in_catalogue = 1) batch by batch, so they serve while the
        build goes on; requests are background priority, so people's requests go first.
        Returns True when every catalogue is complete and fresh. When AniList is down or keeps
        rate-limiting us it logs that and returns False; the next pass resumes where this one
        stopped (table catalogue_builds). Cancelling it loses nothing that was stored.
        """
        if self.size == 0:  # CATALOGUE_SIZE=0: recommend from users' lists only
            return True
        for media_type in MEDIA_TYPES:
            try:
                await self.build(media_type)
            except (AniListUnavailable, AniListRateLimited) as error:
                log.warning(
                    "catalogue build stopped at %s (%s); it resumes on the next attempt",
                    media_type,
                    error.user_message,
                )
                return False
        return True

    async def next_due_in(self) -> float:
        """Seconds until the oldest complete catalogue is due for a refresh (0: now)."""
        due = []
        for media_type in MEDIA_TYPES:
            build = await self._store.catalogue_build(media_type)
            if build is None or build.completed_at is None:
                return 0.0
            due.append(build.completed_at + self.max_age_s - time.time())
        return max(0.0, min(due, default=0.0))

    async def build(self, media_type: str) -> None:
        build = await self._store.catalogue_build(media_type)
        if build is not None and not self._needs_work(build):
            self.progress[media_type] = (build.fetched, build.target)
            return
        if build is None or build.completed_at is not None or build.target != self.size:
            build = await self._store.start_catalogue_build(media_type, self.size, time.time())
        else:
            log.info("catalogue %s: resuming at page %d", media_type, build.next_page)
        per_page = min(MAX_PER_PAGE, max(1, build.target))
        last_page = math.ceil(build.target / per_page)
        self._report(media_type, build)
        # Bounded: each pass moves next_page forward by at least one.
        while build.next_page <= last_page and build.completed_at is None:
            pages = range(build.next_page, min(build.next_page + PAGES_PER_REQUEST, last_page + 1))
            data = await self._client.query(
                "Catalogue",
                catalogue_query(pages),
                {"type": media_type, "perPage": per_page},
                priority=Priority.BACKGROUND,
            )
            titles: list[dict[str, Any]] = []
            exhausted = False
            for page in pages:
                result = data.get(f"p{page}") or {}
                titles.extend(m for m in result.get("media") or () if m)
                if not (result.get("pageInfo") or {}).get("hasNextPage"):
                    exhausted = True
                    break
            titles = titles[: build.target - build.fetched]
            fetched = build.fetched + len(titles)
            done = exhausted or fetched >= build.target or pages.stop > last_page
            build = await self._store.save_catalogue_batch(
                build, titles, pages.stop, fetched, time.time() if done else None
            )
            self.batches += 1
            self._report(media_type, build)
            if self._on_batch is not None:
                await self._on_batch(media_type, fetched, done)

    def _needs_work(self, build: CatalogueBuild | None) -> bool:
        if build is None or build.target != self.size or build.completed_at is None:
            return True
        return time.time() - build.completed_at >= self.max_age_s

    def _report(self, media_type: str, build: CatalogueBuild) -> None:
        self.progress[media_type] = (build.fetched, build.target)
        log.info("catalogue %s %s/%s", media_type, f"{build.fetched:,}", f"{build.target:,}")


@dataclass(frozen=True, slots=True)
class CatalogueStatus:
    """What a person may be told about one type's catalogue."""

    fetched: int
    target: int
    complete: bool
    failing: bool  # the last attempt failed; the keeper is waiting to try again


# Retry delays after failed passes: short at first, so a catalogue arrives soon after AniList
# answers again, and never longer than a minute, so recovery takes at most about two.
RETRY_FIRST_S = 2.0
RETRY_MAX_S = 60.0
# A complete catalogue is looked at again at least this often (it may have been made stale by
# a clock jump or a manual database change).
RECHECK_MAX_S = 6 * 3600.0


class CatalogueKeeper:
    """Keeps the catalogue built and fresh while the bot runs: one background task.

    `start()` begins the loop (call it from setup_hook); `stop()` cancels it (from close()).
    """

    def __init__(self, builder: CatalogueBuilder) -> None:
        self.builder = builder
        self._failing = False
        self._batches_at_failure = 0
        self._complete = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._keep(), name="catalogue-keeper")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None

    def status(self, media_type: str) -> CatalogueStatus:
        fetched, target = self.builder.progress.get(media_type, (0, self.builder.size))
        complete = self._complete.is_set() or (target > 0 and fetched >= target)
        # A batch stored since the last failed pass means AniList answers again.
        failing = self._failing and self.builder.batches == self._batches_at_failure
        return CatalogueStatus(fetched, target, complete, failing)

    def has_completed(self) -> bool:
        """True once a pass has found every catalogue complete and fresh."""
        return self._complete.is_set()

    async def wait_complete(self) -> None:
        """Until a pass has found every catalogue complete and fresh (once is enough: a later
        refresh replaces titles in place)."""
        await self._complete.wait()

    async def _keep(self) -> None:
        failures = 0
        while True:
            try:
                complete = await self.builder.run()
            except Exception:
                log.exception("catalogue pass failed; trying again later")
                complete = False
            self._failing = not complete
            self._batches_at_failure = self.builder.batches
            if complete:
                failures = 0
                self._complete.set()
                # At least a minute apart, even with CATALOGUE_MAX_AGE_DAYS=0.
                delay = max(RETRY_MAX_S, min(await self.builder.next_due_in(), RECHECK_MAX_S))
            else:
                failures += 1
                delay = min(RETRY_MAX_S, RETRY_FIRST_S * 2 ** (failures - 1))
                delay *= random.uniform(0.75, 1.25)
                log.info("catalogue: next attempt in %.0f s", delay)
            await asyncio.sleep(delay)
