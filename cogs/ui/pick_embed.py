"""How one recommended title looks: a rich embed built from AniList's Media fields.

Recommendations are public, so what the embed says depends on where it is shown: outside
age-restricted channels it names no adult tag and not the Hentai genre, and a spoiler tag
only ever shows hidden behind Discord's ||spoiler|| marks.
"""

from __future__ import annotations

import discord

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


def display_title(media: dict) -> str:
    title = media.get("title") or {}
    return (
        title.get("userPreferred")
        or title.get("english")
        or title.get("romaji")
        or title.get("native")
        or f"#{media.get('id')}"
    )


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


def _top_tags(media: dict, allow_adult: bool) -> list[str]:
    tags = [
        t
        for t in media.get("tags") or []
        if t.get("name") and (allow_adult or not t.get("isAdult"))
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
    media: dict, score: float, reason: str, index: int, total: int, *, allow_adult: bool
) -> discord.Embed:
    """The embed for pick `index` (0-based) of `total`; `allow_adult` when the channel is
    age-restricted (see allows_adult)."""
    embed = discord.Embed(
        title=display_title(media)[:256],
        url=media.get("siteUrl") or None,
        description=reason[:4096] if reason else None,
        colour=_colour(media),
    )
    english = (media.get("title") or {}).get("english")
    if english and english != embed.title:
        embed.set_author(name=english[:256])
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
    if tags := _top_tags(media, allow_adult):
        embed.add_field(name="Top tags", value=", ".join(tags)[:1024], inline=False)
    embed.set_footer(text=f"{index + 1} / {total}")
    return embed
