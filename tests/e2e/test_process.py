"""The bot as a real process (python main.py): a SIGKILL loses no acknowledged rating, and
SIGTERM or SIGINT shut it down cleanly and promptly in any state."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import sqlite3
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.fakes.discord import DiscordEmulator

REPO = Path(__file__).resolve().parents[2]
TITLES = 20
STARTED: list[asyncio.subprocess.Process] = []  # this test's bot processes


def seed_titles(db_path: Path) -> None:
    """Catalogue titles the rating buttons may name (the bot refuses ratings of unknown
    titles, and retention deletes titles kept for no list, rating or catalogue)."""
    from bot.storage import MIGRATIONS

    db_path.parent.mkdir(parents=True, exist_ok=True)
    with sqlite3.connect(db_path) as conn:
        for number, script in enumerate(MIGRATIONS, start=1):
            conn.executescript(script)
            conn.execute(f"PRAGMA user_version = {number}")
        conn.executemany(
            "INSERT INTO media (id, type, popularity, in_catalogue, data, updated_at)"
            " VALUES (?, 'ANIME', 1, 1, ?, 0)",
            [
                (i, json.dumps({"id": i, "type": "ANIME", "title": {"romaji": f"Title {i}"}}))
                for i in range(1, TITLES + 1)
            ],
        )


@pytest.fixture(autouse=True)
async def no_bot_outlives_its_test() -> AsyncIterator[None]:
    """A test that fails half-way must not leave a bot (and its job processes) running."""
    yield
    for process in STARTED:
        if process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            await process.wait()
    STARTED.clear()


async def start_process(
    emulator: DiscordEmulator, data_dir: Path, **settings: str
) -> asyncio.subprocess.Process:
    """main.py in a session of its own (so teardown can end it with its children)."""
    started = time.monotonic()
    env = {
        **os.environ,
        "DISCORD_TOKEN": emulator.token,
        "DATA_DIR": str(data_dir),
        "DISCORD_API_BASE": emulator.api_base,
        "DISCORD_GATEWAY_URL": emulator.gateway_url,
        "ANILIST_API_URL": "http://127.0.0.1:9",  # never reached: no catalogue build, no lists
        "BUILD_CATALOGUE": "false",
        "LOG_LEVEL": "WARNING",
        **settings,
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable, str(REPO / "main.py"), cwd=data_dir.parent, env=env, start_new_session=True
    )
    STARTED.append(process)
    await emulator.wait_for(lambda e: e.kind == "identify", 90, after=started)
    await emulator.wait_until_ready(30)
    return process


def rating_message(emulator: DiscordEmulator) -> dict:
    """A message carrying rating buttons for every seeded title, as the bot renders them."""
    rows = [
        {
            "type": 1,
            "components": [
                {
                    "type": 2,
                    "style": 2,
                    "label": "7",
                    "custom_id": f"anime8:rate:{i}:{(i + r) % 11}",
                }
                for i in range(1 + 5 * r, 6 + 5 * r)
            ],
        }
        for r in range(TITLES // 5)
    ]
    return emulator._create_message(
        emulator.general, {"content": "ratings", "components": rows}, []
    )


async def test_sigkill_mid_stream_loses_no_acknowledged_rating(emulator, tmp_path):
    """Kill -9 during a stream of clicks, restart: the database is intact and every rating the
    bot acknowledged is stored."""
    data_dir = tmp_path / "data"
    seed_titles(data_dir / "anime8.db")
    process = await start_process(emulator, data_dir)
    message = rating_message(emulator)
    custom_ids = [c["custom_id"] for row in message["components"] for c in row["components"]]
    users = [emulator.add_user(f"clicker{n}") for n in range(40)]
    acknowledged: set[tuple[int, int, int]] = set()
    enough = asyncio.Event()

    async def click(user, custom_id: str) -> None:
        record = await emulator.click(message, custom_id, user=user)
        try:
            reply = await record.wait_message(timeout=10)
        except TimeoutError:
            return  # the process died before answering: not acknowledged
        if reply["content"].startswith("Saved:"):
            _, _, media_id, rating = custom_id.split(":")
            acknowledged.add((user.id, int(media_id), int(rating)))
            if len(acknowledged) >= 40:
                enough.set()

    async def stream() -> None:
        for index, user in enumerate(users):
            await asyncio.gather(*(click(user, cid) for cid in custom_ids[index % 4 :: 4]))

    streaming = asyncio.create_task(stream())
    async with asyncio.timeout(60):
        await enough.wait()
    process.send_signal(signal.SIGKILL)
    await process.wait()
    streaming.cancel()  # clicks still in flight can no longer be acknowledged
    await asyncio.gather(streaming, return_exceptions=True)
    assert len(acknowledged) >= 40

    restarted = await start_process(emulator, data_dir)
    restarted.send_signal(signal.SIGTERM)
    async with asyncio.timeout(30):
        assert await restarted.wait() == 0  # a clean shutdown on SIGTERM

    with sqlite3.connect(data_dir / "anime8.db") as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        stored = set(conn.execute("SELECT discord_user_id, media_id, rating FROM feedback"))
    assert acknowledged <= stored


@pytest.mark.parametrize("state", ["catalogue build", "model build"])
async def test_sigint_stops_the_bot_within_five_seconds(emulator, tmp_path, state):
    """SIGINT while the catalogue is arriving (slow AniList), or while the models build from a
    stored catalogue: the process ends, cleanly, within 5 s."""
    from tests.e2e.test_deployment import seed_full_catalogue
    from tests.fakes.anilist_server import FakeAniList, FakeData

    data = FakeData.generate(media_per_type=1500, seed=9, extra_users=10)
    data_dir = tmp_path / "data"
    if state == "model build":
        await seed_full_catalogue(data_dir, data)
    async with FakeAniList(data, rate_limit=1000, latency_s=2.0) as anilist:
        process = await start_process(
            emulator,
            data_dir,
            ANILIST_API_URL=anilist.url.rstrip("/"),
            BUILD_CATALOGUE="true",
            CATALOGUE_SIZE="1500",
        )
        if state == "catalogue build":
            await asyncio.sleep(1.0)  # the first catalogue request is under way
            assert anilist.requests_by_operation["Catalogue"] >= 1
        process.send_signal(signal.SIGINT)
        started = time.monotonic()
        async with asyncio.timeout(15):
            code = await process.wait()
        assert code == 0
        assert time.monotonic() - started < 5
