"""model.taste: lifts relative to the user's own mean, shrinkage, hiding, and taste match."""

from __future__ import annotations

import math

import numpy as np
import pytest

from model.catalogue import build_catalogue
from model.taste import FEATURE_PRIOR_TITLES, MATCH_PRIOR_TITLES, analyse_taste, taste_match


def media(media_id: int, genres: list[str], tags=(), *, adult=False, year=2015, fmt="TV") -> dict:
    return {
        "id": media_id,
        "type": "ANIME",
        "format": fmt,
        "genres": genres,
        "tags": [dict(t) for t in tags],
        "isAdult": adult,
        "popularity": 1000 - media_id,
        "startDate": {"year": year},
    }


def entry(media_id: int, score: float, status: str = "COMPLETED") -> dict:
    return {"mediaId": media_id, "score": score, "status": status}


def test_a_genre_lifts_by_its_shrunk_mean_deviation():
    items = [media(i, ["Mecha"] if i < 6 else ["Drama"]) for i in range(12)]
    catalogue = build_catalogue(items)
    entries = [entry(i, 9.0 if i < 6 else 5.0) for i in range(12)]
    taste = analyse_taste(entries, catalogue, allow_adult=False)
    assert taste.mean_score == pytest.approx(7.0)
    mecha = next(x for x in taste.lifts if x.name == "Mecha")
    drama = next(x for x in taste.sinks if x.name == "Drama")
    # 6 titles 2 points above the mean, shrunk as if FEATURE_PRIOR_TITLES more sat at the mean.
    assert mecha.lift == pytest.approx(6 * 2.0 / (6 + FEATURE_PRIOR_TITLES))
    assert drama.lift == pytest.approx(-mecha.lift) and drama.titles == 6
    assert taste.strongest(1)[0].startswith("Mecha (+1.2 over 6 titles)")


def test_few_titles_say_nothing_and_more_titles_say_more():
    items = [media(i, ["Horror"] if i < 2 else ["Comedy"]) for i in range(20)]
    items += [media(100 + i, ["Sports"]) for i in range(10)]
    catalogue = build_catalogue(items)
    entries = [entry(i, 10.0 if i < 2 else 6.0) for i in range(20)]
    entries += [entry(100 + i, 8.0) for i in range(10)]
    names = {x.name for x in analyse_taste(entries, catalogue, allow_adult=False).lifts}
    assert "Horror" not in names  # two loved titles are not a taste
    assert "Sports" in names


def test_adult_genres_tags_and_spoilers_are_not_named_outside_nsfw():
    adult_tag = {"name": "Nudity", "rank": 90, "isAdult": True}
    spoiler = {"name": "Twist", "rank": 90, "isMediaSpoiler": True}
    items = [media(i, ["Hentai"], [adult_tag, spoiler], adult=True) for i in range(6)]
    items += [media(10 + i, ["Comedy"]) for i in range(6)]
    catalogue = build_catalogue(items)
    entries = [entry(i, 10.0) for i in range(6)] + [entry(10 + i, 4.0) for i in range(6)]
    hidden = analyse_taste(entries, catalogue, allow_adult=False)
    shown = analyse_taste(entries, catalogue, allow_adult=True)
    named = {x.name for x in (*hidden.lifts, *hidden.sinks)}
    assert named == {"Comedy"}
    assert {"Hentai", "Nudity"} <= {x.name for x in shown.lifts}
    assert "Twist" not in {x.name for x in shown.lifts}  # a spoiler never counts for its title
    assert "Hentai" not in dict(hidden.most_watched_genres)


def test_distributions_and_the_popular_share():
    items = [
        media(i, ["Action"], year=1985 + 10 * (i % 4), fmt="MOVIE" if i % 2 else "TV")
        for i in range(8)
    ]
    catalogue = build_catalogue(items)
    entries = [entry(0, 7.4), entry(1, 7.6), entry(2, 0.0), entry(3, 10.0, "PLANNING")]
    taste = analyse_taste(entries, catalogue, allow_adult=False)
    assert taste.titles == 4 and taste.watched == 3 and taste.scored == 3
    assert taste.score_counts[6] == 1 and taste.score_counts[7] == 1 and taste.score_counts[9] == 1
    assert dict(taste.formats) == {"TV": 2, "Movie": 1}
    assert dict(taste.eras)["1980s"] == 1 and dict(taste.eras)["2000s"] == 1
    assert (taste.popular_seen, taste.popular_total) == (3, 8)


def test_taste_match_is_the_shrunk_pearson_correlation():
    rng = np.random.default_rng(3)
    mine = rng.integers(1, 11, 25).astype(float)
    theirs = np.clip(mine + rng.normal(0, 2, 25), 1, 10).round(1)
    match = taste_match(
        [entry(i, s) for i, s in enumerate(mine)] + [entry(99, 8.0)],
        [entry(i, s) for i, s in enumerate(theirs)] + [entry(98, 8.0), entry(99, 0.0)],
    )
    r = float(np.corrcoef(mine, theirs)[0, 1])
    assert match.shared == 25
    assert match.correlation == pytest.approx(r)
    assert match.shrunk == pytest.approx(r * 25 / (25 + MATCH_PRIOR_TITLES))
    assert match.percent == round(50 + 50 * match.shrunk)
    assert f"{match.percent}%" in match.explanation()


def test_taste_match_names_only_nameable_titles_and_none_twice():
    mine = [entry(i, float(1 + i)) for i in range(6)]
    theirs = [entry(i, float(1 + i)) for i in range(3)] + [entry(i, 1.0) for i in range(3, 6)]
    match = taste_match(mine, theirs, unnamed={0})
    agreed = [t.media_id for t in match.agree]
    apart = [t.media_id for t in match.disagree]
    assert agreed == [2, 1, 3]  # equal scores, the better loved first; 0 is unnamed
    assert apart == [5, 4]  # 3 is taken, and nothing else is a point apart
    assert not set(agreed) & set(apart)


@pytest.mark.parametrize(
    ("mine", "theirs", "why"),
    [
        ([8.0, 9.0], [8.0, 9.0], "only 2 titles"),
        ([7.0] * 5, [1.0, 5.0, 6.0, 8.0, 9.0], "same score"),
    ],
)
def test_taste_match_without_a_percentage(mine, theirs, why):
    match = taste_match(
        [entry(i, s) for i, s in enumerate(mine)], [entry(i, s) for i, s in enumerate(theirs)]
    )
    assert match.percent is None and math.isnan(match.shrunk)
    assert why in match.explanation()
