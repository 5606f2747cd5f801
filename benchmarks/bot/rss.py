"""Resident memory of the bot as production runs it: ``python main.py`` in its own process,
on the data directory the in-process sections left (catalogue, stored lists, trained models),
against the same emulator (in its process) and fake AniList."""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import psutil

from .latency import Samples, recommend_round
from .remote_discord import RemoteDiscord

REPO = Path(__file__).resolve().parents[2]
READY_TIMEOUT_S = 120.0
SETTLE_TIMEOUT_S = 300.0
JOB = "job forked by the forkserver"


@dataclass(frozen=True)
class Memory:
    """One reading of the bot process's memory."""

    moment: str  # when it was read
    bot: int  # RSS of the main.py process, bytes
    bot_file: int  # of which file-backed pages (the mapped fitted states, libraries), bytes
    children: list[tuple[str, int]]  # (name, RSS bytes) of its live descendants
    mappings: list[tuple[str, int]]  # (mapped file or kind, resident bytes), largest first

    @property
    def jobs(self) -> int:
        """Model builds and trainings alive at the reading."""
        return sum(name.startswith(JOB) for name, _ in self.children)


async def bot_process_rss(
    discord: RemoteDiscord,
    data_dir: Path,
    env: dict[str, str],
    pairs: list[tuple[str, str]],
) -> tuple[str, list[Memory]]:
    """Start main.py with `env` on `data_dir`, ask /recommend of both types for `pairs`
    (retrying while the models warm up), and read RSS twice: at once, and once the model
    builds main.py starts with have ended (or SETTLE_TIMEOUT_S passed); then stop it with
    SIGTERM. Returns (how the /recommends went, the readings)."""
    started = time.monotonic()
    full_env = {
        **os.environ,
        "DISCORD_TOKEN": discord.token,
        "DATA_DIR": str(data_dir),
        "DISCORD_API_BASE": discord.api_base,
        "DISCORD_GATEWAY_URL": discord.gateway_url,
        **env,
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable, str(REPO / "main.py"), cwd=data_dir.parent, env=full_env
    )
    try:
        await discord.wait_for(lambda e: e.kind == "identify", READY_TIMEOUT_S, after=started)
        await discord.wait_until_ready(30)
        replies = await _warm(discord, pairs)
        readings = [_measure(process.pid, "after the warm-up /recommends")]
        deadline = time.monotonic() + SETTLE_TIMEOUT_S
        while readings[-1].jobs and time.monotonic() < deadline:
            await asyncio.sleep(1)
            readings.append(_measure(process.pid, "once its startup builds ended"))
        if len(readings) > 2:
            readings = [readings[0], readings[-1]]
        if readings[-1].jobs:
            readings[-1] = _measure(
                process.pid, f"builds still running after {SETTLE_TIMEOUT_S:.0f} s"
            )
        return replies, readings
    finally:
        if process.returncode is None:
            process.terminate()
            try:
                async with asyncio.timeout(30):
                    await process.wait()
            except TimeoutError:
                process.kill()
                await process.wait()


# Imports what main.py imports and every cog (the bot loads them when it starts), then reads
# itself as _measure reads the bot: the memory a bot costs before it holds any data.
_IMPORTS_ONLY = """
import importlib, json, os, pkgutil
import cogs, main
from benchmarks.bot.rss import _measure
for module in pkgutil.iter_modules(cogs.__path__):
    importlib.import_module(f"cogs.{module.name}")
memory = _measure(os.getpid(), "imports only, nothing started")
print(json.dumps([memory.bot, memory.bot_file, memory.mappings]))
"""


async def imports_only_rss() -> Memory:
    """RSS of a Python process that has imported the bot's code (torch, discord.py and the
    rest) and done nothing else."""
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-c", _IMPORTS_ONLY, cwd=REPO, stdout=asyncio.subprocess.PIPE
    )
    out, _ = await process.communicate()
    rss, file_backed, mappings = json.loads(out)
    return Memory(
        "imports only, nothing started", rss, file_backed, [], [tuple(m) for m in mappings]
    )


async def _warm(discord: RemoteDiscord, pairs: list[tuple[str, str]]) -> str:
    """/recommend of both types for each pair until it gets embeds (the first may meet
    "warming up"); returns "<ok> of <asked> with embeds"."""
    ok = asked = 0
    deadline = time.monotonic() + READY_TIMEOUT_S
    for media_type in ("ANIME", "MANGA"):
        for pair in pairs:
            asked += 1
            while time.monotonic() < deadline:
                samples = Samples()
                await recommend_round(discord, [pair], samples, media_type=media_type)
                if samples.outcomes["ok"]:
                    ok += 1
                    break
                await asyncio.sleep(1)
    return f"{ok} of {asked} with embeds"


def _measure(pid: int, moment: str) -> Memory:
    process = psutil.Process(pid)
    children = []
    for child in process.children(recursive=True):
        try:
            command = " ".join(child.cmdline())
            if "resource_tracker" in command:
                kind = "multiprocessing resource tracker"
            elif child.ppid() == pid:
                kind = "forkserver"
            else:
                kind = JOB  # a model build or a training
            children.append((f"{kind} (pid {child.pid})", child.memory_info().rss))
        except psutil.Error:
            continue  # ended between the listing and the reading
    return Memory(
        moment, process.memory_info().rss, _file_backed(pid), children, _resident_mappings(pid)
    )


def _file_backed(pid: int) -> int:
    """RssFile of /proc/<pid>/status: resident pages of mapped files. The kernel can drop
    them under memory pressure and read them back, unlike the anonymous rest."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("RssFile:"):
            return int(line.split()[1]) * 1024
    return 0


def _resident_mappings(pid: int) -> list[tuple[str, int]]:
    """Resident bytes of each file the process maps, of its main heap ("[heap]") and of its
    other anonymous mappings together ("anonymous": thread arenas, large tensors), from
    /proc/<pid>/smaps, the largest first."""
    resident: Counter[str] = Counter()
    name = ""
    for line in Path(f"/proc/{pid}/smaps").read_text().splitlines():
        fields = line.split()
        if not fields:
            continue
        if not fields[0].endswith(":"):  # a mapping's header: address perms offset dev inode [path]
            name = fields[5] if len(fields) > 5 else "anonymous"
        elif fields[0] == "Rss:":
            resident[name] += int(fields[1]) * 1024
    return resident.most_common()
