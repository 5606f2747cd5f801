"""Retention: the bot keeps what serving needs, for as long as it needs it, then deletes it.

AniList's terms forbid using the API as a data store or hoarding what it returns, so cached
lists expire LIST_RETENTION_DAYS after the bot last used them, and history and stored messages
after the same time since they were made. Old checkpoints go once newer ones exist.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from pathlib import Path
from typing import TYPE_CHECKING

from discord.ext import tasks

from bot.anilist import MEDIA_TYPES
from bot.config import Settings
from bot.storage import Database, PruneCounts, prune_before
from model.checkpoint import checkpoint_path, checkpoint_versions

if TYPE_CHECKING:
    from bot.core import Anime8Bot

log = logging.getLogger(__name__)

CHECKPOINTS_KEPT = 3  # the newest, plus fallbacks should it fail to load
PRUNE_EVERY_HOURS = 6.0
# A temporary checkpoint file this old belongs to a save that died, not to one in progress.
STALE_TEMPORARY_S = 24 * 3600


def prune_checkpoints(
    models_dir: Path, media_type: str, keep: int = CHECKPOINTS_KEPT
) -> list[Path]:
    """Delete all but the newest `keep` checkpoints of `media_type`, and temporary files left
    by saves that died; returns the paths deleted. Blocking file I/O: run it off the loop."""
    deleted = []
    for version in checkpoint_versions(models_dir, media_type)[: -keep or None]:
        path = checkpoint_path(models_dir, media_type, version)
        path.unlink(missing_ok=True)
        deleted.append(path)
    if models_dir.is_dir():
        for path in models_dir.glob(".tmp-*.pt"):
            if time.time() - path.stat().st_mtime > STALE_TEMPORARY_S:
                path.unlink(missing_ok=True)
                deleted.append(path)
    for path in deleted:
        log.info("deleted old checkpoint %s", os.fspath(path))
    return deleted


async def prune_expired(db: Database, settings: Settings, now: float | None = None) -> PruneCounts:
    """Delete everything whose retention ended by `now` (default: the current time.time())."""
    now = time.time() if now is None else now
    counts = await prune_before(db, now - settings.list_retention_days * 86400)
    for media_type in MEDIA_TYPES:
        await asyncio.to_thread(prune_checkpoints, settings.models_dir, media_type)
    if counts.total:
        log.info("retention: deleted %s", counts)
    return counts


class Pruner:
    """Runs prune_expired at start() and every PRUNE_EVERY_HOURS after, until stop()."""

    def __init__(self, bot: Anime8Bot) -> None:
        self._bot = bot
        self._loop = tasks.loop(hours=PRUNE_EVERY_HOURS)(self._prune)

    def start(self) -> None:
        self._loop.start()

    def stop(self) -> None:
        """Cancel the loop (a prune in progress is rolled back with its transaction)."""
        self._loop.cancel()

    async def _prune(self) -> None:
        bot = self._bot
        try:
            counts = await prune_expired(bot.db, bot.settings)
        except Exception:  # the next round tries again; one failure must not end the loop
            log.exception("pruning expired data failed")
            return
        if counts.lists:
            # The models hold the deleted lists in memory until they are rebuilt.
            for media_type in MEDIA_TYPES:
                bot.recommendations.models.request_rebuild(media_type)
