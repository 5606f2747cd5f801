"""The serving policy: cold alone without lists, the cold blend's say shrinking with evidence."""

from __future__ import annotations

from dataclasses import replace

import torch

from model import Recommender
from model.cold import cold_scores
from model.features import COLUMN, FEATURE_NAMES, features, user_context
from model.net import RecommenderNet
from model.policy import NET_EASE_WEIGHT, cold_weight, ranking_scores, standardise
from model.profile import build_profile


def _state(catalogue, lists):
    recommender = Recommender(catalogue, lists)
    recommender.fit()
    cat = recommender.catalogue
    profile = build_profile(lists["user0"][:6], cat)
    return recommender.collab, features(cat, recommender.collab, user_context(cat, profile))


def test_without_lists_the_policy_is_the_cold_blend(catalogue, lists):
    """No collaborative state: exactly the cold blend, whatever net is passed."""
    _, matrix = _state(catalogue, lists)
    assert torch.equal(ranking_scores(matrix, None, None), cold_scores(matrix))


def test_cold_weight_shrinks_with_lists_and_is_larger_without_a_net():
    """More lists, less cold blend; EASE alone keeps more of it than the net does."""
    for with_net in (True, False):
        weights = [cold_weight(s, with_net=with_net) for s in (1, 5, 25, 75, 200, 500, 4000)]
        assert weights == sorted(weights, reverse=True) and weights[-1] < 0.5 < weights[0]
    assert all(cold_weight(s, with_net=False) > cold_weight(s, with_net=True) for s in (25, 500))


def test_the_weight_follows_the_number_of_lists_the_state_was_fitted_on(catalogue, lists):
    """Same features, no net: z(EASE) + w(S) z(cold), with S read off the collab state; with
    one list the top titles are the cold blend's, with a huge S EASE's."""
    collab, matrix = _state(catalogue, lists)
    ease, cold = standardise(matrix[:, COLUMN["ease_all"]]), standardise(cold_scores(matrix))
    expected = ease + cold_weight(collab.n_users, with_net=False) * cold
    assert torch.allclose(ranking_scores(matrix, collab, None), expected)
    one = ranking_scores(matrix, replace(collab, n_users=1), None)
    assert _top(one) == _top(cold) != _top(ease)
    huge = ranking_scores(matrix, replace(collab, n_users=10**9), None)
    assert _top(huge) == _top(ease)


def _top(scores: torch.Tensor) -> set[int]:
    return set(torch.topk(scores, 5).indices.tolist())


def test_with_a_net_ease_keeps_a_direct_share_next_to_it(catalogue, lists):
    """With a net: z(net) + NET_EASE_WEIGHT z(EASE) + w(S) z(cold); so at a huge S a net that
    scores every title alike leaves EASE's ranking, not a tie."""
    collab, matrix = _state(catalogue, lists)
    net = RecommenderNet(len(FEATURE_NAMES))
    ease, cold = standardise(matrix[:, COLUMN["ease_all"]]), standardise(cold_scores(matrix))
    expected = (
        standardise(net(matrix).detach())
        + NET_EASE_WEIGHT * ease
        + cold_weight(collab.n_users, with_net=True) * cold
    )
    assert torch.allclose(ranking_scores(matrix, collab, net), expected)
    with torch.no_grad():
        net.layers[2].weight.zero_()  # a constant net
    huge = ranking_scores(matrix, replace(collab, n_users=10**9), net)
    assert _top(huge) == _top(ease)
