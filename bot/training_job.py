"""Training, in a child process of its own.

Training in a thread of the bot's process held the GIL in bursts of 100–190 ms (JSON parsing,
tensor building from Python lists, torch's lazy set-up), which stalled Discord's event loop.
A child process shares no GIL: it reads the stored lists and ratings itself, trains, writes
the checkpoint when the new net serves better, and reports progress and the result through a
pipe. The bot then installs the new net into the model it serves.

Messages on the pipe: ("progress", text) any number of times, then ("done", TrainingResult)
or ("failed", traceback text).
"""

from __future__ import annotations

import asyncio
import multiprocessing
import traceback
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path

from bot.media_store import MediaStore
from bot.storage import Database


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


def run_in_child(
    database_path: Path, models_dir: Path, media_type: str, seed: int, conn: Connection
) -> None:
    """Entry point of the child process."""
    try:
        result = asyncio.run(_train(database_path, models_dir, media_type, seed, conn))
        conn.send(("done", result))
    except BaseException:
        conn.send(("failed", traceback.format_exc()))
    finally:
        conn.close()


async def _train(
    database_path: Path, models_dir: Path, media_type: str, seed: int, conn: Connection
) -> TrainingResult:
    # Imported here: the parent must not pay for torch's model code when it only starts us.
    from bot.retention import prune_checkpoints
    from model import Recommender, load_latest, save_checkpoint

    db = await Database.open(database_path)
    try:
        catalogue, lists, feedback = await load_training_data(db, MediaStore(db), media_type)
    finally:
        await db.close()
    conn.send(("progress", f"fitting on {len(lists):,} lists and {len(feedback):,} ratings"))

    def on_epoch(epoch: int, loss: float) -> None:
        conn.send(("progress", f"epoch {epoch}, loss {loss:.4f}"))

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
    )


def start_child(
    database_path: Path, models_dir: Path, media_type: str, seed: int
) -> tuple[multiprocessing.Process, Connection]:
    """Start the child; the caller reads the returned connection until done or failed."""
    # spawn, not fork: forking a process with live threads (aiosqlite, the event loop's
    # executor, torch's pools) can deadlock the child.
    context = multiprocessing.get_context("spawn")
    receiver, sender = context.Pipe(duplex=False)
    process = context.Process(
        target=run_in_child,
        args=(database_path, models_dir, media_type, seed, sender),
        name=f"anime8-train-{media_type.lower()}",
        daemon=True,
    )
    process.start()
    sender.close()  # the child holds its own copy; EOF then means the child is gone
    return process, receiver
