"""The bot's Prometheus metrics, on a registry of its own (several bots share a test process).

Latencies and loop lag are histograms observed as they happen. Everything that is state (the
AniList budget, queues, catalogue, models, counts kept by the services) is read when Prometheus
scrapes, by :class:`BotCollector`, so nothing is pushed on the request path; the few figures
that need the database are fetched by :meth:`Metrics.refresh` just before each scrape.
"""

from __future__ import annotations

import logging
import math
import sqlite3
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from prometheus_client import CollectorRegistry, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from bot.anilist import MEDIA_TYPES
from bot.anilist.rate_limit import Priority

if TYPE_CHECKING:
    from bot.core import Anime8Bot

log = logging.getLogger(__name__)

# Interactions: Discord wants an acknowledgement within 3 s; final messages may take longer.
LATENCY_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 3.0, 5.0, 10.0, 30.0, 60.0)
LAG_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)


@dataclass(slots=True)
class StoredFigures:
    """What the last refresh read from the database, by media type."""

    catalogue_titles: dict[str, int] = field(default_factory=dict)
    catalogue_completed_at: dict[str, float] = field(default_factory=dict)
    ratings: dict[str, int] = field(default_factory=dict)


class Metrics:
    """Owns the registry, the histograms, and the collector reading the bot's state."""

    def __init__(self, bot: Anime8Bot) -> None:
        self.registry = CollectorRegistry()
        self.interaction_ack = Histogram(
            "anime8_interaction_ack_seconds",
            "From starting to handle an interaction to Discord accepting its first response.",
            ["command"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.interaction_final = Histogram(
            "anime8_interaction_final_seconds",
            "From starting to handle an interaction to its handler ending, its last message "
            "(answer or error) sent.",
            ["command"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.loop_lag = Histogram(
            "anime8_event_loop_lag_seconds",
            "How late the event loop ran a sleep that was due (sampled a few times a second).",
            buckets=LAG_BUCKETS,
            registry=self.registry,
        )
        self.stored = StoredFigures()
        self.registry.register(BotCollector(bot, self.stored))
        self._bot = bot

    async def refresh(self) -> None:
        """Read the figures kept in the database; on a database error they keep their last
        values (the health check says whether the database answers)."""
        db, media = self._bot.db, self._bot.media_store
        try:
            for media_type in MEDIA_TYPES:
                self.stored.catalogue_titles[media_type] = await media.catalogue_count(media_type)
                self.stored.ratings[media_type] = await db.feedback_count(media_type)
                build = await media.catalogue_build(media_type)
                if build is not None and build.completed_at is not None:
                    self.stored.catalogue_completed_at[media_type] = build.completed_at
        except (sqlite3.Error, ValueError) as error:  # ValueError: a closed aiosqlite connection
            log.warning("metrics: could not read the database (%s)", error)

    def exposition(self) -> bytes:
        """The registry in Prometheus' text format."""
        return generate_latest(self.registry)


class BotCollector(Collector):
    """Reads the bot's state at scrape time (see the module's docstring)."""

    def __init__(self, bot: Anime8Bot, stored: StoredFigures) -> None:
        self._bot = bot
        self._stored = stored

    def collect(self) -> Iterator[Metric]:
        yield from self._anilist()
        yield from self._catalogue()
        yield from self._models()
        bot, stored = self._bot, self._stored
        saved = CounterMetricFamily(
            "anime8_ratings_stored", "Ratings committed since start.", labels=["type"]
        )
        rows = GaugeMetricFamily("anime8_ratings", "Ratings in the database.", labels=["type"])
        for media_type in MEDIA_TYPES:
            saved.add_metric([media_type], bot.db.ratings_saved[media_type])
            if media_type in stored.ratings:
                rows.add_metric([media_type], stored.ratings[media_type])
        yield saved
        yield rows
        connected = getattr(bot, "gateway_connected", False)
        yield GaugeMetricFamily(
            "anime8_gateway_connected", "1 while the gateway session is up.", value=connected
        )

    def _anilist(self) -> Iterator[Metric]:
        client = self._bot.anilist
        limiter = client.limiter
        requests = CounterMetricFamily(
            "anime8_anilist_requests",
            "AniList requests since start by outcome: ok, rate_limited, client_error, "
            "server_error, timeout, connection_error; budget_exhausted were never sent.",
            labels=["outcome"],
        )
        for outcome, count in sorted(client.outcomes.items()):
            requests.add_metric([outcome], count)
        yield requests
        yield GaugeMetricFamily(
            "anime8_anilist_budget_free",
            "Requests the rolling window allows now.",
            value=max(0, limiter.free_slots()),
        )
        yield GaugeMetricFamily(
            "anime8_anilist_budget_capacity",
            "Requests per window the server's headers last let the limiter believe.",
            value=limiter.capacity,
        )
        yield CounterMetricFamily(
            "anime8_anilist_paused_seconds",
            "Time requests were paused by 429s' Retry-After, since start.",
            value=limiter.paused_seconds,
        )
        queues = GaugeMetricFamily(
            "anime8_anilist_queue_length",
            "Callers waiting for a request slot.",
            labels=["priority"],
        )
        for priority in Priority:
            queues.add_metric([priority.name.lower()], limiter.waiting(priority))
        yield queues

    def _catalogue(self) -> Iterator[Metric]:
        stored = self._stored
        titles = GaugeMetricFamily(
            "anime8_catalogue_titles", "Titles in the catalogue.", labels=["type"]
        )
        age = GaugeMetricFamily(
            "anime8_catalogue_age_seconds",
            "Time since the catalogue's last complete build (absent before the first).",
            labels=["type"],
        )
        now = time.time()
        for media_type in MEDIA_TYPES:
            if media_type in stored.catalogue_titles:
                titles.add_metric([media_type], stored.catalogue_titles[media_type])
            completed_at = stored.catalogue_completed_at.get(media_type)
            if completed_at is not None:
                age.add_metric([media_type], max(0.0, now - completed_at))
        yield titles
        yield age

    def _models(self) -> Iterator[Metric]:
        service = self._bot.recommendations
        version = GaugeMetricFamily(
            "anime8_model_version",
            "Checkpoint version of the net serving (0: the untrained model).",
            labels=["type"],
        )
        ndcg = GaugeMetricFamily(
            "anime8_model_heldout_ndcg",
            "Held-out NDCG@10 measured by the last training since start: of the net that served "
            'before it (net="previous") and of the net it trained (net="trained").',
            labels=["type", "net"],
        )
        for media_type in MEDIA_TYPES:
            version.add_metric([media_type], service.models.model_version(media_type))
            result = service.last_training.get(media_type)
            if result is None:
                continue
            for net, value in (("previous", result.ndcg_before), ("trained", result.ndcg_after)):
                if not math.isnan(value):
                    ndcg.add_metric([media_type, net], value)
        yield version
        yield ndcg
        trainings = CounterMetricFamily(
            "anime8_trainings",
            "Training runs since start by type and outcome: improved, not_improved, "
            "nothing_to_train, timeout, failed.",
            labels=["type", "outcome"],
        )
        for (media_type, outcome), count in sorted(service.training_outcomes.items()):
            trainings.add_metric([media_type, outcome], count)
        yield trainings
