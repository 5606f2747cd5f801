"""``python -m model.recommend_batch DIR --k 10 --out FILE``: recommendations for every
test user, one JSON line each.

The tool lives in model.offline.recommend_batch; this module keeps the documented command.
"""

from model.offline.recommend_batch import main

if __name__ == "__main__":
    main()
