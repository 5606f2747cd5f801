"""Button clicks: Views editing their message, and DynamicItems surviving a bot restart."""

from __future__ import annotations

import re

import discord

from tests.fakes.discord import buttons, render_message


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
