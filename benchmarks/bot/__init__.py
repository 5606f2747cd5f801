"""The whole-bot benchmark (``python -m benchmarks.bench_bot``), split by what it measures:

- ``report``: percentiles and the plain-text tables every section prints.
- ``fake_anilist``: the fake AniList in a process of its own, so its GraphQL work never competes
  with the bot for the GIL (production AniList never does), with its counters read over a pipe.
- ``fixture``: the plan (sizes per mode), the bot's settings, users, and the stored lists and
  ratings that make every state a real load.
- ``latency``: one /recommend or rating click timed from INTERACTION_CREATE, rounds of them,
  and the event-loop lag monitor.
- ``states``: the states the bot can be in (idle, catalogue build, model rebuild, automatic
  and owner training), each driven and then measured under 50 concurrent /recommend.
- ``rss``: the bot as its own process (``python main.py``) on the prepared data directory.
- ``run``: the order of the sections and the final Goals table.
"""
