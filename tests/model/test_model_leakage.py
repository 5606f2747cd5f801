"""Training examples never see their own rating (the leakage trap of recommender.md)."""

from __future__ import annotations

import copy

import torch

from model.catalogue import build_catalogue
from model.features import features, user_context
from model.profile import build_profile
from model.training import TrainingConfig, split_lists


def _split(catalogue, lists):
    cat = build_catalogue(catalogue)
    profiles = {u: build_profile(e, cat) for u, e in lists.items()}
    return cat, split_lists(profiles, len(cat), TrainingConfig(), seed=3, ease_lambda=10.0)


def test_targets_are_held_out_of_the_profile_side(catalogue, lists):
    """A user's target titles are not in that user's profile side, which the collaborative
    model is fitted on."""
    _, split = _split(catalogue, lists)
    assert split.targets
    for user, target in split.targets.items():
        assert not set(target.rows.tolist()) & set(split.profiles[user].rows.tolist())


def test_a_targets_features_do_not_change_when_its_own_rating_changes(catalogue, lists):
    """Flipping the rating of a held-out target (10 <-> 1) leaves every feature of that target
    unchanged: its collaborative scores and item statistics come from a fit without it."""
    cat, split = _split(catalogue, lists)
    user = sorted(split.targets)[0]
    row = int(split.targets[user].rows[0])
    target_id = cat.ids[row]
    before = features(cat, split.collab, user_context(cat, split.profiles[user]))[row]

    changed = copy.deepcopy(lists)
    for entry in changed[user]:
        if entry["mediaId"] == target_id:
            entry["score"] = 1 if entry["score"] >= 8 else 10
    cat2, split2 = _split(catalogue, changed)
    assert int(split2.targets[user].rows[0]) == row  # same split: selection ignores scores
    after = features(cat2, split2.collab, user_context(cat2, split2.profiles[user]))[row]
    assert torch.equal(before, after)
