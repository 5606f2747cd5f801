"""Button clicks and select choices: Views editing their message, DynamicItems surviving a bot
restart, and the component rules Discord enforces."""

from __future__ import annotations

import re

import discord
import pytest
from discord.http import handle_message_parameters

from tests.fakes.discord import GENERAL_CHANNEL_ID, buttons, render_message, selects


class Counter(discord.ui.View):
    def __init__(self) -> None:
        super().__init__(timeout=30)
        self.count = 0

    @discord.ui.button(label="+1", custom_id="counter:inc", style=discord.ButtonStyle.primary)
    async def increment(self, interaction: discord.Interaction, button: discord.ui.Button) -> None:
        self.count += 1
        await interaction.response.edit_message(content=f"count={self.count}", view=self)


async def test_view_button_edits_message(emulator, bot_factory, run_bot):
    """Clicking a View's button sends a type-3 interaction with the stored message; the
    callback's type-7 response edits that same message in place."""
    bot = bot_factory()

    @bot.tree.command(name="counter", description="A counter")
    async def counter(interaction: discord.Interaction) -> None:
        await interaction.response.send_message("count=0", view=Counter())

    async with run_bot(bot):
        await bot.tree.sync()
        message = await (await emulator.invoke("counter")).wait_message()
        assert buttons(message)[0]["label"] == "+1"
        first = await emulator.click(message, "counter:inc", user="bob")
        await first.wait_message(lambda m: m["content"] == "count=1")
        second = await emulator.click(message, "counter:inc")
        edited = await second.wait_message(lambda m: m["content"] == "count=2")

    assert [r.type for r in first.responses] == [7]
    assert edited["id"] == message["id"] and edited["edited_timestamp"]
    assert len(emulator.messages) == 1


class Recommend(discord.ui.DynamicItem[discord.ui.Button], template=r"rec:(?P<anime_id>\d+)"):
    """Stateless button: everything it needs is in its custom_id, so it works after restart."""

    def __init__(self, anime_id: int) -> None:
        super().__init__(discord.ui.Button(label="More like this", custom_id=f"rec:{anime_id}"))
        self.anime_id = anime_id

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Button, match: re.Match[str], /
    ) -> Recommend:
        return cls(int(match["anime_id"]))

    async def callback(self, interaction: discord.Interaction) -> None:
        await interaction.response.send_message(f"similar to {self.anime_id}", ephemeral=True)


def recommend_bot(bot_factory):
    bot = bot_factory()

    @bot.tree.command(name="anime", description="Show an anime")
    async def anime(interaction: discord.Interaction) -> None:
        view = discord.ui.View(timeout=None)
        view.add_item(Recommend(154587))
        embed = discord.Embed(
            title="Frieren", url="https://anilist.co/anime/154587", colour=0x3DB4F2
        )
        embed.add_field(name="Score", value="91", inline=True)
        embed.set_footer(text="Data from AniList")
        await interaction.response.send_message(embed=embed, view=view)

    async def setup_hook() -> None:
        bot.add_dynamic_items(Recommend)

    bot.setup_hook = setup_hook
    return bot


async def test_dynamic_item_click_survives_restart(emulator, bot_factory, run_bot):
    """A DynamicItem fires from the custom_id in the clicked message's components, so a brand
    new bot instance handles a click on a message the previous instance sent."""
    async with run_bot(recommend_bot(bot_factory)) as first_bot:
        await first_bot.tree.sync()
        message = await (await emulator.invoke("anime")).wait_message()

    async with run_bot(recommend_bot(bot_factory)):
        click = await emulator.click(message, "rec:154587", user="bob")
        reply = await click.wait_message()

    assert reply["content"] == "similar to 154587" and click.ephemeral
    assert emulator.identify_count == 2
    dump = render_message(message)
    assert "title: Frieren" in dump and "[More like this]<rec:154587>" in dump
    assert "colour: #3db4f2" in dump and "footer: Data from AniList" in dump


