"""Anime8's playground: the real bot against the Discord emulator, with a web page to use it.

`make playground` (or `python -m playground`) needs no Discord token: see __main__.py. The bot
never imports this package; the playground only starts the bot as main.py does.
"""
