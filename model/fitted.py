"""A fitted Recommender as one file: its catalogue index and collaborative state.

The bot fits in a child process (no shared GIL) and serves in its own, so the fitted state
travels as a file. It holds only tensors and primitive containers, so it is read with
``torch.load(weights_only=True)``; reading it with ``mmap=True`` leaves the item-item matrices in
the page cache, paged in as scoring touches their rows, instead of copying them to the heap.
The lists the state was fitted on are not in the file: serving does not need them, and
training reads them from storage itself.
"""

from __future__ import annotations

import dataclasses
import os
import tempfile
import warnings
from pathlib import Path
from typing import TypeVar

import torch

from .catalogue import Catalogue
from .collab import Collab
from .recommender import Recommender, RecommenderConfig

# 2: the catalogue holds each title's searchable names.
# 3: the collaborative state holds EDLAE.
FORMAT_VERSION = 3
T = TypeVar("T")


def _fields(cls: type) -> list[str]:
    return [f.name for f in dataclasses.fields(cls)]


def save_fitted(recommender: Recommender, path: str | os.PathLike) -> None:
    """Write the recommender's fitted state to ``path`` atomically (temp file + rename), so a
    reader never sees half a file and a reader that mapped the old file keeps it intact.
    Fits first when the recommender has not been fitted yet."""
    recommender.fit()
    catalogue, collab = recommender.catalogue, recommender.collab
    payload = {
        "format": FORMAT_VERSION,
        "catalogue": {name: getattr(catalogue, name) for name in _fields(Catalogue)},
        "collab": None
        if collab is None
        else {name: getattr(collab, name) for name in _fields(Collab)},
    }
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=".tmp-", suffix=".pt")
    try:
        with os.fdopen(handle, "wb") as file:
            torch.save(payload, file)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def load_fitted(path: str | os.PathLike, config: RecommenderConfig | None = None) -> Recommender:
    """A Recommender serving the state saved at ``path`` (no net: load a checkpoint into it).

    Raises OSError when the file cannot be read and ValueError when it is not a fitted state
    this code understands (another format, or fields of an older or newer model).
    """
    try:
        with warnings.catch_warnings():
            # The catalogue's community votes are a sparse CSR tensor, which torch calls beta.
            warnings.filterwarnings("ignore", message="Sparse CSR tensor support")
            payload = torch.load(path, weights_only=True, mmap=True)
    except OSError:
        raise
    except Exception as error:  # unpickling a damaged file can raise nearly anything
        raise ValueError(f"unreadable fitted state: {error}") from error
    if not isinstance(payload, dict) or payload.get("format") != FORMAT_VERSION:
        raise ValueError("unknown fitted-state format")
    catalogue = _build(Catalogue, payload.get("catalogue"))
    collab = None if payload.get("collab") is None else _build(Collab, payload["collab"])
    return Recommender.from_fitted(catalogue, collab, config=config)


def _build(cls: type[T], values: object) -> T:
    if not isinstance(values, dict) or sorted(values) != sorted(_fields(cls)):
        raise ValueError(f"the fitted {cls.__name__} has other fields than this code's")
    return cls(**values)
