"""Free-text preferences: synonyms, negation, gibberish, huge text, and their effect."""

from __future__ import annotations

import time

import pytest

from model import PreferencesError, Recommender, parse_preferences


def test_the_products_example_sentence():
    """'dark psychological thriller with time travel, no romance' -> Psychological, Thriller,
    Time Manipulation wanted; Romance excluded."""
    prefs = parse_preferences("dark psychological thriller with time travel, no romance")
    assert {"Psychological", "Thriller"} <= prefs.include_genres
    assert prefs.include_tags == {"Time Manipulation"}
    assert prefs.exclude_genres == {"Romance"}


@pytest.mark.parametrize(
    ("text", "genres", "tags"),
    [
        ("something scary", {"Horror"}, set()),
        ("funny stuff", {"Comedy"}, set()),
        ("giant robots", {"Mecha"}, set()),
        ("I love SPORTS anime", {"Sports"}, set()),
        ("isekai please", set(), {"Isekai"}),
        ("sci-fi", {"Sci-Fi"}, set()),
        ("slice of life", {"Slice of Life"}, set()),
    ],
)
def test_synonyms_map_to_anilist_names(text, genres, tags):
    """Common words map to AniList genres and tags, case- and punctuation-insensitive."""
    prefs = parse_preferences(text)
    assert prefs.include_genres == genres
    assert prefs.include_tags == tags


@pytest.mark.parametrize(
    ("text", "excluded"),
    [
        ("action but no romance", {"Romance"}),
        ("comedy without gore", {"Gore"}),
        ("not ecchi", {"Ecchi"}),
        ("no romance or ecchi, with mecha", {"Romance", "Ecchi"}),
        ("I don't like horror", {"Horror"}),
    ],
)
def test_negation_excludes_and_ends_at_clause_breaks(text, excluded):
    """Negation words exclude the terms in their scope; 'with'/'but'/commas end it."""
    prefs = parse_preferences(text)
    assert prefs.exclude_genres | prefs.exclude_tags == excluded
    assert not (prefs.include_genres | prefs.include_tags) & excluded


def test_negation_scope_stops_before_unrelated_and():
    """'no romance and lots of comedy' wants Comedy and excludes only Romance."""
    prefs = parse_preferences("no romance and lots of comedy")
    assert prefs.exclude_genres == {"Romance"} and prefs.include_genres == {"Comedy"}


def test_catalogue_tag_names_are_recognised():
    """Tags the catalogue carries are understood even without a synonym entry."""
    prefs = parse_preferences("something with Cute Witches", tag_names=["Cute Witches"])
    assert prefs.include_tags == {"Cute Witches"}


def test_gibberish_raises_a_user_facing_error():
    """Text with no known term is an error with a sentence for the user."""
    with pytest.raises(PreferencesError) as error:
        parse_preferences("asdf qwerty zxcv")
    assert str(error.value).endswith(".") and "genre" in str(error.value)


def test_huge_text_is_handled_quickly():
    """A megabyte of text is capped and parsed in well under a second."""
    start = time.perf_counter()
    prefs = parse_preferences("horror " + "blah " * 200_000)
    assert prefs.include_genres == {"Horror"}
    assert time.perf_counter() - start < 0.5


def test_preferences_only_recommendations_match_and_respect_exclusions(catalogue):
    """With no list, 'romantic comedy' returns romance titles with a reason naming the request;
    'no romance' never returns a Romance title; gibberish raises instead of popular titles."""
    recommender = Recommender(catalogue)
    by_id = {m["id"]: m for m in catalogue}
    picks = recommender.recommend([], k=5, preferences="romantic comedy")
    assert picks and all("Romance" in by_id[p.media_id]["genres"] for p in picks)
    assert all("Romance" in p.reason for p in picks)
    picks = recommender.recommend([], k=50, preferences="no romance")
    assert picks and all("Romance" not in by_id[p.media_id]["genres"] for p in picks)
    with pytest.raises(PreferencesError):
        recommender.recommend([], k=5, preferences="zzzz")


def test_a_request_nothing_matches_is_an_error_not_popular_titles(catalogue):
    """'horror' is understood but no title in the fixture is Horror: a PreferencesError naming
    the request, rather than unrelated popular titles."""
    with pytest.raises(PreferencesError, match="Horror"):
        Recommender(catalogue).recommend([], k=5, preferences="something scary")
