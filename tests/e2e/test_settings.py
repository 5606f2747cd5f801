"""/settings end to end: the selects, what they change in /recommend, AniList's preference,
forged choices, restarts and /forget."""

from __future__ import annotations

import logging

import pytest

from tests.e2e.test_recommend import all_pages, media_id_of, recommend
from tests.fakes.anilist_server import Fault
from tests.fakes.discord import FLAG_EPHEMERAL, buttons, render_message, selects

log = logging.getLogger(__name__)

TITLES, TYPE, SPOILERS = (
    "anime8:settings:titles",
    "anime8:settings:type",
    "anime8:settings:spoilers",
)


async def open_settings(emulator, user: str = "alice") -> dict:
    record = await emulator.invoke("settings", user=user)
    message = await record.wait_message(timeout=20)
    assert message["flags"] & FLAG_EPHEMERAL, render_message(message)
    return message


def chosen(message: dict) -> dict[str, str]:
    """The value each select shows as chosen, by custom_id."""
    return {
        select["custom_id"]: next(o["value"] for o in select["options"] if o["default"])
        for select in selects(message)
    }


async def choose(emulator, message: dict, custom_id: str, value: str, user: str = "alice") -> dict:
    """Pick `value` in one select; returns the settings message as the bot redrew it."""
    click = await emulator.click(message, custom_id, values=[value], user=user)
    assert (await click.first_response()).type == 7  # the same message, redrawn
    return emulator.get_message(message["id"])


def title_as(anilist_data, media_id: int, language: str) -> str:
    title = anilist_data.media[media_id]["title"]
    return title[language] or title["romaji"]


async def test_settings_open_change_and_are_stored(ready_bot, emulator):
    """/settings answers ephemerally with three selects showing the current values; a choice
    redraws the message with it and is stored, in memory and in SQLite."""
    message = await open_settings(emulator)
    log.info("the /settings message:\n%s", render_message(message))
    assert chosen(message) == {TITLES: "ANILIST", TYPE: "ANIME", SPOILERS: "SHOW"}
    assert "no linked account" in message["content"]
    redrawn = await choose(emulator, message, TITLES, "ENGLISH")
    assert chosen(redrawn)[TITLES] == "ENGLISH" and "Titles: in English" in redrawn["content"]
    redrawn = await choose(emulator, redrawn, SPOILERS, "HIDE")
    assert "Spoiler tags in tag lists: left out" in redrawn["content"]
    member = ready_bot.member_settings.get(emulator.alice.id)
    assert (member.title_language, member.spoiler_tags) == ("ENGLISH", False)
    async with ready_bot.db.reader.execute(
        "SELECT title_language, default_type, spoiler_tags FROM member_settings"
        " WHERE discord_user_id = ?",
        (emulator.alice.id,),
    ) as cur:
        assert tuple(await cur.fetchone()) == ("ENGLISH", "ANIME", 0)
    assert ready_bot.member_settings.get(emulator.bob.id).title_language == "ANILIST"


@pytest.mark.parametrize("values", [["KLINGON"], ["ROMAJI", "ENGLISH"], []])
async def test_a_forged_choice_is_refused_politely(ready_bot, emulator, values):
    """A value no select offers (or more than one, or none) gets an ephemeral refusal and
    changes nothing; the settings message stays as it was."""
    message = await open_settings(emulator)
    click = await emulator.click(message, TITLES, values=values, forged=True)
    reply = await click.wait_message(lambda m: m["id"] != message["id"])
    assert reply["flags"] & FLAG_EPHEMERAL
    assert reply["content"] == "That isn't one of the choices; nothing was changed."
    assert emulator.get_message(message["id"])["content"] == message["content"]
    async with ready_bot.db.reader.execute("SELECT COUNT(*) FROM member_settings") as cur:
        assert (await cur.fetchone())[0] == 0


