"""/profile and the user context menus end to end: the real bot, the Discord emulator and the
fake AniList."""

from __future__ import annotations

import io
import logging
import random

import aiohttp
import pytest
from PIL import Image

from tests.e2e.test_recommend import all_pages, media_id_of
from tests.e2e.test_watchparty import link
from tests.fakes.anilist_server import FakeData, FakeUser
from tests.fakes.discord import FLAG_EPHEMERAL, buttons
from tests.fakes.discord import render_message as render

log = logging.getLogger(__name__)

SHARED = 30  # titles the twins and the opposite all scored
WATCHED = {"CURRENT", "COMPLETED", "PAUSED", "DROPPED", "REPEATING"}


@pytest.fixture(scope="module")
def anilist_data() -> FakeData:
    """The usual data plus people whose taste is known by construction:

    - Twin and TwinToo score the same SHARED titles identically, adult titles among the best;
    - Opposite scores them 11 minus Twin's score;
    - MechaFan scores every Mecha title 10 and everything else 5.
    """
    data = FakeData.generate(media_per_type=300, seed=5, extra_users=30)
    rng = random.Random(21)
    anime = [m for m in data.media.values() if m["type"] == "ANIME"]
    adult = [m for m in anime if m["isAdult"]][:3]
    plain = [m for m in anime if not m["isAdult"]][: SHARED - len(adult)]
    # Adult titles get the top scores, so "agree most" names them unless they are hidden.
    scored = [(m, 10) for m in adult] + [(m, 1 + i % 9) for i, m in enumerate(plain)]

    def add(number: int, name: str, chosen: list[tuple[dict, int]]) -> None:
        user = FakeUser(9300 + number, name, "POINT_100")
        user.entries["ANIME"] = []
        for position, (media, score) in enumerate(chosen):
            entry = data._make_entry(rng, user, media["id"], position)
            entry.update(score100=score * 10, status="COMPLETED")
            user.entries["ANIME"].append(entry)
        data.users[name.lower()] = user

    add(0, "Twin", scored)
    add(1, "TwinToo", scored)
    add(2, "Opposite", [(m, 11 - s) for m, s in scored])
    add(3, "MechaFan", [(m, 10 if "Mecha" in m["genres"] else 5) for m in anime[:150]])
    return data


def expected_percent(r: float, n: int) -> int:
    """The documented formula: 50 + 50 * r * n / (n + 10)."""
    return round(50 + 50 * r * n / (n + 10))


async def menu(emulator, name: str, target: str, *, user="alice", channel="general") -> dict:
    """The ephemeral answer to a user context menu."""
    record = await emulator.invoke_user_command(name, target, user=user, channel=channel)
    assert (await record.first_response()).type == 5  # deferred, ephemerally
    message = await record.wait_message(lambda m: bool(m["content"] or m["embeds"]), timeout=30)
    assert message["flags"] & FLAG_EPHEMERAL, render(message)
    return message


async def test_context_menus_are_synced_as_user_commands(bot, emulator):
    """Discord receives two USER context menus (type 2) with their names, and /profile."""
    synced = emulator.global_commands
    menus = sorted(c["name"] for c in synced if c["type"] == 2)
    assert menus == ["Recommend for them", "Taste match"]
    assert all(not c.get("options") and not c.get("description") for c in synced if c["type"] == 2)
    profile = next(c for c in synced if c["name"] == "profile")
    assert profile["type"] == 1 and [o["name"] for o in profile["options"]] == ["username", "type"]


async def test_recommend_for_them_shows_the_members_picks_to_the_caller_only(
    ready_bot, emulator, anilist_data
):
    await link(emulator, "bob", "Alice")
    message = await menu(emulator, "Recommend for them", "bob")
    log.info("recommend for them:\n%s", render(message))
    assert "Only you can see this" in message["content"] and "**Alice**" in message["content"]
    pages = await all_pages(emulator, message)
    seen = {e["mediaId"] for e in anilist_data.user("Alice").entries["ANIME"]}
    picks = [media_id_of(page) for page in pages]
    assert len(picks) == 5 and not set(picks) & seen
    for page in pages:
        embed = page["embeds"][0]
        assert embed["fields"][0]["name"] == "Predicted for Bob"
        # The reasons speak of the member, not to the caller.
        assert " you " not in f" {embed['description']} ", embed["description"]
    assert [b["label"] for b in buttons(message)][:11] == [str(n) for n in range(11)]
    # Bob never saw these picks, so his /recommend history is untouched.
    assert await ready_bot.db.recently_recommended(emulator.bob.id, "ANIME") == set()


async def test_menus_refuse_a_member_without_a_link(ready_bot, emulator):
    for name in ("Recommend for them", "Taste match"):
        if name == "Taste match":
            await link(emulator, "alice", "Twin")
        message = await menu(emulator, name, "bob")
        assert not message["embeds"]
        assert message["content"] == (
            "Bob hasn't linked an AniList account, so I don't know their taste; they can link "
            "one with /link."
        )


