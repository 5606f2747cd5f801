"""Reasons are public text: no adult title, adult tag or the adult genre outside age-restricted
channels, never a spoiler tag; and they read as sentences."""

from __future__ import annotations

import random

import pytest

from model import AdultPreferencesError, PreferencesError, Recommender

ADULT_TAGS = ("Nudity", "Sex")
PLAIN_TAGS = ("Time Loop", "Space", "School", "Swordplay", "Found Family", "Iyashikei", "Rivalry")
PLAIN_GENRES = ("Action", "Comedy", "Drama", "Romance", "Sci-Fi", "Ecchi", "Mystery")


def tempting_catalogue(n: int = 400, seed: int = 3) -> list[dict]:
    """Titles "Show 000".."Show 399" (none a substring of another); one in six is adult (the
    Hentai genre, adult tags, popular); ecchi titles carry adult tags too; any tag is a spoiler
    for a given title one time in four."""
    rng = random.Random(seed)
    media = []
    for number in range(n):
        adult = number % 6 == 0
        genres = rng.sample(PLAIN_GENRES, 2) + (["Hentai"] if adult else [])
        names = rng.sample(PLAIN_TAGS, 3)
        if adult or "Ecchi" in genres:
            names += list(ADULT_TAGS)
        tags = [
            {
                "name": name,
                "rank": rng.randint(60, 95),
                "isAdult": name in ADULT_TAGS,
                "isMediaSpoiler": rng.random() < 0.25,
            }
            for name in names
        ]
        media.append(
            {
                "id": number + 1,
                "type": "ANIME",
                "format": "TV",
                "title": {"romaji": f"Show {number:03d}"},
                "genres": genres,
                "tags": tags,
                "popularity": rng.randint(1_000, 100_000) * (5 if adult else 1),
                "meanScore": rng.randint(55, 90),
                "isAdult": adult,
                "startDate": {"year": rng.randint(1995, 2024)},
            }
        )
    return media


def tempting_lists(media: list[dict], users: int = 30, seed: int = 4) -> dict[str, list[dict]]:
    """Each user rates a dozen adult titles and a dozen others, the adult ones highest."""
    rng = random.Random(seed)
    adult = [m["id"] for m in media if m["isAdult"]]
    plain = [m["id"] for m in media if not m["isAdult"]]
    lists = {}
    for user in range(users):
        entries = [
            {"mediaId": media_id, "score": rng.randint(9, 10), "status": "COMPLETED"}
            for media_id in rng.sample(adult, 12)
        ]
        entries += [
            {"mediaId": media_id, "score": rng.randint(4, 8), "status": "COMPLETED"}
            for media_id in rng.sample(plain, 12)
        ]
        lists[f"user{user}"] = entries
    return lists


def leaks(media: list[dict], lists: dict, *, allow_adult: bool, warm: bool) -> dict[str, int]:
    """Serve every user 10 picks and count reasons naming each kind of unsafe text."""
    by_id = {m["id"]: m for m in media}
    adult_titles = [m["title"]["romaji"] for m in media if m["isAdult"]]
    recommender = Recommender(media, lists if warm else None)
    counts = {"picks": 0, "adult title": 0, "adult tag": 0, "Hentai": 0, "spoiler tag": 0}
    for entries in lists.values():
        for pick in recommender.recommend(entries, k=10, allow_adult=allow_adult):
            reason = pick.reason
            spoilers = [t["name"] for t in by_id[pick.media_id]["tags"] if t["isMediaSpoiler"]]
            counts["picks"] += 1
            counts["adult title"] += any(title in reason for title in adult_titles)
            counts["adult tag"] += any(tag in reason for tag in ADULT_TAGS)
            counts["Hentai"] += "Hentai" in reason
            counts["spoiler tag"] += any(tag in reason for tag in spoilers)
    return counts


@pytest.mark.parametrize("warm", [False, True])
def test_no_unsafe_text_in_reasons_outside_age_restricted_channels(warm):
    """Over 300 picks for users who love adult titles, with allow_adult=False: no reason names
    an adult title, an adult tag, Hentai or a spoiler tag of the pick. The same users with
    allow_adult=True do get reasons naming adult titles or tags (so the data tempts), and
    still never a spoiler tag."""
    media = tempting_catalogue()
    lists = tempting_lists(media)
    safe = leaks(media, lists, allow_adult=False, warm=warm)
    assert safe["picks"] >= 200
    assert safe == {"picks": safe["picks"], **dict.fromkeys(list(safe)[1:], 0)}
    adult = leaks(media, lists, allow_adult=True, warm=warm)
    assert adult["adult title"] + adult["adult tag"] > 0
    assert adult["spoiler tag"] == 0