async def test_a_forged_menu_is_refused_politely(ready_bot, emulator):
    """A select id of ours naming no setting is refused in a sentence, not dropped silently."""
    message = await open_settings(emulator)
    stored = emulator._messages[int(message["id"])].payload
    stored["components"][0]["components"][0]["custom_id"] = "anime8:settings:volume"
    click = await emulator.click(message, "anime8:settings:volume", values=["ROMAJI"])
    reply = await click.wait_message()
    assert "isn't one of mine" in reply["content"] and reply["flags"] & FLAG_EPHEMERAL


async def test_title_language_changes_what_the_next_recommend_shows(
    ready_bot, harness, emulator, anilist_data
):
    """Romaji titles by default; after choosing English, the next /recommend's pages, its page
    turns (after a restart too) and its rating receipts show English titles."""
    before = await recommend(emulator, {"username": "Alice", "count": 5})
    for page in await all_pages(emulator, before):
        media_id = media_id_of(page)
        assert page["embeds"][0]["title"] == title_as(anilist_data, media_id, "romaji")
    await choose(emulator, await open_settings(emulator), TITLES, "ENGLISH")
    after = await recommend(emulator, {"username": "Alice", "count": 5})
    pages = await all_pages(emulator, after)
    english = [title_as(anilist_data, media_id_of(p), "english") for p in pages]
    assert [p["embeds"][0]["title"] for p in pages] == english
    assert any(title.endswith("(EN)") for title in english)  # not romaji by another name
    await harness.restart()
    current = emulator.get_message(after["id"])
    forward = next(b for b in buttons(current) if b["label"] == "▶")
    turn = await emulator.click(current, forward["custom_id"], user="alice")
    await turn.first_response()
    page = emulator.get_message(after["id"])
    assert page["embeds"][0]["title"] == title_as(anilist_data, media_id_of(page), "english")
    rate = await emulator.click(page, f"anime8:rate:{media_id_of(page)}:8", user="alice")
    receipt = await rate.wait_message()
    assert receipt["content"] == f"Saved: 8/10 for {page['embeds'][0]['title']}"


async def test_default_type_is_used_when_recommend_gives_none(ready_bot, emulator, anilist_data):
    """With Manga as the default type, /recommend without `type` recommends manga; an explicit
    type still wins."""
    await choose(emulator, await open_settings(emulator), TYPE, "MANGA")
    manga = await recommend(emulator, {"username": "Alice", "count": 2})
    assert media_id_of(manga) in set(anilist_data.ids("MANGA"))
    anime = await recommend(emulator, {"username": "Alice", "type": "ANIME", "count": 2})
    assert media_id_of(anime) in set(anilist_data.ids("ANIME"))


async def test_spoiler_tags_can_be_left_out(ready_bot, emulator, anilist_data):
    """With spoiler tags left out, no page's tag list names a tag that spoils its title."""
    await choose(emulator, await open_settings(emulator), SPOILERS, "HIDE")
    pages = await all_pages(emulator, await recommend(emulator, {"username": "Alice", "count": 8}))
    spoiling = 0
    for page in pages:
        spoilers = {
            t["name"] for t in anilist_data.media[media_id_of(page)]["tags"] if t["isMediaSpoiler"]
        }
        spoiling += bool(spoilers)
        tags = next(f["value"] for f in page["embeds"][0]["fields"] if f["name"] == "Top tags")
        assert "||" not in tags and not spoilers & set(tags.split(", ")), render_message(page)
    assert spoiling, "no pick had a spoiler tag: the test would prove nothing"


async def test_anilist_preference_follows_the_linked_account(ready_bot, emulator, anilist_data):
    """By default titles follow the linked account's AniList title language: Bob reads titles
    in English on AniList, so after /link Bob, /recommend shows English titles."""
    record = await emulator.invoke("link", {"username": "Bob"}, user="bob")
    await record.wait_message()
    message = await open_settings(emulator, user="bob")
    assert "AniList's preference: English, as **Bob** has it on AniList" in message["content"]
    shown = await recommend(emulator, {"count": 3}, user="bob")
    expected = title_as(anilist_data, media_id_of(shown), "english")
    assert shown["embeds"][0]["title"] == expected