async def test_taste_match_of_twins_and_opposites(ready_bot, emulator):
    """Identical scores agree (r = 1), mirrored scores disagree (r = -1), each shrunk by the
    number of shared titles; agreed and disagreed titles are named, adult ones only in NSFW."""
    await link(emulator, "alice", "Twin")
    await link(emulator, "bob", "TwinToo")
    message = await menu(emulator, "Taste match", "bob")
    log.info("taste match:\n%s", render(message))
    embed = message["embeds"][0]
    assert embed["title"] == f"You and Bob: {expected_percent(1.0, SHARED)}% taste match"
    assert f"the {SHARED} titles you both rated correlate at +1.00" in embed["description"]
    fields = {f["name"]: f["value"] for f in embed["fields"]}
    assert list(fields) == ["You agree most on"]  # nothing a point apart
    agreed = fields["You agree most on"].splitlines()
    assert len(agreed) == 3 and all(line.endswith("you 9, them 9") for line in agreed)

    nsfw = (await menu(emulator, "Taste match", "bob", channel="nsfw"))["embeds"][0]
    adult_lines = nsfw["fields"][0]["value"].splitlines()
    assert all(line.endswith("you 10, them 10") for line in adult_lines)

    await link(emulator, "bob", "Opposite")
    opposite = (await menu(emulator, "Taste match", "bob"))["embeds"][0]
    assert opposite["title"] == f"You and Bob: {expected_percent(-1.0, SHARED)}% taste match"
    fields = {f["name"]: f["value"] for f in opposite["fields"]}
    apart = fields["You disagree most on"].splitlines()
    # The furthest apart in the ordinary channel: 9 vs 2 and 1 vs 10 are 7 and 9 points.
    assert len(apart) == 3 and all("you 1, them 10" in a or "you 9, them 2" in a for a in apart)
    assert not set(apart) & set(fields["You agree most on"].splitlines())


async def test_taste_match_refusals(ready_bot, emulator):
    message = await menu(emulator, "Taste match", "bob")
    assert message["content"].startswith("Link your AniList account with /link first")
    await link(emulator, "alice", "Twin")
    assert (await menu(emulator, "Taste match", "alice"))["content"].startswith("That's you!")
    await link(emulator, "bob", "HalfHidden")
    private = await menu(emulator, "Taste match", "bob")
    assert (
        private["content"] == "HalfHidden's AniList profile or list is private, so I can't read it."
    )


async def picture_of(emulator, message: dict) -> Image.Image:
    attachment = message["attachments"][0]
    async with aiohttp.ClientSession() as session, session.get(attachment["url"]) as response:
        data = await response.read()
    assert len(data) == attachment["size"]
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


async def test_profile_posts_a_picture_and_the_strongest_tastes(ready_bot, emulator, anilist_data):
    record = await emulator.invoke("profile", {"username": "MechaFan"}, user="alice")
    assert (await record.first_response()).type == 5
    message = await record.wait_message(lambda m: bool(m["embeds"]), timeout=30)
    log.info("profile:\n%s", render(message))
    assert not message["flags"] & FLAG_EPHEMERAL  # asked for, so public
    embed = message["embeds"][0]
    assert embed["title"] == "MechaFan's anime taste"
    # The embed shows the uploaded picture, which is a PNG a phone can show.
    attachment = message["attachments"][0]
    assert attachment["filename"] == "profile.png" and attachment["content_type"] == "image/png"
    assert embed["image"]["url"] == attachment["url"]
    assert 10_000 < attachment["size"] < 1_000_000
    image = await picture_of(emulator, message)
    assert image.format == "PNG" and image.size == (1200, 900)
    # Mecha is the only thing that lifts the scores, by construction.
    assert embed["description"].startswith("**Strongest tastes:** Mecha (+")
    fan = anilist_data.user("MechaFan").entries["ANIME"]
    watched = len({e["mediaId"] for e in fan if e["status"] in WATCHED})
    share = f"They have seen **{watched:,}** of the 300 most popular anime in my catalogue"
    assert share in embed["description"]


@pytest.mark.parametrize(
    ("options", "user", "expected"),
    [
        ({}, "bob", "Tell me whose taste to picture"),
        ({"username": "NobodyHere"}, "alice", "There is no AniList user called NobodyHere."),
        ({"username": "Secretive"}, "alice", "Secretive's AniList profile or list is private"),
    ],
)
async def test_profile_refusals(ready_bot, emulator, options, user, expected):
    record = await emulator.invoke("profile", options, user=user)
    reply = await record.wait_message(lambda m: bool(m["content"]), timeout=30)
    assert reply["flags"] & FLAG_EPHEMERAL and not reply["attachments"], render(reply)
    assert reply["content"].startswith(expected), reply["content"]
    # No public message is left behind.
    assert record.original is None or record.original["flags"] & FLAG_EPHEMERAL
