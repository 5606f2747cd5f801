"""The recommendation service: joins AniList lists, stored ratings and the model.

It owns one Recommender per media type. Scoring and training run in worker threads so the
event loop keeps answering Discord; a retrained model replaces the old one only when training
succeeded and its checkpoint is on disk.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from bot.anilist import MEDIA_TYPES, validate_username
from bot.config import Settings
from bot.errors import UserFacingError
from bot.media_store import MediaStore
from bot.storage import Database, WriteGuard
from bot.training_job import start_child
from bot.user_lists import UserListService
from model import PreferencesError, Recommender, load_latest, parse_preferences

log = logging.getLogger(__name__)

# How long a person waits for AniList before we say "try again later" (Discord allows 15 min
# for a deferred reply, but nobody waits that long in chat).
LIST_DEADLINE_S = 20.0
# Rebuild the collaborative state when this many lists or titles arrived since the last build.
REFRESH_AFTER_NEW_LISTS = 5
REFRESH_MIN_INTERVAL_S = 120.0


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


class RecommendationService:
    def __init__(
        self, settings: Settings, db: Database, media: MediaStore, lists: UserListService
    ) -> None:
        self.settings = settings
        self.db = db
        self.media = media
        self.lists = lists
        self._models: dict[str, Recommender] = {}
        self._versions: dict[str, int] = {}
        self._built_at: dict[str, float] = {}
        self._lists_at_build: dict[str, int] = {}
        self._catalogue_size: dict[str, int] = {}
        self._refreshing: dict[str, asyncio.Task] = {}
        self._training = asyncio.Lock()
        self._trainer: multiprocessing.Process | None = None
        self._rng = random.Random()

    @property
    def training_in_progress(self) -> bool:
        return self._training.locked()

    def model_version(self, media_type: str) -> int:
        return self._versions.get(media_type, 0)

    # -- building the models -----------------------------------------------------------------

    async def rebuild_all(self) -> None:
        """Build both models from what is stored; the latest checkpoints supply the net."""
        for media_type in MEDIA_TYPES:
            await self._rebuild(media_type)

    async def close(self) -> None:
        if self._trainer is not None and self._trainer.is_alive():
            self._trainer.terminate()
        for task in self._refreshing.values():
            task.cancel()
        await asyncio.gather(*self._refreshing.values(), return_exceptions=True)

    async def _rebuild(self, media_type: str) -> None:
        catalogue, lists, feedback = await load_training_data(self.db, self.media, media_type)
        models_dir = self.settings.models_dir

        def build() -> tuple[Recommender, int]:
            model = Recommender(catalogue, lists, feedback)
            model.fit()
            return model, load_latest(models_dir, media_type, model) or 0

        model, version = await asyncio.to_thread(build)
        self._catalogue_size[media_type] = len(catalogue)
        self._models[media_type] = model
        self._versions[media_type] = version
        self._built_at[media_type] = time.monotonic()
        self._lists_at_build[media_type] = len(lists)
        log.info(
            "%s model ready: version %d, %d titles, %d lists",
            media_type,
            version,
            len(catalogue),
            len(lists),
        )

    def refresh_soon(self, media_type: str, *, force: bool = False) -> None:
        """Rebuild in the background when new lists or titles arrived (never blocks a request)."""
        task = self._refreshing.get(media_type)
        if task is not None and not task.done():
            return
        recent = time.monotonic() - self._built_at.get(media_type, 0.0) < REFRESH_MIN_INTERVAL_S
        if recent and not force:
            return
        self._refreshing[media_type] = asyncio.create_task(self.refresh(media_type))

    async def refresh(self, media_type: str) -> None:
        """Rebuild one model now; on failure log it and keep serving the previous one."""
        try:
            await self._rebuild(media_type)
        except Exception:
            log.exception(
                "rebuilding the %s model failed; the previous one keeps serving", media_type
            )

    async def _maybe_refresh(self, media_type: str) -> None:
        lists = await self.media.list_count(media_type)
        titles = await self.media.catalogue_count(media_type)
        if lists >= self._lists_at_build.get(media_type, 0) + REFRESH_AFTER_NEW_LISTS or (
            titles > 1.2 * self._catalogue_size.get(media_type, 0)
        ):
            self.refresh_soon(media_type)

    # -- recommending ------------------------------------------------------------------------

    def validate_request(
        self, username: str | None, preferences: str | None, media_type: str = "ANIME"
    ) -> None:
        """Instant checks before any slow work: a bad username or meaningless preferences."""
        if username is not None:
            validate_username(username)
        if preferences:
            # The catalogue's own tags count as words the user may use.
            tag_names = self._models[media_type].catalogue.tag_names
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
        model = self._models[media_type]
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
        if self._training.locked():
            raise UserFacingError("A training run is already going; wait for it to finish.")
        async with self._training:
            started = time.monotonic()
            await progress("starting")
            result = await self._train_in_child(media_type, progress)
            if not result.get("samples"):
                raise UserFacingError("There are no stored lists or ratings to train on yet.")
            model = self._models[media_type]
            models_dir = self.settings.models_dir
            # Install the new net into the model being served (collaborative state stays).
            version = await asyncio.to_thread(load_latest, models_dir, media_type, model)
            if version != result["version"]:
                raise RuntimeError(f"checkpoint v{result['version']} did not load")
            self._versions[media_type] = version
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
