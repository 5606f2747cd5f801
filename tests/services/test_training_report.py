"""What the owner reads when a training ends: the figures, how many people they are means
over, and which model serves afterwards."""

from __future__ import annotations

from dataclasses import replace

from bot.services.recommendations import TrainingReport
from bot.services.training import TrainingResult

RESULT = TrainingResult(
    samples=1200,
    final_loss=3.5,
    ndcg_before=0.25,
    ndcg_after=0.7,
    improved=True,
    version=1,
    lists=25,
    ratings=3,
    validation_users=2,
)


def summary(**changes) -> str:
    return TrainingReport("ANIME", replace(RESULT, **changes), 4.2).summary()


def test_an_installed_net_names_its_version():
    text = summary(version=3, validation_users=40)
    assert "It ranks better (held-out NDCG@10 over 40 people" in text
    assert text.endswith("Now serving model version 3.")


def test_a_lower_figure_keeps_the_serving_model():
    text = summary(ndcg_after=0.2, improved=False, version=2, validation_users=1)
    assert "It does not rank better (held-out NDCG@10 over 1 person:" in text
    assert text.endswith("so model version 2 stays.")
