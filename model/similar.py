"""Titles like one given title: the signals, their blend, and the picks /similar shows.

Four kinds of evidence say that B is like A. Each but popularity (standardised) is on 0-1
before they are added, the best title by the signal getting 1, so a weight reads as "how much is
the best title by this signal worth":

- **neighbours**: how often B is on the lists the bot has seen with A, from the fitted
  item-item counts: ItemKNN's cosine times B's count to the power NEIGHBOUR_POPULARITY, between
  the cosine (0) and the co-watch share P(B | A) (0.5), which the reason quotes. On mal-5k both
  the share and the blend ranked far better than A's raw EASE or ItemKNN row
  (``python -m benchmarks.bench_similar``). Its weight grows with the lists that hold A: a
  title seen on two lists says little yet.
- **community**: AniList users' "if you liked A, try B" recommendations, either way round,
  weighted by their rating.
- **content**: genre and tag overlap (cosine), and the same format (a film for a film).
- **popularity**: a small prior, which breaks ties toward titles people know.

The **franchise** (titles linked to A by sequel, prequel, side-story... relations) is not a
pick: those titles are listed apart, and picks keep to one title per other franchise, the
first one the person may watch (no sequel of something they have not seen).
"""

from __future__ import annotations

import math
import random
import warnings
from dataclasses import dataclass

import torch

from .catalogue import Catalogue, dense_rows
from .collab import Collab
from .profile import Profile
from .rerank import allowed

# Blend weights. The collaborative part against the small ones was set on 400 of mal-5k's test
# users (content, format and popularity moved NDCG@10 by less than 0.001 there, so they are
# kept small: they carry a young bot, and a title no list holds yet). mal-5k has neither
# community recommendations nor relations, so the community weight is an untested guess that
# puts AniList's votes level with co-watching.
WEIGHTS = {
    "neighbours": 1.0,
    "community": 1.0,
    "content": 0.1,
    "format": 0.1,
    "popularity": 0.1,
}
# A seed on d lists gets d / (d + NEIGHBOUR_EVIDENCE) of the neighbours' weight.
NEIGHBOUR_EVIDENCE = 10.0
# The share P(B | A) itself (0.5) had the best NDCG@10 on mal-5k but put the same few very
# popular titles under almost every title; 0.25, halfway to the cosine, gave up 5 % of that
# NDCG@10 for a third more distinct titles in the top 10s (benchmarks/bench_similar).
NEIGHBOUR_POPULARITY = 0.25


@dataclass(frozen=True)
class SimilarPick:
    """A title like the one asked about: how alike (the blend, unbounded), the predicted 0-10
    rating for the list it was asked with (None without one) and why it was picked."""

    media_id: int
    similarity: float
    rating: float | None
    reason: str


@dataclass(frozen=True)
class SimilarResult:
    """What ``Recommender.similar`` answers: the picks, best first, and the media ids of the
    title's other franchise entries (oldest first), which are never picks."""

    media_id: int
    picks: list[SimilarPick]
    franchise: list[int]


@dataclass(frozen=True, eq=False)
class Signals:
    """Every catalogue title's evidence of being like one seed title, each ``(n,)``.

    ``ease`` and ``knn`` are the seed's raw rows of the fitted models (the benchmark's
    baselines); the others are what :func:`blend` adds. ``lists`` is how many fitted lists hold
    the seed."""

    row: int
    ease: torch.Tensor
    knn: torch.Tensor
    cowatch: torch.Tensor  # share (0-1) of the seed's lists that hold the title
    neighbours: torch.Tensor  # knn x count ** NEIGHBOUR_POPULARITY
    community: torch.Tensor  # log(1 + rating) of AniList recommendations either way, 0 if none
    content: torch.Tensor  # cosine of genre and rank-weighted tag vectors
    format: torch.Tensor  # 1 for the seed's format
    popularity: torch.Tensor  # standardised log popularity
    lists: int


