"""Snapshots and restores of the database file: checked, atomic, rotated, and never applied
over a running bot."""

from __future__ import annotations

import asyncio
import sqlite3

import pytest

from bot.restore import main as restore_main
from bot.storage import MIGRATIONS, Database
from bot.storage.backup import BackupError, restore, rotate, snapshots, take_snapshot
from bot.storage.lock import DataDirInUse, DataDirLock


async def filled_database(path, ratings: int) -> Database:
    db = await Database.open(path)
    for media_id in range(ratings):
        await db.save_rating(1, media_id, "ANIME", media_id % 11)
    return db


def ratings_in(path) -> int:
    conn = sqlite3.connect(path)
    try:
        return conn.execute("SELECT COUNT(*) FROM feedback").fetchone()[0]
    finally:
        conn.close()


async def test_snapshot_holds_what_was_committed_while_writes_go_on(tmp_path):
    """A snapshot taken while ratings keep arriving holds every rating committed before it
    began, is whole, and carries the schema version."""
    db = await filled_database(tmp_path / "anime8.db", 50)
    stop = asyncio.Event()

    async def keep_rating() -> int:
        media_id = 1000
        while not stop.is_set():
            await db.save_rating(2, media_id, "ANIME", 5)
            media_id += 1
        return media_id - 1000

    writer = asyncio.create_task(keep_rating())
    await asyncio.sleep(0.05)
    committed_before = await asyncio.to_thread(ratings_in, tmp_path / "anime8.db")
    snapshot = await take_snapshot(tmp_path / "anime8.db", tmp_path / "backups", keep=3)
    stop.set()
    written_by_writer = await writer
    await db.close()

    assert snapshot.schema_version == len(MIGRATIONS)
    assert snapshot.path.stat().st_size == snapshot.size_bytes
    assert ratings_in(snapshot.path) >= committed_before >= 50
    assert written_by_writer > 0
    assert [p.name for p in (tmp_path / "backups").iterdir()] == [snapshot.path.name]


async def test_rotation_keeps_the_newest_and_drops_partials(tmp_path):
    db = await filled_database(tmp_path / "anime8.db", 3)
    taken = [await take_snapshot(tmp_path / "anime8.db", tmp_path / "b", keep=10) for _ in range(4)]
    await db.close()
    (tmp_path / "b" / "anime8-20000101T000000000000Z.db.partial").write_bytes(b"half")
    removed = rotate(tmp_path / "b", keep=2)
    assert snapshots(tmp_path / "b") == [t.path for t in taken[-2:]]
    assert len(removed) == 3  # the two oldest and the partial


def test_damaged_and_newer_files_are_refused(tmp_path):
    damaged = tmp_path / "damaged.db"
    damaged.write_bytes(b"SQLite format 3\x00" + b"\x00" * 200)
    newer = tmp_path / "newer.db"
    conn = sqlite3.connect(newer)
    conn.execute(f"PRAGMA user_version = {len(MIGRATIONS) + 1}")
    conn.close()
    target = tmp_path / "data" / "anime8.db"
    with pytest.raises(BackupError, match="not a readable SQLite database|damaged"):
        restore(damaged, target)
    with pytest.raises(BackupError, match="newer than this Anime8"):
        restore(newer, target)
    assert not target.exists()


async def test_restore_keeps_the_database_it_replaces_wal_included(tmp_path):
    """The replaced database is kept whole, with what only its WAL held."""
    backup_source = await filled_database(tmp_path / "old" / "anime8.db", 5)
    snapshot = await take_snapshot(tmp_path / "old" / "anime8.db", tmp_path / "b", keep=1)
    await backup_source.close()
    live_path = tmp_path / "data" / "anime8.db"
    live = await filled_database(live_path, 8)
    # A crash leaves the last commits in the WAL only: copy the files as the crash left them.
    crashed = tmp_path / "crashed"
    crashed.mkdir()
    for suffix in ("", "-wal", "-shm"):
        source = live_path.with_name(live_path.name + suffix)
        if source.exists():
            (crashed / source.name).write_bytes(source.read_bytes())
    await live.close()

    kept = restore(snapshot.path, crashed / "anime8.db")
    assert kept is not None and ratings_in(kept) == 8
    assert ratings_in(crashed / "anime8.db") == 5
    assert not (crashed / "anime8.db-wal").exists()


async def test_restore_command_refuses_while_the_bot_runs(tmp_path, capsys):
    source = await filled_database(tmp_path / "src" / "anime8.db", 4)
    snapshot = await take_snapshot(tmp_path / "src" / "anime8.db", tmp_path / "b", keep=1)
    await source.close()
    data_dir = tmp_path / "data"
    running = DataDirLock.acquire(data_dir, exclusive=False)  # what a running bot holds
    try:
        assert restore_main([str(snapshot.path), "--data-dir", str(data_dir)]) == 1
        assert "stop it first" in capsys.readouterr().err
        with pytest.raises(DataDirInUse):
            DataDirLock.acquire(data_dir, exclusive=True)
    finally:
        running.release()
    assert restore_main([str(snapshot.path), "--data-dir", str(data_dir)]) == 0
    assert ratings_in(data_dir / "anime8.db") == 4
