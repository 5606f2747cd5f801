"""Recommender: one per media type; owns the catalogue index, the lists it learns from, the
collaborative model (derived, recomputed) and RecommenderNet (trained, checkpointed)."""

from __future__ import annotations

import math
import random
import threading
import time
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import torch

from .catalogue import ADULT_GENRE, Catalogue, build_catalogue
from .collab import Collab, fit_collab
from .explain import reasons, similar_reason
from .features import COLUMN, FEATURE_NAMES, features, user_context
from .net import RecommenderNet
from .policy import ranking_scores, standardise
from .preferences import (
    AdultPreferencesError,
    Preferences,
    PreferencesError,
    parse_preferences,
)
from .profile import Entry, Feedback, Profile, build_profile, merge_feedback
from .rerank import allowed, diversify, preference_match
from .similar import Similarity, SimilarPick, SimilarResult
from .title_search import TitleIndex, TitleMatch
from .training import (
    EpochCallback,
    TrainingConfig,
    build_examples,
    fit_net,
    held_out_ndcg,
    split_lists,
)


@dataclass(frozen=True)
class Pick:
    """One recommendation: the title, its predicted rating (0-10) and why it was picked."""

    media_id: int
    score: float
    reason: str


@dataclass(frozen=True)
class RecommenderConfig:
    """Serving and training knobs."""

    ease_lambda: float = 200.0
    diversity: float = 0.05  # MMR genre-overlap penalty, relevance scaled to 0-1
    preference_weight: float = 3.0  # how far a requested genre/tag lifts a title (in std units)
    training: TrainingConfig = field(default_factory=TrainingConfig)


@dataclass(frozen=True)
class FitStats:
    """Result of :meth:`Recommender.fit`."""

    users: int
    active_titles: int
    seconds: float


@dataclass(frozen=True)
class TrainStats:
    """Result of :meth:`Recommender.train`. NDCG@10 is on the held-out liked entries of the
    same validation users, served by the policy before (the net installed when training
    started, or none) and after (the new net); nan when there was no user to validate on.
    ``improved`` says whether the new net was installed; ``validation_users`` how many users
    the two figures are means over."""

    samples: int
    epochs: int
    final_loss: float
    ndcg_before: float
    ndcg_after: float
    seconds: float
    improved: bool = False
    validation_users: int = 0


