"""The models being served: one Recommender per media type, fitted in a child process
(bot.services.model_build) and mapped from the file it writes, in the background.

The bot logs in first; a restart serves the previous fitted state at once while a fresh build
runs; the model is rebuilt as the catalogue lands and lists arrive, one build per type at a
time, and a build asked for while one runs is served by one more build after it.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from bot.anilist import MEDIA_TYPES
from bot.config import Settings
from bot.services.children import ChildJobs
from bot.services.model_build import BuildResult, build_job, fitted_path
from bot.storage import MediaStore
from model import Recommender, load_latest
from model.fitted import load_fitted

log = logging.getLogger(__name__)

# While the catalogue arrives, rebuild when it has grown by half since the last build: the first
# titles serve at once, and a 5,000-title build costs a handful of rebuilds, not one per batch.
REBUILD_AFTER_CATALOGUE_GROWTH = 1.5
# How far a model build has got, for the "warming up" sentence.
STAGE_DONE = {"waiting": 0.0, "building": 0.2, "loading": 0.9, "ready": 1.0}


@dataclass(slots=True)
class ServingState:
    """One media type's serving model and what its last build saw."""

    model: Recommender | None = None
    version: int = 0
    stage: str = "waiting"  # of the build under way, or "ready"
    built_at: float = 0.0
    lists_at_build: int = 0
    titles_at_build: int = 0
    rebuild: asyncio.Task | None = None
    dirty: bool = False  # asked to rebuild while a rebuild ran: run one more
    last_build: BuildResult | None = None


