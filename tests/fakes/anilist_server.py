"""The fake AniList moved to emulator/anilist.py; this name stays so existing imports work.

It is the same module object, private names included, so tests reaching into it still can.
"""

import sys

import emulator.anilist

sys.modules[__name__] = emulator.anilist