class Recommender:
    """Recommends titles of one media type.

    Thread safety: after construction the only mutations are the lazy :meth:`fit` (locked) and
    the swap of the net at the end of :meth:`train`/:meth:`load_state_dict` (one reference
    assignment), so ``recommend`` may run in one thread while another trains, though the bot's
    pattern is to train a fresh Recommender and swap the object.
    """

    def __init__(
        self,
        catalogue: Sequence[Mapping],
        lists: Mapping[str, Sequence[Entry]] | None = None,
        feedback: Iterable[Feedback] = (),
        *,
        config: RecommenderConfig | None = None,
    ) -> None:
        self.config = config or RecommenderConfig()
        self.catalogue = build_catalogue(catalogue)
        merged = merge_feedback(lists or {}, feedback)
        self._profiles = {u: build_profile(e, self.catalogue) for u, e in merged.items()}
        self._collab: Collab | None = None
        self._fitted = False
        self._fit_lock = threading.Lock()
        self._net: RecommenderNet | None = None
        self._lookup_lock = threading.Lock()
        self._lookup: tuple[TitleIndex, Similarity] | None = None

    @classmethod
    def from_fitted(
        cls,
        catalogue: Catalogue,
        collab: Collab | None,
        *,
        config: RecommenderConfig | None = None,
    ) -> Recommender:
        """A recommender serving an already fitted state (see :mod:`model.fitted`).

        It has no lists of its own, so :meth:`fit` keeps ``collab`` and :meth:`train` has
        nothing to learn from; it serves, and takes a net through :meth:`load_state_dict`.
        """
        recommender = cls([], config=config)
        recommender.catalogue = catalogue
        recommender._collab = collab
        recommender._fitted = True
        return recommender

    @property
    def collab(self) -> Collab | None:
        """The fitted collaborative model, or None in cold mode (call :meth:`fit` first)."""
        return self._collab

    @property
    def trained(self) -> bool:
        """True once a net was trained or loaded."""
        return self._net is not None

    def fit(self) -> FitStats:
        """Compute derived state (EASE, ItemKNN, item stats) from the lists; idempotent.

        Skipped (cold mode) while no list has a title the catalogue knows. A few lists are
        enough: the serving policy weighs the collaborative scores by how many lists there are.
        """
        start = time.perf_counter()
        with self._fit_lock:
            if not self._fitted:
                profiles = [p for p in self._profiles.values() if len(p)]
                if profiles:
                    self._collab = fit_collab(
                        profiles, len(self.catalogue), self.config.ease_lambda
                    )
                self._fitted = True
        collab = self._collab
        return FitStats(
            users=collab.n_users if collab else 0,
            active_titles=int(collab.active.numel()) if collab else 0,
            seconds=time.perf_counter() - start,
        )

    def train(
        self, *, seed: int = 0, epochs: int | None = None, on_epoch: EpochCallback | None = None
    ) -> TrainStats:
        """Train a new RecommenderNet on the lists; install it only if it serves better.

        Synchronous CPU work, deterministic under ``seed``; ``on_epoch(epoch, loss)`` is called
        after each epoch. Each user's list is split into a profile side and held-out targets
        (see :func:`model.training.split_lists`), so that the net never reads the answer.

        Contract:

        - Whenever some list (or button rating) has a scored entry of a catalogue title, a net
          is trained and ``final_loss`` is finite. Otherwise there is nothing to learn from:
          ``samples == 0`` and nothing changes.
        - ``ndcg_before`` is the serving policy with the net installed when training started
          (or none), ``ndcg_after`` the policy with the new net, on the held-out liked entries
          of the same validation users. Whenever two or more users have a held-out liked
          entry, there is at least one validation user.
        - The new net is installed only when ``ndcg_after > ndcg_before`` (``improved``).
          Otherwise, including when there was no validation user to compare on, the previous
          net (or none) keeps serving and :meth:`state_dict` still describes it: training can
          not make recommendations worse on the evidence it has.
        """
        start = time.perf_counter()
        self.fit()
        cfg = self.config.training
        if epochs is not None:
            cfg = replace(cfg, epochs=epochs)
        nothing = TrainStats(0, 0, math.nan, math.nan, math.nan, 0.0)
        if self._collab is None:
            return replace(nothing, seconds=time.perf_counter() - start)
        split = split_lists(self._profiles, len(self.catalogue), cfg, seed, self.config.ease_lambda)
        inputs, targets = build_examples(self.catalogue, split, cfg, seed)
        if targets.numel() == 0:  # e.g. every list unscored: keep the old net
            return replace(nothing, seconds=time.perf_counter() - start)
        old = self._net
        catalogue, collab = self.catalogue, split.collab
        before = held_out_ndcg(catalogue, split, lambda m: ranking_scores(m, collab, old))
        net, loss = fit_net(inputs, targets, cfg, seed, on_epoch)
        after = held_out_ndcg(catalogue, split, lambda m: ranking_scores(m, collab, net))
        improved = after > before  # False when either is nan: no evidence, no change
        if improved:
            self._net = net
        return TrainStats(
            samples=int(targets.numel()),
            epochs=cfg.epochs,
            final_loss=loss,
            ndcg_before=before,
            ndcg_after=after,
            seconds=time.perf_counter() - start,
            improved=improved,
            validation_users=len(split.validation),
        )

    def state_dict(self) -> dict[str, object]:
        """The cheap, checkpointed state: net weights, standardisation, feature names."""
        if self._net is None:
            raise ValueError("this recommender has no trained net to save")
        return {
            "features": list(FEATURE_NAMES),
            "net": {k: v.clone() for k, v in self._net.state_dict().items()},
        }

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Install a net from :meth:`state_dict` output; ValueError if it does not fit."""
        if list(state.get("features") or ()) != list(FEATURE_NAMES):
            raise ValueError("checkpoint was trained on different features")
        net = RecommenderNet(len(FEATURE_NAMES))
        try:
            net.load_state_dict(state["net"])
        except (RuntimeError, KeyError, TypeError) as error:
            raise ValueError(f"checkpoint weights do not fit the net: {error}") from error
        net.eval()
        self._net = net

    def recommend(
        self,
        entries: Iterable[Entry] = (),
        *,
        k: int = 10,
        preferences: str | None = None,
        allow_adult: bool = False,
        recently_shown: Collection[int] = (),
        repeat_chance: float = 0.05,
        rng: random.Random | None = None,
    ) -> list[Pick]:
        """Up to ``k`` picks for a user with this list and/or preferences text.

        Never returns a title on the list, an adult title unless ``allow_adult``, a sequel
        whose prequel (same type, in the catalogue) the user has not seen, or an excluded
        genre/tag; a title in ``recently_shown`` comes back only with ``repeat_chance``
        (drawn from ``rng``). Raises PreferencesError for preferences text naming nothing we
        know, or naming only genres/tags that no allowed title carries; its subclass
        AdultPreferencesError when, without ``allow_adult``, the text asks for the adult genre
        or an adult tag. A reason is public text: :func:`model.explain.reason` says what it
        never names.
        """
        prefs = parse_preferences(preferences, self.catalogue.tag_names) if preferences else None
        if prefs is not None and not allow_adult and self._asks_for_adult(prefs):
            raise AdultPreferencesError()
        self.fit()
        collab, net = self._collab, self._net
        catalogue = self.catalogue
        profile = build_profile(entries, catalogue)
        ctx = user_context(catalogue, profile)
        matrix = features(catalogue, collab, ctx)
        score = ranking_scores(matrix, collab, net)
        mask = allowed(
            catalogue,
            profile,
            allow_adult=allow_adult,
            recently_shown=recently_shown,
            repeat_chance=repeat_chance,
            rng=rng or random.Random(),
            preferences=prefs,
        )
        candidates = mask.nonzero().flatten()
        if candidates.numel() == 0:
            return []
        relevance = torch.full((len(catalogue),), -math.inf)
        relevance[candidates] = standardise(score[candidates])
        if prefs is not None and prefs.wanted:
            match = preference_match(catalogue, prefs)
            if float(match[candidates].max()) == 0.0:
                raise PreferencesError(
                    f"I don't have anything new for you matching {', '.join(prefs.wanted)}. "
                    "Try other genres or themes."
                )
            relevance += self.config.preference_weight * match
        top = torch.topk(relevance, min(max(5 * k, 50), candidates.numel())).indices.tolist()
        picks = diversify(catalogue, top, relevance, k, self.config.diversity)
        rating = self._rating(net, matrix, profile, picks)
        why = reasons(catalogue, ctx, collab, picks, prefs, allow_adult)
        return [
            Pick(catalogue.ids[row], round(rating[i], 1), why[i]) for i, row in enumerate(picks)
        ]

    def title_scores(self, entries: Iterable[Entry]) -> tuple[Profile, torch.Tensor, torch.Tensor]:
        """For one list: its profile, and every catalogue title's ranking score (the serving
        policy's, higher is better) and predicted 0-10 rating, titles on the list included."""
        self.fit()
        catalogue, collab, net = self.catalogue, self._collab, self._net
        profile = build_profile(entries, catalogue)
        matrix = features(catalogue, collab, user_context(catalogue, profile))
        relevance = ranking_scores(matrix, collab, net)
        rating = self._rating(net, matrix, profile, list(range(len(catalogue))))
        return profile, relevance, torch.tensor(rating, dtype=torch.float32)

    def prepare_lookups(self) -> tuple[TitleIndex, Similarity]:
        """Build, once, what title search and :meth:`similar` read (normalised names, content
        vectors); about a second for 5,000 titles, so the bot calls it when it loads a model,
        off the event loop. Later calls return the same objects."""
        self.fit()
        with self._lookup_lock:
            if self._lookup is None:
                self._lookup = (
                    TitleIndex.build(self.catalogue),
                    Similarity(self.catalogue, self._collab),
                )
            return self._lookup

    def find_titles(
        self, text: str, *, limit: int = 25, allow_adult: bool = False
    ) -> list[TitleMatch]:
        """Catalogue titles matching what someone typed (any name, case, accents, a small
        typo, the start of it), best first; see :meth:`model.title_search.TitleIndex.search`."""
        index, _ = self.prepare_lookups()
        return index.search(text, limit=limit, allow_adult=allow_adult)

    def similar(
        self,
        media_id: int,
        entries: Iterable[Entry] = (),
        *,
        k: int = 10,
        allow_adult: bool = False,
    ) -> SimilarResult:
        """Up to ``k`` titles most like ``media_id`` (model.similar), for the owner of the list
        ``entries`` (may be empty).

        Never the title itself, one of its franchise, a title on the list, an adult title
        unless ``allow_adult``, a sequel whose prequel the list lacks, or two titles of one
        franchise. With entries, each pick carries the predicted rating. Raises KeyError when
        the catalogue lacks ``media_id``; the caller refuses an adult ``media_id`` itself.
        """
        catalogue, entries = self.catalogue, list(entries)
        profile = build_profile(entries, catalogue)
        found = self.prepare_lookups()[1].similar(
            catalogue.index[media_id], profile, k=k, allow_adult=allow_adult
        )
        ratings: list[float | None] = [None] * len(found.picks)
        if entries and found.picks:
            matrix = features(catalogue, self._collab, user_context(catalogue, profile))
            ratings = [round(r, 1) for r in self._rating(self._net, matrix, profile, found.picks)]
        picks = [
            SimilarPick(
                catalogue.ids[row],
                round(score, 4),
                rating,
                similar_reason(catalogue, found.evidence, row, allow_adult),
            )
            for row, score, rating in zip(found.picks, found.scores, ratings, strict=True)
        ]
        return SimilarResult(media_id, picks, [catalogue.ids[r] for r in found.franchise])

    def _asks_for_adult(self, prefs: Preferences) -> bool:
        catalogue = self.catalogue
        adult_tags = {
            name.lower()
            for name, adult in zip(catalogue.tag_names, catalogue.adult_tags.tolist(), strict=True)
            if adult
        }
        return ADULT_GENRE in prefs.include_genres or any(
            tag.lower() in adult_tags for tag in prefs.include_tags
        )

    def _rating(
        self, net: RecommenderNet | None, matrix: torch.Tensor, profile: Profile, rows: list[int]
    ) -> list[float]:
        """Predicted 0-10 rating: the net's output, or without a net the title's mean score
        moved by how far the user rates above the average."""
        if not rows:
            return []
        if net is not None and self._collab is not None:
            with torch.no_grad():
                return net(matrix[rows]).clamp(0.0, 10.0).tolist()
        mean = matrix[rows, COLUMN["catalogue_mean"]]
        if self._collab is not None:
            mean = matrix[rows, COLUMN["shrunk_mean"]]
        scored = profile.scores[profile.scores > 0]
        offset = 0.5 * (float(scored.mean()) - 7.0) if scored.numel() else 0.0
        return (mean + offset).clamp(0.0, 10.0).tolist()
