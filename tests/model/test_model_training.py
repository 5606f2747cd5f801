"""Training: loss goes down, results are reproducible under a seed, the net beats no net."""

from __future__ import annotations

from dataclasses import replace

import torch

from model import Recommender, RecommenderConfig, TrainingConfig
from model.profile import build_profile
from model.training import build_examples, fit_net, split_lists

CONFIG = RecommenderConfig(ease_lambda=10.0, training=TrainingConfig(epochs=6, batch_size=32))


def test_training_reports_each_epoch_and_lowers_the_loss(catalogue, lists):
    """on_epoch is called once per epoch with a falling loss, which ends well below the MSE of
    the same net before training."""
    seen = []
    recommender = Recommender(catalogue, lists, config=CONFIG)
    stats = recommender.train(seed=1, on_epoch=lambda e, loss: seen.append((e, loss)))
    assert [e for e, _ in seen] == list(range(1, 7))
    assert seen[-1][1] < seen[0][1]
    assert stats.final_loss == seen[-1][1] and stats.samples > 0 and stats.epochs == 6

    cat = recommender.catalogue
    profiles = {u: build_profile(e, cat) for u, e in lists.items()}
    split = split_lists(profiles, len(cat), CONFIG.training, seed=1, ease_lambda=10.0)
    inputs, targets = build_examples(cat, split, CONFIG.training, seed=1)
    untrained, _ = fit_net(inputs, targets, replace(CONFIG.training, epochs=0), seed=1)
    with torch.no_grad():
        initial = float(torch.nn.functional.mse_loss(untrained(inputs), targets))
    assert stats.final_loss < 0.85 * initial


def test_training_is_deterministic_under_a_seed(catalogue, lists):
    """Same seed, same weights and same picks; another seed, other weights."""
    a = Recommender(catalogue, lists, config=CONFIG)
    b = Recommender(catalogue, lists, config=CONFIG)
    c = Recommender(catalogue, lists, config=CONFIG)
    a.train(seed=5)
    b.train(seed=5)
    c.train(seed=6)
    for key, value in a.state_dict()["net"].items():
        assert torch.equal(value, b.state_dict()["net"][key])
    assert not torch.equal(
        a.state_dict()["net"]["layers.0.weight"], c.state_dict()["net"]["layers.0.weight"]
    )
    entries = lists["user0"][:5]
    assert a.recommend(entries, k=5) == b.recommend(entries, k=5)


def test_trained_net_ranks_a_users_own_taste_first(catalogue, lists):
    """After training, a mecha fan's picks are mecha titles and the held-out NDCG@10 is
    reported (on this tiny fixture only a few validation users, so only a loose floor)."""
    recommender = Recommender(catalogue, lists, config=CONFIG)
    stats = recommender.train(seed=0)
    assert 0.0 <= stats.ndcg_before <= 1.0 and 0.5 < stats.ndcg_after <= 1.0
    picks = recommender.recommend(lists["user0"], k=4)
    by_id = {m["id"]: m for m in catalogue}
    assert all("Mecha" in by_id[p.media_id]["genres"] for p in picks)
    assert all(0.0 <= p.score <= 10.0 for p in picks)


def test_too_few_lists_train_nothing_and_stay_cold(catalogue, lists):
    """Below min_users there is no collaborative model, training reports 0 samples and the
    recommender still answers from the cold blend."""
    few = dict(list(lists.items())[:3])
    recommender = Recommender(catalogue, few, config=CONFIG)
    stats = recommender.train(seed=0)
    assert stats.samples == 0 and not recommender.trained and recommender.collab is None
    assert recommender.recommend(few["user0"], k=3)


def test_short_or_unscored_lists_train_nothing(catalogue, lists):
    """Enough users for collaborative signal but no list with 5 scored entries: no examples,
    so training keeps the previous (absent) net instead of fitting one on nothing."""
    unscored = {u: [dict(e, score=0) for e in entries] for u, entries in lists.items()}
    recommender = Recommender(catalogue, unscored, config=CONFIG)
    stats = recommender.train(seed=0)
    assert recommender.collab is not None
    assert stats.samples == 0 and not recommender.trained
    picks = recommender.recommend(unscored["user0"], k=3)
    assert len(picks) == 3 and all(0.0 <= p.score <= 10.0 for p in picks)
