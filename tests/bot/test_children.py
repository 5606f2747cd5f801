"""Jobs in child processes yield the CPU to the bot."""

from __future__ import annotations

import os

from bot.services.children import CHILD_NICENESS, ChildJobs
from tests.support.jobs import niceness_job


async def test_a_child_job_runs_at_a_lower_cpu_priority_than_the_bot() -> None:
    parent = os.nice(0)
    child = await ChildJobs().run(niceness_job, name="niceness")
    assert child == min(parent + CHILD_NICENESS, 19)
    assert os.nice(0) == parent  # the bot itself is untouched
