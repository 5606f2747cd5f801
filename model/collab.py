"""Collaborative signal from the lists the bot has seen: EASE, EDLAE, ItemKNN, item statistics.

This is derived state: it is recomputed from lists (never stored in a checkpoint). Fitting
costs two dense item-item Gram matrices (all entries, and liked entries only) and three
Cholesky inverses (EASE and EDLAE on the first, EASE on the second) over the titles that
appear on at least one list (benchmarks/bench_model.py measures it). Everything is float32
(one float64 operand would upcast the 7k x 7k matrices and make scoring far slower), except
the two matrices that only ever give summed rows: the liked-only EASE and EDLAE are kept in
float16, which halves what they take in the fitted file the bot maps and left
benchmarks/bench_growth.py's figures within noise.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch

from .profile import LIKED_SCORE, Profile

# Score buckets for the split EASE features: a title's EASE score from the titles the user
# rated 10 says more than the one from titles they rated 5 (the prototype's strongest input).
BUCKETS = ("10", "9", "8", "7", "5-6", "1-4", "unscored", "dropped", "planning")
_SHRINK = 10.0  # pseudo-ratings pulling a title's mean toward the global mean
_ROWS_PER_SUM = 256
# L2 of the liked-only EASE: fewer interactions than the full one, so less smoothing paid
# (the second prototype's choice).
LIKED_LAMBDA = 100.0
# EDLAE (EASE trained as a denoising autoencoder, Steck 2020): each title's L2 grows with its
# popularity, p/(1-p) times its count, so the weights lean less on the popular titles that
# every list shares. Its scores alone rank a little below EASE's, but as extra net inputs they
# raise the net's NDCG@10 (benchmarks/bench_growth.py). p and lambda are the best of a small
# grid on mal-5k.
EDLAE_DROPOUT = 0.5
EDLAE_LAMBDA = 100.0


def entry_buckets(profile: Profile) -> torch.Tensor:
    """Bucket index (into BUCKETS) of each entry of the profile."""
    s = profile.scores
    bucket = torch.full_like(s, 5, dtype=torch.int64)  # 1-4
    bucket[s >= 5] = 4
    bucket[s >= 7] = 3
    bucket[s >= 8] = 2
    bucket[s >= 9] = 1
    bucket[s >= 10] = 0
    bucket[s <= 0] = 6
    for position, status in enumerate(profile.statuses):
        if status == "DROPPED":
            bucket[position] = 7
        elif status == "PLANNING":
            bucket[position] = 8
    return bucket


@dataclass(frozen=True, eq=False)
class Collab:
    """Item-item models over ``active`` catalogue rows (the ones seen on some list)."""

    n_users: int
    active: torch.Tensor  # int64 catalogue rows
    column: torch.Tensor  # (n,) catalogue row -> column in the matrices, -1 if inactive
    ease: torch.Tensor  # (a, a) float32, zero diagonal
    knn: torch.Tensor  # (a, a) float32 cosine, zero diagonal
    ease_liked: torch.Tensor  # (a, a) float16 EASE over liked entries only, zero diagonal
    edlae: torch.Tensor  # (a, a) float16 EDLAE over all entries, zero diagonal
    log_count: torch.Tensor  # (n,)
    shrunk_mean: torch.Tensor  # (n,) 0-10
    like_share: torch.Tensor  # (n,) shrunk share of ratings >= 8

    def bucket_scores(self, profile: Profile) -> tuple[torch.Tensor, torch.Tensor]:
        """EASE and ItemKNN scores of every catalogue row from each bucket of the profile.

        Returns ``(ease, knn)``, each ``(len(BUCKETS), n)``; a row's own entry contributes
        nothing to its score because both matrices have a zero diagonal.
        """
        n = self.column.shape[0]
        ease = torch.zeros(len(BUCKETS), n)
        knn = torch.zeros(len(BUCKETS), n)
        columns = self.column[profile.rows]
        known = columns >= 0
        if not bool(known.any()):
            return ease, knn
        # A sparse (bucket x column) selector: much faster than gathering the rows first.
        selector = torch.sparse_coo_tensor(
            torch.stack([entry_buckets(profile)[known], columns[known]]),
            torch.ones(int(known.sum())),
            (len(BUCKETS), self.active.numel()),
            check_invariants=True,
        )
        ease[:, self.active] = torch.sparse.mm(selector, self.ease)
        knn[:, self.active] = torch.sparse.mm(selector, self.knn)
        return ease, knn

    def liked_scores(self, profile: Profile) -> torch.Tensor:
        """Score of every catalogue row from the liked-only EASE, summed over the profile's
        liked entries, ``(n,)``."""
        return self._summed(self.ease_liked, profile.rows[profile.liked])

    def edlae_scores(self, profile: Profile) -> tuple[torch.Tensor, torch.Tensor]:
        """EDLAE scores of every catalogue row, ``(all, liked)``, each ``(n,)``: summed over
        all the profile's entries, and over its liked entries only."""
        return (
            self._summed(self.edlae, profile.rows),
            self._summed(self.edlae, profile.rows[profile.liked]),
        )

    def _summed(self, weights: torch.Tensor, rows: torch.Tensor) -> torch.Tensor:
        """Sum of the ``weights`` rows of the catalogue ``rows`` seen on some list, ``(n,)``,
        in float32 whatever ``weights`` is stored in."""
        summed = torch.zeros(self.active.numel())
        columns = self.column[rows]
        # A few hundred rows at a time: gathering a long list's rows at once is a transient
        # the size of a list times the catalogue, on each of the bot's scoring threads.
        # index_select, not weights[chunk]: torch's general indexing kernel gathers rows
        # several times slower, and summing with dtype= skips a float32 copy of them.
        for chunk in columns[columns >= 0].split(_ROWS_PER_SUM):
            summed += weights.index_select(0, chunk).sum(0, dtype=torch.float32)
        out = torch.zeros(self.column.shape[0])
        out[self.active] = summed
        return out


