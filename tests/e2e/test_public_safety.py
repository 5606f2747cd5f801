"""What a public recommendation may show: adult titles and tags only in age-restricted
channels, spoiler tags only behind Discord's spoiler marks."""

from __future__ import annotations

import random

import pytest

from tests.e2e.test_recommend import all_pages, media_id_of
from tests.fakes.anilist_server import FakeData, FakeUser
from tests.fakes.discord import FLAG_EPHEMERAL, buttons

FAN = "LewdFan"


@pytest.fixture(scope="module")
def anilist_data() -> FakeData:
    """The usual data plus a user whose taste strongly favours adult titles and adult tags,
    so that any leak of the adult filter shows in an ordinary channel."""
    data = FakeData.generate(media_per_type=300, seed=5, extra_users=30)
    nudity = next(t for m in data.media.values() for t in m["tags"] if t["name"] == "Nudity")
    for media in data.media.values():
        # Half the titles carry an adult tag at the top of their tags, so a leak would show.
        media["tags"] = [t for t in media["tags"] if not t["isAdult"]]
        if media["id"] % 2 == 0:
            media["tags"].insert(0, {**nudity, "rank": 99, "isMediaSpoiler": False})
    rng = random.Random(11)
    anime = [m for m in data.media.values() if m["type"] == "ANIME"]
    adult = [m for m in anime if m["isAdult"]]
    adult_tagged = [m for m in anime if not m["isAdult"] and any(t["isAdult"] for t in m["tags"])]
    loved = adult[::2] + adult_tagged[::2]
    disliked = [m for m in anime if m not in adult and m not in adult_tagged][:20]
    fan = FakeUser(9000, FAN, "POINT_100")
    fan.entries["ANIME"] = []
    for position, (media, score) in enumerate(
        [(m, 100) for m in loved] + [(m, 20) for m in disliked]
    ):
        entry = data._make_entry(rng, fan, media["id"], position)
        entry.update(score100=score, status="COMPLETED")
        fan.entries["ANIME"].append(entry)
    data.users[FAN.lower()] = fan
    return data


def adult_tag_names(data: FakeData) -> set[str]:
    return {t["name"] for m in data.media.values() for t in m["tags"] if t["isAdult"]}


async def pages_for(emulator, *, user, channel: str, install: str = "guild") -> list[dict]:
    record = await emulator.invoke(
        "recommend", {"username": FAN, "count": 10}, user=user, channel=channel, install=install
    )
    message = await record.wait_message(timeout=20)
    return await all_pages(emulator, message, user=user)


def public_text(page: dict) -> str:
    """Everything the embed's own fields say (the reason, in the description, is the model's)."""
    embed = page["embeds"][0]
    parts = [embed.get("title", ""), (embed.get("author") or {}).get("name", "")]
    parts += [f"{f['name']}: {f['value']}" for f in embed.get("fields", [])]
    return "\n".join(parts)


async def test_adult_titles_only_in_age_restricted_channels(ready_bot, emulator, anilist_data):
    """For a user who loves adult titles, an nsfw channel shows some; an ordinary channel, a
    DM, and through a user install even an age-restricted channel of a server without the bot
    (where the bot cannot check it) show none. Each asker is a different person, so history
    hides nothing."""
    adult = set(anilist_data.ids("ANIME", adult=True))
    nsfw = {media_id_of(p) for p in await pages_for(emulator, user="alice", channel="nsfw")}
    assert nsfw & adult, "this user's picks must include adult titles where they are allowed"
    places = [("bob", "general", "guild"), ("owner", "dm", "guild")]
    places.append((emulator.add_user("carol"), "elsewhere-nsfw", "user"))
    for user, channel, install in places:
        pages = await pages_for(emulator, user=user, channel=channel, install=install)
        shown = {media_id_of(p) for p in pages}
        assert len(shown) == 10 and not shown & adult, channel


async def test_public_embeds_hide_adult_tags_and_spoilers(ready_bot, emulator, anilist_data):
    """In an ordinary channel no embed field names an adult tag or the Hentai genre, and a
    spoiler tag appears only as ||tag||; an nsfw channel may name adult tags."""
    adult_tags = adult_tag_names(anilist_data)
    pages = await pages_for(emulator, user="bob", channel="general")
    for page in pages:
        text = public_text(page)
        assert "Hentai" not in text
        assert not {name for name in adult_tags if name in text}, text
        media = anilist_data.media[media_id_of(page)]
        for tag in media["tags"]:
            if tag["isMediaSpoiler"]:
                assert tag["name"] not in text.replace(f"||{tag['name']}||", ""), text
    spoilers = [p for p in pages if "||" in public_text(p)]
    assert spoilers, "the fixture must put a spoiler tag among the top tags of some pick"
    nsfw = await pages_for(emulator, user="alice", channel="nsfw")
    assert any(name in public_text(p) for p in nsfw for name in adult_tags)


async def test_page_buttons_keep_the_channel_rules(ready_bot, emulator, anilist_data):
    """A page shown by ▶ follows the same rules as the first page (it is rendered again)."""
    adult_tags = adult_tag_names(anilist_data)
    pages = await pages_for(emulator, user="bob", channel="general")
    assert len(pages) == 10 and all(buttons(p) for p in pages)
    assert not any(name in public_text(p) for p in pages[1:] for name in adult_tags)


def adult_title_names(data: FakeData) -> set[str]:
    return {
        name
        for m in data.media.values()
        if m["isAdult"]
        for name in (m["title"].get("romaji"), m["title"].get("english"))
        if name
    }


async def test_public_reasons_name_nothing_adult_or_spoiling(ready_bot, emulator, anilist_data):
    """The reason under each pick is public too: in an ordinary channel it names no adult
    title from the user's list, no adult tag, no Hentai and no spoiler tag; in an nsfw channel
    the same user's reasons do name adult titles (so the check can fail)."""
    adult_titles = adult_title_names(anilist_data)
    banned = adult_tag_names(anilist_data) | {"Hentai"}
    spoilers = {t["name"] for m in anilist_data.media.values() for t in m["tags"]}
    spoilers -= {
        t["name"] for m in anilist_data.media.values() for t in m["tags"] if not t["isMediaSpoiler"]
    }
    for user, channel in (("bob", "general"), ("owner", "dm")):
        for page in await pages_for(emulator, user=user, channel=channel):
            reason = page["embeds"][0]["description"]
            assert not {n for n in adult_titles | banned | spoilers if n in reason}, reason
    nsfw = await pages_for(emulator, user="alice", channel="nsfw")
    reasons = " ".join(p["embeds"][0]["description"] for p in nsfw)
    assert any(name in reasons for name in adult_titles | banned), reasons


@pytest.mark.parametrize(
    ("channel", "words"), [("general", "hentai"), ("dm", "something explicit")]
)
async def test_asking_for_adult_titles_outside_nsfw_channels_is_answered_plainly(
    ready_bot, emulator, channel, words
):
    """'hentai' or 'explicit' in an ordinary channel or a DM gets the sentence that such
    titles are shown only in age-restricted channels; an nsfw channel shows them."""
    record = await emulator.invoke("recommend", {"preferences": words}, channel=channel)
    reply = await record.wait_message(timeout=20)
    assert reply["flags"] & FLAG_EPHEMERAL
    assert reply["content"] == "Adult titles are only shown in age-restricted channels."
    nsfw = await emulator.invoke("recommend", {"preferences": words}, user="bob", channel="nsfw")
    assert (await nsfw.wait_message(timeout=20))["embeds"]
