"""Operators' view of the real bot: /healthz, /metrics moving with traffic, and JSON logs."""

from __future__ import annotations

import asyncio
import dataclasses
import io
import json
import logging
import socket

import aiohttp
import pytest
from prometheus_client.parser import text_string_to_metric_families

from bot.core import Anime8Bot
from bot.ops.logs import REDACTED, configure_logging
from bot.ops.server import MetricsPortUnavailable
from tests.fakes.anilist_server import Fault
from tests.fakes.discord import buttons

# Bounded waits for state the bot reaches on its own (a reconnect); no timing is asserted.
POLL_TRIES = 200
POLL_EVERY_S = 0.05


@pytest.fixture
def bot_env(bot_env):
    bot_env["METRICS_PORT"] = "0"  # any free port on 127.0.0.1
    return bot_env


async def _get(bot: Anime8Bot, path: str) -> tuple[int, str, str]:
    assert bot.ops_server is not None and bot.ops_server.port
    url = f"http://127.0.0.1:{bot.ops_server.port}{path}"
    async with aiohttp.ClientSession() as session, session.get(url) as response:
        return response.status, response.headers["Content-Type"], await response.text()


async def _health(bot: Anime8Bot) -> tuple[int, dict]:
    status, content_type, text = await _get(bot, "/healthz")
    assert content_type.startswith("application/json")
    return status, json.loads(text)


