"""``python -m model.evaluate DIR``: NDCG@10 and friends for the model and its baselines.

The tool lives in model.offline.evaluate; this module keeps the documented command.
"""

from model.offline.evaluate import main

if __name__ == "__main__":
    main()
