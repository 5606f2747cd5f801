"""The recommendation service: joins AniList lists, stored ratings and the model.

It owns one Recommender per media type, built in the background from what is stored (the bot
logs in first and says "warming up" meanwhile) and rebuilt as the catalogue lands and lists
arrive. Scoring runs in worker threads and training in a child process, so the event loop keeps
answering Discord; a retrained net replaces the old one only when it scored better and its
checkpoint is on disk.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import random
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from bot.anilist import MEDIA_TYPES, validate_username
from bot.catalogue import CatalogueStatus
from bot.config import Settings
from bot.errors import UserFacingError
from bot.media_store import MediaStore
from bot.storage import Database
from bot.training_job import start_child
from bot.user_lists import UserListService
from model import PreferencesError, Recommender, load_latest, parse_preferences

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
# How far a model build has got, for the "warming up" sentence.
STAGE_DONE = {"waiting": 0.0, "reading": 0.1, "building": 0.4, "ready": 1.0}


@dataclass(frozen=True, slots=True)
class RecommendationResult:
    username: str | None
    picks: list[dict]  # {"media_id", "score", "reason"}, JSON-ready
    media: dict[int, dict]


@dataclass(frozen=True, slots=True)
class TrainingReport:
    media_type: str
    samples: int
    final_loss: float
    metric_before: float
    metric_after: float
    seconds: float
    version: int

    def summary(self) -> str:
        return (
            f"Trained the {self.media_type} model on {self.samples:,} samples in "
            f"{self.seconds:.1f} s: final loss {self.final_loss:.4f}; held-out NDCG@10 "
            f"{self.metric_before:.4f} before, {self.metric_after:.4f} after. "
            f"Now serving model version {self.version}."
        )


ProgressCallback = Callable[[str], Awaitable[None]]


async def load_training_data(
    db: Database, media: MediaStore, media_type: str
) -> tuple[list[dict], dict[str, list[dict]], list[tuple[str, int, int]]]:
    """The catalogue, every stored AniList list and every button rating of one type."""
    catalogue = await media.catalogue(media_type)
    lists = await media.all_lists(media_type)
    feedback = [
        (f"discord:{user_id}", media_id, rating)
        for user_id, _name, media_id, rating in await db.all_feedback(media_type)
    ]
    return catalogue, lists, feedback


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
        self._trainer: multiprocessing.Process | None = None
        self._rng = random.Random()
        # Model builds take seconds of CPU: one at a time, on a pool of their own that close()
        # abandons rather than waits for (asyncio.run would wait for the default pool).
        self._builder = ThreadPoolExecutor(max_workers=1, thread_name_prefix="anime8-build")

    @property
    def training_in_progress(self) -> bool:
        return self._training.locked()

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

    async def wait_idle(self) -> None:
        """Until no rebuild is running or asked for."""
        while tasks := [s.rebuild for s in self._states.values() if s.rebuild is not None]:
            await asyncio.gather(*tasks, return_exceptions=True)

    async def close(self) -> None:
        if self._trainer is not None and self._trainer.is_alive():
            self._trainer.terminate()
        tasks = [s.rebuild for s in self._states.values() if s.rebuild is not None]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._builder.shutdown(wait=False, cancel_futures=True)

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

    async def _rebuild(self, media_type: str) -> None:
        state = self._states[media_type]
        state.stage = "reading"
        catalogue, lists, feedback = await load_training_data(self.db, self.media, media_type)
        models_dir = self.settings.models_dir
        state.stage = "building"

        def build() -> tuple[Recommender, int]:
            model = Recommender(catalogue, lists, feedback)
            model.fit()
            return model, load_latest(models_dir, media_type, model) or 0

        loop = asyncio.get_running_loop()
        model, version = await loop.run_in_executor(self._builder, build)
        state.model, state.version, state.stage = model, version, "ready"
        state.built_at = time.monotonic()
        state.lists_at_build = len(lists)
        state.titles_at_build = len(catalogue)
        log.info(
            "%s model ready: version %d, %d titles, %d lists",
            media_type,
            version,
            len(catalogue),
            len(lists),
        )

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
    ) -> RecommendationResult:
        entries: list[dict] = []
        canonical = None
        if username:
            user_list = await self.lists.get_list(username, media_type, deadline_s=LIST_DEADLINE_S)
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
            discord_user_id, canonical, media_type, [p.media_id for p in picks]
        )
        await self._maybe_refresh(media_type)
        return RecommendationResult(
            canonical,
            [{"media_id": p.media_id, "score": p.score, "reason": p.reason} for p in picks],
            media,
        )

    # -- training ----------------------------------------------------------------------------

    async def autotrain(self, media_type: str, progress: ProgressCallback) -> TrainingReport:
        if self._training.locked():
            raise UserFacingError("A training run is already going; wait for it to finish.")
        async with self._training:
            started = time.monotonic()
            await progress("starting")
            result = await self._train_in_child(media_type, progress)
            if not result.get("samples"):
                raise UserFacingError("There are no stored lists or ratings to train on yet.")
            model = self._ready_model(media_type)
            models_dir = self.settings.models_dir
            # Install the new net into the model being served (collaborative state stays).
            version = await asyncio.to_thread(load_latest, models_dir, media_type, model)
            if version != result["version"]:
                raise RuntimeError(f"checkpoint v{result['version']} did not load")
            self._states[media_type].version = version
            return TrainingReport(
                media_type,
                result["samples"],
                result["final_loss"],
                result["ndcg_before"],
                result["ndcg_after"],
                time.monotonic() - started,
                version,
            )

    async def _train_in_child(self, media_type: str, progress: ProgressCallback) -> dict:
        process, conn = start_child(
            self.settings.database_path, self.settings.models_dir, media_type, seed=0
        )
        self._trainer = process
        try:
            while True:
                try:
                    kind, payload = await asyncio.to_thread(conn.recv)
                except EOFError:
                    raise RuntimeError("the training process died") from None
                if kind == "progress":
                    await progress(payload)
                elif kind == "done":
                    return payload
                else:
                    raise RuntimeError(f"training failed in its process:\n{payload}")
        finally:
            conn.close()
            if process.is_alive():
                process.terminate()
            await asyncio.to_thread(process.join, 10)
            self._trainer = None
