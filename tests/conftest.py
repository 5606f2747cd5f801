"""Every async test runs on the kind of event loop the bot runs on (bot.event_loop)."""

from __future__ import annotations

from bot.event_loop import new_event_loop


def pytest_asyncio_loop_factories(config, item):
    return {"bot-loop": new_event_loop}
