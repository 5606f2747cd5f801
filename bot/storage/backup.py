"""Online snapshots of the database, checked before they count, and their restore.

A snapshot is `VACUUM INTO` from its own connection: in WAL mode that is one read transaction,
so it holds exactly the commits made before it began, and writers carry on meanwhile. It is
written under a temporary name, checked with `PRAGMA integrity_check`, flushed to disk and only
then renamed into place, so a file named `anime8-*.db` in the backups folder is always whole.

Restoring is for a stopped bot (see bot/restore.py): it keeps the database it replaces.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import aiosqlite

from bot.storage.migrations import MIGRATIONS

SNAPSHOT_GLOB = "anime8-*.db"
_PARTIAL = ".partial"
# Sidecar files SQLite keeps beside a database in WAL mode.
_SIDECARS = ("-wal", "-shm")


class BackupError(Exception):
    """A snapshot or a restore that must not be used; the message is one sentence."""


@dataclass(frozen=True, slots=True)
class Snapshot:
    path: Path
    size_bytes: int
    schema_version: int
    taken_at: datetime


def snapshots(backups_dir: Path) -> list[Path]:
    """The finished snapshots in `backups_dir`, oldest first (names sort by time)."""
    if not backups_dir.is_dir():
        return []
    return sorted(backups_dir.glob(SNAPSHOT_GLOB))


def check_file(path: Path) -> int:
    """The schema version of the SQLite file at `path`; BackupError when it is not a whole
    Anime8 database this code understands. Blocking: run it in a thread."""
    if not path.is_file():
        raise BackupError(f"{path} does not exist.")
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            verdict = [row[0] for row in conn.execute("PRAGMA integrity_check")]
            version = int(conn.execute("PRAGMA user_version").fetchone()[0])
        finally:
            conn.close()
    except sqlite3.DatabaseError as error:
        raise BackupError(f"{path} is not a readable SQLite database ({error}).") from error
    if verdict != ["ok"]:
        raise BackupError(f"{path} is damaged: {'; '.join(verdict[:3])}.")
    if version > len(MIGRATIONS):
        raise BackupError(
            f"{path} has schema version {version}, newer than this Anime8 understands "
            f"({len(MIGRATIONS)}); restore it with the newer Anime8."
        )
    if version == 0:
        raise BackupError(f"{path} holds no Anime8 schema.")
    return version


async def take_snapshot(database_path: Path, backups_dir: Path, keep: int) -> Snapshot:
    """Snapshot the live database into `backups_dir`, check it, then keep the newest `keep`.

    Safe while the bot writes. Raises BackupError (and leaves nothing behind) when the copy
    fails its check."""
    await asyncio.to_thread(backups_dir.mkdir, parents=True, exist_ok=True)
    taken_at = datetime.now(UTC)
    final = backups_dir / f"anime8-{taken_at:%Y%m%dT%H%M%S%fZ}.db"
    partial = final.with_name(final.name + _PARTIAL)
    try:
        async with aiosqlite.connect(database_path) as conn:
            await conn.execute("VACUUM INTO ?", (str(partial),))
        version = await asyncio.to_thread(check_file, partial)
        size = await asyncio.to_thread(_install, partial, final)
    except (sqlite3.Error, OSError) as error:
        partial.unlink(missing_ok=True)
        raise BackupError(f"The snapshot failed: {error}.") from error
    except BackupError:
        partial.unlink(missing_ok=True)
        raise
    await asyncio.to_thread(rotate, backups_dir, keep)
    return Snapshot(final, size, version, taken_at)


def rotate(backups_dir: Path, keep: int) -> list[Path]:
    """Delete all but the newest `keep` snapshots, and any partial left by a crash; returns
    what was deleted."""
    removed = [p for p in backups_dir.glob(SNAPSHOT_GLOB + _PARTIAL)]
    finished = snapshots(backups_dir)
    removed += finished[: max(0, len(finished) - keep)]
    for path in removed:
        path.unlink(missing_ok=True)
    return removed


def restore(snapshot: Path, database_path: Path) -> Path | None:
    """Make `snapshot` the database at `database_path`, for a stopped bot. Blocking.

    The snapshot is checked first (BackupError, touching nothing, when it is damaged or from a
    newer schema). The database it replaces, WAL included, is kept beside it as
    `<name>.before-restore-<time>`, whose path is returned (None when there was none)."""
    check_file(snapshot)
    database_path.parent.mkdir(parents=True, exist_ok=True)
    kept = None
    if database_path.exists():
        stamp = f"{datetime.now(UTC):%Y%m%dT%H%M%SZ}"
        kept = database_path.with_name(f"{database_path.name}.before-restore-{stamp}")
        # SQLite's backup reads the WAL too, which copying the main file alone would lose.
        source = sqlite3.connect(database_path)
        target = sqlite3.connect(kept)
        try:
            source.backup(target)
        finally:
            target.close()
            source.close()
    incoming = database_path.with_name(database_path.name + _PARTIAL)
    shutil.copyfile(snapshot, incoming)
    for suffix in _SIDECARS:
        Path(f"{database_path}{suffix}").unlink(missing_ok=True)
    _install(incoming, database_path)
    return kept


def _install(partial: Path, final: Path) -> int:
    """Flush `partial` to disk and rename it to `final`, so `final` is never half-written;
    returns its size."""
    with open(partial, "rb") as handle:
        os.fsync(handle.fileno())
        size = os.fstat(handle.fileno()).st_size
    os.replace(partial, final)
    directory = os.open(final.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)
    return size
