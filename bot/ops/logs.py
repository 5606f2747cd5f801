"""Operator logs: the interaction each line belongs to, JSON lines on request, never the token.

Handling an interaction sets :data:`current_interaction` (see bot.ops.interactions); the
filter copies it onto every record logged meanwhile, so a member's "error id 9a3bb7a3" finds
its line, and that line's interaction id finds the rest of what happened.
"""

from __future__ import annotations

import json
import logging
import sys
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import IO

import discord

from bot.config import Settings

# The id of the interaction being handled in this task (None outside one).
current_interaction: ContextVar[int | None] = ContextVar("anime8_interaction", default=None)
REDACTED = "[token redacted]"


class InteractionIdFilter(logging.Filter):
    """Adds `interaction_id` (or None) to each record; installed on the handler, so it sees
    every logger's records, in the task that logged them."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "interaction_id", None) is None:
            record.interaction_id = current_interaction.get()
        return True


class RedactingFormatter(logging.Formatter):
    """Formats with `inner`, then removes `secret` from the text (tracebacks included).

    Nothing in the project logs the token; this is the net under a library or a traceback's
    locals that one day might.
    """

    def __init__(self, inner: logging.Formatter, secret: str) -> None:
        super().__init__()
        self._inner = inner
        self._secret = secret

    def format(self, record: logging.LogRecord) -> str:
        text = self._inner.format(record)
        return text.replace(self._secret, REDACTED) if self._secret else text


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, and where known
    interaction_id, error_id and the traceback (`exception`)."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key in ("interaction_id", "error_id"):
            value = getattr(record, key, None)
            if value is not None:
                line[key] = str(value)  # ids are snowflakes: strings keep them exact in JS
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        elif record.exc_text:
            line["exception"] = record.exc_text
        if record.stack_info:
            line["stack"] = self.formatStack(record.stack_info)
        return json.dumps(line, ensure_ascii=False)


def configure_logging(settings: Settings, stream: IO[str] | None = None) -> logging.Handler:
    """Send every logger's records to `stream` (default stderr) at LOG_LEVEL, as LOG_FORMAT
    says: text (discord.py's format, coloured on a terminal) or JSON lines. Returns the handler,
    installed on the root logger."""
    handler = logging.StreamHandler(stream or sys.stderr)
    discord.utils.setup_logging(
        handler=handler,
        formatter=JsonFormatter() if settings.log_format == "json" else discord.utils.MISSING,
        level=getattr(logging, settings.log_level),
        root=True,
    )
    # discord.py chose the text formatter (coloured on a terminal); wrap whichever it is.
    if handler.formatter is not None:
        handler.setFormatter(RedactingFormatter(handler.formatter, settings.discord_token))
    handler.addFilter(InteractionIdFilter())
    return handler
