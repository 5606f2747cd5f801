"""Titles like a given one (model.similar through Recommender.similar): what is never picked,
and which evidence lifts a title."""

from __future__ import annotations

import pytest

from model import Recommender, RecommenderConfig
from model.similar import Similarity, blend

CONFIG = RecommenderConfig(ease_lambda=10.0)


def ids(result) -> list[int]:
    return [p.media_id for p in result.picks]


def test_never_the_title_or_its_franchise_which_is_listed_apart(catalogue):
    """Franchise f holds 10f+1 and its sequel 10f+2 (tests/model/conftest.py)."""
    model = Recommender(catalogue, config=CONFIG)
    result = model.similar(11, k=10)
    assert result.picks and not {11, 12} & set(ids(result))
    assert result.franchise == [12]
    assert model.similar(12, k=3).franchise == [11]


def test_one_title_per_franchise_and_no_sequel_before_its_prequel(catalogue):
    model = Recommender(catalogue, config=CONFIG)
    picked = ids(model.similar(1, k=20))
    assert all(media_id % 10 == 1 for media_id in picked)  # firsts only: nothing seen
    seen = [{"mediaId": 21, "score": 9, "status": "COMPLETED"}]
    picked = ids(model.similar(1, seen, k=20))
    assert 22 in picked and 21 not in picked


def test_the_callers_list_is_left_out(catalogue, lists):
    model = Recommender(catalogue, lists, config=CONFIG)
    entries = lists["user0"]
    picked = set(ids(model.similar(1, entries, k=10)))
    assert picked and not picked & {e["mediaId"] for e in entries}


def test_adult_titles_only_when_allowed(catalogue):
    model = Recommender(catalogue, config=CONFIG)
    assert 999 not in ids(model.similar(1, k=20))
    assert 999 in ids(model.similar(1, k=20, allow_adult=True))
    # Nor does a reason name the adult genre.
    adult_genre = [
        dict(m, genres=[*m["genres"], "Hentai"]) if m["id"] == 21 else m for m in catalogue
    ]
    reasons = [p.reason for p in Recommender(adult_genre).similar(1, k=20).picks]
    assert reasons and not any("Hentai" in r for r in reasons)


def test_community_recommendations_lead_either_way_round(catalogue):
    """Title 10f+1 recommends 10f+21; with no lists seen, that vote decides."""
    model = Recommender(catalogue, config=CONFIG)
    assert ids(model.similar(1, k=1)) == [21]
    # 21 recommends 41, and 1 recommends 21.
    assert set(ids(model.similar(21, k=2))) == {1, 41}
    assert "AniList users recommend it" in model.similar(1, k=1).picks[0].reason


def test_titles_seen_together_on_lists_rank_first(catalogue, lists):
    """Sequel 12 has no community votes; 41 is of the other taste group, but the lists that
    hold 12 hold 41 too."""
    together = {
        f"pair{u}": [{"mediaId": 12, "score": 8}, {"mediaId": 41, "score": 8}] for u in range(30)
    }
    model = Recommender(catalogue, {**lists, **together}, config=CONFIG)
    first = model.similar(12, k=1).picks[0]
    assert first.media_id == 41
    assert first.reason.startswith("Like Blaze1 Romance Season 2: ")
    assert "of the lists I've seen with it have this too" in first.reason


def test_the_neighbours_weight_grows_with_the_lists_holding_the_title(catalogue):
    few = {f"pair{u}": [{"mediaId": 12}, {"mediaId": 41}] for u in range(2)}
    many = {f"pair{u}": [{"mediaId": 12}, {"mediaId": 41}] for u in range(40)}
    lifts = []
    for lists in (few, many):
        model = Recommender(catalogue, lists, config=CONFIG)
        model.fit()
        row = model.catalogue.index
        similarity = Similarity(model.catalogue, model.collab)
        score = blend(similarity.signals(row[12]))
        lifts.append(float(score[row[41]] - score[row[61]]))  # 61: like 41, but unseen
    assert 0 < lifts[0] < lifts[1]


def test_a_prediction_comes_only_with_a_list(catalogue, lists):
    model = Recommender(catalogue, lists, config=CONFIG)
    assert all(p.rating is None for p in model.similar(1, k=3).picks)
    rated = model.similar(1, lists["user1"][:5], k=3).picks
    assert rated and all(p.rating is not None and 0 <= p.rating <= 10 for p in rated)


def test_an_unknown_title_is_a_key_error(catalogue):
    with pytest.raises(KeyError):
        Recommender(catalogue).similar(123456)
