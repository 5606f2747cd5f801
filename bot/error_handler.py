"""One place that turns failures into what the user sees.

Order of handling:
1. UserFacingError (possibly wrapped by discord.py) -> its sentence, ephemeral.
2. Failed checks (owner-only, cooldown) and bad option values -> a sentence, ephemeral.
3. Anything else -> "something went wrong (error id …)", ephemeral, and the traceback is
   logged with the same id so the user can quote it to the owners.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Mapping
from typing import Any

import discord
from discord import app_commands

from bot.errors import UserFacingError
from bot.ops.interactions import begin, finish

log = logging.getLogger(__name__)


class NotAnOwner(app_commands.CheckFailure):
    """Raised by the owner-only check."""


class MalformedOptions(app_commands.AppCommandError):
    """An option's value does not have its declared type (Discord never sends that; forgers do)."""


_SNOWFLAKE_TYPES = (6, 7, 8, 9, 11)  # user, channel, role, mentionable, attachment


def _value_fits(option_type: int, value: object) -> bool:
    if isinstance(value, bool):
        return option_type == 5
    if option_type == 3:
        return isinstance(value, str)
    if option_type == 4:
        return isinstance(value, int) and abs(value) <= 2**53
    if option_type == 10:
        return isinstance(value, int | float) and abs(value) <= 2**53
    if option_type in _SNOWFLAKE_TYPES:
        return isinstance(value, str | int) and str(value).isdigit()
    return False


def options_well_formed(options: list | None) -> bool:
    """True when every option value matches its declared type, subcommands included."""
    if options is None:
        return True
    if not isinstance(options, list):
        return False
    for option in options:
        if not isinstance(option, dict):
            return False
        if option.get("type") in (1, 2):  # subcommand or group: check what it contains
            if not options_well_formed(option.get("options")):
                return False
        elif not _value_fits(option.get("type", 0), option.get("value")):
            return False
    return True


def describe(error: BaseException) -> tuple[str, bool]:
    """The sentence for the user, and whether the failure was expected (no traceback needed)."""
    if isinstance(error, app_commands.CommandInvokeError):
        error = error.original
    if isinstance(error, UserFacingError):
        return error.user_message, True
    if isinstance(error, NotAnOwner):
        return "Only the bot's owners can use this command.", True
    if isinstance(error, app_commands.CommandOnCooldown):
        wait = max(1, round(error.retry_after))
        return f"You're going a little fast: try again in {wait} s.", True
    if isinstance(error, app_commands.NoPrivateMessage):
        return "This command only works in a server.", True
    if isinstance(error, app_commands.CommandSignatureMismatch):
        # Discord still shows the commands as they were before the bot's last update.
        return (
            "My commands are being updated; please try again in a minute, and reopen the "
            "command from the list if it still fails.",
            True,
        )
    if isinstance(error, app_commands.TransformerError | MalformedOptions):
        return "One of the options you gave isn't valid; please check it and try again.", True
    if isinstance(error, app_commands.CommandNotFound):
        return "I don't know that command any more; Discord may still be updating it.", True
    if isinstance(error, app_commands.CheckFailure):
        return "You can't use this command here.", True
    error_id = secrets.token_hex(4)
    log.error("unexpected error %s", error_id, exc_info=error, extra={"error_id": error_id})
    return f"Something went wrong (error id {error_id}); the owners can look it up.", False


_PUBLIC_THINKING = "anime8.public_thinking"


async def defer_publicly(interaction: discord.Interaction) -> None:
    """Acknowledge with a public "thinking…" placeholder; until :func:`answered`, an error
    deletes the placeholder and tells only the caller (see :func:`reply_with_error`)."""
    await interaction.response.defer(thinking=True)
    interaction.extras[_PUBLIC_THINKING] = True


def answered(interaction: discord.Interaction) -> None:
    """The public answer replaced the placeholder: an error now goes in a follow-up."""
    interaction.extras[_PUBLIC_THINKING] = False


async def reply_with_error(interaction: discord.Interaction, error: BaseException) -> None:
    """Tell the user what failed, ephemerally, whatever state the interaction is in."""
    message, _ = describe(error)
    if interaction.client.is_closed():
        # Shutting down (e.g. a training child ended with the bot): nobody can be told now.
        log.info("not replying to interaction %s: the bot is closing", interaction.id)
        return
    try:
        if not interaction.response.is_done():
            await interaction.response.send_message(message, ephemeral=True)
            return
        if interaction.extras.get(_PUBLIC_THINKING):
            # A public "thinking…" placeholder would otherwise carry the error for everyone.
            answered(interaction)
            await interaction.delete_original_response()
        await interaction.followup.send(message, ephemeral=True)
    except discord.HTTPException:
        log.warning("could not deliver an error message to the user", exc_info=True)


class Anime8CommandTree(app_commands.CommandTree):
    async def interaction_check(self, interaction: discord.Interaction) -> bool:
        # The first code of ours to see an app command (or autocomplete) interaction: from
        # here on, this task's log lines carry its id, and commands are timed.
        begin(interaction, self._label(interaction))
        # discord.py trusts option types; a forged payload would crash its parser instead.
        if interaction.type is discord.InteractionType.application_command:
            data: Mapping[str, Any] = interaction.data or {}
            options = data.get("options")
            if not options_well_formed(options if isinstance(options, list) else None):
                raise MalformedOptions()
        return True

    def _label(self, interaction: discord.Interaction) -> str | None:
        """The command's name for the latency histograms; None for autocomplete (not timed).
        Names the bot does not know share one label, so forged ones cannot grow the series."""
        if interaction.type is not discord.InteractionType.application_command:
            return None
        data: Mapping[str, Any] = interaction.data or {}
        name = data.get("name")
        if isinstance(name, str) and (
            self.get_command(name) or self.get_command(name, guild=interaction.guild)
        ):
            return name
        return "unknown"

    async def on_error(
        self, interaction: discord.Interaction, error: app_commands.AppCommandError
    ) -> None:
        await reply_with_error(interaction, error)
        finish(interaction)
