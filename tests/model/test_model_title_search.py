"""Finding a title by what someone types: names, case, accents, typos, unfinished words."""

from __future__ import annotations

import pytest

from model.catalogue import build_catalogue
from model.title_search import MAX_LABEL, TitleIndex, choice_name, normalise
from tests.model.conftest import make_media


def titled(media_id: int, romaji: str, **extra) -> dict:
    english = extra.pop("english", None)
    native = extra.pop("native", None)
    media = make_media(media_id, romaji, "mecha", **extra)
    media["title"] = {"romaji": romaji, "english": english, "native": native}
    return media


@pytest.fixture
def catalogue():
    return build_catalogue(
        [
            titled(1, "Shingeki no Kyojin", english="Attack on Titan", native="進撃の巨人"),
            titled(2, "Naruto", popularity=900_000),
            titled(3, "Naruto: Shippuuden", popularity=800_000),
            titled(4, "Steins;Gate", synonyms=["Shutainzu Gēto", "SG"]),
            titled(5, "Pokémon", english="Pokémon"),
            titled(6, "Kuro no Hentai", isAdult=True, popularity=10**7),
            titled(7, "A" * 150, format="MOVIE", startDate={"year": 1999}),
        ]
    )


@pytest.fixture
def index(catalogue):
    return TitleIndex.build(catalogue)


def first_id(catalogue, index, text: str, **options) -> int | None:
    found = index.search(text, **options)
    return catalogue.ids[found[0].row] if found else None


def test_normalise_drops_case_accents_and_punctuation():
    assert normalise("  Pokémon: ＦＩＲＥ!  Red ") == "pokemon fire red"
    assert normalise("Steins;Gate") == "steins gate"


@pytest.mark.parametrize(
    ("typed", "media_id"),
    [
        ("Shingeki no Kyojin", 1),
        ("attack on titan", 1),  # English
        ("進撃の巨人", 1),  # native
        ("shutainzu geto", 4),  # a synonym, typed without its accent
        ("POKEMON", 5),  # case and accent
        ("pokémon", 5),
        ("naruto", 2),  # the exact name before the longer one
        ("naruto shipp", 3),  # the last word is unfinished
        ("naruot", 2),  # a swapped letter
        ("steins gaet", 4),
        ("steinsgate", 4),  # punctuation left out
        ("attack on", 1),  # the start only
    ],
)
def test_a_title_is_found_by_what_people_type(catalogue, index, typed, media_id):
    assert first_id(catalogue, index, typed) == media_id


def test_nothing_matches_gibberish_or_a_lone_shared_letter(catalogue, index):
    assert index.search("zzqx vvbw") == []
    assert index.search("nz") == []


def test_adult_titles_are_found_only_when_allowed(catalogue, index):
    assert first_id(catalogue, index, "kuro no hentai") != 6
    assert first_id(catalogue, index, "kuro no hentai", allow_adult=True) == 6
    assert 6 not in {catalogue.ids[m.row] for m in index.search("", limit=10)}


def test_an_empty_query_gives_the_most_popular_titles_and_limit_holds(catalogue, index):
    found = index.search("", limit=2)
    assert [catalogue.ids[m.row] for m in found] == [2, 3]
    assert len(index.search("a", limit=1)) <= 1


def test_one_match_per_title(catalogue, index):
    rows = [m.row for m in index.search("pokemon")]
    assert len(rows) == len(set(rows))


def test_choice_names_fit_discord_and_keep_their_details(catalogue, index):
    long_match = index.search("a" * 150)[0]
    name = choice_name(index, long_match, catalogue, "anime")
    assert len(name) <= MAX_LABEL and name.endswith("(Movie 1999, anime)")
    # The display title is the English one; a match on the romaji leads with the romaji.
    romaji = index.search("shingeki")[0]
    assert choice_name(index, romaji, catalogue) == "Shingeki no Kyojin — Attack on Titan (TV 2001)"
    english = index.search("attack on titan")[0]
    assert choice_name(index, english, catalogue) == "Attack on Titan (TV 2001)"
