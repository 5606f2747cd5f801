"""Building a serving model, in a child process (see bot.children): read what is stored, fit,
and write the fitted state where the bot maps it (model.fitted)."""

from __future__ import annotations

import asyncio
import resource
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import torch

from bot.storage import Database
from bot.storage.media import MediaStore
from model import Recommender
from model.fitted import save_fitted


@dataclass(frozen=True, slots=True)
class BuildResult:
    """What a build fitted on and what it cost; the state itself is at fitted_path()."""

    titles: int
    lists: int
    ratings: int
    seconds: float
    peak_rss: int  # bytes: the child's high-water mark, reading and fitting included


def fitted_path(models_dir: Path, media_type: str) -> Path:
    """Where the serving state of one media type lives."""
    return models_dir / f"{media_type.lower()}-fitted.pt"


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


async def read_stored(
    database_path: Path, media_type: str
) -> tuple[list[dict], dict[str, list[dict]], list[tuple[str, int, int]]]:
    """load_training_data on a connection of the child's own."""
    db = await Database.open(database_path)
    try:
        return await load_training_data(db, MediaStore(db), media_type)
    finally:
        await db.close()


def build_job(
    progress: Callable[[str], None], database_path: Path, models_dir: Path, media_type: str
) -> BuildResult:
    """The child's work: fit one type's model on what is stored and save its fitted state."""
    # One core for the build leaves the other to the bot, which must keep answering.
    torch.set_num_threads(1)
    started = time.perf_counter()
    catalogue, lists, feedback = asyncio.run(read_stored(database_path, media_type))
    model = Recommender(catalogue, lists, feedback)
    save_fitted(model, fitted_path(models_dir, media_type))
    seconds = time.perf_counter() - started
    # ru_maxrss is in KiB on Linux.
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    return BuildResult(len(model.catalogue), len(lists), len(feedback), seconds, peak)
