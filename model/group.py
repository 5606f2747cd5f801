"""Recommending for a group: titles nobody has seen, ranked so that nobody is left miserable.

Averaging the members' scores lets one enthusiast outvote a member who would hate the title,
so the group ranker vetoes outright any title a member is predicted to dislike, and ranks the
rest by the members' mean relevance (each member's standardised over the same candidates, so
a member whose scores spread wider does not count for more), optionally plus a share of the
least happy member's (MISERY_WEIGHT). ``python -m benchmarks.bench_groups`` compares it with
plain averaging and with ranking for one member.

The per-member scores come from the serving policy (``model.policy.ranking_scores``) and the
predicted ratings from the same place as :meth:`Recommender.recommend`'s, so a member's
predicted score here is what ``/recommend`` would show them.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import torch

from .catalogue import Catalogue
from .policy import standardise
from .profile import Entry, Profile
from .recommender import Recommender
from .rerank import diversify

# A predicted rating below this (out of 10) counts as "would dislike it": the embed shows each
# member's predicted score, and a 5/10 next to a pick the bot calls a fit for everyone reads
# as the bot not listening.
DISLIKE_BELOW = 6.0
# The predictions are not always on a rating scale (a trained net scores unwatched titles near
# 0), and a harsh rater's all sit low: so a member also dislikes only what falls below this
# quantile of their own predictions over the candidates, when that is lower. On mal-5k (tuning
# draw, seed 1) the median vetoed good picks and lowered every figure; the lower quartile
# keeps the veto off the titles the members rank highest.
DISLIKE_QUANTILE = 0.25
# Weight of the least happy member's relevance next to the mean. On the same tuning draw every
# positive weight (0.25 to 4) lowered both the lowest and the mean member NDCG@10, so misery is
# avoided by the veto alone.
MISERY_WEIGHT = 0.0
# A pick suits a member when it sits this many standard deviations above their mean relevance
# over the candidates (roughly their top sixth): scale-free, unlike the predicted rating.
SUITS_FROM_Z = 1.0
UNSEEN_STATUSES = frozenset({"PLANNING"})


@dataclass(frozen=True, eq=False)
class MemberScores:
    """One member's view of every catalogue title."""

    profile: Profile
    relevance: torch.Tensor  # (n,) ranking score of the serving policy, higher is better
    rating: torch.Tensor  # (n,) predicted rating, 0-10


@dataclass(frozen=True)
class GroupPick:
    """One pick for a group: each member's predicted rating (in member order), the members (by
    position, best suited first) it suits (see SUITS_FROM_Z; the best suited one when none
    reaches it), and the members who have it on their PLANNING list."""

    media_id: int
    ratings: tuple[float, ...]
    planned_by: tuple[int, ...]
    suits: tuple[int, ...] = ()


def member_scores(recommender: Recommender, entries: Iterable[Entry]) -> MemberScores:
    """Score every catalogue title for one member with this entries list (a button rating is
    an entry like any other: see :func:`model.merge_feedback`)."""
    profile, relevance, rating = recommender.title_scores(entries)
    return MemberScores(profile, relevance, rating)


def group_candidates(
    catalogue: Catalogue, profiles: Sequence[Profile], *, allow_adult: bool
) -> torch.Tensor:
    """Boolean mask of titles the group may be shown.

    Never a title on any member's list under a status other than PLANNING (rating-button
    feedback arrives as scored COMPLETED entries, so it counts as seen), never an adult title
    unless ``allow_adult``, and never a sequel whose prequel (same type, in the catalogue) some
    member has not seen.
    """
    mask = torch.ones(len(catalogue), dtype=torch.bool)
    for profile in profiles:
        seen = [
            int(row)
            for row, status in zip(profile.rows.tolist(), profile.statuses, strict=True)
            if status not in UNSEEN_STATUSES
        ]
        mask[seen] = False
    if not allow_adult:
        mask &= ~catalogue.adult
    for row, prequels in catalogue.prequels.items():
        if any(p not in profile.seen_rows for profile in profiles for p in prequels):
            mask[row] = False
    return mask


def dislikes(rating: torch.Tensor, candidates: torch.Tensor) -> torch.Tensor:
    """(members, n) mask: where each member is predicted to dislike the title.

    ``rating`` is (members, n); a member dislikes a title predicted below DISLIKE_BELOW, or
    below the DISLIKE_QUANTILE of their own predictions over ``candidates`` when that is lower.
    """
    if not bool(candidates.any()):
        return torch.zeros_like(rating, dtype=torch.bool)
    low = torch.quantile(rating[:, candidates], DISLIKE_QUANTILE, dim=1)
    threshold = torch.clamp(low, max=DISLIKE_BELOW)
    return rating < threshold.unsqueeze(1)


