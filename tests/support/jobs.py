"""Jobs for bot.services.children that tests can run in place of the real ones."""

from __future__ import annotations

import time
from collections.abc import Callable


def never_ending_job(progress: Callable[[str], None], *_args: object) -> None:
    """A training that never finishes by itself: the time limit has to end it."""
    progress("epoch 1, loss 9.9999")
    while True:
        time.sleep(1)