class ModelServing:
    """Builds, loads and hands out each media type's serving model."""

    def __init__(self, settings: Settings, media: MediaStore, children: ChildJobs) -> None:
        self.settings = settings
        self.media = media
        self._children = children
        self._states = {media_type: ServingState() for media_type in MEDIA_TYPES}
        # Loading fitted state and checkpoints: one at a time, on a pool of its own that close()
        # abandons rather than waits for (asyncio.run would wait for the default pool).
        self._loader = ThreadPoolExecutor(max_workers=1, thread_name_prefix="anime8-load")

    def state(self, media_type: str) -> ServingState:
        return self._states[media_type]

    def warm_percent(self) -> int:
        """How far the first builds of all types have got, for the "warming up" sentence."""
        stages = [STAGE_DONE[s.stage] for s in self._states.values()]
        return round(100 * sum(stages) / len(stages))

    def is_building(self, media_type: str) -> bool:
        """Whether a build of this type's model is running or asked for."""
        return self._states[media_type].rebuild is not None

    def last_build(self, media_type: str) -> BuildResult | None:
        """What the last finished build of this type fitted on, and what it cost."""
        return self._states[media_type].last_build

    def model_version(self, media_type: str) -> int:
        return self._states[media_type].version

    def serving_model(self, media_type: str) -> Recommender | None:
        """The model serving this type now (None while the first build runs)."""
        return self._states[media_type].model

    def start(self) -> None:
        """Build every type's model in the background from what is stored (and the latest
        checkpoints), serving the previous build's fitted state meanwhile where there is one."""
        for media_type in MEDIA_TYPES:
            self.request_rebuild(media_type)

    async def wait_idle(self) -> None:
        """Until no rebuild is running or asked for."""
        while tasks := [s.rebuild for s in self._states.values() if s.rebuild is not None]:
            await asyncio.gather(*tasks, return_exceptions=True)

    async def close(self) -> None:
        """Cancel the builds under way (their children are ended by the ChildJobs owner)."""
        tasks = [s.rebuild for s in self._states.values() if s.rebuild is not None]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._loader.shutdown(wait=False, cancel_futures=True)
        gc.unfreeze()  # what was frozen may be garbage now (a process may start another bot)

    async def install(self, media_type: str, version: int) -> None:
        """Load checkpoint `version` into the model serving `media_type`."""
        state = self._states[media_type]
        if state.model is None:  # not built yet: its first build loads the newest checkpoint
            return
        loop = asyncio.get_running_loop()
        loaded = await loop.run_in_executor(
            self._loader, load_latest, self.settings.models_dir, media_type, state.model
        )
        if loaded != version:
            raise RuntimeError(f"checkpoint v{version} did not load (got {loaded})")
        state.version = version

    def request_rebuild(self, media_type: str) -> None:
        """Rebuild one type's model soon, in the background; never blocks a request. A request
        made while a rebuild runs is served by one more rebuild after it."""
        state = self._states[media_type]
        if state.rebuild is not None:
            state.dirty = True
            return
        state.rebuild = asyncio.create_task(self._rebuild_while_asked(media_type))

    async def catalogue_grew(self, media_type: str, fetched: int, done: bool) -> None:
        """The catalogue builder stored a batch: rebuild when the new titles are worth it."""
        state = self._states[media_type]
        if done or fetched >= REBUILD_AFTER_CATALOGUE_GROWTH * max(1, state.titles_at_build):
            self.request_rebuild(media_type)

    async def _rebuild_while_asked(self, media_type: str) -> None:
        state = self._states[media_type]
        try:
            if state.model is None:
                await self._serve_previous(media_type)
            while True:
                state.dirty = False
                try:
                    await self._rebuild(media_type)
                except Exception:
                    log.exception(
                        "building the %s model failed; the previous one keeps serving", media_type
                    )
                if not state.dirty:
                    return
        finally:
            state.rebuild = None
            if state.model is None:
                state.stage = "waiting"

    async def _serve_previous(self, media_type: str) -> None:
        """Serve the fitted state the last build left, if any, until the new build is done."""
        path = fitted_path(self.settings.models_dir, media_type)
        if not path.exists():
            return
        state = self._states[media_type]
        state.stage = "loading"
        try:
            model, version = await self._load(media_type)
        except (OSError, ValueError) as error:
            log.warning("not serving the previous %s model (%s); building anew", media_type, error)
            return
        self._serve(media_type, model, version, lists=model.collab.n_users if model.collab else 0)
        state.built_at = 0.0  # still due for a refresh as soon as lists arrive

    async def _rebuild(self, media_type: str) -> None:
        state = self._states[media_type]
        if await self.media.catalogue_count(media_type) == 0:
            # Nothing to fit (a first start): an empty model says "still fetching" at once.
            self._serve(media_type, Recommender([]), 0, lists=0)
            return
        if state.model is None:
            state.stage = "building"
        settings = self.settings
        built: BuildResult = await self._children.run(
            build_job,
            settings.database_path,
            settings.models_dir,
            media_type,
            name=f"anime8-build-{media_type.lower()}",
        )
        if state.model is None:
            state.stage = "loading"
        model, version = await self._load(media_type)
        self._serve(media_type, model, version, lists=built.lists)
        state.last_build = built
        log.info(
            "%s model ready: version %d, %d titles, %d lists, %d ratings, fitted in %.1f s"
            " (peak %d MiB)",
            media_type,
            version,
            built.titles,
            built.lists,
            built.ratings,
            built.seconds,
            built.peak_rss // 2**20,
        )

    async def _load(self, media_type: str) -> tuple[Recommender, int]:
        """The fitted state of one type, with the newest checkpoint's net (version 0: none)."""
        models_dir = self.settings.models_dir

        def load() -> tuple[Recommender, int]:
            model = load_fitted(fitted_path(models_dir, media_type))
            # Title search and /similar's vectors, built here rather than on the first keystroke.
            model.prepare_lookups()
            return model, load_latest(models_dir, media_type, model) or 0

        return await asyncio.get_running_loop().run_in_executor(self._loader, load)

    def _serve(self, media_type: str, model: Recommender, version: int, *, lists: int) -> None:
        state = self._states[media_type]
        state.model, state.version, state.stage = model, version, "ready"
        # A model is a few hundred thousand long-lived objects (names, lookups) that every
        # full collection would walk, holding the GIL for a tenth of a second or more on the
        # loop. Frozen, they are left out; the old model is still freed by its refcount.
        gc.freeze()
        state.built_at = time.monotonic()
        state.lists_at_build = lists
        state.titles_at_build = len(model.catalogue)
