"""A lock on DATA_DIR: a running bot holds it shared, a restore needs it alone.

`flock` locks belong to the open file, so the operating system drops them when the process
ends, however it ends: a crashed bot never leaves a stale lock behind.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

LOCK_FILE = "anime8.lock"


class DataDirInUse(Exception):
    """Someone else holds DATA_DIR in a way that excludes us; the message is one sentence."""


class DataDirLock:
    """Holds the lock until release(); acquire with `DataDirLock.acquire(data_dir, ...)`."""

    def __init__(self, fd: int) -> None:
        self._fd: int | None = fd

    @classmethod
    def acquire(cls, data_dir: Path, *, exclusive: bool) -> DataDirLock:
        """Take the lock without waiting; DataDirInUse when it is held incompatibly."""
        data_dir.mkdir(parents=True, exist_ok=True)
        fd = os.open(data_dir / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o600)
        mode = fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH
        try:
            fcntl.flock(fd, mode | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            if exclusive:
                raise DataDirInUse(
                    f"Anime8 is running on {data_dir}; stop it first (for example "
                    "`systemctl stop anime8`)."
                ) from None
            raise DataDirInUse(f"A restore into {data_dir} is under way; wait for it.") from None
        return cls(fd)

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


@contextmanager
def hold_data_dir(data_dir: Path, *, exclusive: bool) -> Iterator[None]:
    lock = DataDirLock.acquire(data_dir, exclusive=exclusive)
    try:
        yield
    finally:
        lock.release()
