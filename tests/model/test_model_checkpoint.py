"""Checkpoints: versioned, atomic, loaded with weights_only, with fallback on bad files."""

from __future__ import annotations

import logging

import pytest
import torch

from model import Recommender, RecommenderConfig, TrainingConfig, load_latest, save_checkpoint
from model.features import FEATURE_NAMES
from model.net import RecommenderNet

CONFIG = RecommenderConfig(ease_lambda=10.0, training=TrainingConfig(epochs=2))


@pytest.fixture
def trained(catalogue, lists):
    recommender = Recommender(catalogue, lists, config=CONFIG)
    recommender.train(seed=0)
    return recommender


def test_round_trip_restores_the_same_recommendations(tmp_path, catalogue, lists, trained):
    """save -> load into a fresh Recommender gives identical picks and scores; versions count
    up and no temporary file is left behind."""
    assert save_checkpoint(tmp_path, "ANIME", trained) == 1
    assert save_checkpoint(tmp_path, "ANIME", trained) == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == ["anime-v1.pt", "anime-v2.pt"]
    torch.load(tmp_path / "anime-v2.pt", weights_only=True)  # only safe types inside
    fresh = Recommender(catalogue, lists, config=CONFIG)
    assert load_latest(tmp_path, "ANIME", fresh) == 2
    entries = lists["user1"][:6]
    assert fresh.recommend(entries, k=5) == trained.recommend(entries, k=5)


def test_corrupt_latest_falls_back_to_previous_version(tmp_path, catalogue, lists, trained, caplog):
    """A truncated newest file is logged and skipped; the previous version serves."""
    save_checkpoint(tmp_path, "ANIME", trained)
    good = (tmp_path / "anime-v1.pt").read_bytes()
    (tmp_path / "anime-v2.pt").write_bytes(good[: len(good) // 2])
    fresh = Recommender(catalogue, lists, config=CONFIG)
    with caplog.at_level(logging.WARNING, logger="model.checkpoint"):
        assert load_latest(tmp_path, "ANIME", fresh) == 1
    assert "anime-v2.pt" in caplog.text
    assert fresh.trained


def test_incompatible_checkpoints_fall_back_to_the_cold_model(
    tmp_path, catalogue, lists, trained, caplog
):
    """Wrong feature list, wrong shapes or another media type are refused and logged; with no
    loadable version the recommender stays untrained (cold) and still recommends."""
    state = trained.state_dict()
    torch.save(
        {"format": 1, "media_type": "ANIME", **state, "features": ["x"]}, tmp_path / "anime-v1.pt"
    )
    bad_net = {k: torch.zeros(3) for k in state["net"]}
    torch.save(
        {"format": 1, "media_type": "ANIME", "features": state["features"], "net": bad_net},
        tmp_path / "anime-v2.pt",
    )
    torch.save({"format": 1, "media_type": "MANGA", **state}, tmp_path / "anime-v3.pt")
    fresh = Recommender(catalogue, {}, config=CONFIG)
    with caplog.at_level(logging.WARNING, logger="model.checkpoint"):
        assert load_latest(tmp_path, "ANIME", fresh) is None
    assert caplog.text.count("skipping checkpoint") == 3
    assert not fresh.trained
    assert fresh.recommend(lists["user0"], k=3)


def test_missing_directory_means_no_checkpoint(tmp_path, catalogue):
    """A fresh install (no models directory) loads nothing and raises nothing."""
    assert load_latest(tmp_path / "models", "ANIME", Recommender(catalogue)) is None


def test_a_checkpoint_from_before_the_liked_ease_inputs_is_refused(tmp_path, catalogue, lists):
    """A net saved by the previous release (no ease_liked / log-rank / z columns, so fewer
    inputs) is skipped with a log line; the recommender serves without a net."""
    new = {"ease_log_rank", "ease_z", "ease_liked", "ease_liked_log_rank", "edlae_all"}
    old_names = [name for name in FEATURE_NAMES if name not in new]
    old_net = RecommenderNet(len(old_names))
    torch.save(
        {"format": 1, "media_type": "ANIME", "features": old_names, "net": old_net.state_dict()},
        tmp_path / "anime-v1.pt",
    )
    fresh = Recommender(catalogue, lists, config=CONFIG)
    assert load_latest(tmp_path, "ANIME", fresh) is None
    assert not fresh.trained
    assert fresh.recommend(lists["user0"], k=3)
