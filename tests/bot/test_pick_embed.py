"""The pick embed's public text: what it names depends on whether the channel is age-restricted,
and its titles and spoiler tags on the requester's /settings."""

from __future__ import annotations

from cogs.ui.pick_embed import pick_embed

MEDIA = {
    "id": 7,
    "type": "ANIME",
    "title": {"userPreferred": "Seven", "romaji": "Seven", "english": "The Seventh"},
    "genres": ["Romance", "Hentai"],
    "tags": [
        {"name": "Sex", "rank": 90, "isAdult": True, "isMediaSpoiler": False},
        {"name": "Twist Ending", "rank": 80, "isAdult": False, "isMediaSpoiler": True},
        {"name": "School", "rank": 70, "isAdult": False, "isMediaSpoiler": False},
    ],
    "isAdult": False,  # AniList's flags do not always agree with the genre
}


def fields(allow_adult: bool) -> dict[str, str]:
    embed = pick_embed(MEDIA, 8.0, "", 0, 1, allow_adult=allow_adult)
    return {field.name: field.value for field in embed.fields}


def test_ordinary_channel_names_no_adult_genre_or_tag_and_hides_spoilers():
    """Outside age-restricted channels: no Hentai genre, no adult tag, spoilers as ||tag||."""
    shown = fields(allow_adult=False)
    assert shown["Genres"] == "Romance"
    assert shown["Top tags"] == "||Twist Ending||, School"


def test_age_restricted_channel_names_them_but_still_hides_spoilers():
    """In an age-restricted channel the adult genre and tags show; spoilers stay hidden."""
    shown = fields(allow_adult=True)
    assert shown["Genres"] == "Romance, Hentai"
    assert shown["Top tags"] == "Sex, ||Twist Ending||, School"


def test_spoiler_tags_can_be_left_out():
    """With spoiler tags switched off in /settings, the tag list names no spoiler tag at all."""
    embed = pick_embed(MEDIA, 8.0, "", 0, 1, allow_adult=False, spoiler_tags=False)
    assert {f.name: f.value for f in embed.fields}["Top tags"] == "School"


def test_titles_follow_the_language_with_the_other_title_above():
    """The title is in the requester's language; above it stands the English title, or the
    romaji one when the title is already English."""
    romaji = pick_embed(MEDIA, 8.0, "", 0, 1, allow_adult=False)
    english = pick_embed(MEDIA, 8.0, "", 0, 1, allow_adult=False, language="ENGLISH")
    assert (romaji.title, romaji.author.name) == ("Seven", "The Seventh")
    assert (english.title, english.author.name) == ("The Seventh", "Seven")
