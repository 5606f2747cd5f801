"""Per-(user, candidate) feature rows, computed for every catalogue title at once.

One call builds an ``(n, len(FEATURE_NAMES))`` float32 matrix; RecommenderNet reads all of it,
the cold blend reads the content columns. The order of FEATURE_NAMES is part of the checkpoint
format: change it and old checkpoints are (correctly) refused as incompatible.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from .catalogue import FORMATS, GENRES, Catalogue, dense_rows
from .collab import BUCKETS, Collab
from .profile import Profile

_ITEM = [
    "log_count",
    "shrunk_mean",
    "like_share",
    "log_popularity",
    "catalogue_mean",
    *(f"format_{name}" for name in (*FORMATS, "OTHER")),
]
_CONTENT = [
    "genre_match",
    "tag_match",
    "format_affinity",
    "title_any",
    "title_liked",
    "franchise",
    "era",
    "community",
]
_COLLAB = [
    *(f"ease_{bucket}" for bucket in BUCKETS),
    "ease_all",
    "ease_rank",
    "ease_log_rank",
    "ease_z",
    "ease_liked",
    "ease_liked_log_rank",
    "edlae_all",
    "edlae_liked",
    "edlae_log_rank",
    *(f"knn_{bucket}" for bucket in BUCKETS),
    "knn_all",
    "knn_rank",
]
_USER = ["log_list_size", "user_mean", "user_std", "scored_share"]
FEATURE_NAMES: tuple[str, ...] = (
    *_COLLAB,
    *_ITEM,
    *_CONTENT,
    *_USER,
    *(f"user_genre_{g}" for g in GENRES),
    *(f"genre_{g}" for g in GENRES),
)
COLUMN = {name: col for col, name in enumerate(FEATURE_NAMES)}
_ERA_SCALE = 3.0  # years: titles within a few years of the user's feel "of the same era"


@dataclass(frozen=True, eq=False)
class UserContext:
    """What the features know about a user; reused to explain picks."""

    profile: Profile
    weights: torch.Tensor  # per entry: how much it says the user likes such titles
    genre_lift: torch.Tensor  # (len(GENRES),)
    tag_lift: torch.Tensor  # (tags,)
    title_any: torch.Tensor  # (n,) best title similarity to any watched entry
    title_liked: torch.Tensor  # (n,) best title similarity to a liked entry


def entry_weights(profile: Profile) -> torch.Tensor:
    """Scores relative to the user's own mean; unscored +1, planning +0.5, dropped -1."""
    scores = profile.scores
    scored = scores > 0
    mean = float(scores[scored].mean()) if bool(scored.any()) else 0.0
    spread = float(scores[scored].std()) if int(scored.sum()) > 1 else 0.0
    weights = torch.where(scored, 1.0 + (scores - mean) / (spread + 1.0), torch.ones_like(scores))
    for position, status in enumerate(profile.statuses):
        if status == "DROPPED":
            weights[position] = -1.0
        elif status == "PLANNING" and not bool(scored[position]):
            weights[position] = 0.5
    return weights


def _lift(weights: torch.Tensor, matrix: torch.Tensor, base: torch.Tensor) -> torch.Tensor:
    """Share of the user's (weighted) titles carrying each column, minus the catalogue's."""
    total = float(weights.abs().sum())
    if total == 0.0 or matrix.shape[1] == 0:
        return torch.zeros(matrix.shape[1])
    return weights @ matrix / total - base


def _rank(scores: torch.Tensor, order: torch.Tensor | None = None) -> torch.Tensor:
    """1 for the user's best-scored title down to 0 for the worst; ``order`` is
    ``argsort(scores, descending=True)`` when the caller has it already."""
    if order is None:
        order = torch.argsort(scores, descending=True)
    rank = torch.empty_like(scores)
    rank[order] = torch.linspace(1.0, 0.0, scores.numel())
    return rank


def _log_rank(scores: torch.Tensor, order: torch.Tensor | None = None) -> torch.Tensor:
    """-log(1 + position) in the user's ranking: resolves the top of the list, where the
    linear rank gives the top hundred titles nearly the same value. ``order`` as for
    :func:`_rank`."""
    if order is None:
        order = torch.argsort(scores, descending=True)
    rank = torch.empty_like(scores)
    rank[order] = -torch.log1p(torch.arange(scores.numel(), dtype=scores.dtype))
    return rank


def _z(scores: torch.Tensor) -> torch.Tensor:
    """The user's scores standardised over the catalogue (their scale grows with list size)."""
    std = scores.std() if scores.numel() > 1 else torch.tensor(0.0)
    return (scores - scores.mean()) / std if float(std) > 1e-9 else scores - scores.mean()


def user_context(catalogue: Catalogue, profile: Profile) -> UserContext:
    """Content profile of the user (genre/tag lift, title similarity to each entry)."""
    weights = entry_weights(profile)
    rows = profile.rows
    return UserContext(
        profile=profile,
        weights=weights,
        genre_lift=_lift(weights, catalogue.genres[rows], catalogue.genres.mean(0)),
        tag_lift=_lift(weights, catalogue.tags[rows], catalogue.tags.mean(0)),
        title_any=_title_affinity(catalogue, rows[weights > 0]),
        title_liked=_title_affinity(catalogue, rows[profile.liked]),
    )


