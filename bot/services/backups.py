"""Periodic database snapshots while the bot runs, and the one an owner asks for."""

from __future__ import annotations

import asyncio
import logging
import time
from pathlib import Path

from bot.storage.backup import BackupError, Snapshot, snapshots, take_snapshot

log = logging.getLogger(__name__)

# After a failed snapshot (a full disk, say), try again this much sooner than the schedule.
RETRY_AFTER_FAILURE_S = 600.0
# With no snapshot yet, the first comes this long after start-up (or one period, if shorter):
# soon enough for an upgraded install, clear of the start-up work.
FIRST_SNAPSHOT_DELAY_S = 600.0


class BackupKeeper:
    """Takes a snapshot every `every_hours` (0: only when asked) and keeps the newest `keep`.

    The schedule follows the newest snapshot on disk, so restarts neither pile snapshots up
    nor postpone them. One snapshot at a time: an owner's `/backup` during a scheduled one
    waits for it, then takes its own."""

    def __init__(self, database_path: Path, backups_dir: Path, every_hours: float, keep: int):
        self.database_path = database_path
        self.backups_dir = backups_dir
        self.every_s = every_hours * 3600
        self.keep = keep
        self.last: Snapshot | None = None
        self._lock = asyncio.Lock()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        if self.every_s > 0 and self._task is None:
            self._task = asyncio.create_task(self._run(), name="anime8-backups")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None

    async def snapshot_now(self) -> Snapshot:
        """Take a snapshot now; BackupError with its sentence when it fails."""
        async with self._lock:
            started = time.monotonic()
            snapshot = await take_snapshot(self.database_path, self.backups_dir, self.keep)
            self.last = snapshot
            log.info(
                "database snapshot %s (%d bytes, schema %d) in %.1f s",
                snapshot.path.name,
                snapshot.size_bytes,
                snapshot.schema_version,
                time.monotonic() - started,
            )
            return snapshot

    def _seconds_until_due(self) -> float:
        existing = snapshots(self.backups_dir)
        if not existing:
            return min(self.every_s, FIRST_SNAPSHOT_DELAY_S)
        age = time.time() - existing[-1].stat().st_mtime
        return max(0.0, self.every_s - age)

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(await asyncio.to_thread(self._seconds_until_due))
            try:
                await self.snapshot_now()
            except BackupError as error:
                log.warning("scheduled snapshot failed: %s", error)
                await asyncio.sleep(min(RETRY_AFTER_FAILURE_S, self.every_s))
