"""Scoring /recommend requests in worker processes, off the bot's GIL.

Scoring one list is tens of milliseconds of CPU, much of it Python between small torch calls;
in threads of the bot's process that holds the GIL, and under a burst of requests the event
loop queues behind it for every step. Workers fork from the children's forkserver (torch
already imported) and map the same fitted file as the bot (model.fitted), so the item-item
matrices stay in one page cache. Each worker keeps the model of each type it last served and
reloads it when the bot serves another file or checkpoint.
"""

from __future__ import annotations

import asyncio
import os
import random
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import torch

from bot.services.children import fork_context
from bot.services.model_build import fitted_path
from model import Pick, PreferencesError, Recommender, load_latest
from model.fitted import load_fitted

WORKERS = max(1, min(2, os.cpu_count() or 1))


@dataclass(frozen=True, slots=True)
class ModelFile:
    """The model a request is scored with: a fitted file (by path and identity, since a new
    build replaces the file under the same name) and the checkpoint version served with it."""

    models_dir: Path
    media_type: str
    inode: int
    mtime_ns: int
    version: int


@dataclass(frozen=True, slots=True)
class ScoreRequest:
    """Everything Recommender.recommend needs, picklable."""

    model: ModelFile
    entries: list[dict]
    k: int
    preferences: str | None
    allow_adult: bool
    recently_shown: frozenset[int]
    repeat_chance: float
    seed: float


# Per worker process: media type -> the model file it serves and its Recommender.
_served: dict[str, tuple[ModelFile, Recommender]] = {}


def _start_worker() -> None:
    # Two workers on two cores: one intra-op thread each, or they fight the bot for cores.
    torch.set_num_threads(1)


class WorkerCannotLoad(Exception):
    """A worker could not read the model file (deleted, damaged): score in the bot instead,
    where the model already in memory keeps serving."""


def score(request: ScoreRequest) -> tuple[str, list[Pick] | str]:
    """In a worker: ("picks", picks), ("refused", the sentence of a PreferencesError), or
    ("unloadable", why) when the model file cannot be read."""
    try:
        model = _model(request.model)
    except (OSError, ValueError) as error:
        return "unloadable", str(error)
    try:
        picks = model.recommend(
            request.entries,
            k=request.k,
            preferences=request.preferences,
            allow_adult=request.allow_adult,
            recently_shown=request.recently_shown,
            repeat_chance=request.repeat_chance,
            rng=random.Random(request.seed),
        )
    except PreferencesError as error:  # its subclasses do not survive pickling
        return "refused", str(error)
    return "picks", picks


def _model(file: ModelFile) -> Recommender:
    served = _served.get(file.media_type)
    if served is not None and served[0] == file:
        return served[1]
    model = load_fitted(fitted_path(file.models_dir, file.media_type))
    # The newest checkpoint: the one asked for, or a newer one the bot is about to serve.
    load_latest(file.models_dir, file.media_type, model)
    _served[file.media_type] = (file, model)
    return model


class ScoringPool:
    """The worker processes, started at the first request and ended by :meth:`close`."""

    def __init__(self, workers: int = WORKERS) -> None:
        self._workers = workers
        self._pool: ProcessPoolExecutor | None = None

    async def score(self, request: ScoreRequest) -> list[Pick]:
        """The picks for one request; raises PreferencesError as recommend() would, and
        WorkerCannotLoad when the worker cannot read the model file."""
        if self._pool is None:
            self._pool = ProcessPoolExecutor(
                self._workers, mp_context=fork_context(), initializer=_start_worker
            )
        kind, result = await asyncio.get_running_loop().run_in_executor(self._pool, score, request)
        if kind == "refused":
            raise PreferencesError(str(result))
        if kind == "unloadable":
            raise WorkerCannotLoad(str(result))
        assert isinstance(result, list)
        return result

    def close(self) -> None:
        """End the workers at once, requests in flight included (the bot is closing)."""
        if self._pool is None:
            return
        # ProcessPoolExecutor has no public way to stop busy workers before Python 3.14.
        processes = list(getattr(self._pool, "_processes", {}).values())
        self._pool.shutdown(wait=False, cancel_futures=True)
        for process in processes:
            if process.is_alive():
                process.terminate()
