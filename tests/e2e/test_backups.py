"""Backups proven by a restore: snapshots taken by the real bot while members keep rating,
restored with `python -m bot.restore` into a fresh DATA_DIR, and the bot started on it."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.storage.backup import check_file, snapshots
from tests.e2e.test_recommend import media_id_of, recommend
from tests.support.harness import start_with_catalogue

ROOT = Path(__file__).resolve().parents[2]


def run_restore(snapshot: Path, data_dir: Path) -> subprocess.CompletedProcess[str]:
    """The restore command exactly as an operator types it."""
    return subprocess.run(
        [sys.executable, "-m", "bot.restore", str(snapshot), "--data-dir", str(data_dir)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        env={k: v for k, v in os.environ.items() if k != "DATA_DIR"},
    )


async def test_snapshot_under_rating_load_restores_every_acknowledged_rating(
    ready_bot, harness, emulator, tmp_path
):
    message = await recommend(emulator, {"username": "Alice", "count": 1})
    media_id = media_id_of(message)
    raters = [emulator.add_user(f"rater{n}") for n in range(80)]
    acknowledged: list[tuple[int, float]] = []  # (user id, when the receipt arrived)
    stop = asyncio.Event()

    async def keep_rating() -> None:
        for rater in raters:
            if stop.is_set():
                return
            click = await emulator.click(message, f"anime8:rate:{media_id}:7", user=rater)
            receipt = await click.wait_message()
            assert receipt["content"].startswith("Saved: 7/10")
            acknowledged.append((rater.id, asyncio.get_running_loop().time()))

    clicking = asyncio.create_task(keep_rating())
    for _ in range(200):  # bounded: until some ratings are in
        if len(acknowledged) >= 10 or clicking.done():
            break
        await asyncio.sleep(0.05)
    began = asyncio.get_running_loop().time()
    before = {user_id for user_id, at in acknowledged if at < began}
    backup = await emulator.invoke("backup", user="owner")
    reply = await backup.wait_message(timeout=30)
    stop.set()
    await clicking
    assert reply["content"].startswith("Backup saved as `anime8-"), reply["content"]
    assert len(before) >= 10 and len(acknowledged) > len(before)

    await harness.stop()
    [snapshot] = snapshots(harness.data_dir / "backups")
    fresh = tmp_path / "restored"
    done = run_restore(snapshot, fresh)
    assert done.returncode == 0, done.stderr
    assert "Restored" in done.stdout
    harness.data_dir = fresh
    bot = await start_with_catalogue(harness)
    for user_id in before:
        assert await bot.db.ratings_of(user_id, "ANIME") == {media_id: 7}


async def test_restore_is_refused_while_the_bot_runs(ready_bot, harness, emulator):
    backup = await emulator.invoke("backup", user="owner")
    assert (await backup.wait_message(timeout=30))["content"].startswith("Backup saved")
    [snapshot] = snapshots(harness.data_dir / "backups")
    refused = run_restore(snapshot, harness.data_dir)
    assert refused.returncode == 1
    assert "stop it first" in refused.stderr
    assert await ready_bot.db.schema_version() == check_file(snapshot)


async def test_backup_is_for_owners_only(bot, emulator):
    record = await emulator.invoke("backup", user="owner", channel="general")
    assert (await record.wait_message(timeout=30))["content"].startswith("Backup saved")
    # Members without Manage Server are not offered the command at all.
    with pytest.raises(LookupError):
        await emulator.invoke("backup", user="bob")


@pytest.mark.parametrize("bot_env", [{"BACKUP_EVERY_HOURS": "0.0003", "BACKUP_KEEP": "2"}])
async def test_scheduled_snapshots_rotate(bot, harness):
    """With a period of about a second, snapshots keep coming and only the newest two stay."""
    taken: set[str] = set()
    for _ in range(300):  # bounded: about 15 s
        if bot.backups.last is not None:
            taken.add(bot.backups.last.path.name)
        if len(taken) >= 3:
            break
        await asyncio.sleep(0.05)
    assert len(taken) >= 3
    kept = snapshots(harness.data_dir / "backups")
    assert len(kept) == 2 and all(check_file(p) for p in kept)
