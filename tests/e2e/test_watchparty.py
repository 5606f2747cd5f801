"""/watchparty end to end: the real bot, the Discord emulator and the fake AniList."""

from __future__ import annotations

import logging
import random

import pytest

from tests.e2e.test_recommend import all_pages, media_id_of
from tests.fakes.anilist_server import FakeData, FakeUser
from tests.fakes.discord import BOT_ROLE_ID, FLAG_EPHEMERAL, SEND_POLLS, buttons
from tests.fakes.discord import render_message as render

PLANNER = "Planner"
FANS = ("LewdFan", "LewdFanToo")
SEEN = {"CURRENT", "COMPLETED", "PAUSED", "DROPPED", "REPEATING"}

log = logging.getLogger(__name__)


@pytest.fixture(scope="module")
def anilist_data() -> FakeData:
    """The usual data plus a member with half the anime on their PLANNING list (so planned
    titles come up among the picks) and two members who love the same half of the adult titles
    (so a leak of the adult filter would show in an ordinary channel)."""
    data = FakeData.generate(media_per_type=300, seed=5, extra_users=30)
    rng = random.Random(13)
    anime = [m for m in data.media.values() if m["type"] == "ANIME"]
    planner = FakeUser(9100, PLANNER, "POINT_100")
    planner.entries["ANIME"] = []
    for position, media in enumerate(anime[::2]):
        entry = data._make_entry(rng, planner, media["id"], position)
        entry.update(status="PLANNING", score100=0)
        planner.entries["ANIME"].append(entry)
    for position, media in enumerate(anime[1:40:2]):
        entry = data._make_entry(rng, planner, media["id"], 1000 + position)
        entry.update(status="COMPLETED", score100=80)
        planner.entries["ANIME"].append(entry)
    data.users[PLANNER.lower()] = planner
    adult = [m for m in anime if m["isAdult"]]
    plain = [m for m in anime if not m["isAdult"]]
    for number, name in enumerate(FANS):
        fan = FakeUser(9200 + number, name, "POINT_100")
        fan.entries["ANIME"] = []
        chosen = [(m, 100) for m in adult[::2]] + [(m, 20) for m in plain[number:40:2]]
        for position, (media, score) in enumerate(chosen):
            entry = data._make_entry(rng, fan, media["id"], position)
            entry.update(score100=score, status="COMPLETED")
            fan.entries["ANIME"].append(entry)
        data.users[name.lower()] = fan
    return data


async def link(emulator, user: str, username: str) -> None:
    record = await emulator.invoke("link", {"username": username}, user=user)
    reply = await record.wait_message(timeout=20)
    assert reply["content"].startswith("Linked to AniList user"), reply["content"]


async def watchparty(emulator, options: dict, *, user="alice", channel="general") -> dict:
    record = await emulator.invoke("watchparty", options, user=user, channel=channel)
    assert (await record.first_response()).type == 5  # deferred at once, the work follows
    message = await record.wait_message(timeout=30)
    assert message["embeds"], render(message)
    return message


async def refusal(emulator, options: dict, *, user="alice") -> str:
    """The ephemeral sentence a refused /watchparty gets (and no public message is left)."""
    record = await emulator.invoke("watchparty", options, user=user)
    reply = await record.wait_message(lambda m: bool(m["content"]), timeout=30)
    assert reply["flags"] & FLAG_EPHEMERAL, render(reply)
    assert not reply["embeds"]
    assert record.original is None or record.original["flags"] & FLAG_EPHEMERAL
    return reply["content"]


def seen_by(data: FakeData, username: str) -> set[int]:
    return {e["mediaId"] for e in data.user(username).entries["ANIME"] if e["status"] in SEEN}


def field(page: dict, name: str) -> str | None:
    return next((f["value"] for f in page["embeds"][0]["fields"] if f["name"] == name), None)


