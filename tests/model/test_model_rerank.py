"""Exclusion rules and diversity of recommend()."""

from __future__ import annotations

import random

from model import Recommender, RecommenderConfig


def _ids(picks):
    return [p.media_id for p in picks]


def _all(recommender, entries=(), **kwargs):
    return _ids(recommender.recommend(entries, k=100, **kwargs))


def test_titles_on_the_list_are_never_recommended_whatever_their_status(catalogue):
    """COMPLETED, PLANNING, DROPPED, PAUSED, CURRENT entries are all excluded."""
    statuses = ["COMPLETED", "PLANNING", "DROPPED", "PAUSED", "CURRENT", "REPEATING"]
    entries = [{"mediaId": 10 * f + 1, "score": 0, "status": s} for f, s in enumerate(statuses)]
    picks = _all(Recommender(catalogue), entries, allow_adult=True)
    assert picks and not set(picks) & {e["mediaId"] for e in entries}


def test_adult_titles_only_when_allowed(catalogue):
    """The (very popular) adult title appears only with allow_adult=True."""
    recommender = Recommender(catalogue)
    assert 999 not in _all(recommender, allow_adult=False)
    assert 999 in _all(recommender, allow_adult=True)


def test_recently_shown_titles_repeat_only_by_chance(catalogue):
    """repeat_chance 0 never repeats a recently shown title; repeat_chance 1 always may."""
    recommender = Recommender(catalogue)
    top = _ids(recommender.recommend(k=3))
    again = _ids(recommender.recommend(k=3, recently_shown=top, repeat_chance=0.0))
    assert not set(again) & set(top)
    same = recommender.recommend(k=3, recently_shown=top, repeat_chance=1.0, rng=random.Random(1))
    assert _ids(same) == top


def test_no_sequel_before_its_prequel_is_watched(catalogue):
    """Sequels (even ids) are hidden until their prequel is COMPLETED/CURRENT/REPEATING;
    a PLANNING prequel does not unlock the sequel."""
    recommender = Recommender(catalogue)
    cold = _all(recommender)
    assert cold and all(media_id % 10 == 1 for media_id in cold)
    planning = _all(recommender, [{"mediaId": 1, "score": 0, "status": "PLANNING"}])
    assert 2 not in planning
    watched = _all(recommender, [{"mediaId": 1, "score": 9, "status": "CURRENT"}])
    assert 2 in watched


def test_at_most_one_title_per_franchise(catalogue):
    """With every first season watched, each franchise offers only its sequel; with relations
    linking franchises 0 and 2, only one of their sequels is picked."""
    linked = [dict(m) for m in catalogue]
    linked[0]["relations"] = {
        "edges": [
            {"relationType": "SEQUEL", "node": {"id": 2, "type": "ANIME"}},
            {"relationType": "SIDE_STORY", "node": {"id": 21, "type": "ANIME"}},
        ]
    }
    entries = [
        {"mediaId": m["id"], "score": 8, "status": "COMPLETED"} for m in linked if m["id"] % 10 == 1
    ]
    picks = _all(Recommender(linked), entries)
    assert len(set(picks) & {2, 22}) == 1


def test_diversity_mixes_genres_when_relevance_is_close(catalogue):
    """With a strong genre-overlap penalty the top picks are not all from one taste group,
    though without it the popularity order would put the same group first."""
    flat = [dict(m, popularity=1000 + (m["id"] % 2)) for m in catalogue if m["id"] != 999]
    for media in flat:
        if "Mecha" in media["genres"]:
            media["popularity"] += 5  # mecha slightly more popular: no diversity -> all mecha
    plain = Recommender(flat, config=RecommenderConfig(diversity=0.0)).recommend(k=4)
    mixed = Recommender(flat, config=RecommenderConfig(diversity=2.0)).recommend(k=4)
    mecha = {m["id"] for m in flat if "Mecha" in m["genres"]}
    assert {p.media_id in mecha for p in plain} == {True}
    assert {p.media_id in mecha for p in mixed} == {True, False}
