"""/link, /unlink, /forget and /autotrain end to end."""

from __future__ import annotations

import dataclasses
import random
import shutil
import sys
import time

import pytest

from bot.services import recommendations
from tests.fakes.discord import (
    ADMIN_ROLE_ID,
    ALICE_ID,
    BOB_ID,
    FLAG_EPHEMERAL,
    OWNER_ID,
    buttons,
)
from tests.support.jobs import never_ending_job


async def test_link_then_recommend_without_username_then_unlink(ready_bot, emulator):
    """/link checks the user exists and stores AniList's spelling; /recommend then uses it."""
    record = await emulator.invoke("link", {"username": "alice"}, user="bob")
    reply = await record.wait_message()
    assert "**Alice**" in reply["content"] and reply["flags"] & FLAG_EPHEMERAL
    assert await ready_bot.db.linked_username(emulator.bob.id) == "Alice"
    rec = await emulator.invoke("recommend", {"count": 1}, user="bob")
    assert (await rec.wait_message(timeout=20))["embeds"]
    unlink = await emulator.invoke("unlink", user="bob")
    assert "unlinked" in (await unlink.wait_message())["content"]
    assert await ready_bot.db.linked_username(emulator.bob.id) is None


async def test_link_unknown_user_is_refused(ready_bot, emulator):
    """An AniList user that does not exist is not linked."""
    record = await emulator.invoke("link", {"username": "NobodyHere"}, user="bob")
    reply = await record.wait_message(lambda m: bool(m["content"]))
    assert "no anilist user" in reply["content"].lower() and reply["flags"] & FLAG_EPHEMERAL
    assert await ready_bot.db.linked_username(emulator.bob.id) is None


async def test_forget_after_confirm_deletes_everything_of_the_caller(ready_bot, emulator):
    """/forget asks first; the confirm button deletes the caller's rows and says how many."""
    await (await emulator.invoke("link", {"username": "Alice"}, user="alice")).wait_message()
    rec = await emulator.invoke("recommend", {"count": 2}, user="alice")
    message = await rec.wait_message(timeout=20)
    media_id = int(buttons(message)[0]["custom_id"].split(":")[2])
    for user in ("alice", "bob"):
        click = await emulator.click(message, f"anime8:rate:{media_id}:7", user=user)
        await click.wait_message()
    ask = await emulator.invoke("forget", user="alice")
    prompt = await ask.wait_message()
    assert prompt["flags"] & FLAG_EPHEMERAL
    assert await ready_bot.db.ratings_of(emulator.alice.id, "ANIME")  # nothing gone yet
    confirm = buttons(prompt)[0]
    stranger = await emulator.click(prompt, confirm["custom_id"], user="bob")
    assert "someone else" in (await stranger.wait_message())["content"]
    click = await emulator.click(prompt, confirm["custom_id"], user="alice")
    await click.first_response()
    done = emulator.get_message(prompt["id"])["content"]
    assert done.startswith("Done: deleted ") and "1 rating," in done
    assert await ready_bot.db.ratings_of(emulator.alice.id, "ANIME") == {}
    assert await ready_bot.db.linked_username(emulator.alice.id) is None
    assert await ready_bot.db.recently_recommended(emulator.alice.id, "ANIME") == set()
    assert await ready_bot.db.ratings_of(emulator.bob.id, "ANIME") == {media_id: 7}


async def test_autotrain_is_refused_to_non_owners(ready_bot, emulator):
    """A server admin who is not an owner sees /autotrain but is refused; no training runs."""
    emulator.member_roles[BOB_ID] = [ADMIN_ROLE_ID]
    record = await emulator.invoke("autotrain", user="bob")
    reply = await record.wait_message()
    assert "owners" in reply["content"] and reply["flags"] & FLAG_EPHEMERAL
    assert ready_bot.recommendations.models.model_version("ANIME") == 0


async def store_taste_groups(bot, users: int = 60, groups: int = 3, per_group: int = 40) -> None:
    """Lists with a taste a net can learn: each user rates titles of their own group highly.
    (The fake AniList's users pick titles at random, which no model can learn from.)"""
    rng = random.Random(4)
    catalogue = [m["id"] for m in await bot.media_store.catalogue("ANIME")]
    clusters = [catalogue[g * per_group : (g + 1) * per_group] for g in range(groups)]
    for number in range(users):
        chosen = rng.sample(clusters[number % groups], 20)
        entries = [
            {"mediaId": media_id, "status": "COMPLETED", "score": float(rng.randint(8, 10))}
            for media_id in chosen
        ]
        await bot.media_store.save_user_list(
            f"taste{number:02d}", "ANIME", entries, [], time.time()
        )


