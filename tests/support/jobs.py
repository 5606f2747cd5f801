"""Jobs for bot.services.children that tests can run in place of the real ones."""

from __future__ import annotations

import os
import time
from collections.abc import Callable


def never_ending_job(progress: Callable[[str], None], *_args: object) -> None:
    """A training that never finishes by itself: the time limit has to end it."""
    progress("epoch 1, loss 9.9999")
    while True:
        time.sleep(1)


def niceness_job(_progress: Callable[[str], None], *_args: object) -> int:
    """The child's CPU niceness."""
    return os.nice(0)
