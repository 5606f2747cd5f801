"""The local HTTP port for operators: /healthz and /metrics, served by the bot's own aiohttp.

Bound to METRICS_HOST (127.0.0.1 unless told otherwise): neither endpoint is for the internet.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from typing import TYPE_CHECKING

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST

from bot.anilist import MEDIA_TYPES
from bot.ops.loop_lag import LoopLagMonitor
from bot.ops.metrics import Metrics

if TYPE_CHECKING:
    from bot.core import Anime8Bot

log = logging.getLogger(__name__)

# A database that takes longer than this to answer "SELECT 1" is not answering.
DATABASE_TIMEOUT_S = 2.0


class MetricsPortUnavailable(Exception):
    """The health and metrics port cannot be opened; the message is one sentence for the
    operator."""


class OpsServer:
    """Serves /healthz and /metrics for one bot, and runs its loop-lag monitor.

    `await start()` from setup_hook binds the port (`port` then says which, for METRICS_PORT=0)
    or raises MetricsPortUnavailable; `await close()` from the bot's close() releases it.
    """

    def __init__(self, bot: Anime8Bot, metrics: Metrics, host: str, port: int) -> None:
        self._bot = bot
        self._metrics = metrics
        self._host = host
        self._requested_port = port
        self.port: int | None = None
        self._lag = LoopLagMonitor(metrics.loop_lag)
        app = web.Application()
        app.router.add_get("/healthz", self._healthz)
        app.router.add_get("/metrics", self._scrape)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)

    async def start(self) -> None:
        await self._runner.setup()
        site = web.TCPSite(self._runner, self._host, self._requested_port)
        try:
            await site.start()
        except OSError as error:
            raise MetricsPortUnavailable(
                f"METRICS_PORT {self._requested_port} on METRICS_HOST {self._host} cannot be "
                f"opened ({error.strerror or error}); free it, or choose another port."
            ) from error
        self.port = self._runner.addresses[0][1]
        self._lag.start()
        log.info("health and metrics on http://%s:%d/ (/healthz, /metrics)", self._host, self.port)

    async def close(self) -> None:
        await self._lag.stop()
        await self._runner.cleanup()

    async def health(self) -> dict[str, bool]:
        """Each check by name: gateway, database, and model:<TYPE> for each media type (a
        model with titles to recommend from)."""
        bot = self._bot
        checks = {"gateway": bot.gateway_connected and not bot.is_closed()}
        try:
            async with asyncio.timeout(DATABASE_TIMEOUT_S):
                await bot.db.ping()
            checks["database"] = True
        except (TimeoutError, sqlite3.Error, ValueError):  # ValueError: a closed connection
            checks["database"] = False
        for media_type in MEDIA_TYPES:
            model = bot.recommendations.models.serving_model(media_type)
            checks[f"model:{media_type}"] = model is not None and len(model.catalogue) > 0
        return checks

    async def _healthz(self, _request: web.Request) -> web.Response:
        checks = await self.health()
        missing = [name for name, ok in checks.items() if not ok]
        body = {"status": "unhealthy" if missing else "ok", "missing": missing, "checks": checks}
        return web.json_response(body, status=503 if missing else 200)

    async def _scrape(self, _request: web.Request) -> web.Response:
        await self._metrics.refresh()
        response = web.Response(body=self._metrics.exposition())
        response.headers["Content-Type"] = CONTENT_TYPE_LATEST
        return response
