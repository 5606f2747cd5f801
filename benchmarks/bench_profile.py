"""``python -m benchmarks.bench_profile [--entries 2000] [--repeats 20]``

What one /profile costs: CPU seconds (process time, one thread) of the taste analysis
(model.taste.analyse_taste) and of drawing the picture (bot.services.profile_picture), for a
list of ``--entries`` titles, on two catalogues:

- mal-5k: the benchmark's real catalogue (``../shared/benchmark/mal-5k``; skipped when absent);
- fake: the fake AniList's generated catalogue, which has release years, tags and spoilers.

The list takes ``--entries`` titles of the catalogue at random (seed 0), 85% scored. Then, in a
fresh interpreter, the resident memory that importing Pillow and drawing the first picture
add. Prints tables, never asserts.
"""

from __future__ import annotations

import argparse
import gzip
import json
import random
import subprocess
import sys
import time
from pathlib import Path

from benchmarks.report import ms, percentile, table
from bot.services.profile_picture import draw_profile
from model.catalogue import build_catalogue
from model.taste import analyse_taste
from tests.fakes.anilist_server import FakeData

MAL_5K = Path(__file__).resolve().parents[2] / "shared" / "benchmark" / "mal-5k"
STATUSES = ["COMPLETED"] * 6 + ["CURRENT", "DROPPED", "PAUSED", "PLANNING"]

MEMORY_PROBE = """
import psutil, sys
process = psutil.Process()
before = process.memory_info().rss
from PIL import Image, ImageDraw, ImageFont
imported = process.memory_info().rss
sys.path.insert(0, sys.argv[1])
from bot.services.profile_picture import draw_profile
from model.taste import Taste
taste = Taste(40, 35, 30, 7.2, (), (), (1,) * 10, (("TV", 3),), (("2010s", 3),), (), 3, 500)
baseline = process.memory_info().rss
draw_profile(taste, "Probe", "ANIME")
drawn = process.memory_info().rss
print(imported - before, drawn - baseline)
"""


def catalogues() -> list[tuple[str, list[dict]]]:
    found = []
    path = MAL_5K / "catalogue.jsonl.gz"
    if path.exists():
        with gzip.open(path, "rt") as lines:
            found.append(("mal-5k", [json.loads(line) for line in lines]))
    else:
        print(f"skipping mal-5k: {path} is missing")
    fake = FakeData.generate(media_per_type=3000, seed=5, extra_users=0)
    found.append(("fake", [m for m in fake.media.values() if m["type"] == "ANIME"]))
    return found


def make_list(media: list[dict], count: int) -> list[dict]:
    rng = random.Random(0)
    chosen = rng.sample(media, min(count, len(media)))
    return [
        {
            "mediaId": m["id"],
            "score": round(rng.uniform(1, 10), 1) if rng.random() < 0.85 else 0.0,
            "status": rng.choice(STATUSES),
        }
        for m in chosen
    ]


def cpu(run, repeats: int) -> list[float]:
    times = []
    for _ in range(repeats):
        started = time.process_time()
        run()
        times.append(time.process_time() - started)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--entries", type=int, default=2000)
    parser.add_argument("--repeats", type=int, default=20)
    args = parser.parse_args()
    rows = []
    for name, media in catalogues():
        catalogue = build_catalogue(media)
        entries = make_list(media, args.entries)
        taste = analyse_taste(entries, catalogue, allow_adult=False)
        draw_profile(taste, "Bench", "ANIME")  # the font is loaded once, outside the timing
        analyse = cpu(
            lambda e=entries, c=catalogue: analyse_taste(e, c, allow_adult=False), args.repeats
        )
        draw = cpu(lambda t=taste: draw_profile(t, "Bench", "ANIME"), args.repeats)
        total = [a + d for a, d in zip(analyse, draw, strict=True)]
        png = draw_profile(taste, "Bench", "ANIME")
        rows.append(
            [
                name,
                f"{len(catalogue):,}",
                f"{len(entries):,}",
                ms(percentile(analyse, 50)),
                ms(percentile(draw, 50)),
                ms(percentile(total, 50)),
                ms(max(total)),
                f"{len(png) / 1024:,.0f}",
            ]
        )
    table(
        f"/profile CPU per request, ms of process time ({args.repeats} runs)",
        [
            "catalogue",
            "titles",
            "entries",
            "analyse p50",
            "draw p50",
            "total p50",
            "total max",
            "PNG KiB",
        ],
        rows,
        labels=(0,),
    )
    repo = str(Path(__file__).resolve().parents[1])
    probe = subprocess.run(
        [sys.executable, "-c", MEMORY_PROBE, repo], capture_output=True, text=True, check=True
    )
    imported, drawn = (int(x) for x in probe.stdout.split())
    table(
        "Resident memory Pillow adds, MiB (fresh interpreter)",
        ["step", "MiB"],
        [
            ["import PIL.Image, ImageDraw, ImageFont", f"{imported / 2**20:.1f}"],
            ["first picture (font, canvas, PNG)", f"{drawn / 2**20:.1f}"],
        ],
        labels=(0,),
    )


if __name__ == "__main__":
    main()