def fit_collab(profiles: Sequence[Profile], n_items: int, ease_lambda: float = 200.0) -> Collab:
    """Fit EASE (closed form, L2 ``ease_lambda``), EDLAE and cosine ItemKNN on binary
    interactions, and a second EASE (L2 ``LIKED_LAMBDA``) on the liked entries only."""
    rows = [p.rows for p in profiles if len(p)]
    all_rows = torch.cat(rows) if rows else torch.zeros(0, dtype=torch.int64)
    all_scores = torch.cat([p.scores for p in profiles if len(p)]) if rows else torch.zeros(0)
    active = torch.unique(all_rows)
    column = torch.full((n_items,), -1, dtype=torch.int64)
    column[active] = torch.arange(active.numel())
    a = active.numel()

    interactions = torch.zeros(len(rows), a)
    for user, user_rows in enumerate(rows):
        interactions[user, column[user_rows]] = 1.0
    gram = interactions.T @ interactions
    degree = gram.diagonal().clone()

    ease = _ease(gram, ease_lambda)
    edlae = _ease(gram, EDLAE_LAMBDA + EDLAE_DROPOUT / (1.0 - EDLAE_DROPOUT) * degree)
    liked_interactions = torch.zeros(len(rows), a)
    liked_profiles = [p for p in profiles if len(p)]
    for user, profile in enumerate(liked_profiles):
        liked_interactions[user, column[profile.rows[profile.liked]]] = 1.0
    ease_liked = _ease(liked_interactions.T @ liked_interactions, LIKED_LAMBDA)

    norm = degree.clamp(min=1.0).sqrt()
    knn = gram / norm.unsqueeze(0) / norm.unsqueeze(1)
    knn.diagonal().zero_()

    count = torch.zeros(n_items)
    count.index_add_(0, all_rows, torch.ones(all_rows.numel()))
    scored = all_scores > 0
    n_scored = torch.zeros(n_items).index_add_(0, all_rows[scored], torch.ones(int(scored.sum())))
    total = torch.zeros(n_items).index_add_(0, all_rows[scored], all_scores[scored])
    liked = torch.zeros(n_items).index_add_(
        0, all_rows[scored], (all_scores[scored] >= LIKED_SCORE).float()
    )
    global_mean = float(all_scores[scored].mean()) if bool(scored.any()) else 7.0
    global_like = (
        float((all_scores[scored] >= LIKED_SCORE).float().mean()) if bool(scored.any()) else 0.5
    )
    return Collab(
        n_users=len(rows),
        active=active,
        column=column,
        ease=ease.contiguous(),
        knn=knn.contiguous(),
        ease_liked=ease_liked.half().contiguous(),
        edlae=edlae.half().contiguous(),
        log_count=torch.log1p(count),
        shrunk_mean=(total + _SHRINK * global_mean) / (n_scored + _SHRINK),
        like_share=(liked + _SHRINK * global_like) / (n_scored + _SHRINK),
    )


def _ease(gram: torch.Tensor, l2: float | torch.Tensor) -> torch.Tensor:
    """EASE weights from an item-item Gram matrix: closed form, zero diagonal. ``l2`` is one
    penalty for every title, or one per title."""
    regularised = gram.clone()
    regularised.diagonal().add_(l2)
    precision = torch.cholesky_inverse(torch.linalg.cholesky(regularised))
    ease = precision / (-precision.diagonal()).unsqueeze(0)
    ease.diagonal().zero_()
    return ease
