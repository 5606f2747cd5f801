"""Anime8's recommender: RecommenderNet over collaborative and content features.

The package knows nothing of Discord or storage: it takes AniList-shaped titles and lists (any
Media field may be missing or null) and returns picks. `Recommender` is the entry point; the
contract of each call lives on its method. An entry is ``{"mediaId", "score" (0-10, 0 =
unscored), "status"}``; feedback ``(user_key, media_id, rating 0-10)`` overrides that user's
list score.

How it is shaped, and why:

- State comes in three kinds. The net and its standardisation stats are small and trained:
  they live in versioned checkpoints (``model.checkpoint``, read with ``weights_only=True``).
  EASE, ItemKNN and item statistics are derived from lists by ``fit()``; their cost grows with
  the cube of the number of titles on some list, so the bot fits in a child process and hands
  the result over as a file (``model.fitted``). The catalogue index is rebuilt from titles.
- One serving policy (``model.policy.ranking_scores``) ranks at every size of the bot: the cold
  blend alone before any list is seen, then the net (or EASE while none is installed) with the
  cold blend weighted down as lists grow; ``benchmarks.bench_growth`` measures it by size.
  ``train()`` installs a new net only when the policy with it serves held-out users better.
- Reasons are public text and live apart, in ``model.explain``; group picks in ``model.group``;
  titles like a given one in ``model.similar``, finding a title by name in
  ``model.title_search``; the tools run on a benchmark directory in ``model.offline``.

``recommend`` only reads, so it may run while another thread trains a new Recommender; swap the
object when training ends. The package never sets torch's thread count.
"""

from .checkpoint import load_latest, save_checkpoint
from .preferences import (
    AdultPreferencesError,
    Preferences,
    PreferencesError,
    parse_preferences,
)
from .profile import merge_feedback
from .recommender import FitStats, Pick, Recommender, RecommenderConfig, TrainStats
from .similar import SimilarPick, SimilarResult
from .training import TrainingConfig

__all__ = [
    "AdultPreferencesError",
    "FitStats",
    "Pick",
    "Preferences",
    "PreferencesError",
    "Recommender",
    "RecommenderConfig",
    "SimilarPick",
    "SimilarResult",
    "TrainStats",
    "TrainingConfig",
    "load_latest",
    "merge_feedback",
    "parse_preferences",
    "save_checkpoint",
]
