"""Training, in a child process (see bot.children).

The child reads the stored lists and ratings itself, trains, writes the checkpoint when the new
net serves better, and reports progress and the result. The bot then installs the new net
into the model it serves.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import torch

from bot.services.model_build import read_stored
from bot.services.retention import prune_checkpoints
from model import Recommender, load_latest, save_checkpoint


@dataclass(frozen=True, slots=True)
class TrainingResult:
    """What one training run did; `version` is the checkpoint serving after it (0: none)."""

    samples: int
    final_loss: float
    ndcg_before: float
    ndcg_after: float
    improved: bool
    version: int
    lists: int
    ratings: int
    validation_users: int


def train_job(
    progress: Callable[[str], None],
    database_path: Path,
    models_dir: Path,
    media_type: str,
    seed: int,
) -> TrainingResult:
    """The child's work (see bot.children): train, and save the net if it serves better."""
    # One core for the training leaves the other to the bot, which must keep answering.
    torch.set_num_threads(1)
    return asyncio.run(_train(database_path, models_dir, media_type, seed, progress))


async def _train(
    database_path: Path,
    models_dir: Path,
    media_type: str,
    seed: int,
    progress: Callable[[str], None],
) -> TrainingResult:
    catalogue, lists, feedback = await read_stored(database_path, media_type)
    progress(f"fitting on {len(lists):,} lists and {len(feedback):,} ratings")

    def on_epoch(epoch: int, loss: float) -> None:
        progress(f"epoch {epoch}, loss {loss:.4f}")

    model = Recommender(catalogue, lists, feedback)
    model.fit()
    # The net being served is what "before" measures, and what stays if the new one is worse.
    serving = load_latest(models_dir, media_type, model) or 0
    stats = model.train(seed=seed, on_epoch=on_epoch)
    version = serving
    if stats.improved:
        version = save_checkpoint(models_dir, media_type, model)
        prune_checkpoints(models_dir, media_type)
    return TrainingResult(
        samples=stats.samples,
        final_loss=stats.final_loss,
        ndcg_before=stats.ndcg_before,
        ndcg_after=stats.ndcg_after,
        improved=stats.improved,
        version=version,
        lists=len(lists),
        ratings=len(feedback),
        validation_users=stats.validation_users,
    )
