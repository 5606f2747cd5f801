"""Versioned checkpoints of RecommenderNet: ``<type>-v<N>.pt`` under a caller-given directory.

Only tensors and primitive containers are stored, so ``torch.load(weights_only=True)`` can read
them. Writes are atomic (temp file + os.replace). Loading walks versions newest first and logs
every file it has to skip; when none loads, the recommender keeps its cold (untrained) scorer.
"""

from __future__ import annotations

import logging
import os
import re
import tempfile
from pathlib import Path

import torch

from .recommender import Recommender

log = logging.getLogger(__name__)
FORMAT_VERSION = 1


def _pattern(media_type: str) -> re.Pattern[str]:
    return re.compile(rf"^{re.escape(media_type.lower())}-v(\d+)\.pt$")


def checkpoint_versions(directory: str | os.PathLike, media_type: str) -> list[int]:
    """Versions present for ``media_type``, ascending."""
    path = Path(directory)
    if not path.is_dir():
        return []
    pattern = _pattern(media_type)
    found = (pattern.match(p.name) for p in path.iterdir())
    return sorted(int(m.group(1)) for m in found if m)


def checkpoint_path(directory: str | os.PathLike, media_type: str, version: int) -> Path:
    """Where version ``version`` of ``media_type`` lives."""
    return Path(directory) / f"{media_type.lower()}-v{version}.pt"


def save_checkpoint(directory: str | os.PathLike, media_type: str, recommender: Recommender) -> int:
    """Write the recommender's trained net as the next version; returns that version."""
    path = Path(directory)
    path.mkdir(parents=True, exist_ok=True)
    version = max(checkpoint_versions(path, media_type), default=0) + 1
    payload = {
        "format": FORMAT_VERSION,
        "media_type": media_type.upper(),
        **recommender.state_dict(),
    }
    handle, temporary = tempfile.mkstemp(dir=path, prefix=".tmp-", suffix=".pt")
    try:
        with os.fdopen(handle, "wb") as file:
            torch.save(payload, file)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, checkpoint_path(path, media_type, version))
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return version


def load_latest(
    directory: str | os.PathLike, media_type: str, recommender: Recommender
) -> int | None:
    """Install the newest loadable checkpoint into ``recommender``; returns its version, or
    None when none loads (the recommender then serves its cold/untrained scorer)."""
    for version in reversed(checkpoint_versions(directory, media_type)):
        path = checkpoint_path(directory, media_type, version)
        try:
            payload = torch.load(path, weights_only=True)
            if not isinstance(payload, dict) or payload.get("format") != FORMAT_VERSION:
                raise ValueError("unknown checkpoint format")
            if payload.get("media_type") != media_type.upper():
                raise ValueError(f"checkpoint is for {payload.get('media_type')}")
            recommender.load_state_dict(payload)
        except Exception as error:  # a corrupt file can raise nearly anything from unpickling
            log.warning("skipping checkpoint %s: %s", path, error)
            continue
        log.info("loaded checkpoint %s", path)
        return version
    return None