def test_spoiler_tags_tempt_the_reason():
    """The spoiler guard is needed: some picks carry, as a spoiler, a tag that the user's own
    liked titles carry openly (the tag a reason would otherwise name)."""
    media = tempting_catalogue()
    lists = tempting_lists(media)
    by_id = {m["id"]: m for m in media}
    recommender = Recommender(media)
    tempted = 0
    for entries in lists.values():
        open_tags = {
            t["name"]
            for e in entries
            if e["score"] >= 8
            for t in by_id[e["mediaId"]]["tags"]
            if not t["isMediaSpoiler"]
        }
        for pick in recommender.recommend(entries, k=10):
            tags = by_id[pick.media_id]["tags"]
            tempted += any(t["isMediaSpoiler"] and t["name"] in open_tags for t in tags)
    assert tempted > 20


def _plain_catalogue() -> list[dict]:
    """60 titles, none adult: even ids Action (tag Space), odd ids Comedy (tag School)."""
    media = tempting_catalogue(60)
    for item in media:
        action = item["id"] % 2 == 0
        item["isAdult"] = False
        item["genres"] = ["Action" if action else "Comedy"]
        item["tags"] = [{"name": "Space" if action else "School", "rank": 90}]
    return media


def test_reasons_are_sentences_that_say_what_the_user_did():
    """'Because you rated X 9/10 and like Y.'; an unscored or low-scored completed title was
    watched; a planned one is never called watched; with no list the fallback is a sentence too."""
    recommender = Recommender(_plain_catalogue())
    cases = {
        (9, "COMPLETED"): "Because you rated Show 001 9/10 and like Action.",
        (0, "COMPLETED"): "Because you watched Show 001 and like Action.",
        # "Because you rated it 4/10" would be a non sequitur.
        (4, "COMPLETED"): "Because you watched Show 001 and like Action.",
        (0, "PLANNING"): "Because you plan to watch Show 001 and like Action.",
        (7, "PLANNING"): "Because you plan to watch Show 001 and like Action.",
    }
    for (score, status), expected in cases.items():
        picks = recommender.recommend([{"mediaId": 2, "score": score, "status": status}], k=10)
        action = [p.reason for p in picks if p.media_id % 2 == 0]
        assert action and set(action) == {expected}
    assert recommender.recommend([], k=1)[0].reason == "Popular and well rated on AniList."


def test_manga_is_read_not_watched():
    """For a MANGA catalogue the reason says 'read' and 'plan to read'."""
    media = _plain_catalogue()
    for item in media:
        item["type"], item["format"] = "MANGA", "MANGA"
    recommender = Recommender(media)
    for status, expected in (("COMPLETED", "you read"), ("PLANNING", "you plan to read")):
        picks = recommender.recommend([{"mediaId": 2, "score": 0, "status": status}], k=10)
        action = [p.reason for p in picks if p.media_id % 2 == 0]
        assert action and all(r.startswith(f"Because {expected} Show 001 ") for r in action)


@pytest.mark.parametrize("text", ["hentai", "explicit", "something adult", "18+", "NSFW please"])
def test_asking_for_adult_titles_outside_age_restricted_channels(text):
    """Without allow_adult an adult request is an AdultPreferencesError (a PreferencesError)
    with one sentence for the user, not 'nothing matching'."""
    recommender = Recommender(tempting_catalogue())
    with pytest.raises(AdultPreferencesError) as error:
        recommender.recommend([], k=5, preferences=text)
    assert isinstance(error.value, PreferencesError)
    assert str(error.value) == "Adult titles are only shown in age-restricted channels."


def test_asking_for_an_adult_tag_outside_age_restricted_channels():
    """An adult tag (AniList's tag isAdult) is an adult request too; excluding it is fine."""
    recommender = Recommender(tempting_catalogue())
    with pytest.raises(AdultPreferencesError):
        recommender.recommend([], k=5, preferences="nudity")
    picks = recommender.recommend([], k=5, preferences="comedy, no nudity")
    assert picks and all("Nudity" not in p.reason for p in picks)


def test_hentai_is_a_genre_request_in_age_restricted_channels():
    """With allow_adult, 'hentai' returns Hentai titles and the reason names the request."""
    media = tempting_catalogue()
    by_id = {m["id"]: m for m in media}
    picks = Recommender(media).recommend([], k=5, preferences="hentai", allow_adult=True)
    assert len(picks) == 5 and all("Hentai" in by_id[p.media_id]["genres"] for p in picks)
    assert all(p.reason == "Because you asked for Hentai." for p in picks)
