"""Reading the benchmark's gzip JSON Lines files (FORMAT.md)."""

from __future__ import annotations

import gzip
import json
import os
from collections.abc import Iterator
from pathlib import Path


def read_jsonl(path: str | os.PathLike) -> Iterator[dict]:
    """Each JSON object of a (gzip-compressed, when named .gz) JSON Lines file."""
    opener = gzip.open if str(path).endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8") as file:
        for line in file:
            if line.strip():
                yield json.loads(line)


def read_catalogue(directory: str | os.PathLike) -> list[dict]:
    """The media of ``directory/catalogue.jsonl.gz``."""
    return list(read_jsonl(Path(directory) / "catalogue.jsonl.gz"))


def read_lists(path: str | os.PathLike) -> dict[str, list[dict]]:
    """``{user: entries}`` of a train/test file."""
    return {row["user"]: row["entries"] for row in read_jsonl(path)}
