"""The catalogue: AniList's most popular titles per type, built in the background, resumable.

API:
    CatalogueBuilder(client: AniListClient, db: Database, size: int, max_age_days: float)
    await builder.run()
        Builds (or resumes, or refreshes when older than `max_age_days`) the ANIME then the
        MANGA catalogue; titles land in table `media` with in_catalogue = 1 as they arrive, so
        /recommend works on what is there while the build goes on. Requests are background
        priority: people's requests go first. Cancelling the task stops it cleanly; the next
        run() resumes from the last stored batch (table catalogue_builds). When AniList is down
        or keeps rate-limiting us, run() logs it and returns; the next run() resumes.
    builder.progress: dict media type -> (titles fetched, target)
    catalogue_query(pages: range) -> str        the query for several pages at once
    PAGES_PER_REQUEST                           how many pages fit in one request

Each request asks for as many aliased `Page` fields as fit under AniList's query complexity
limit (500, counted as requested fields per alias), each page 50 titles, sorted by popularity,
adult titles left out. Page depth (page * perPage) stays within AniList's 5,000 limit because
the catalogue never holds more than 5,000 titles per type.
"""

from __future__ import annotations

import logging
import math
import time

from bot.anilist import (
    MAX_COMPLEXITY,
    MAX_PAGE_DEPTH,
    MAX_PER_PAGE,
    MEDIA_FIELDS,
    MEDIA_TYPES,
    AniListClient,
    AniListRateLimited,
    AniListUnavailable,
    Field,
    count_fields,
    fields,
    render,
)
from bot.media_store import CatalogueBuild, MediaStore
from bot.rate_limit import Priority
from bot.storage import Database

log = logging.getLogger(__name__)

RECOMMENDATIONS_PER_TITLE = 10

CATALOGUE_MEDIA_FIELDS = (
    *MEDIA_FIELDS,
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


class CatalogueBuilder:
    def __init__(self, client: AniListClient, db: Database, size: int, max_age_days: float) -> None:
        self._client = client
        self._store = MediaStore(db)
        # Beyond 5,000 titles AniList refuses the pages (page depth).
        self.size = max(0, min(size, MAX_PAGE_DEPTH))
        self._max_age_s = max_age_days * 86400
        self.progress: dict[str, tuple[int, int]] = {}
        self.updated: set[str] = set()  # media types whose stored catalogue this run changed

    async def run(self) -> None:
        if self.size == 0:  # CATALOGUE_SIZE=0: recommend from users' lists only
            return
        for media_type in MEDIA_TYPES:
            try:
                await self.build(media_type)
            except (AniListUnavailable, AniListRateLimited) as error:
                log.warning(
                    "catalogue build stopped at %s (%s); the next start resumes it",
                    media_type,
                    error.user_message,
                )
                return

    async def build(self, media_type: str) -> None:
        build = await self._store.catalogue_build(media_type)
        if not self._needs_work(build):
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
            titles, exhausted = [], False
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
            self.updated.add(media_type)
            self._report(media_type, build)

    def _needs_work(self, build: CatalogueBuild | None) -> bool:
        if build is None or build.target != self.size or build.completed_at is None:
            return True
        return time.time() - build.completed_at >= self._max_age_s

    def _report(self, media_type: str, build: CatalogueBuild) -> None:
        self.progress[media_type] = (build.fetched, build.target)
        log.info("catalogue %s %s/%s", media_type, f"{build.fetched:,}", f"{build.target:,}")