class Flavour(discord.ui.View):
    def __init__(self) -> None:
        super().__init__(timeout=30)

    @discord.ui.select(
        custom_id="flavour",
        placeholder="Pick a flavour",
        options=[
            discord.SelectOption(label="Sweet", value="sweet"),
            discord.SelectOption(label="Sour", value="sour", default=True),
        ],
    )
    async def pick(self, interaction: discord.Interaction, select: discord.ui.Select) -> None:
        await interaction.response.edit_message(content=f"chose {select.values}", view=self)


async def test_string_select_sends_the_chosen_values(emulator, bot_factory, run_bot):
    """A choice in a string select arrives as component_type 3 with its values; the type-7
    answer edits the message. The driver refuses what the Discord client cannot pick (a value
    not offered, too few or too many); forged=True sends it anyway, as a modified client can."""
    bot = bot_factory()

    @bot.tree.command(name="flavour", description="Pick a flavour")
    async def flavour(interaction: discord.Interaction) -> None:
        await interaction.response.send_message("pick one", view=Flavour())

    async with run_bot(bot):
        await bot.tree.sync()
        message = await (await emulator.invoke("flavour")).wait_message()
        shown = selects(message)[0]
        assert [(o["value"], o["default"]) for o in shown["options"]] == [
            ("sweet", False),
            ("sour", True),
        ]
        assert "<select flavour: Pick a flavour [Sweet, *Sour*]>" in render_message(message)
        click = await emulator.click(message, "flavour", values=["sweet"])
        await click.wait_message(lambda m: m["content"] == "chose ['sweet']")
        for values in (["bitter"], [], ["sweet", "sour"], ["sweet", "sweet"]):
            with pytest.raises(ValueError):
                await emulator.click(message, "flavour", values=values)
        forged = await emulator.click(message, "flavour", values=["bitter"], forged=True)
        await forged.wait_message(lambda m: m["content"] == "chose ['bitter']")

    assert click.payload["data"] == {
        "custom_id": "flavour",
        "component_type": 3,
        "values": ["sweet"],
    }
    assert [r.type for r in click.responses] == [7]


def _select(custom_id: str = "s", options: int = 2, **extra: object) -> dict:
    return {
        "type": 3,
        "custom_id": custom_id,
        "options": [{"label": f"L{i}", "value": f"v{i}"} for i in range(options)],
        **extra,
    }


def _row(*components: dict) -> dict:
    return {"type": 1, "components": list(components)}


BUTTON = {"type": 2, "style": 2, "label": "b", "custom_id": "b"}


@pytest.mark.parametrize(
    ("components", "problem"),
    [
        ([_row(_select(options=26))], "options"),
        ([_row(_select(options=0))], "options"),
        ([_row(_select(), BUTTON)], "alone in its action row"),
        ([_row(_select()), _row(_select())], "cannot be duplicated"),
        ([_row(_select(options=2, max_values=3))], "max_values"),
        ([_row(_select(min_values=2, max_values=1))], "max_values"),
        ([_row(_select(placeholder="p" * 151))], "placeholder"),
        ([_row(_select(options=1) | {"options": [{"label": "x" * 101, "value": "v"}]})], "label"),
        ([_row(_select() | {"options": [{"label": "a", "value": "v"}] * 2})], "unique"),
        ([_row(_select(f"s{i}")) for i in range(6)], "components"),
        ([_select()], "action rows"),
    ],
)
async def test_components_discord_refuses_are_refused(
    emulator, bot_factory, run_bot, components, problem
):
    """Select menus break Discord's rules in these ways (options, texts, bounds, rows, ids):
    the message is refused with 50035 Invalid Form Body and the rule it broke."""
    async with run_bot(bot_factory()) as bot:
        params = handle_message_parameters(content="menu")
        params.payload["components"] = components
        with pytest.raises(discord.HTTPException) as refused:
            await bot.http.send_message(GENERAL_CHANNEL_ID, params=params)
        params.payload["components"] = [_row(_select(max_values=2, placeholder="p" * 150))]
        await bot.http.send_message(GENERAL_CHANNEL_ID, params=params)  # within the rules
    assert refused.value.code == 50035
    assert problem in str(emulator.client_errors[-1]["errors"])
    assert len(emulator.channel_messages("general")) == 1