async def _scrape(bot: Anime8Bot) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample by (name, sorted labels), parsed as Prometheus parses the text format."""
    status, content_type, text = await _get(bot, "/metrics")
    assert status == 200 and content_type.startswith("text/plain; version=")
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def _value(samples, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


async def _health_until(bot: Anime8Bot, status: int) -> dict:
    for _ in range(POLL_TRIES):
        got, body = await _health(bot)
        if got == status:
            return body
        await asyncio.sleep(POLL_EVERY_S)
    raise AssertionError(f"/healthz never answered {status}; last {got}: {body}")


async def test_healthz_is_ok_when_ready_and_names_the_gateway_while_it_is_down(ready_bot, emulator):
    """200 with everything up; 503 naming only the gateway while Discord refuses reconnects;
    200 again once the bot has resumed."""
    status, body = await _health(ready_bot)
    assert status == 200, body
    assert body["missing"] == [] and all(body["checks"].values())
    assert set(body["checks"]) == {"gateway", "database", "model:ANIME", "model:MANGA"}

    emulator.refuse_gateway = True
    await emulator.drop_gateway()
    # The bot noticed the drop before it tried (and failed) to reconnect.
    await emulator.wait_for(lambda e: e.kind == "gateway_refused", 10)
    status, body = await _health(ready_bot)
    assert status == 503 and body["status"] == "unhealthy"
    assert body["missing"] == ["gateway"]
    assert (await _scrape(ready_bot))[("anime8_gateway_connected", ())] == 0

    emulator.refuse_gateway = False
    await emulator.wait_for(lambda e: e.kind == "resume", 10)
    body = await _health_until(ready_bot, 200)
    assert body["missing"] == []


async def test_healthz_names_the_models_missing_without_a_catalogue(bot):
    """Without a catalogue no model has titles to serve: 503, naming each type."""
    await bot.recommendations.models.wait_idle()
    status, body = await _health(bot)
    assert status == 503
    assert body["missing"] == ["model:ANIME", "model:MANGA"]
    assert body["checks"]["gateway"] and body["checks"]["database"]


async def test_metrics_move_with_real_traffic(ready_bot, emulator, anilist):
    """A /recommend, a rating click, an AniList 429 and an /autotrain each show in /metrics."""
    before = await _scrape(ready_bot)
    assert _value(before, "anime8_catalogue_titles", type="ANIME") == 300
    assert _value(before, "anime8_catalogue_titles", type="MANGA") == 300
    assert ("anime8_catalogue_age_seconds", (("type", "ANIME"),)) in before
    assert _value(before, "anime8_model_version", type="ANIME") == 0
    assert _value(before, "anime8_anilist_requests_total", outcome="ok") > 0  # the catalogue
    assert _value(before, "anime8_event_loop_lag_seconds_count") > 0
    assert _value(before, "anime8_interaction_ack_seconds_count", command="recommend") == 0

    record = await emulator.invoke("recommend", {"username": "Alice", "count": 1})
    shown = await record.wait_message(timeout=20)
    after_recommend = await _scrape(ready_bot)
    for histogram in ("anime8_interaction_ack_seconds", "anime8_interaction_final_seconds"):
        assert _value(after_recommend, f"{histogram}_count", command="recommend") == 1
    assert _value(after_recommend, "anime8_anilist_requests_total", outcome="ok") > _value(
        before, "anime8_anilist_requests_total", outcome="ok"
    )

    click = await emulator.click(shown, buttons(shown)[7]["custom_id"], user="alice")
    await click.wait_message()
    after_click = await _scrape(ready_bot)
    assert _value(after_click, "anime8_ratings_stored_total", type="ANIME") == 1
    assert _value(after_click, "anime8_ratings", type="ANIME") == 1
    label = "button:RatingButton"
    assert _value(after_click, "anime8_interaction_ack_seconds_count", command=label) == 1

    anilist.script(Fault.rate_limited(retry_after=1))
    record = await emulator.invoke("recommend", {"username": "Bob", "count": 1})
    await record.wait_message(timeout=30)
    after_429 = await _scrape(ready_bot)
    assert _value(after_429, "anime8_anilist_requests_total", outcome="rate_limited") == 1
    assert _value(after_429, "anime8_anilist_paused_seconds_total") >= 1
    assert _value(after_429, "anime8_anilist_queue_length", priority="interactive") == 0

    record = await emulator.invoke("autotrain", user="owner")
    await record.wait_message(lambda m: "Trained a new" in m["content"], timeout=120)
    trained = await _scrape(ready_bot)
    assert _value(trained, "anime8_trainings_total", type="ANIME", outcome="not_improved") == 1
    for net in ("previous", "trained"):
        assert 0 <= _value(trained, "anime8_model_heldout_ndcg", type="ANIME", net=net) <= 1
        assert ("anime8_model_heldout_ndcg", (("net", net), ("type", "ANIME"))) in trained
    assert _value(trained, "anime8_interaction_final_seconds_count", command="autotrain") == 1


async def test_json_logs_carry_the_interaction_id_and_the_error_id(bot, emulator):
    """LOG_FORMAT=json: one object per line; a crash's error id leads to its traceback, whose
    interaction id leads to the command's other lines; the token never appears."""
    settings = bot.settings
    stream = io.StringIO()
    root = logging.getLogger()
    level = root.level
    handler = configure_logging(dataclasses.replace(settings, log_format="json"), stream)
    command_log = logging.getLogger("tests.ops.boom")
    try:

        @bot.tree.command(name="boom")
        async def boom(interaction):
            command_log.warning("about to fail")
            raise RuntimeError(f"kaboom with {settings.discord_token}")

        record = await emulator.invoke_raw({"name": "boom", "type": 1, "id": "9"})
        message = await record.wait_message()
    finally:
        root.removeHandler(handler)
        root.setLevel(level)
    error_id = message["content"].split("error id ")[1].split(")")[0]
    text = stream.getvalue()
    lines = [json.loads(line) for line in text.splitlines()]
    assert all({"time", "level", "logger", "message"} <= set(line) for line in lines)
    crash = next(line for line in lines if line.get("error_id") == error_id)
    assert crash["level"] == "ERROR" and "kaboom" in crash["exception"]
    assert crash["interaction_id"] == str(record.id)
    ours = [line for line in lines if line.get("interaction_id") == str(record.id)]
    assert {"tests.ops.boom", "bot.error_handler"} <= {line["logger"] for line in ours}
    assert settings.discord_token not in text and REDACTED in crash["exception"]


async def test_a_taken_metrics_port_stops_the_bot_with_one_sentence(harness):
    """A port already in use ends start-up with a sentence naming the setting."""
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(MetricsPortUnavailable, match=f"METRICS_PORT {port} "):
            await harness.start(METRICS_PORT=str(port))
    # The bot closed itself (serve's `async with`); nothing is left for the fixture to stop.
    assert harness.bot is not None and harness.bot.is_closed()
    harness.bot = harness.task = None