async def test_autotrain_is_hidden_from_ordinary_members_and_dms(bot, emulator):
    """The synced /autotrain needs Manage Server by default and exists in servers only, so it
    is not in an ordinary member's command list nor in DMs; other commands are."""
    synced = {c["name"]: c for c in emulator.global_commands}
    autotrain = synced["autotrain"]
    assert int(autotrain["default_member_permissions"]) == 1 << 5  # Manage Server
    assert autotrain["contexts"] == [0] and autotrain.get("dm_permission") is False
    assert synced["recommend"]["default_member_permissions"] is None
    with pytest.raises(LookupError, match="lacks permissions"):
        emulator.find_command("autotrain", channel=emulator.general, user=emulator.alice)
    with pytest.raises(LookupError):
        channel = emulator.dm_channel(emulator.owner)
        emulator.find_command("autotrain", channel=channel, user=emulator.owner)
    emulator.find_command("autotrain", channel=emulator.general, user=emulator.owner)


@pytest.mark.parametrize(
    ("members", "owners"),
    [
        # role, membership_state (1 invited, 2 accepted)
        (
            {OWNER_ID: ("admin", 2), ALICE_ID: ("developer", 2), BOB_ID: ("read_only", 2)},
            {OWNER_ID, ALICE_ID},
        ),
        ({OWNER_ID: ("admin", 2), ALICE_ID: ("developer", 1), BOB_ID: ("admin", 1)}, {OWNER_ID}),
    ],
)
async def test_team_owners_are_accepted_admins_and_developers(harness, emulator, members, owners):
    """Of a team-owned application, read-only members and pending invitees are not owners:
    they are refused /autotrain like anyone else."""
    emulator.team_owned = True
    emulator.team_members = members
    for user_id in members:
        emulator.member_roles[user_id] = [ADMIN_ROLE_ID]  # all may see the command
    bot = await harness.start()
    assert bot.owner_ids == owners
    async with bot.recommendations._training:  # an owner is told a run is going, not refused
        for name in ("owner", "alice", "bob"):
            record = await emulator.invoke("autotrain", user=name)
            reply = (await record.wait_message())["content"]
            user_id = emulator.users[name].id
            assert ("already" in reply) == (user_id in owners), (name, reply)
            assert ("owners" in reply) == (user_id not in owners), (name, reply)


async def test_autotrain_by_owner_reports_progress_and_swaps_model(
    ready_bot, emulator, harness, monkeypatch
):
    """On lists with a learnable taste the owner sees progress (epoch and loss), then samples,
    loss, metric before/after, time and version; a restart serves the new checkpoint."""
    # discord.py loads cogs outside the package namespace; reach the loaded module itself.
    monkeypatch.setattr(sys.modules["cogs.admin"], "PROGRESS_EVERY_S", 0.01)
    await store_taste_groups(ready_bot)
    record = await emulator.invoke("autotrain", user="owner")
    final = await record.wait_message(lambda m: "Trained a new" in m["content"], timeout=120)
    assert final["flags"] & FLAG_EPHEMERAL
    assert "loss" in final["content"] and "NDCG@10" in final["content"]
    assert "Now serving model version 1" in final["content"], final["content"]
    shown = [e.data["content"] for e in emulator.events_of("message_update")]
    assert any(c.startswith("Training ANIME: epoch") and "loss" in c for c in shown), shown
    assert ready_bot.recommendations.models.model_version("ANIME") == 1
    assert ready_bot.recommendations.models.serving_model("ANIME").trained
    assert list((harness.data_dir / "models").glob("anime-v1.pt"))
    # A restart serves the trained checkpoint.
    bot = await harness.restart()
    await bot.recommendations.models.wait_idle()
    assert bot.recommendations.models.model_version("ANIME") == 1


async def test_autotrain_on_four_lists_reports_figures_and_keeps_a_net_that_is_not_better(
    ready_bot, emulator, harness
):
    """Four AniList lists and one rating: a loss and before/after figures, never an error id.
    The fake's lists are random, so the new net ranks no better and is not installed."""
    for name in ("Alice", "Bob", "user01", "user02"):
        await ready_bot.user_lists.get_list(name, "ANIME")
    message = await emulator.invoke("recommend", {"username": "Alice", "count": 1})
    shown = await message.wait_message(timeout=20)
    click = await emulator.click(shown, buttons(shown)[7]["custom_id"], user="alice")
    await click.wait_message()
    record = await emulator.invoke("autotrain", user="owner")
    final = await record.wait_message(lambda m: "Trained a new" in m["content"], timeout=120)
    assert "error id" not in final["content"]
    assert "4 lists, 1 ratings" in final["content"] and "final loss" in final["content"]
    assert "before" in final["content"] and "after" in final["content"]
    assert final["content"].endswith("so the untrained model stays."), final["content"]
    assert ready_bot.recommendations.models.model_version("ANIME") == 0
    assert not ready_bot.recommendations.models.serving_model("ANIME").trained
    assert not list((harness.data_dir / "models").glob("anime-v*.pt"))


