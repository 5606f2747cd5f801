"""/similar end to end: the real bot, the Discord emulator and the fake AniList."""

from __future__ import annotations

import logging

from tests.e2e.test_recommend import all_pages, media_id_of
from tests.e2e.test_settings import TITLES, choose, open_settings, title_as
from tests.e2e.test_watchparty import field, link
from tests.fakes.anilist_server import FakeData, Fault
from tests.fakes.discord import FLAG_EPHEMERAL, buttons
from tests.fakes.discord import render_message as render

log = logging.getLogger(__name__)
AUTOCOMPLETE_RESULT = 8


def franchise_of(data: FakeData, media_id: int) -> set[int]:
    """Every anime linked to ``media_id`` by sequel/prequel chains (the fake's only franchise
    relations), itself included."""
    found, todo = {media_id}, [media_id]
    while todo:
        for kind, other in data.media[todo.pop()]["_relations"]:
            if kind in ("SEQUEL", "PREQUEL") and other not in found:
                found.add(other)
                todo.append(other)
    return found


def seed_with_sequel(data: FakeData) -> int:
    """A non-adult anime whose franchise holds other non-adult anime."""
    return next(
        m["id"]
        for m in sorted(data.media.values(), key=lambda m: m["id"])
        if m["type"] == "ANIME"
        and not m["isAdult"]
        and any(not data.media[o]["isAdult"] for o in franchise_of(data, m["id"]) - {m["id"]})
    )


async def suggestions(emulator, options: dict, *, channel: str = "general") -> list[dict]:
    record = await emulator.autocomplete("similar", options, focused="title", channel=channel)
    response = await record.first_response()
    assert response.type == AUTOCOMPLETE_RESULT and not record.rejected
    return response.data["choices"]


async def similar(emulator, options: dict, *, user="alice", channel="general") -> dict:
    record = await emulator.invoke("similar", options, user=user, channel=channel)
    assert (await record.first_response()).type == 5  # deferred at once, the work follows
    message = await record.wait_message(lambda m: bool(m["embeds"]), timeout=30)
    log.info("the message as Discord would render it:\n%s", render(message))
    return message


async def refusal(emulator, options: dict, *, channel: str = "general") -> str:
    """The ephemeral sentence a refused /similar gets, with nothing public left behind."""
    record = await emulator.invoke("similar", options, channel=channel)
    reply = await record.wait_message(lambda m: bool(m["content"]), timeout=30)
    assert reply["flags"] & FLAG_EPHEMERAL and not reply["embeds"], render(reply)
    assert record.original is None or record.original["flags"] & FLAG_EPHEMERAL
    return reply["content"]


async def test_autocomplete_finds_titles_by_any_name_within_discords_limits(
    ready_bot, emulator, anilist_data
):
    """Case, a typo, an unfinished word, a synonym typed without its accent: the title comes
    first; at most 25 choices, names of at most 100 characters, values "id:<media id>"."""
    for typed in ("ANIME TITLE 12", "anime titel 12", "Anime Title 12 (E", "serie numero 12"):
        choices = await suggestions(emulator, {"title": typed, "type": "ANIME"})
        assert choices and choices[0]["value"] == "id:12", (typed, choices[:3])
    # Without a type both catalogues are searched and each choice says which it is from.
    choices = await suggestions(emulator, {"title": "serie numero 12"})
    assert {c["value"] for c in choices[:2]} == {"id:12", "id:100012"}
    assert any(c["name"].endswith("manga)") for c in choices[:2])
    for typed in ("", "a", "title", "x" * 100):
        choices = await suggestions(emulator, {"title": typed})
        assert len(choices) <= 25
        assert all(1 <= len(c["name"]) <= 100 and len(c["value"]) <= 100 for c in choices)
    assert len(await suggestions(emulator, {"title": ""})) == 25


async def test_autocomplete_suggests_adult_titles_only_in_age_restricted_channels(
    ready_bot, emulator, anilist_data
):
    adult = anilist_data.ids("ANIME", adult=True)[0]
    typed = {"title": anilist_data.media[adult]["title"]["romaji"], "type": "ANIME"}
    values = {c["value"] for c in await suggestions(emulator, typed)}
    assert f"id:{adult}" not in values
    adult_ids = {f"id:{m}" for m in anilist_data.ids("ANIME", adult=True)}
    assert not values & adult_ids
    nsfw = await suggestions(emulator, typed, channel="nsfw")
    assert nsfw[0]["value"] == f"id:{adult}"


