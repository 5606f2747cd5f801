"""The /settings message: what the person's settings are now, and one select per setting.

Each select is a DynamicItem (`anime8:settings:<setting>`), so it keeps working on a message
shown before a restart. A choice always changes the settings of whoever made it, never anyone
named in the id, and both the id and the chosen values are checked against the table below:
a forged interaction can carry anything.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import discord

from bot.errors import UserFacingError
from bot.storage import MemberSettings
from bot.storage.member_settings import FOLLOW_ANILIST
from cogs.ui.base import Anime8Select
from model.titles import ENGLISH, NATIVE, ROMAJI

if TYPE_CHECKING:
    from bot.core import Anime8Bot

SETTINGS_PREFIX = "anime8:settings:"
LANGUAGE_NAMES = {ROMAJI: "romaji", ENGLISH: "English", NATIVE: "native"}


@dataclass(frozen=True, slots=True)
class Choice:
    value: str
    label: str
    description: str


@dataclass(frozen=True, slots=True)
class Setting:
    """One select: its choices, which of them `MemberSettings` holds, and the change a choice
    makes (keyword arguments of MemberSettingsStore.choose)."""

    name: str  # the custom_id's last part
    placeholder: str
    choices: tuple[Choice, ...]
    current: Callable[[MemberSettings], str]
    change: Callable[[str], dict[str, Any]]


SETTINGS = (
    Setting(
        "titles",
        "Title language",
        (
            Choice(FOLLOW_ANILIST, "Titles: AniList's preference", "As on your linked account"),
            Choice(ROMAJI, "Titles in romaji", "e.g. Shingeki no Kyojin"),
            Choice(ENGLISH, "Titles in English", "e.g. Attack on Titan (else romaji)"),
            Choice(NATIVE, "Titles in their native language", "e.g. 進撃の巨人"),
        ),
        lambda member: member.title_language,
        lambda value: {"title_language": value},
    ),
    Setting(
        "type",
        "Default type",
        (
            Choice("ANIME", "Anime by default", "When /recommend or /watchparty has no type"),
            Choice("MANGA", "Manga by default", "When /recommend or /watchparty has no type"),
        ),
        lambda member: member.default_type,
        lambda value: {"default_type": value},
    ),
    Setting(
        "spoilers",
        "Spoiler tags",
        (
            Choice("SHOW", "Show spoiler tags, hidden as spoilers", "Click a tag to reveal it"),
            Choice("HIDE", "Leave spoiler tags out", "Tag lists name no spoiler tag"),
        ),
        lambda member: "SHOW" if member.spoiler_tags else "HIDE",
        lambda value: {"spoiler_tags": value == "SHOW"},
    ),
)
_BY_NAME = {setting.name: setting for setting in SETTINGS}


def settings_message(member: MemberSettings, linked: str | None) -> tuple[str, discord.ui.View]:
    """The content and selects showing `member`'s settings; `linked` is their linked AniList
    account, if any."""
    view = discord.ui.View(timeout=None)
    for row, setting in enumerate(SETTINGS):
        view.add_item(SettingSelect(setting, member, row=row))
    return describe(member, linked), view


def describe(member: MemberSettings, linked: str | None) -> str:
    language = LANGUAGE_NAMES[member.display_language]
    if member.title_language != FOLLOW_ANILIST:
        titles = f"in {language}"
    elif linked is None:
        titles = "AniList's preference: romaji, as you have no linked account (see /link)"
    elif member.anilist_title_language is None:
        titles = f"AniList's preference: romaji until I can read **{linked}**'s"
    else:
        titles = f"AniList's preference: {language}, as **{linked}** has it on AniList"
    kind = "anime" if member.default_type == "ANIME" else "manga"
    spoilers = "shown as ||spoilers||" if member.spoiler_tags else "left out"
    return (
        "**Your settings** (each is saved as soon as you change it):\n"
        f"• Titles: {titles}\n"
        f"• Without a `type`, /recommend and /watchparty pick {kind}\n"
        f"• Spoiler tags in tag lists: {spoilers}"
    )


class SettingSelect(Anime8Select, template=rf"{SETTINGS_PREFIX}(?P<name>.*)"):
    """`anime8:settings:<setting>` — stores the chooser's choice and shows the settings again."""

    def __init__(
        self,
        setting: Setting | None,
        member: MemberSettings | None = None,
        *,
        row: int | None = None,
        raw: str = "",
    ) -> None:
        options = []
        if setting is not None and member is not None:
            chosen = setting.current(member)
            options = [
                discord.SelectOption(
                    label=c.label,
                    value=c.value,
                    description=c.description,
                    default=c.value == chosen,
                )
                for c in setting.choices
            ]
        super().__init__(
            discord.ui.Select(
                custom_id=raw or f"{SETTINGS_PREFIX}{setting.name if setting else ''}",
                placeholder=setting.placeholder if setting else None,
                options=options,
                row=row,
            )
        )

    @classmethod
    def from_raw(cls, custom_id: str, match: re.Match[str]) -> SettingSelect:
        return cls(None, raw=custom_id)

    async def act(self, interaction: discord.Interaction[Any], bot: Anime8Bot) -> None:
        user_id = interaction.user.id
        guard = bot.db.guard(user_id)
        setting = _BY_NAME.get(self.custom_id[len(SETTINGS_PREFIX) :])
        if setting is None:
            raise UserFacingError("That menu isn't one of mine or is damaged; nothing was changed.")
        values = self.item.values
        if len(values) != 1 or values[0] not in {c.value for c in setting.choices}:
            raise UserFacingError("That isn't one of the choices; nothing was changed.")
        member = await bot.member_settings.choose(user_id, guard=guard, **setting.change(values[0]))
        content, view = settings_message(member, await bot.db.linked_username(user_id))
        await interaction.response.edit_message(content=content, view=view)
