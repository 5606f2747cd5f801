"""The recommendation service: joins AniList lists, stored ratings and the model.

It owns one Recommender per media type. Each is fitted in a child process from what is stored
(bot.model_build) and mapped from the file the child writes, in the background: the bot logs in
first and says "warming up" meanwhile, a restart serves the previous fitted state at once, and
the model is rebuilt as the catalogue lands and lists arrive. Scoring runs in worker threads and
training in a child process, so the event loop keeps answering Discord; a retrained net
replaces the old one only when it scored better and its checkpoint is on disk.
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
import random
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from bot.anilist import MEDIA_TYPES, validate_username
from bot.catalogue import CatalogueStatus
from bot.children import ChildJobs
from bot.config import Settings
from bot.errors import UserFacingError
from bot.media_store import MediaStore
from bot.model_build import BuildResult, build_job, fitted_path
from bot.storage import Database, WriteGuard
from bot.training_job import TrainingResult, train_job
from bot.user_lists import UserListService
from model import PreferencesError, Recommender, load_latest, parse_preferences
from model.fitted import load_fitted

log = logging.getLogger(__name__)

# How long a person waits for AniList before we say "try again later" (Discord allows 15 min
# for a deferred reply, but nobody waits that long in chat).
LIST_DEADLINE_S = 20.0
# Rebuild the collaborative state when this many lists arrived since the last build.
REFRESH_AFTER_NEW_LISTS = 5
REFRESH_MIN_INTERVAL_S = 120.0
# While the catalogue arrives, rebuild when it has grown by half since the last build: the first
# titles serve at once, and a 5,000-title build costs a handful of rebuilds, not one per batch.
REBUILD_AFTER_CATALOGUE_GROWTH = 1.5
# Automatic training: when the stored lists and ratings of a type grew by a quarter, or by 50,
# since the last training, and at most this often.
AUTO_TRAIN_GROWTH = 0.25
AUTO_TRAIN_GROWTH_LISTS = 50
AUTO_TRAIN_MIN_INTERVAL_S = 3 * 3600.0
AUTO_TRAIN_CHECK_EVERY_S = 600.0
TRAINED_ON_KEY = "trained_on:"  # meta key + media type -> JSON {"at", "lists", "ratings"}
# How far a model build has got, for the "warming up" sentence.
STAGE_DONE = {"waiting": 0.0, "building": 0.2, "loading": 0.9, "ready": 1.0}


@dataclass(frozen=True, slots=True)
class RecommendationResult:
    username: str | None
    picks: list[dict]  # {"media_id", "score", "reason"}, JSON-ready
    media: dict[int, dict]


@dataclass(frozen=True, slots=True)
class TrainingReport:
    media_type: str
    result: TrainingResult
    seconds: float

    def summary(self) -> str:
        """What the owner reads when training ends."""
        r = self.result
        kind = self.media_type.lower()
        head = (
            f"Trained a new {kind} net on {r.samples:,} samples ({r.lists:,} lists, "
            f"{r.ratings:,} ratings) in {self.seconds:.1f} s; final loss {r.final_loss:.4f}."
        )
        if math.isnan(r.ndcg_before) or math.isnan(r.ndcg_after):
            return (
                f"{head} Too few people have held-out ratings to tell whether it is better, "
                f"so {_serving_name(r.version)} stays."
            )
        figures = f"held-out NDCG@10 {r.ndcg_before:.4f} before, {r.ndcg_after:.4f} after"
        if r.improved:
            return f"{head} It ranks better ({figures}). Now serving model version {r.version}."
        return f"{head} It does not rank better ({figures}), so {_serving_name(r.version)} stays."


ProgressCallback = Callable[[str], Awaitable[None]]


def _serving_name(version: int) -> str:
    return f"model version {version}" if version else "the untrained model"


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


class WarmingUp(UserFacingError):
    def __init__(self, percent: int) -> None:
        super().__init__(
            f"I'm warming up after a restart ({percent}% done); try again in a few seconds."
        )


class CatalogueNotReady(UserFacingError):
    def __init__(self, media_type: str, status: CatalogueStatus | None) -> None:
        kind = media_type.lower()
        if status is None:
            message = f"I don't have any {kind} titles to recommend from yet."
        elif status.failing and status.fetched == 0:
            message = (
                f"AniList isn't answering, so I couldn't fetch its {kind} catalogue yet. "
                "I keep trying; please try again in a few minutes."
            )
        else:
            message = (
                f"I'm still fetching AniList's {kind} catalogue ({status.fetched:,} of "
                f"{status.target:,} titles so far); try again in about a minute."
            )
        super().__init__(message)


class RecommendationService:
    def __init__(
        self, settings: Settings, db: Database, media: MediaStore, lists: UserListService
    ) -> None:
        self.settings = settings
        self.db = db
        self.media = media
        self.lists = lists
        self._states = {media_type: ServingState() for media_type in MEDIA_TYPES}
        # Set by the bot when it keeps a catalogue: what to tell people while it arrives.
        self.catalogue_status: Callable[[str], CatalogueStatus | None] = lambda _type: None
        self._training = asyncio.Lock()
        self._children = ChildJobs()
        self._auto_trainer: asyncio.Task | None = None
        self._rng = random.Random()
        # Loading fitted state and checkpoints: one at a time, on a pool of its own that close()
        # abandons rather than waits for (asyncio.run would wait for the default pool).
        self._loader = ThreadPoolExecutor(max_workers=1, thread_name_prefix="anime8-load")

    @property
    def training_in_progress(self) -> bool:
        return self._training.locked()

    @property
    def child_processes(self) -> int:
        """Builds and trainings running in child processes now."""
        return self._children.running

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

    # -- building the models -----------------------------------------------------------------

    def start(self) -> None:
        """Build every type's model in the background from what is stored (and the latest
        checkpoints); until a type's first build ends, its requests get WarmingUp."""
        for media_type in MEDIA_TYPES:
            self.request_rebuild(media_type)
        if self.settings.auto_train:
            self._auto_trainer = asyncio.create_task(self._train_automatically())

    async def wait_idle(self) -> None:
        """Until no rebuild is running or asked for."""
        while tasks := [s.rebuild for s in self._states.values() if s.rebuild is not None]:
            await asyncio.gather(*tasks, return_exceptions=True)

    async def close(self) -> None:
        self._children.terminate_all()
        tasks = [s.rebuild for s in self._states.values() if s.rebuild is not None]
        if self._auto_trainer is not None:
            tasks.append(self._auto_trainer)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._loader.shutdown(wait=False, cancel_futures=True)

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
            return model, load_latest(models_dir, media_type, model) or 0

        return await asyncio.get_running_loop().run_in_executor(self._loader, load)

    def _serve(self, media_type: str, model: Recommender, version: int, *, lists: int) -> None:
        state = self._states[media_type]
        state.model, state.version, state.stage = model, version, "ready"
        state.built_at = time.monotonic()
        state.lists_at_build = lists
        state.titles_at_build = len(model.catalogue)

    async def _maybe_refresh(self, media_type: str) -> None:
        state = self._states[media_type]
        if time.monotonic() - state.built_at < REFRESH_MIN_INTERVAL_S:
            return
        lists = await self.media.list_count(media_type)
        if lists >= state.lists_at_build + REFRESH_AFTER_NEW_LISTS:
            self.request_rebuild(media_type)

    def _ready_model(self, media_type: str) -> Recommender:
        """The serving model, or the sentence that says why there is none yet."""
        model = self._states[media_type].model
        if model is None:
            stages = [STAGE_DONE[s.stage] for s in self._states.values()]
            raise WarmingUp(round(100 * sum(stages) / len(stages)))
        if len(model.catalogue) == 0:
            raise CatalogueNotReady(media_type, self.catalogue_status(media_type))
        return model

    # -- recommending ------------------------------------------------------------------------

    def validate_request(
        self, username: str | None, preferences: str | None, media_type: str = "ANIME"
    ) -> None:
        """Instant checks before any slow work: a bad username or meaningless preferences."""
        if username is not None:
            validate_username(username)
        model = self._ready_model(media_type)
        if preferences:
            # The catalogue's own tags count as words the user may use.
            tag_names = model.catalogue.tag_names
            try:
                parse_preferences(preferences, tag_names)
            except PreferencesError as error:
                raise UserFacingError(str(error)) from error

    async def recommend(
        self,
        *,
        discord_user_id: int,
        username: str | None,
        media_type: str,
        preferences: str | None,
        count: int,
        allow_adult: bool,
        guard: WriteGuard | None = None,
    ) -> RecommendationResult:
        """Pick titles; `guard` (taken when the request began) keeps a /forget that runs
        meanwhile from being undone by this request's writes (they raise UserForgotten)."""
        entries: list[dict] = []
        canonical = None
        if username:
            user_list = await self.lists.get_list(
                username, media_type, deadline_s=LIST_DEADLINE_S, guard=guard
            )
            canonical = user_list.username
            entries = list(user_list.entries)
        # The user's own button ratings override what their AniList list says.
        ratings = await self.db.ratings_of(discord_user_id, media_type)
        by_id = {e["mediaId"]: e for e in entries}
        for media_id, rating in ratings.items():
            by_id[media_id] = {"mediaId": media_id, "score": float(rating), "status": "COMPLETED"}
        entries = list(by_id.values())
        recently = await self.db.recently_recommended(discord_user_id, media_type)
        model = self._ready_model(media_type)
        rng = random.Random(self._rng.random())

        def score():
            return model.recommend(
                entries,
                k=count,
                preferences=preferences or None,
                allow_adult=allow_adult,
                recently_shown=recently,
                repeat_chance=self.settings.repeat_chance,
                rng=rng,
            )

        try:
            picks = await asyncio.to_thread(score)
        except PreferencesError as error:
            raise UserFacingError(str(error)) from error
        status = self.catalogue_status(media_type)
        if not picks and status is not None and not status.complete:
            raise CatalogueNotReady(media_type, status)
        if not picks:
            raise UserFacingError(
                "I found nothing new to recommend with those options; try another type, "
                "fewer restrictions, or come back when the catalogue has grown."
            )
        media = await self.media.media_by_ids([p.media_id for p in picks])
        await self.db.log_recommendations(
            discord_user_id, canonical, media_type, [p.media_id for p in picks], guard
        )
        await self._maybe_refresh(media_type)
        return RecommendationResult(
            canonical,
            [{"media_id": p.media_id, "score": p.score, "reason": p.reason} for p in picks],
            media,
        )

    # -- training ----------------------------------------------------------------------------

    async def autotrain(self, media_type: str, progress: ProgressCallback) -> TrainingReport:
        """Train in the child process and install the new net if it ranks better.

        Raises UserFacingError when another training runs, when nothing is stored to learn
        from, or when the child outlives TRAINING_TIMEOUT_MINUTES (it is then killed). The
        serving model is untouched unless the new net scored better on held-out users.
        """
        if self._training.locked():
            raise UserFacingError("A training run is already going; wait for it to finish.")
        async with self._training:
            started = time.monotonic()
            await progress("starting")
            result = await self._train_in_child(media_type, progress)
            await self._record_training(media_type, result)
            if not result.samples:
                raise UserFacingError(
                    "There is nothing to train on yet: I learn from the AniList lists people "
                    "ask me about and from ratings given with the buttons."
                )
            if result.improved:
                await self._install(media_type, result.version)
            return TrainingReport(media_type, result, time.monotonic() - started)

    async def _install(self, media_type: str, version: int) -> None:
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

    async def _record_training(self, media_type: str, result: TrainingResult) -> None:
        record = {"at": time.time(), "lists": result.lists, "ratings": result.ratings}
        await self.db.set_meta(TRAINED_ON_KEY + media_type, json.dumps(record))

    async def train_if_due(self, media_type: str) -> TrainingReport | None:
        """Train automatically when the stored lists and ratings grew enough since the last
        training (by AUTO_TRAIN_GROWTH or AUTO_TRAIN_GROWTH_LISTS, at most once every
        AUTO_TRAIN_MIN_INTERVAL_S). Same rules as /autotrain; None when not due or busy."""
        if self._training.locked():
            return None
        last = json.loads(await self.db.get_meta(TRAINED_ON_KEY + media_type) or "{}")
        if time.time() - last.get("at", 0.0) < AUTO_TRAIN_MIN_INTERVAL_S:
            return None
        before = last.get("lists", 0) + last.get("ratings", 0)
        now = await self.media.list_count(media_type) + await self.db.feedback_count(media_type)
        grown = now - before
        if grown <= 0 or (grown < AUTO_TRAIN_GROWTH_LISTS and grown < AUTO_TRAIN_GROWTH * before):
            return None

        async def progress(_line: str) -> None:
            return None

        try:
            report = await self.autotrain(media_type, progress)
        except UserFacingError as error:
            log.info("automatic %s training: %s", media_type, error.user_message)
            return None
        log.info("automatic training: %s", report.summary())
        return report

    async def _train_automatically(self) -> None:
        """The loop behind automatic training; a failure is logged and the loop goes on."""
        while True:
            await asyncio.sleep(AUTO_TRAIN_CHECK_EVERY_S)
            for media_type in MEDIA_TYPES:
                try:
                    await self.train_if_due(media_type)
                except Exception:
                    log.exception("automatic %s training failed; the model stays", media_type)

    async def _train_in_child(self, media_type: str, progress: ProgressCallback) -> TrainingResult:
        minutes = self.settings.training_timeout_minutes
        try:
            return await self._children.run(
                train_job,
                self.settings.database_path,
                self.settings.models_dir,
                media_type,
                0,
                name=f"anime8-train-{media_type.lower()}",
                on_progress=progress,
                timeout_s=minutes * 60,
            )
        except TimeoutError:
            raise UserFacingError(
                f"Training took longer than {minutes:g} minutes, so I stopped it; the serving "
                "model stays, and /autotrain can run again."
            ) from None
