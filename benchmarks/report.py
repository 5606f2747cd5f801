"""Printing benchmark figures: aligned tables and the units they are read in."""

from __future__ import annotations

import sys


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile of a non-empty list."""
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(q / 100 * len(ordered) + 0.4999)))
    return ordered[rank - 1]


def table(title: str, header: list[str], rows: list[list[str]]) -> None:
    """Print a titled table: the first column left-aligned, the others right-aligned."""
    widths = [max(len(str(c)) for c in column) for column in zip(header, *rows, strict=True)]
    print(f"\n{title}")
    print("  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)))
    print("  ".join("-" * w for w in widths))
    for row in rows:
        cells = [
            str(c).rjust(w) if i else str(c).ljust(w)
            for i, (c, w) in enumerate(zip(row, widths, strict=True))
        ]
        print("  ".join(cells))
    sys.stdout.flush()


def ms(seconds: float) -> str:
    return f"{seconds * 1000:,.0f}"


def mib(n_bytes: int) -> str:
    return f"{n_bytes / 2**20:,.0f}"
