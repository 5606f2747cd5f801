"""A served model stays out of Python's full garbage collections, which would otherwise walk
its objects on the event loop; stopping the bot hands them back."""

from __future__ import annotations

import gc


async def test_a_served_model_is_frozen_and_stopping_unfreezes_it(ready_bot, harness) -> None:
    assert ready_bot.recommendations.models.serving_model("ANIME") is not None
    assert gc.get_freeze_count() > 0
    await harness.stop()
    assert gc.get_freeze_count() == 0
