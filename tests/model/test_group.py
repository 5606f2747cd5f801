"""The group ranker (model/group.py): misery avoidance, what a group may be shown, and picks
for a real group of a mecha fan and a romance fan."""

from __future__ import annotations

import math

import torch

from model import Recommender
from model.group import (
    DISLIKE_BELOW,
    DISLIKE_QUANTILE,
    average_relevance,
    group_candidates,
    group_relevance,
    member_scores,
    recommend_for_group,
    top_rows,
)
from model.profile import build_profile

ALL = torch.ones(4, dtype=torch.bool)


def test_a_title_one_member_would_dislike_never_wins_despite_the_best_average():
    """Title 0 has by far the highest mean relevance, but member 2 is predicted 3/10 for it:
    averaging ranks it first, the group ranker never ranks it at all."""
    relevance = torch.tensor(
        [
            [10.0, 1.0, 0.5, 0.0],
            [10.0, 1.0, 0.6, 0.0],
            [-1.0, 0.9, 1.0, 0.0],
        ]
    )
    rating = torch.tensor(
        [
            [9.5, 7.5, 7.0, 6.5],
            [9.5, 7.5, 7.2, 6.5],
            [3.0, 7.4, 7.6, 6.5],
        ]
    )
    assert int(torch.argmax(average_relevance(relevance, rating, ALL))) == 0
    ranked = group_relevance(relevance, rating, ALL)
    assert ranked[0] == -math.inf
    assert 0 not in top_rows_of(ranked, 4)
    assert top_rows_of(ranked, 1) == [1]


def test_a_pick_names_the_members_it_suits_best_first(catalogue, lists):
    """Every pick names at least one member it suits, each member once, best suited first."""
    recommender = Recommender(catalogue, lists)
    picks = recommend_for_group(recommender, [lists["user0"][:8], lists["user2"][:8]], k=5)
    assert picks
    for pick in picks:
        assert pick.suits and len(set(pick.suits)) == len(pick.suits) <= 2


def test_a_harsh_rater_does_not_veto_everything():
    """A member whose predictions all sit below DISLIKE_BELOW dislikes only what falls below
    their own lower quartile, so the group still gets picks, and never their worst title."""
    relevance = torch.tensor([[1.0, 2.0, 3.0, 4.0], [4.0, 3.0, 2.0, 1.0]])
    rating = torch.tensor([[7.0, 7.0, 7.0, 7.0], [5.5, 5.0, 4.0, 3.0]])
    assert float(rating[1].max()) < DISLIKE_BELOW
    ranked = group_relevance(relevance, rating, ALL)
    assert torch.isfinite(ranked).any()
    assert ranked[3] == -math.inf


def test_candidates_exclude_every_members_seen_titles_but_not_planning(catalogue):
    """Seen under any status but PLANNING (by any member) is out; PLANNING is in; so are
    adult titles only when allowed, and sequels only when every member saw the prequel."""
    recommender = Recommender(catalogue)
    index = recommender.catalogue.index
    alice = build_profile(
        [
            {"mediaId": 1, "score": 9, "status": "COMPLETED"},
            {"mediaId": 11, "status": "DROPPED"},
            {"mediaId": 21, "status": "PLANNING"},
        ],
        recommender.catalogue,
    )
    bob = build_profile(
        [{"mediaId": 31, "status": "PAUSED"}, {"mediaId": 41, "status": "CURRENT"}],
        recommender.catalogue,
    )
    mask = group_candidates(recommender.catalogue, [alice, bob], allow_adult=False)
    for seen in (1, 11, 31, 41):
        assert not mask[index[seen]], seen
    assert mask[index[21]] and mask[index[51]]
    assert not mask[index[999]]  # adult
    assert not mask[index[2]]  # Alice saw the first season, Bob did not
    assert group_candidates(recommender.catalogue, [alice, bob], allow_adult=True)[index[999]]


def test_picks_for_a_mixed_group_are_new_to_both_and_name_planning(catalogue, lists):
    """A mecha fan and a romance fan: every pick is off both lists (PLANNING excepted and
    reported as such), each carries both predicted ratings, none below the dislike line."""
    recommender = Recommender(catalogue, lists)
    recommender.fit()
    mecha, romance = lists["user0"][:8], lists["user1"][:8]
    planned = next(
        m["id"]
        for m in catalogue
        if m["id"] % 10 == 1
        and not m["isAdult"]
        and m["id"] not in {e["mediaId"] for e in mecha + romance}
    )
    romance = [*romance, {"mediaId": planned, "status": "PLANNING"}]
    picks = recommend_for_group(recommender, [mecha, romance], k=10)
    seen = {e["mediaId"] for e in mecha + romance if e.get("status") != "PLANNING"}
    assert picks and not {p.media_id for p in picks} & seen
    for pick in picks:
        assert len(pick.ratings) == 2
        assert pick.planned_by == ((1,) if pick.media_id == planned else ())
    scores = [member_scores(recommender, m) for m in (mecha, romance)]
    candidates = group_candidates(
        recommender.catalogue, [s.profile for s in scores], allow_adult=False
    )
    rating = torch.stack([s.rating for s in scores])
    low = torch.quantile(rating[:, candidates], DISLIKE_QUANTILE, dim=1)
    threshold = torch.clamp(low, max=DISLIKE_BELOW)
    for pick in picks:
        row = recommender.catalogue.index[pick.media_id]
        assert all(rating[m, row] >= threshold[m] for m in range(2))


def top_rows_of(score: torch.Tensor, k: int) -> list[int]:
    finite = int(torch.isfinite(score).sum())
    return torch.topk(score, min(k, finite)).indices.tolist() if finite else []


def test_top_rows_skips_vetoed_titles(catalogue):
    """top_rows returns only finite-scored rows, however many are asked for."""
    recommender = Recommender(catalogue)
    score = torch.full((len(recommender.catalogue),), -math.inf)
    score[[3, 5]] = torch.tensor([1.0, 2.0])
    assert top_rows(recommender.catalogue, score, 10) == [5, 3]
