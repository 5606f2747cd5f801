"""Scoring in worker processes: the workers serve exactly the model the bot serves, follow it
when a new build replaces the file, and refuse preferences as recommend() does."""

from __future__ import annotations

import os
import random

import pytest

from bot.services.model_build import fitted_path
from bot.services.scoring import ModelFile, ScoreRequest, ScoringPool, WorkerCannotLoad
from model import PreferencesError, Recommender
from model.fitted import save_fitted
from tests.model.conftest import make_catalogue, make_lists


def publish(models_dir, model: Recommender) -> ModelFile:
    """Save the fitted state where the bot's builds put it; its identity for the workers."""
    path = fitted_path(models_dir, "ANIME")
    save_fitted(model, path)
    stat = os.stat(path)
    return ModelFile(models_dir, "ANIME", stat.st_ino, stat.st_mtime_ns, 0)


def request(file: ModelFile, entries: list[dict], **options) -> ScoreRequest:
    values = {"preferences": None, "allow_adult": False, "seed": 0.25, **options}
    return ScoreRequest(
        file,
        entries,
        5,
        values["preferences"],
        values["allow_adult"],
        frozenset(),
        0.05,
        values["seed"],
    )


def in_process(model: Recommender, entries: list[dict]) -> list:
    return model.recommend(entries, k=5, rng=random.Random(0.25))


@pytest.fixture
async def pool():
    scoring = ScoringPool(workers=1)
    yield scoring
    scoring.close()


async def test_workers_serve_the_bots_model_and_follow_a_new_build(tmp_path, pool):
    catalogue = make_catalogue()
    entries = make_lists(catalogue)["user1"][:5]
    first = Recommender(catalogue, make_lists(catalogue, n_users=40, seed=0))
    file = publish(tmp_path, first)
    assert await pool.score(request(file, entries)) == in_process(first, entries)

    # A new build replaces the file under the same name: the worker must not keep the old one.
    second = Recommender(catalogue, make_lists(catalogue, n_users=6, seed=3))
    newer = publish(tmp_path, second)
    assert newer != file
    picks = await pool.score(request(newer, entries))
    assert picks == in_process(second, entries)
    assert picks != in_process(first, entries)


async def test_preferences_are_refused_in_the_words_recommend_uses(tmp_path, pool):
    catalogue = make_catalogue()
    file = publish(tmp_path, Recommender(catalogue, make_lists(catalogue)))
    with pytest.raises(PreferencesError, match="Adult titles are only shown"):
        await pool.score(request(file, [], preferences="hentai"))
    with pytest.raises(PreferencesError):
        await pool.score(request(file, [], preferences="qwzx vvbn"))


async def test_a_file_the_worker_cannot_read_is_said_so_not_crashed_on(tmp_path, pool):
    """The bot then scores with the model it has in memory (see RecommendationService)."""
    catalogue = make_catalogue()
    file = publish(tmp_path, Recommender(catalogue, make_lists(catalogue)))
    fitted_path(tmp_path, "ANIME").unlink()
    with pytest.raises(WorkerCannotLoad):
        await pool.score(request(file, []))