class Similarity:
    """Finds titles like a given one in a catalogue, with the collaborative state fitted on it
    (None before any list was seen). What every query needs is computed once, here; a query
    only reads, so several threads may ask at once."""

    def __init__(self, catalogue: Catalogue, collab: Collab | None) -> None:
        self.catalogue = catalogue
        self.collab = collab
        content = torch.cat([catalogue.genres, catalogue.tags], dim=1)
        content = content / content.norm(dim=1, keepdim=True).clamp(min=1e-9)
        # A title carries a few of the hundreds of tags: sparse, this costs a few hundred KiB
        # instead of a dense copy of the tag matrix.
        with warnings.catch_warnings():  # "sparse CSR support is in beta": we use only mm
            warnings.simplefilter("ignore", UserWarning)
            self._content = content.to_sparse_csr()
        popularity = catalogue.log_popularity
        spread = float(popularity.std()) if len(catalogue) > 1 else 0.0
        self._popularity = (
            (popularity - popularity.mean()) / spread
            if spread > 1e-9
            else torch.zeros_like(popularity)
        )
        self._counts = None if collab is None else torch.expm1(collab.log_count).round()

    def signals(self, row: int) -> Signals:
        """The evidence that each title is like catalogue row ``row``."""
        catalogue, collab = self.catalogue, self.collab
        n = len(catalogue)
        ease, knn, cowatch, neighbours = (torch.zeros(n) for _ in range(4))
        lists = 0
        column = -1 if collab is None else int(collab.column[row])
        if collab is not None and self._counts is not None and column >= 0:
            ease[collab.active] = collab.ease[column]
            knn[collab.active] = collab.knn[column]
            # knn = together / sqrt(count_a count_b), so together / count_a = knn sqrt(b / a).
            lists = int(self._counts[row])
            cowatch = (knn * (self._counts / max(lists, 1)).sqrt()).clamp(0.0, 1.0)
            neighbours = knn * self._counts.pow(NEIGHBOUR_POPULARITY)
        return Signals(
            row=row,
            ease=ease,
            knn=knn,
            cowatch=cowatch,
            neighbours=neighbours,
            community=_community(catalogue, row),
            content=torch.sparse.mm(self._content, dense_rows(self._content, [row]).T).squeeze(1),
            format=catalogue.formats @ catalogue.formats[row],
            popularity=self._popularity,
            lists=lists,
        )

    def similar(self, row: int, profile: Profile, *, k: int, allow_adult: bool) -> SimilarTitles:
        """Up to ``k`` titles most like row ``row`` for a person with ``profile``.

        Never the seed, a title of its franchise, a title on the profile's list (any status),
        an adult title unless ``allow_adult``, a sequel of something the profile has not seen,
        or two titles of one franchise."""
        catalogue = self.catalogue
        evidence = self.signals(row)
        score = blend(evidence)
        mask = allowed(
            catalogue,
            profile,
            allow_adult=allow_adult,
            recently_shown=(),
            repeat_chance=0.0,
            rng=random.Random(0),
            preferences=None,
        )
        mask &= catalogue.franchise != catalogue.franchise[row]
        mask[row] = False
        candidates = int(mask.sum())
        franchise = franchise_rows(catalogue, row, allow_adult=allow_adult)
        if candidates == 0:
            return SimilarTitles([], [], franchise, evidence)
        relevance = torch.where(mask, score, torch.tensor(-torch.inf))
        top = torch.topk(relevance, min(max(5 * k, 50), candidates)).indices
        picks = _one_per_franchise(top.tolist(), catalogue.franchise[top].tolist(), k)
        return SimilarTitles(picks, [float(score[p]) for p in picks], franchise, evidence)


@dataclass(frozen=True, eq=False)
class SimilarTitles:
    """What /similar shows for one seed: picks (rows, best first) with their blend scores, the
    seed's other franchise entries, and the evidence behind the picks."""

    picks: list[int]
    scores: list[float]
    franchise: list[int]
    evidence: Signals


def blend(evidence: Signals) -> torch.Tensor:
    """The similarity score (higher is more alike, unbounded) of every title to the seed."""
    row = evidence.row
    trust = evidence.lists / (evidence.lists + NEIGHBOUR_EVIDENCE)
    return (
        WEIGHTS["neighbours"] * trust * _scaled(evidence.neighbours, row)
        + WEIGHTS["community"] * _scaled(evidence.community, row)
        + WEIGHTS["content"] * _scaled(evidence.content, row)
        + WEIGHTS["format"] * evidence.format
        + WEIGHTS["popularity"] * evidence.popularity
    )


def franchise_rows(catalogue: Catalogue, row: int, *, allow_adult: bool) -> list[int]:
    """The other titles of the seed's franchise, oldest first (unknown years last)."""
    same = catalogue.franchise == catalogue.franchise[row]
    same[row] = False
    if not allow_adult:
        same &= ~catalogue.adult
    years = catalogue.years.tolist()

    def oldest_first(r: int) -> tuple[bool, float, int]:
        unknown = math.isnan(years[r])
        return unknown, 0.0 if unknown else years[r], r

    return sorted(same.nonzero().flatten().tolist(), key=oldest_first)


def _community(catalogue: Catalogue, row: int) -> torch.Tensor:
    """log(1 + rating) of AniList recommendations from the seed's page and of those pointing
    at it, the larger where both exist."""
    votes = catalogue.community
    out = torch.zeros(len(catalogue))
    crow, col, val = votes.crow_indices(), votes.col_indices(), votes.values()
    start, end = int(crow[row]), int(crow[row + 1])
    out[col[start:end]] = val[start:end]
    pointing = (col == row).nonzero().flatten()
    if pointing.numel():
        sources = torch.searchsorted(crow, pointing, right=True) - 1
        out[sources] = torch.maximum(out[sources], val[pointing])
    return out


def _one_per_franchise(rows: list[int], franchises: list[int], k: int) -> list[int]:
    """The first ``k`` of ``rows`` (best first) whose franchise no earlier one shares. Genre
    diversity, which /recommend adds, would work against "titles like this one"."""
    picks: list[int] = []
    taken: set[int] = set()
    for row, franchise in zip(rows, franchises, strict=True):
        if franchise not in taken:
            taken.add(franchise)
            picks.append(row)
            if len(picks) == k:
                break
    return picks


def _scaled(values: torch.Tensor, row: int) -> torch.Tensor:
    """``values`` over their best title other than the seed (all 0 when none is positive)."""
    others = values.clone()
    others[row] = 0.0
    best = float(others.max()) if others.numel() else 0.0
    return others / best if best > 0 else torch.zeros_like(others)
