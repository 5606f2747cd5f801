"""How one recommended title looks: a rich embed built from AniList's Media fields.

Recommendations are public, so what the embed says depends on where it is shown: outside
age-restricted channels it names no adult tag and not the Hentai genre, and a spoiler tag
only ever shows hidden behind Discord's ||spoiler|| marks. Titles are in the language of the
person who asked, and spoiler tags show only if they let them (their /settings).
"""

from __future__ import annotations

import discord

from model.titles import ENGLISH, ROMAJI, title_in

ANILIST_BLUE = 0x02A9FF
MAX_TAGS = 4
ADULT_GENRES = frozenset({"Hentai"})


def allows_adult(interaction: discord.Interaction) -> bool:
    """Adult titles only in age-restricted channels of a server the bot is installed in
    (threads follow their parent). Through a user install alone the bot cannot verify a
    channel's age restriction, so it shows none there."""
    if interaction.guild_id is None or not interaction.is_guild_integration():
        return False
    is_nsfw = getattr(interaction.channel, "is_nsfw", None)
    return bool(is_nsfw and is_nsfw())


def display_title(media: dict, language: str = ROMAJI) -> str:
    """The title in `language` (ROMAJI, ENGLISH or NATIVE; a person's is
    MemberSettings.display_language), else the nearest one the title has."""
    return title_in(media, language)


def _colour(media: dict) -> int:
    raw = ((media.get("coverImage") or {}).get("color") or "").lstrip("#")
    try:
        return int(raw, 16) if len(raw) == 6 else ANILIST_BLUE
    except ValueError:
        return ANILIST_BLUE


def _length(media: dict) -> str | None:
    fmt = (media.get("format") or "").replace("_", " ").title().replace("Tv", "TV")
    fmt = {"Ova": "OVA", "Ona": "ONA", "TV Short": "TV short"}.get(fmt, fmt)
    if media.get("type") == "MANGA":
        count, unit = media.get("chapters"), "chapters"
    else:
        count, unit = media.get("episodes"), "episodes"
    if count == 1 and unit == "episodes":
        unit = "episode"
    parts = [p for p in (fmt, f"{count} {unit}" if count else None) if p]
    return " · ".join(parts) or None


def _year(media: dict) -> int | None:
    return media.get("seasonYear") or (media.get("startDate") or {}).get("year")


def _top_tags(media: dict, allow_adult: bool, spoiler_tags: bool) -> list[str]:
    tags = [
        t
        for t in media.get("tags") or []
        if t.get("name")
        and (allow_adult or not t.get("isAdult"))
        and (spoiler_tags or not t.get("isMediaSpoiler"))
    ]
    tags.sort(key=lambda t: -(t.get("rank") or 0))
    return [_spoiler(t) for t in tags[:MAX_TAGS]]


def _spoiler(tag: dict) -> str:
    # A tag name holding "|" could close the spoiler early and show the rest.
    name = tag["name"].replace("|", "")
    return f"||{name}||" if tag.get("isMediaSpoiler") else name


def _genres(media: dict, allow_adult: bool) -> list[str]:
    genres = media.get("genres") or []
    return list(genres) if allow_adult else [g for g in genres if g not in ADULT_GENRES]


def pick_embed(
    media: dict,
    score: float,
    reason: str,
    index: int,
    total: int,
    *,
    allow_adult: bool,
    language: str = ROMAJI,
    spoiler_tags: bool = True,
) -> discord.Embed:
    """The embed for pick `index` (0-based) of `total`; `allow_adult` when the channel is
    age-restricted (see allows_adult). The title is in `language`, with its English (or, when
    the title is English, its romaji) title above it; `spoiler_tags` lets the tag list show
    spoiler tags, hidden as ||spoilers||."""
    embed = discord.Embed(
        title=display_title(media, language)[:256],
        url=media.get("siteUrl") or None,
        description=reason[:4096] if reason else None,
        colour=_colour(media),
    )
    other = (media.get("title") or {}).get("romaji" if language == ENGLISH else "english")
    if other and other != embed.title:
        embed.set_author(name=other[:256])
    cover = media.get("coverImage") or {}
    if image := cover.get("extraLarge") or cover.get("large") or cover.get("medium"):
        embed.set_thumbnail(url=image)
    embed.add_field(name="Predicted for you", value=f"{score:.1f}/10")
    mean = media.get("meanScore") or media.get("averageScore")
    embed.add_field(name="AniList mean", value=f"{mean}%" if mean else "not rated yet")
    if length := _length(media):
        embed.add_field(name="Format", value=length)
    if year := _year(media):
        embed.add_field(name="Year", value=str(year))
    if genres := _genres(media, allow_adult):
        embed.add_field(name="Genres", value=", ".join(genres)[:1024], inline=False)
    if tags := _top_tags(media, allow_adult, spoiler_tags):
        embed.add_field(name="Top tags", value=", ".join(tags)[:1024], inline=False)
    embed.set_footer(text=f"{index + 1} / {total}")
    return embed
