"""Load benchmark of the whole bot against issue 11's goals: the real Anime8 bot, started as
main.py starts it (bot.core.serve), in this process, against the local Discord emulator and the
fake AniList, each in a process of its own; then main.py itself as a process, for its memory.

    python -m benchmarks.bench_bot            # full run: the goal's sizes (5,000 titles per
                                              # type, 1,000 stored lists); under ~20 minutes
    python -m benchmarks.bench_bot --quick    # smaller sizes, says so; under ~6 minutes

It measures deferral and event-loop lag in every state (idle, model rebuild, catalogue build,
automatic and owner training), final-message latency for uncached and cached lists, rating
click acks during a rebuild, and the bot process's RSS, and ends with a Goals table. It prints
tables only; it passes or fails nothing. The sections live in benchmarks/bot/.
"""

from __future__ import annotations

import argparse
import asyncio
import shlex
import sys
from pathlib import Path

import psutil

from benchmarks.bot.fixture import FULL, QUICK
from benchmarks.bot.run import run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller sizes, under ~6 minutes")
    args = parser.parse_args()
    command = [Path(sys.executable).name, "-m", "benchmarks.bench_bot", *sys.argv[1:]]
    print("command:", shlex.join(command))
    print(f"host: {psutil.cpu_count()} CPUs, Python {sys.version.split()[0]}")
    asyncio.run(run(QUICK if args.quick else FULL))


if __name__ == "__main__":
    main()
