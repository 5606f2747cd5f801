"""The model's offline tools, run on a benchmark directory in FORMAT.md's shape: reading it,
scoring recommendations, and the CLIs behind ``python -m model.evaluate`` and
``python -m model.recommend_batch``. The bot never imports them."""
