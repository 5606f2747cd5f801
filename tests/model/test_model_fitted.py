"""The fitted state as a file: what the bot's build child writes and the bot maps and serves."""

from __future__ import annotations

import random

import pytest
import torch

from model import Recommender, RecommenderConfig, TrainingConfig, load_latest, save_checkpoint
from model.fitted import FORMAT_VERSION, load_fitted, save_fitted

CONFIG = RecommenderConfig(ease_lambda=10.0, training=TrainingConfig(epochs=2))


def picks(recommender: Recommender, entries: list[dict]) -> list:
    return recommender.recommend(entries, k=5, rng=random.Random(1))


def test_a_loaded_state_serves_what_the_fitted_one_served(tmp_path, catalogue, lists):
    """Same picks, scores and reasons, with and without a net; the file holds safe types only."""
    fitted = Recommender(catalogue, lists, config=CONFIG)
    save_fitted(fitted, tmp_path / "anime-fitted.pt")
    torch.load(tmp_path / "anime-fitted.pt", weights_only=True)
    loaded = load_fitted(tmp_path / "anime-fitted.pt", config=CONFIG)
    entries = lists["user1"][:6]
    assert loaded.collab is not None and loaded.collab.n_users == fitted.collab.n_users
    assert picks(loaded, entries) == picks(fitted, entries)

    fitted.train(seed=0)
    assert fitted.trained
    save_checkpoint(tmp_path, "ANIME", fitted)
    assert load_latest(tmp_path, "ANIME", loaded) == 1
    assert picks(loaded, entries) == picks(fitted, entries)
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".tmp")] == []


def test_a_state_without_lists_is_the_cold_model(tmp_path, catalogue, lists):
    save_fitted(Recommender(catalogue, config=CONFIG), tmp_path / "cold.pt")
    loaded = load_fitted(tmp_path / "cold.pt", config=CONFIG)
    assert loaded.collab is None
    cold = Recommender(catalogue, config=CONFIG)
    assert picks(loaded, lists["user2"][:4]) == picks(cold, lists["user2"][:4])


@pytest.mark.parametrize(
    "payload",
    [
        b"not a torch file",
        {"format": 99},
        {"format": FORMAT_VERSION, "catalogue": {"ids": ()}, "collab": None},
    ],
    ids=["garbage", "other format", "other fields"],
)
def test_a_file_this_code_cannot_serve_is_refused_with_value_error(tmp_path, payload):
    path = tmp_path / "anime-fitted.pt"
    if isinstance(payload, bytes):
        path.write_bytes(payload)
    else:
        torch.save(payload, path)
    with pytest.raises(ValueError):
        load_fitted(path)


def test_a_missing_file_is_an_os_error(tmp_path):
    with pytest.raises(OSError):
        load_fitted(tmp_path / "nothing.pt")
