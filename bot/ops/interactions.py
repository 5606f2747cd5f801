"""Per-interaction bookkeeping: the log context, and the latency histograms' two timestamps.

:func:`begin` runs when the bot starts handling an interaction (the command tree's
interaction_check, a button's callback); :func:`finish` when its handler is done (the
command completed, or its error was answered). Each costs a clock read and, in finish, one
histogram observation.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import discord

from bot.ops.logs import current_interaction

_STARTED = "anime8.started"  # interaction.extras key: (command label, perf_counter at begin)


class TimedResponse(discord.InteractionResponse):
    """discord.py's interaction response, calling `on_ack` when Discord accepts the first one.

    discord.py has no hook for "the response was sent". Every way of responding (defer,
    send_message, edit_message, send_modal, …) assigns `_response_type` right after Discord
    answered the callback request, and only then; a property in that slot's place therefore
    sees the acknowledgement whichever method made it, without wrapping each method or polling.
    This relies on discord.py 2.7.1's attribute name: tests/e2e/test_ops.py fails if it changes.
    """

    __slots__ = ("_acked", "_on_ack")

    def __init__(self, parent: discord.Interaction[Any], on_ack: Callable[[], None]) -> None:
        self._acked: discord.InteractionResponseType | None = None
        self._on_ack = on_ack
        super().__init__(parent)

    @property  # type: ignore[override]
    def _response_type(self) -> discord.InteractionResponseType | None:
        return self._acked

    @_response_type.setter
    def _response_type(self, value: discord.InteractionResponseType | None) -> None:
        if value is not None and self._acked is None:
            self._on_ack()
        self._acked = value


def begin(interaction: discord.Interaction[Any], label: str | None) -> None:
    """Tag this task's log lines with the interaction's id; with a `label` (the command, or
    the button's kind), start timing it for the latency histograms."""
    current_interaction.set(interaction.id)
    metrics = getattr(interaction.client, "metrics", None)
    if metrics is None or label is None:
        return
    started = time.perf_counter()
    interaction.extras[_STARTED] = (label, started)

    def acknowledged() -> None:
        metrics.interaction_ack.labels(label).observe(time.perf_counter() - started)

    # Only before anything read interaction.response (it is cached on first use); nothing does
    # before the tree's check or a button's callback, but a response already made is not ours.
    if not hasattr(interaction, "_cs_response"):
        interaction._cs_response = TimedResponse(interaction, acknowledged)  # type: ignore[attr-defined]


def finish(interaction: discord.Interaction[Any]) -> None:
    """The handler is done and has sent what it will send: observe the time to its final
    message (once per interaction; nothing when :func:`begin` did not time it)."""
    started = interaction.extras.pop(_STARTED, None)
    metrics = getattr(interaction.client, "metrics", None)
    if started is None or metrics is None:
        return
    label, at = started
    metrics.interaction_final.labels(label).observe(time.perf_counter() - at)