async def test_anilist_down_leaves_romaji_until_it_answers(ready_bot, emulator, anilist):
    """A link made before the bot read title languages: /settings asks AniList; while AniList
    is down the titles stay romaji and the selects still work, and once it answers the
    preference is learnt."""
    await ready_bot.db.link_account(emulator.bob.id, "Bob")  # as an older Anime8 left it
    anilist.script(Fault.disabled())
    message = await open_settings(emulator, user="bob")
    assert "romaji until I can read **Bob**'s" in message["content"]
    assert ready_bot.member_settings.get(emulator.bob.id).display_language == "ROMAJI"
    redrawn = await choose(emulator, message, TYPE, "MANGA", user="bob")
    assert chosen(redrawn)[TYPE] == "MANGA"
    again = await open_settings(emulator, user="bob")
    assert "English, as **Bob** has it" in again["content"]
    assert ready_bot.member_settings.get(emulator.bob.id).display_language == "ENGLISH"


async def test_selects_keep_working_after_a_restart(ready_bot, harness, emulator, anilist_data):
    """A settings message shown before a restart still takes choices after it, and the next
    /recommend shows titles as chosen there (every title has a native one)."""
    message = await open_settings(emulator)
    bot = await harness.restart()
    redrawn = await choose(emulator, message, TITLES, "NATIVE")
    assert chosen(redrawn)[TITLES] == "NATIVE"
    assert bot.member_settings.get(emulator.alice.id).display_language == "NATIVE"
    # Until the fitted state is loaded again /recommend says it is warming up (tested apart).
    await bot.recommendations.models.wait_idle()
    shown = await recommend(emulator, {"username": "Alice", "count": 1})
    native = anilist_data.media[media_id_of(shown)]["title"]["native"]
    assert shown["embeds"][0]["title"] == native


async def test_forget_removes_the_settings(ready_bot, emulator):
    """/forget deletes the caller's settings with the rest, and says so; others keep theirs."""
    await choose(emulator, await open_settings(emulator), TYPE, "MANGA")
    await choose(emulator, await open_settings(emulator, user="bob"), TYPE, "MANGA", user="bob")
    prompt = await (await emulator.invoke("forget", user="alice")).wait_message()
    assert "/settings" in prompt["content"]
    confirm = await emulator.click(prompt, buttons(prompt)[0]["custom_id"], user="alice")
    await confirm.first_response()
    assert "your /settings" in emulator.get_message(prompt["id"])["content"]
    assert ready_bot.member_settings.get(emulator.alice.id).default_type == "ANIME"
    assert ready_bot.member_settings.get(emulator.bob.id).default_type == "MANGA"
    async with ready_bot.db.reader.execute("SELECT discord_user_id FROM member_settings") as cur:
        assert [row[0] async for row in cur] == [emulator.bob.id]
    assert chosen(await open_settings(emulator))[TYPE] == "ANIME"


async def test_watchparty_follows_the_askers_settings(ready_bot, emulator, anilist_data):
    """/watchparty without `type` uses the asker's default type, and its pages and poll show
    titles in the asker's language."""
    message = await open_settings(emulator)
    message = await choose(emulator, message, TYPE, "MANGA")
    await choose(emulator, message, TITLES, "NATIVE")
    record = await emulator.invoke("watchparty", {"usernames": "Alice user01", "count": 2})
    party = await record.wait_message(timeout=30)
    assert media_id_of(party) in set(anilist_data.ids("MANGA")), render_message(party)
    pages = await all_pages(emulator, party)
    natives = [anilist_data.media[media_id_of(p)]["title"]["native"] for p in pages]
    assert [p["embeds"][0]["title"] for p in pages] == natives
    poll_id = next(b["custom_id"] for b in buttons(party) if b["label"] == "Start a poll")
    click = await emulator.click(party, poll_id, user="alice")
    posted = await click.wait_message(lambda m: bool(m.get("poll")), timeout=10)
    assert posted["poll"]["question"]["text"] == "What should we read together?"
    assert [a["poll_media"]["text"] for a in posted["poll"]["answers"]] == natives