async def test_three_members_get_picks_none_of_them_has_seen(ready_bot, emulator, anilist_data):
    """Usernames, a member option and the caller's own link make a group of three; every page
    shows each member's predicted score and a reason naming members, and no pick is on any
    member's list under a seen status."""
    await link(emulator, "alice", "Alice")
    await link(emulator, "bob", "Bob")
    message = await watchparty(emulator, {"usernames": "user01", "member1": "bob", "count": 5})
    log.info("the /watchparty message:\n%s", render(message))
    pages = await all_pages(emulator, message)
    assert len(pages) == 5
    shown = [media_id_of(page) for page in pages]
    assert len(set(shown)) == 5
    for username in ("Alice", "Bob", "user01"):
        assert not set(shown) & seen_by(anilist_data, username), username
    for page in pages:
        scores = field(page, "Predicted for each of you")
        assert scores is not None and field(page, "Predicted for you") is None
        assert [line.split(":")[0] for line in scores.splitlines()] == ["user01", "Bob", "Alice"]
        description = page["embeds"][0]["description"]
        assert any(name in description for name in ("user01", "Bob", "Alice")), description
        labels = [b["label"] for b in buttons(page)]
        assert labels[:11] == [str(n) for n in range(11)]
        assert {"◀", "▶", "Start a poll"} <= set(labels)
    assert not message["flags"] & FLAG_EPHEMERAL


async def test_planning_titles_are_welcome_and_the_embed_says_whose(
    ready_bot, emulator, anilist_data
):
    """A title on a member's PLANNING list may be picked, and its page names that member."""
    planning = {
        e["mediaId"]
        for e in anilist_data.user(PLANNER).entries["ANIME"]
        if e["status"] == "PLANNING"
    }
    message = await watchparty(emulator, {"usernames": f"{PLANNER}, Alice", "count": 10})
    pages = await all_pages(emulator, message)
    planned_pages = [p for p in pages if media_id_of(p) in planning]
    assert planned_pages, "with half the catalogue planned, some pick should be a planned one"
    for page in pages:
        note = field(page, "Already planned by")
        if media_id_of(page) in planning:
            assert note is not None and PLANNER in note, render(page)
        else:
            assert note is None, render(page)
    for username in (PLANNER, "Alice"):
        assert not {media_id_of(p) for p in pages} & seen_by(anilist_data, username)


async def test_a_title_rated_with_the_buttons_is_never_picked_again(ready_bot, emulator):
    """Rating a watch-party pick marks it seen for the rater: the next party leaves it out."""
    await link(emulator, "alice", "Alice")
    first = await watchparty(emulator, {"usernames": "user02", "count": 10})
    rated = []
    for _ in range(10):  # rate each page's title, then turn the page
        page = emulator.get_message(first["id"])
        rated.append(media_id_of(page))
        click = await emulator.click(page, f"anime8:rate:{rated[-1]}:7", user="alice")
        assert (await click.wait_message())["content"].startswith("Saved: 7/10")
        forward = next(b for b in buttons(page) if b["label"] == "▶")
        await (await emulator.click(page, forward["custom_id"], user="alice")).first_response()
    assert len(set(rated)) == 10
    second = await watchparty(emulator, {"usernames": "user02", "count": 10})
    again = {media_id_of(page) for page in await all_pages(emulator, second)}
    assert again and not again & set(rated)


@pytest.mark.parametrize(
    ("options", "user", "expected"),
    [
        ({}, "alice", "at least two people"),
        ({"usernames": "Alice"}, "alice", "at least two people, and I have only Alice"),
        ({"usernames": "Alice NobodyHere"}, "alice", "no AniList user called NobodyHere"),
        ({"usernames": "Alice, Secretive"}, "alice", "Secretive's AniList list is private"),
        ({"usernames": "Alice", "member1": "bob"}, "alice", "Bob hasn't linked an AniList"),
        ({"usernames": "Alice user01 no!pe"}, "alice", "“no!pe” isn't an AniList username"),
        ({"usernames": " ".join(f"user{n:02d}" for n in range(1, 10))}, "bob", "at most 8"),
    ],
)
async def test_refusals_name_who_is_missing(ready_bot, emulator, options, user, expected):
    """Too few people, unknown, private or unlinked members, and malformed usernames each get
    one ephemeral sentence that names who."""
    assert expected in await refusal(emulator, options, user=user)


async def test_poll_button_posts_a_poll_of_the_picks(ready_bot, emulator):
    """The asker's "Start a poll" posts a 24-hour discord.Poll whose answers are the picks."""
    message = await watchparty(emulator, {"usernames": "Alice user03", "count": 4})
    titles = [page["embeds"][0]["title"] for page in await all_pages(emulator, message)]
    poll_id = next(b["custom_id"] for b in buttons(message) if b["label"] == "Start a poll")
    click = await emulator.click(message, poll_id, user="alice")
    posted = await click.wait_message(lambda m: bool(m.get("poll")), timeout=10)
    log.info("the poll it posted:\n%s", render(posted))
    poll = posted["poll"]
    assert poll["question"]["text"] == "What should we watch together?"
    assert [a["poll_media"]["text"] for a in poll["answers"]] == titles
    assert not posted["flags"] & FLAG_EPHEMERAL
    assert click.first_response_latency < 3