async def test_similar_shows_pages_leaving_out_the_title_and_grouping_its_franchise(
    ready_bot, emulator, anilist_data
):
    """Picks are pages with rating and page buttons; never the title or its franchise, which
    the first page lists in one line; no prediction without a list."""
    seed = seed_with_sequel(anilist_data)
    franchise = franchise_of(anilist_data, seed)
    message = await similar(emulator, {"title": f"id:{seed}", "count": 5})
    embed = message["embeds"][0]
    assert embed["footer"]["text"] == "1 / 5"
    assert embed["description"].startswith(f"Like Anime Title {seed}")
    assert field(message, "Predicted for you") is None
    others = {
        anilist_data.media[m]["title"]["userPreferred"]
        for m in franchise - {seed}
        if not anilist_data.media[m]["isAdult"]
    }
    assert set(field(message, "Same franchise").split(", ")) == others
    labels = [b["label"] for b in buttons(message)]
    assert labels[:11] == [str(n) for n in range(11)] and {"◀", "▶"} <= set(labels)
    pages = await all_pages(emulator, message)
    shown = [media_id_of(page) for page in pages]
    assert len(set(shown)) == 5 and not set(shown) & franchise
    assert not {m for m in shown if anilist_data.media[m]["isAdult"]}
    assert all(field(page, "Same franchise") is None for page in pages[1:])
    click = await emulator.click(pages[-1], f"anime8:rate:{shown[-1]}:7", user="alice")
    assert (await click.wait_message())["content"].startswith("Saved: 7/10")


async def test_typed_text_finds_the_best_match_and_a_linked_list_is_left_out(
    ready_bot, emulator, anilist_data
):
    """Text sent without picking a suggestion is searched; with a link, nothing on the
    caller's AniList list is picked, and each page predicts the caller's rating."""
    await link(emulator, "alice", "Alice")
    message = await similar(emulator, {"title": "anime title 12", "type": "ANIME", "count": 10})
    assert message["embeds"][0]["description"].startswith("Like Anime Title 12")
    pages = await all_pages(emulator, message)
    shown = {media_id_of(page) for page in pages}
    on_list = {e["mediaId"] for e in anilist_data.user("Alice").entries["ANIME"]}
    assert shown and not shown & on_list and 12 not in shown
    assert all(field(page, "Predicted for you") for page in pages)


async def test_refusals_are_ephemeral_sentences(ready_bot, emulator, anilist_data):
    """A title nothing matches, a forged choice value and an adult title in an ordinary
    channel are refused; the adult title works in an age-restricted one."""
    assert "I don't know a title matching" in await refusal(emulator, {"title": "zzqx vvbw"})
    assert "I don't know a title" in await refusal(emulator, {"title": "id:999999999"})
    adult = anilist_data.ids("ANIME", adult=True)[0]
    assert "for adults" in await refusal(emulator, {"title": f"id:{adult}"})
    assert "for adults" in await refusal(emulator, {"title": f"id:{adult}"}, channel="dm")
    message = await similar(emulator, {"title": f"id:{adult}", "count": 2}, channel="nsfw")
    assert message["embeds"][0]["description"].startswith(f"Like Anime Title {adult}")


async def test_a_linked_list_that_cannot_be_read_still_gives_picks_and_a_private_note(
    ready_bot, emulator, anilist
):
    """AniList switched off while the linked list is fetched: the picks come, and only the
    caller is told their list could not be left out."""
    await link(emulator, "alice", "Alice")
    anilist.script(Fault.disabled())
    record = await emulator.invoke("similar", {"title": "id:12", "count": 3})
    note = await record.wait_message(lambda m: "couldn't read your linked" in m["content"])
    assert note["flags"] & FLAG_EPHEMERAL
    public = await record.wait_message(lambda m: bool(m["embeds"]))
    assert not public["flags"] & FLAG_EPHEMERAL
    assert field(public, "Predicted for you") is None


async def test_before_any_catalogue_it_says_so_and_suggests_nothing(bot, emulator):
    """A first start without a catalogue: an ephemeral sentence, no suggestions."""
    await bot.recommendations.models.wait_idle()
    assert await suggestions(emulator, {"title": "anime"}) == []
    assert "titles to recommend from yet" in await refusal(emulator, {"title": "anime"})


async def test_suggestions_and_picks_work_after_a_restart(ready_bot, harness, emulator):
    """The fitted state a restart serves carries the titles' names: suggestions at once."""
    await harness.restart()
    await harness.bot.recommendations.models.wait_idle()
    choices = await suggestions(emulator, {"title": "anime title 12", "type": "ANIME"})
    assert choices[0]["value"] == "id:12"
    message = await similar(emulator, {"title": choices[0]["value"], "count": 2})
    assert message["embeds"][0]["footer"]["text"] == "1 / 2"


async def test_similar_pages_follow_the_title_language_in_settings(
    ready_bot, emulator, anilist_data
):
    """After choosing English in /settings, /similar's pages show English titles."""
    await choose(emulator, await open_settings(emulator), TITLES, "ENGLISH")
    seed = seed_with_sequel(anilist_data)
    message = await similar(emulator, {"title": f"id:{seed}", "count": 3})
    pages = await all_pages(emulator, message)
    english = [title_as(anilist_data, media_id_of(p), "english") for p in pages]
    assert [p["embeds"][0]["title"] for p in pages] == english
