"""/autotrain's work, in a child process of its own.

Training in a thread of the bot's process held the GIL in bursts of 100–190 ms (JSON parsing,
tensor building from Python lists, torch's lazy set-up), which stalled Discord's event loop.
A child process shares no GIL: it reads the stored lists and ratings itself, trains, writes
the checkpoint, and reports progress and the result through a pipe. The bot then installs
the new net into the model it serves.

Messages on the pipe: ("progress", text) any number of times, then ("done", result dict)
or ("failed", traceback text).
"""

from __future__ import annotations

import asyncio
import multiprocessing
import traceback
from multiprocessing.connection import Connection
from pathlib import Path


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
) -> dict:
    # Imported here: the parent must not pay for them when it only starts the child.
    from bot.media_store import MediaStore
    from bot.recommendations import load_training_data
    from bot.storage import Database
    from model import Recommender, save_checkpoint

    db = await Database.open(database_path)
    try:
        catalogue, lists, feedback = await load_training_data(db, MediaStore(db), media_type)
    finally:
        await db.close()
    if not lists and not feedback:
        return {"samples": 0}
    conn.send(("progress", f"fitting on {len(lists):,} lists and {len(feedback):,} ratings"))

    def on_epoch(epoch: int, loss: float) -> None:
        conn.send(("progress", f"epoch {epoch}, loss {loss:.4f}"))

    model = Recommender(catalogue, lists, feedback)
    model.fit()
    stats = model.train(seed=seed, on_epoch=on_epoch)
    version = save_checkpoint(models_dir, media_type, model)
    return {
        "samples": stats.samples,
        "final_loss": stats.final_loss,
        "ndcg_before": stats.ndcg_before,
        "ndcg_after": stats.ndcg_after,
        "version": version,
    }


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
