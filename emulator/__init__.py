"""Stand-ins for the services Anime8 talks to, run locally: Discord (discord/, REST and Gateway)
and AniList (anilist.py, GraphQL). The end-to-end tests, the benchmarks and `make playground`
run the real bot against them. They are fakes, not product code: the bot never imports them.
"""