def _title_affinity(catalogue: Catalogue, rows: torch.Tensor) -> torch.Tensor:
    """Per title, its highest title similarity to one of ``rows`` (similarity is symmetric, so
    scattering the rows' neighbour lists gives it)."""
    best = torch.zeros(len(catalogue))
    neighbours = catalogue.title_neighbours[rows].flatten()
    return best.scatter_reduce(
        0, neighbours, catalogue.title_similarity[rows].flatten(), reduce="amax"
    )


def features(catalogue: Catalogue, collab: Collab | None, ctx: UserContext) -> torch.Tensor:
    """The ``(n, len(FEATURE_NAMES))`` feature matrix of every catalogue title for one user."""
    n = len(catalogue)
    profile = ctx.profile
    rows = profile.rows
    # Filled a feature at a time, so stored feature-major (each feature's n values contiguous)
    # and handed out transposed: writing a column of a title-major matrix strides through
    # all of it, once per feature.
    out = torch.zeros(len(FEATURE_NAMES), n)

    def put(name: str, values: torch.Tensor | float) -> None:
        out[COLUMN[name]] = values

    if collab is not None:
        ease, knn = collab.bucket_scores(profile)
        out[COLUMN[f"ease_{BUCKETS[0]}"] : COLUMN[f"ease_{BUCKETS[-1]}"] + 1] = ease
        out[COLUMN[f"knn_{BUCKETS[0]}"] : COLUMN[f"knn_{BUCKETS[-1]}"] + 1] = knn
        ease_all = ease.sum(0)
        ease_order = torch.argsort(ease_all, descending=True)
        put("ease_all", ease_all)
        put("ease_rank", _rank(ease_all, ease_order))
        put("ease_log_rank", _log_rank(ease_all, ease_order))
        put("ease_z", _z(ease_all))
        liked = collab.liked_scores(profile)
        put("ease_liked", liked)
        put("ease_liked_log_rank", _log_rank(liked))
        edlae_all, edlae_liked = collab.edlae_scores(profile)
        put("edlae_all", edlae_all)
        put("edlae_liked", edlae_liked)
        put("edlae_log_rank", _log_rank(edlae_all))
        knn_all = knn.sum(0)
        put("knn_all", knn_all)
        put("knn_rank", _rank(knn_all))
        put("log_count", collab.log_count)
        put("shrunk_mean", collab.shrunk_mean)
        put("like_share", collab.like_share)

    known_mean = catalogue.mean_score[~catalogue.mean_score.isnan()]
    fill = float(known_mean.mean()) if known_mean.numel() else 6.5
    put("log_popularity", catalogue.log_popularity)
    put("catalogue_mean", torch.nan_to_num(catalogue.mean_score, nan=fill))
    first_format = COLUMN["format_TV"]
    out[first_format : first_format + catalogue.formats.shape[1]] = catalogue.formats.T

    genre_count = catalogue.genres.sum(1).clamp(min=1.0)
    put("genre_match", catalogue.genres @ ctx.genre_lift / genre_count)
    tag_weight = catalogue.tags.sum(1).clamp(min=1.0)
    put("tag_match", catalogue.tags @ ctx.tag_lift / tag_weight if len(catalogue.tag_names) else 0)
    watched = ctx.weights > 0
    if bool(watched.any()):
        format_share = catalogue.formats[rows[watched]].mean(0)
        put("format_affinity", catalogue.formats @ format_share)
    put("title_any", ctx.title_any)
    put("title_liked", ctx.title_liked)
    # Same relations-connected franchise as a watched title (AniList data; none in mal-5k).
    put("franchise", torch.isin(catalogue.franchise, catalogue.franchise[rows[watched]]).float())
    liked_rows = rows[profile.liked].tolist()
    if liked_rows and catalogue.community.values().numel():
        put("community", torch.log1p(dense_rows(catalogue.community, liked_rows).sum(0)))
    put("era", _era(catalogue, rows[watched]))

    scored = profile.scores[profile.scores > 0]
    put("log_list_size", math.log1p(len(profile)))
    put("user_mean", float(scored.mean()) if scored.numel() else 0.0)
    put("user_std", float(scored.std()) if scored.numel() > 1 else 0.0)
    put("scored_share", scored.numel() / max(len(profile), 1))
    first = COLUMN[f"user_genre_{GENRES[0]}"]
    out[first : first + len(GENRES)] = ctx.genre_lift.unsqueeze(1)
    first = COLUMN[f"genre_{GENRES[0]}"]
    out[first : first + len(GENRES)] = catalogue.genres.T
    return out.T


def _era(catalogue: Catalogue, rows: torch.Tensor) -> torch.Tensor:
    """Mean closeness in release year to the user's titles (0 where a year is unknown)."""
    years = catalogue.years
    mine = years[rows]
    mine, counts = torch.unique(mine[~mine.isnan()], return_counts=True)
    if mine.numel() == 0:
        return torch.zeros(len(catalogue))
    kernel = torch.exp(-(years.unsqueeze(1) - mine.unsqueeze(0)).abs() / _ERA_SCALE)
    closeness = kernel @ counts.float() / counts.sum()
    return torch.nan_to_num(closeness, nan=0.0)
