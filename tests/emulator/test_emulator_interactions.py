"""Less common interaction paths: subcommands, autocomplete, modals, raw payloads, channels."""

from __future__ import annotations

import discord
from discord import app_commands

from tests.fakes.discord import GENERAL_CHANNEL_ID, render_message


async def test_subcommand_autocomplete_and_modal(emulator, bot_factory, run_bot):
    """ "group sub" names reach a subcommand; autocomplete gets the typed text and its type-8
    choices are recorded; a type-9 modal can be submitted and its values reach on_submit."""
    bot = bot_factory()
    group = app_commands.Group(name="list", description="Your list")

    class Note(discord.ui.Modal, title="Add a note"):
        note = discord.ui.TextInput(label="Note", custom_id="note")

        async def on_submit(self, interaction: discord.Interaction) -> None:
            await interaction.response.send_message(f"noted: {self.note.value}", ephemeral=True)

    @group.command(name="add", description="Add a title")
    async def add(interaction: discord.Interaction, title: str) -> None:
        await interaction.response.send_modal(Note())

    @add.autocomplete("title")
    async def titles(interaction: discord.Interaction, current: str):
        names = ["Frieren", "Fruits Basket", "Monster"]
        return [app_commands.Choice(name=n, value=n) for n in names if n.startswith(current)]

    bot.tree.add_command(group)
    async with run_bot(bot):
        await bot.tree.sync()
        suggestions = await emulator.autocomplete("list add", {"title": "Fr"}, focused="title")
        choices = (await suggestions.first_response()).data["choices"]
        command = await emulator.invoke("list add", {"title": "Frieren"})
        modal = await command.first_response()
        submitted = await emulator.submit_modal(command, {"note": "rewatch"})
        reply = await submitted.wait_message()

    assert [c["value"] for c in choices] == ["Frieren", "Fruits Basket"]
    assert modal.name == "MODAL" and modal.data["title"] == "Add a note"
    assert reply["content"] == "noted: rewatch" and submitted.ephemeral


async def test_unknown_command_is_not_answered_and_bot_survives(emulator, bot_factory, run_bot):
    """invoke_raw dispatches data as given: an unknown command gets no response, and the bot
    keeps serving the next interaction (its gateway task did not die)."""
    bot = bot_factory()

    @bot.tree.command(name="ping", description="Pong")
    async def ping(interaction: discord.Interaction) -> None:
        await interaction.response.send_message("pong")

    async with run_bot(bot):
        await bot.tree.sync()
        ghost = await emulator.invoke_raw({"id": "1", "name": "ghost", "type": 1})
        after = await emulator.invoke("ping")
        await after.wait_message()
    assert ghost.responses == [] and after.responses[0].type == 4


async def test_channel_messages_are_sent_edited_and_fetched(emulator, bot_factory, run_bot):
    """POST/PATCH/GET /channels/{id}/messages keep the bot's plain channel messages."""
    async with run_bot(bot_factory()) as bot:
        channel = bot.get_channel(GENERAL_CHANNEL_ID)
        sent = await channel.send("daily pick", embed=discord.Embed(title="Monster"))
        await sent.edit(content="daily pick (updated)")
        fetched = await channel.fetch_message(sent.id)
    assert fetched.content == "daily pick (updated)" and fetched.embeds[0].title == "Monster"
    stored = emulator.channel_messages("general")
    assert [m["content"] for m in stored] == ["daily pick (updated)"]
    assert stored[0]["author"]["bot"] is True


async def test_discord_limits_reject_oversized_messages(emulator, bot_factory, run_bot):
    """Content over 2000 characters or an embed description over 4096 is rejected with
    Discord's 50035 Invalid Form Body, as production would."""
    bot = bot_factory()
    codes: list[int] = []

    @bot.tree.command(name="long", description="Too long")
    async def long(interaction: discord.Interaction) -> None:
        await interaction.response.defer()
        for kwargs in ({"content": "x" * 2001}, {"embed": discord.Embed(description="y" * 4097)}):
            try:
                await interaction.followup.send(**kwargs)
            except discord.HTTPException as exc:
                codes.append(exc.code)
        await interaction.followup.send("fits")

    async with run_bot(bot):
        await bot.tree.sync()
        record = await emulator.invoke("long")
        reply = await record.wait_message(lambda m: m["content"] == "fits")
    assert codes == [50035, 50035]
    assert "embeds.0.description" in emulator.client_errors[1]["errors"]
    assert render_message(reply).splitlines()[1] == "content: fits"


async def test_autocomplete_choices_over_discords_limits_are_refused(
    emulator, bot_factory, run_bot
):
    """Discord refuses more than 25 choices, and a choice whose name is over 100 characters or
    whose value is; the emulator answers 400 and the interaction shows no suggestions."""
    bot = bot_factory()

    @bot.tree.command(name="pick", description="Pick a title")
    async def pick(interaction: discord.Interaction, title: str) -> None:
        await interaction.response.send_message(title)

    @pick.autocomplete("title")
    async def titles(interaction: discord.Interaction, current: str):
        if current == "name":
            return [app_commands.Choice(name="x" * 101, value="x")]
        if current == "value":
            return [app_commands.Choice(name="x", value="x" * 101)]
        return [app_commands.Choice(name="x" * 100, value="y" * 100)]

    async with run_bot(bot):
        await bot.tree.sync()
        records = [
            await emulator.autocomplete("pick", {"title": typed}, focused="title")
            for typed in ("name", "value", "fits")
        ]
        for record in records[:2]:
            await emulator.wait_for(
                lambda e, r=record: (
                    e.kind == "client_error" and f"/interactions/{r.id}/" in e.data["path"]
                )
            )
        await records[2].first_response()

    assert "data.choices.0.name" in str(records[0].rejected[0])
    assert "data.choices.0.value" in str(records[1].rejected[0])
    assert not records[0].responses and not records[1].responses
    assert len(records[2].responses[0].data["choices"][0]["name"]) == 100