async def test_only_the_asker_may_start_the_poll(ready_bot, emulator):
    """Anyone else pressing "Start a poll" gets an ephemeral note and no poll is posted."""
    message = await watchparty(emulator, {"usernames": "Alice user04", "count": 3})
    poll_id = next(b["custom_id"] for b in buttons(message) if b["label"] == "Start a poll")
    click = await emulator.click(message, poll_id, user="bob")
    note = await click.wait_message()
    assert note["flags"] & FLAG_EPHEMERAL and "Only the person who asked" in note["content"]
    assert not any(m.get("poll") for m in emulator.messages)


async def test_without_send_polls_the_answer_is_polite(ready_bot, emulator):
    """Where the bot lacks Send Polls, the button says so (ephemeral) instead of failing."""
    message = await watchparty(emulator, {"usernames": "Alice user05", "count": 3})
    role = emulator.roles[BOT_ROLE_ID]
    role["permissions"] = str(int(role["permissions"]) & ~SEND_POLLS)
    poll_id = next(b["custom_id"] for b in buttons(message) if b["label"] == "Start a poll")
    click = await emulator.click(message, poll_id, user="alice")
    note = await click.wait_message()
    assert note["flags"] & FLAG_EPHEMERAL and "Send Polls" in note["content"]
    assert not any(m.get("poll") for m in emulator.messages)
    assert emulator.client_errors == []  # refused before asking Discord for the poll


async def test_buttons_work_after_a_restart(ready_bot, harness, emulator):
    """Page and poll buttons of a watch party shown before a restart still work after it."""
    message = await watchparty(emulator, {"usernames": "Alice user06", "count": 2})
    await harness.restart()
    forward = next(b for b in buttons(message) if b["label"] == "▶")
    page = await emulator.click(message, forward["custom_id"], user="alice")
    assert (await page.first_response()).type == 7
    turned = emulator.get_message(message["id"])
    assert field(turned, "Predicted for each of you") is not None
    poll_id = next(b["custom_id"] for b in buttons(turned) if b["label"] == "Start a poll")
    click = await emulator.click(turned, poll_id, user="alice")
    assert (await click.wait_message(lambda m: bool(m.get("poll")), timeout=10))["poll"]


async def test_adult_titles_only_in_age_restricted_channels(ready_bot, emulator, anilist_data):
    """Two members who love adult titles: an nsfw channel may show some, an ordinary channel
    none (each asker is someone else, so nothing is hidden as recently shown)."""
    adult = set(anilist_data.ids("ANIME", adult=True))
    options = {"usernames": " ".join(FANS), "count": 10}
    nsfw = await watchparty(emulator, options, user="alice", channel="nsfw")
    in_nsfw = {media_id_of(p) for p in await all_pages(emulator, nsfw, user="alice")}
    assert in_nsfw & adult, "these members' picks must include adult titles where allowed"
    general = await watchparty(emulator, options, user="bob", channel="general")
    in_general = {media_id_of(p) for p in await all_pages(emulator, general, user="bob")}
    assert in_general and not in_general & adult


async def test_manga_parties_and_the_type_choices(ready_bot, emulator, anilist_data):
    """type:MANGA picks manga; Discord shows the choices as Anime and Manga, count 1-10."""
    command = emulator.find_command("watchparty", channel=emulator.general, user=emulator.alice)
    options = {o["name"]: o for o in command["options"]}
    assert [c["name"] for c in options["type"]["choices"]] == ["Anime", "Manga"]
    assert (options["count"]["min_value"], options["count"]["max_value"]) == (1, 10)
    assert [o["name"] for o in command["options"]][1:6] == [f"member{n}" for n in range(1, 6)]
    message = await watchparty(emulator, {"usernames": "Alice user07", "type": "MANGA"})
    manga = set(anilist_data.ids("MANGA"))
    assert {media_id_of(p) for p in await all_pages(emulator, message)} <= manga
