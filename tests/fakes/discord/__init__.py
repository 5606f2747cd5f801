"""The Discord emulator moved to emulator/discord/; this name stays so existing imports work.

`tests.fakes.discord.<module>` names the very module `emulator.discord.<module>` (one module
object, so isinstance checks and shared state agree whichever name a test used).
"""

import importlib
import pkgutil
import sys

import emulator.discord
from emulator.discord import *  # noqa: F403

__all__ = emulator.discord.__all__

for _module in pkgutil.iter_modules(emulator.discord.__path__):
    sys.modules[f"{__name__}.{_module.name}"] = importlib.import_module(
        f"emulator.discord.{_module.name}"
    )