async def test_autotrain_with_nothing_stored_says_so(ready_bot, emulator):
    """No list, no rating: one sentence, no error id."""
    record = await emulator.invoke("autotrain", user="owner")
    reply = await record.wait_message(lambda m: "nothing to train on" in m["content"], timeout=60)
    assert reply["flags"] & FLAG_EPHEMERAL and "error id" not in reply["content"]


async def test_training_past_its_time_limit_is_stopped_and_can_run_again(
    ready_bot, emulator, harness, monkeypatch
):
    """TRAINING_TIMEOUT_MINUTES=0.05 (3 s) and a training that never ends: the child is killed,
    the owner is told, and the next /autotrain runs a real training."""
    bot = await harness.restart(TRAINING_TIMEOUT_MINUTES="0.05")
    await bot.recommendations.models.wait_idle()
    await store_taste_groups(bot)
    monkeypatch.setattr(recommendations, "train_job", never_ending_job)
    record = await emulator.invoke("autotrain", user="owner")
    reply = await record.wait_message(lambda m: "longer than" in m["content"], timeout=60)
    assert "serving model stays" in reply["content"]
    assert not bot.recommendations.training_in_progress
    await bot.recommendations.models.wait_idle()
    assert bot.recommendations.child_processes == 0
    monkeypatch.undo()
    # A real training on a loaded machine can take longer than 3 s: give it room, so what
    # this shows is that the killed run left nothing behind that stops the next one.
    service = bot.recommendations
    service.settings = dataclasses.replace(service.settings, training_timeout_minutes=5)
    again = await emulator.invoke("autotrain", user="owner")
    done = await again.wait_message(lambda m: "Trained a new" in m["content"], timeout=60)
    assert "already" not in done["content"]


async def test_second_autotrain_while_one_runs_is_told_so(ready_bot, emulator):
    """While training runs, another /autotrain is answered with a sentence, not a second run."""
    async with ready_bot.recommendations._training:
        record = await emulator.invoke("autotrain", user="owner")
        reply = await record.wait_message()
    assert "already" in reply["content"] and reply["flags"] & FLAG_EPHEMERAL


async def test_failed_training_keeps_the_old_model_serving(ready_bot, emulator, harness):
    """If training fails (here: the checkpoint cannot be written, because a file stands where
    the models folder should be), the owner is told and the serving model keeps serving."""
    await store_taste_groups(ready_bot)  # a net that ranks better, so it is saved
    serving = ready_bot.recommendations.models.serving_model("ANIME")
    models = harness.data_dir / "models"
    shutil.rmtree(models)  # the serving model maps its fitted file, which stays readable
    models.write_text("not a folder")
    record = await emulator.invoke("autotrain", user="owner")
    reply = await record.wait_message(lambda m: "error id" in m["content"], timeout=120)
    assert reply["flags"] & FLAG_EPHEMERAL
    # The failure replaced the progress message instead of following it.
    assert reply["id"] == record.original["id"] and not record.followups
    assert reply["content"].startswith("Training ANIME stopped. Something went wrong")
    assert ready_bot.recommendations.models.serving_model("ANIME") is serving
    assert ready_bot.recommendations.models.model_version("ANIME") == 0
    assert not ready_bot.recommendations.training_in_progress
    rec = await emulator.invoke("recommend", {"username": "Alice", "count": 1})
    assert (await rec.wait_message(timeout=20))["embeds"]


async def test_the_bot_trains_by_itself_once_enough_new_lists_arrived(ready_bot):
    """60 new lists since the last training (none): automatic training runs, by the same rules
    as /autotrain, and is not due again right after."""
    service = ready_bot.recommendations
    await store_taste_groups(ready_bot)
    report = await service.train_if_due("ANIME")
    assert report is not None and report.result.improved
    assert service.models.model_version("ANIME") == 1
    assert await service.train_if_due("ANIME") is None
    assert await service.train_if_due("MANGA") is None  # nothing stored for manga
