"""Percentiles and the plain-text tables the benchmark prints (it prints, never asserts)."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def mal_5k() -> Path | None:
    """../shared/benchmark/mal-5k beside the repository (or in /work/shared), or None after
    printing that the benchmark skips: the data is not part of the project."""
    for shared in (ROOT.parent / "shared", Path("/work/shared")):
        directory = shared / "benchmark" / "mal-5k"
        if (directory / "train.jsonl.gz").exists():
            return directory
    print("skipped: benchmark data not found in ../shared/benchmark/mal-5k")
    return None


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile `q` (0-100) of a non-empty sequence."""
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(q / 100 * len(ordered) + 0.4999)))
    return ordered[rank - 1]


def ms(seconds: float) -> str:
    """Seconds as whole milliseconds with thousands separators."""
    return f"{seconds * 1000:,.0f}"


def pct_ms(values: Sequence[float], q: float) -> str:
    """Percentile `q` of `values` in ms, or "-" when nothing was measured."""
    return ms(percentile(values, q)) if values else "-"


def mib(n_bytes: int) -> str:
    """Bytes as whole MiB."""
    return f"{n_bytes / 2**20:,.0f}"


def table(
    title: str, header: list[str], rows: list[list[str]], labels: tuple[int, ...] = (0, -1)
) -> None:
    """Print `rows` under `header`: the `labels` columns (by default the first and the last:
    names and notes) left-aligned, the figures in the others right-aligned."""
    widths = [max(len(str(c)) for c in column) for column in zip(header, *rows, strict=True)]
    left = {i % len(widths) for i in labels}

    def cells(row: list[str]) -> str:
        return "  ".join(
            str(c).ljust(w) if i in left else str(c).rjust(w)
            for i, (c, w) in enumerate(zip(row, widths, strict=True))
        ).rstrip()

    print(f"\n{title}")
    print(cells(header))
    print("  ".join("-" * w for w in widths))
    for row in rows:
        print(cells(row))
    sys.stdout.flush()
