"""The recommendation service: joins AniList lists, stored ratings and the served models
(bot.services.serving), and trains new nets.

Scoring runs in worker threads and training in a child process, so the event loop keeps
answering Discord; a retrained net replaces the old one only when it scored better and its
checkpoint is on disk.
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
import os
import random
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from bot.anilist import MEDIA_TYPES, validate_username
from bot.anilist.catalogue_builder import CatalogueStatus
from bot.anilist.user_lists import UserListService
from bot.config import Settings
from bot.errors import UserFacingError
from bot.services.children import ChildJobs
from bot.services.serving import ModelServing
from bot.services.training import TrainingResult, train_job
from bot.storage import Database, WriteGuard
from bot.storage.media import MediaStore
from model import PreferencesError, Recommender, parse_preferences

log = logging.getLogger(__name__)

# How long a person waits for AniList before we say "try again later" (Discord allows 15 min
# for a deferred reply, but nobody waits that long in chat).
LIST_DEADLINE_S = 20.0
SCORING_THREADS = max(1, min(2, os.cpu_count() or 1))
# Rebuild the collaborative state when this many lists arrived since the last build.
REFRESH_AFTER_NEW_LISTS = 5
REFRESH_MIN_INTERVAL_S = 120.0
# Automatic training: when the stored lists and ratings of a type grew by a quarter, or by 50,
# since the last training, and at most this often.
AUTO_TRAIN_GROWTH = 0.25
AUTO_TRAIN_GROWTH_LISTS = 50
AUTO_TRAIN_MIN_INTERVAL_S = 3 * 3600.0
AUTO_TRAIN_CHECK_EVERY_S = 600.0
TRAINED_ON_KEY = "trained_on:"  # meta key + media type -> JSON {"at", "lists", "ratings"}


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
        people = f"{r.validation_users:,} {'person' if r.validation_users == 1 else 'people'}"
        figures = (
            f"held-out NDCG@10 over {people}: {r.ndcg_before:.4f} before, {r.ndcg_after:.4f} after"
        )
        if r.improved:
            return f"{head} It ranks better ({figures}). Now serving model version {r.version}."
        return f"{head} It does not rank better ({figures}), so {_serving_name(r.version)} stays."


ProgressCallback = Callable[[str], Awaitable[None]]


def _serving_name(version: int) -> str:
    return f"model version {version}" if version else "the untrained model"


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
        # Set by the bot when it keeps a catalogue: what to tell people while it arrives.
        self.catalogue_status: Callable[[str], CatalogueStatus | None] = lambda _type: None
        self._training = asyncio.Lock()
        # Since start, for the metrics: runs by (media type, outcome), and each type's last
        # run that had something to train on.
        self.training_outcomes: Counter[tuple[str, str]] = Counter()
        self.last_training: dict[str, TrainingResult] = {}
        self._children = ChildJobs()
        self.models = ModelServing(settings, media, self._children)
        self._auto_trainer: asyncio.Task | None = None
        self._rng = random.Random()
        # Scoring is CPU work partly under the GIL: more threads than cores only make them,
        # and the event loop, wait longer for it.
        self._scorers = ThreadPoolExecutor(
            max_workers=SCORING_THREADS, thread_name_prefix="anime8-score"
        )

    @property
    def training_in_progress(self) -> bool:
        return self._training.locked()

    @property
    def child_processes(self) -> int:
        """Builds and trainings running in child processes now."""
        return self._children.running

    def start(self) -> None:
        """Build the models in the background and start automatic training; until a type's
        first build ends, its requests get WarmingUp."""
        self.models.start()
        if self.settings.auto_train:
            self._auto_trainer = asyncio.create_task(self._train_automatically())

    async def close(self) -> None:
        self._children.terminate_all()
        if self._auto_trainer is not None:
            self._auto_trainer.cancel()
            await asyncio.gather(self._auto_trainer, return_exceptions=True)
        await self.models.close()
        self._scorers.shutdown(wait=False, cancel_futures=True)

    async def _maybe_refresh(self, media_type: str) -> None:
        """Rebuild when enough lists arrived since the last build, and not too often."""
        state = self.models.state(media_type)
        if time.monotonic() - state.built_at < REFRESH_MIN_INTERVAL_S:
            return
        lists = await self.media.list_count(media_type)
        if lists >= state.lists_at_build + REFRESH_AFTER_NEW_LISTS:
            self.models.request_rebuild(media_type)

    def ready_model(self, media_type: str) -> Recommender:
        """The serving model, or the sentence that says why there is none yet."""
        model = self.models.serving_model(media_type)
        if model is None:
            raise WarmingUp(self.models.warm_percent())
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
        model = self.ready_model(media_type)
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
        log_shown: bool = True,
    ) -> RecommendationResult:
        """Pick titles; `guard` (taken when the request began) keeps a /forget that runs
        meanwhile from being undone by this request's writes (they raise UserForgotten).

        Without `log_shown` the picks are not logged as shown to `discord_user_id`: for picks
        someone else asked for on their behalf, which they never saw."""
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
        model = self.ready_model(media_type)
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
            picks = await asyncio.get_running_loop().run_in_executor(self._scorers, score)
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
        if log_shown:
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
            try:
                result = await self._train_in_child(media_type, progress)
            except Exception as error:
                failed = "timeout" if isinstance(error, UserFacingError) else "failed"
                self.training_outcomes[media_type, failed] += 1
                raise
            await self._record_training(media_type, result)
            outcome = "improved" if result.improved else "not_improved"
            if result.samples:
                self.last_training[media_type] = result
            else:
                outcome = "nothing_to_train"
            self.training_outcomes[media_type, outcome] += 1
            if not result.samples:
                raise UserFacingError(
                    "There is nothing to train on yet: I learn from the AniList lists people "
                    "ask me about and from ratings given with the buttons."
                )
            if result.improved:
                await self.models.install(media_type, result.version)
            return TrainingReport(media_type, result, time.monotonic() - started)

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
