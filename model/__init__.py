"""Anime8's recommender: RecommenderNet over collaborative and content features.

Public API (all inputs use AniList shapes; any Media field may be missing or null)::

    Recommender(catalogue: list[dict], lists: dict[str, list[entry]] | None = None,
                feedback: Iterable[tuple[str, int, int]] = (), *, config=None)
        .fit() -> FitStats                 # derived state: EASE/ItemKNN/item stats from lists
        .train(*, seed=0, epochs=None, on_epoch=None) -> TrainStats   # .improved: installed
        .recommend(entries=(), *, k=10, preferences=None, allow_adult=False,
                   recently_shown=(), repeat_chance=0.05, rng=None) -> list[Pick]
        .state_dict() / .load_state_dict(state)   .trained  .collab  .catalogue
    Pick(media_id: int, score: float, reason: str)        # frozen; score is 0-10
    save_checkpoint(directory, media_type, recommender) -> int          # new version
    load_latest(directory, media_type, recommender) -> int | None       # None: cold default
    parse_preferences(text, tag_names=()) -> Preferences
    PreferencesError(ValueError)   # str(error) is a sentence for the user
    AdultPreferencesError(PreferencesError)   # adult request without allow_adult
    merge_feedback(lists, feedback) -> dict[str, list[dict]]

An entry is ``{"mediaId": int, "score": 0-10 (0 = unscored), "status": "COMPLETED" | ...}``;
feedback ``(user_key, media_id, rating 0-10)`` overrides that user's list score.

State: the net and its standardisation stats are small and live in checkpoints
(``<type>-v<N>.pt``, written atomically, read with ``weights_only=True``). EASE, ItemKNN and
item statistics are derived from lists by ``fit()`` on start or retrain; their cost grows with
the cube of the number of titles on some list (``benchmarks/bench_model.py`` measures it).
``train()`` refits them on a split of the lists, builds examples and optimises, and installs
the new net only if it serves the held-out users better (``TrainStats.improved``).

Scoring: one serving policy (``model.policy.ranking_scores``) for every size of the bot: the
cold blend (popularity, genre/tag lift, format, franchise by relations and title similarity,
release era, AniList community recommendations) alone before any list is seen, then the net
with a small direct share of EASE (or EASE alone while no net is installed) plus the cold
blend weighted down as the number of lists grows. ``python -m benchmarks.bench_growth DIR``
measures it against cold and EASE by size.
The package never sets torch's thread count; the offline CLIs use every core.

Threads: ``recommend`` only reads, so it may run while another thread trains a new
Recommender; swap the object when training ends. Offline CLIs: ``python -m model.evaluate DIR
[--cold]`` and ``python -m model.recommend_batch DIR --k 10 --out FILE [--cold]``.
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
from .training import TrainingConfig

__all__ = [
    "AdultPreferencesError",
    "FitStats",
    "Pick",
    "Preferences",
    "PreferencesError",
    "Recommender",
    "RecommenderConfig",
    "TrainStats",
    "TrainingConfig",
    "load_latest",
    "merge_feedback",
    "parse_preferences",
    "save_checkpoint",
]