def _standardised(relevance: torch.Tensor, candidates: torch.Tensor) -> torch.Tensor:
    """Each member's relevance standardised over the candidates; -inf elsewhere."""
    z = torch.full_like(relevance, -torch.inf)
    if bool(candidates.any()):
        for member in range(relevance.shape[0]):
            z[member, candidates] = standardise(relevance[member, candidates])
    return z


def group_relevance(
    relevance: torch.Tensor, rating: torch.Tensor, candidates: torch.Tensor
) -> torch.Tensor:
    """The group ranker: (n,) scores, higher is better; -inf for a title outside
    ``candidates`` or one that some member is predicted to dislike (see :func:`dislikes`).

    ``relevance`` and ``rating`` are (members, n). The rest are ranked by mean standardised
    relevance + MISERY_WEIGHT x the lowest member's (see MISERY_WEIGHT for why that is 0).
    """
    z = _standardised(relevance, candidates)
    score = z.mean(0) + MISERY_WEIGHT * z.min(0).values
    vetoed = dislikes(rating, candidates).any(0)
    return torch.where(candidates & ~vetoed, score, torch.tensor(-torch.inf))


def average_relevance(
    relevance: torch.Tensor, rating: torch.Tensor, candidates: torch.Tensor
) -> torch.Tensor:
    """Baseline: the mean of the members' standardised relevance, no veto."""
    return _standardised(relevance, candidates).mean(0)


def first_member_relevance(
    relevance: torch.Tensor, rating: torch.Tensor, candidates: torch.Tensor
) -> torch.Tensor:
    """Baseline: rank for the first member alone (the others only exclude what they saw)."""
    return _standardised(relevance[:1], candidates)[0]


def top_rows(
    catalogue: Catalogue, score: torch.Tensor, k: int, diversity: float = 0.0
) -> list[int]:
    """The ``k`` best rows of ``score`` (finite scores only); with ``diversity`` > 0 through
    the same MMR as single-user picks, at most one title per franchise."""
    finite = int(torch.isfinite(score).sum())
    if finite == 0 or k <= 0:
        return []
    order = torch.topk(score, min(max(5 * k, 50), finite)).indices.tolist()
    if diversity <= 0:
        return order[:k]
    return diversify(catalogue, order, score, k, diversity)


def recommend_for_group(
    recommender: Recommender,
    members: Sequence[Iterable[Entry]],
    *,
    k: int = 5,
    allow_adult: bool = False,
) -> list[GroupPick]:
    """Up to ``k`` picks for a group with these members' entries (two or more).

    Every pick is new to every member (see :func:`group_candidates`; a title on someone's
    PLANNING list may come, and ``planned_by`` says whose), and no member is predicted to
    dislike it (see :func:`dislikes`); fewer than ``k`` come back when fewer pass.
    """
    if len(members) < 2:
        raise ValueError("a group has at least two members")
    scores = [member_scores(recommender, entries) for entries in members]
    catalogue = recommender.catalogue
    candidates = group_candidates(catalogue, [s.profile for s in scores], allow_adult=allow_adult)
    relevance = torch.stack([s.relevance for s in scores])
    rating = torch.stack([s.rating for s in scores])
    ranked = group_relevance(relevance, rating, candidates)
    rows = top_rows(catalogue, ranked, k, recommender.config.diversity)
    z = _standardised(relevance, candidates)
    planned = [
        {
            int(r)
            for r, st in zip(s.profile.rows.tolist(), s.profile.statuses, strict=True)
            if st in UNSEEN_STATUSES
        }
        for s in scores
    ]
    return [
        GroupPick(
            media_id=catalogue.ids[row],
            ratings=tuple(round(float(rating[m, row]), 1) for m in range(len(scores))),
            planned_by=tuple(m for m in range(len(scores)) if row in planned[m]),
            suits=_suited(z[:, row]),
        )
        for row in rows
    ]


def _suited(z: torch.Tensor) -> tuple[int, ...]:
    """Members a pick suits, best first: those at SUITS_FROM_Z or above, else the best one."""
    order = torch.argsort(z, descending=True).tolist()
    suited = tuple(m for m in order if float(z[m]) >= SUITS_FROM_Z)
    return suited or (order[0],)
