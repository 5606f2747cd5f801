"""The /profile picture: one PNG drawn with Pillow from a model.taste.Taste.

Presentation, so it lives on the bot's side, not in model/. Pillow is imported on the first
drawing, not with the bot, and drawing is CPU work: callers run `draw_profile` in a thread.

The picture is an opaque dark card with light text and saturated bars, so it reads the same on
Discord's dark and light themes; the text is large because Discord shows an embed image at
about 400 pixels wide on a phone (tapping it opens the full size). The font is the one Pillow
bundles (`ImageFont.load_default(size)`, FreeType), so nothing is read from the system or
downloaded.
"""

from __future__ import annotations

import io
from functools import cache
from typing import TYPE_CHECKING, Any

from model.taste import Lift, Taste

if TYPE_CHECKING:
    from PIL import ImageDraw

WIDTH, HEIGHT = 1200, 900
MARGIN = 40
BACKGROUND = (30, 33, 48)
PANEL = (40, 44, 62)
TEXT = (240, 242, 248)
MUTED = (170, 176, 196)
LIFT = (74, 222, 128)
SINK = (248, 113, 113)
SCORES = (2, 169, 255)  # AniList blue
FORMATS = (192, 132, 252)
ERAS = (251, 191, 36)
MAX_LABEL = 20
SHOWN_FORMATS = 4
# The bundled font covers printable ASCII and a few signs (no accents, no dashes): AniList's
# usernames, genres and tags are ASCII, and anything else is drawn as "?" rather than a box.
_DRAWABLE = frozenset(chr(c) for c in range(32, 127)) | {"·", "…"}


@cache
def _font(size: int) -> Any:
    from PIL import ImageFont

    return ImageFont.load_default(size=size)


def draw_profile(taste: Taste, username: str, media_type: str) -> bytes:
    """The taste picture of `username`'s `media_type` list, as PNG bytes."""
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (WIDTH, HEIGHT), BACKGROUND)
    draw = ImageDraw.Draw(image)
    kind = "anime" if media_type == "ANIME" else "manga"
    title = f"{_label(username)}'s {kind} taste"
    draw.text((MARGIN, 28), title, font=_font(44), fill=TEXT)
    mean = "no scores yet" if taste.scored == 0 else f"mean score {taste.mean_score:.1f}"
    summary = f"{taste.watched:,} seen · {taste.scored:,} scored · {mean}"
    draw.text((MARGIN, 84), summary, font=_font(26), fill=MUTED)

    top, bottom = 130, HEIGHT - 60
    middle = WIDTH // 2 + 20
    _lifts_panel(draw, taste, (MARGIN, top, middle - 15, bottom))
    third = (bottom - top - 30) // 3
    right = (middle + 15, top, WIDTH - MARGIN, top + third)
    _scores_panel(draw, taste, right)
    right = (right[0], right[3] + 15, right[2], right[3] + 15 + third)
    _bars_panel(draw, "Formats", taste.formats, FORMATS, right)
    right = (right[0], right[3] + 15, right[2], bottom)
    _columns_panel(draw, "Release eras", taste.eras, ERAS, right)
    draw.text((MARGIN, HEIGHT - 45), "Anime8 · data from AniList", font=_font(22), fill=MUTED)
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=False, compress_level=6)
    return out.getvalue()


def _panel(draw: ImageDraw.ImageDraw, box: tuple[int, int, int, int], title: str) -> int:
    """Draw the panel's card and title; returns the y where its content starts."""
    draw.rounded_rectangle(box, radius=18, fill=PANEL)
    draw.text((box[0] + 22, box[1] + 16), title, font=_font(30), fill=TEXT)
    return box[1] + 62


def _label(text: str) -> str:
    """`text` shortened to MAX_LABEL characters, in characters the bundled font has."""
    text = "".join(c if c in _DRAWABLE else "?" for c in text)
    return text if len(text) <= MAX_LABEL else text[: MAX_LABEL - 1] + "…"


def _lifts_panel(draw: ImageDraw.ImageDraw, taste: Taste, box: tuple[int, int, int, int]) -> None:
    y = _panel(draw, box, "What lifts and sinks their scores")
    left, right = box[0] + 22, box[2] - 22
    if not taste.lifts and not taste.sinks:
        draw.multiline_text(
            (left, y + 10),
            "Not enough scored titles yet\nto tell which genres and tags\nmove their scores.",
            font=_font(28),
            fill=MUTED,
            spacing=10,
        )
        return
    biggest = max(abs(x.lift) for x in (*taste.lifts, *taste.sinks))
    row = min(44, (box[3] - y - 60) // max(1, len(taste.lifts) + len(taste.sinks)))
    y = _lift_rows(draw, "Lift", taste.lifts, LIFT, (left, y, right), row, biggest)
    _lift_rows(draw, "Sink", taste.sinks, SINK, (left, y + 18, right), row, biggest)


def _lift_rows(
    draw: ImageDraw.ImageDraw,
    heading: str,
    lifts: tuple[Lift, ...],
    colour: tuple[int, int, int],
    where: tuple[int, int, int],
    row: int,
    biggest: float,
) -> int:
    left, y, right = where
    if not lifts:
        return y
    draw.text((left, y), heading, font=_font(24), fill=colour)
    y += 32
    bar_left, bar_right = left + 290, right - 80
    for lift in lifts:
        draw.text((left, y), _label(lift.name), font=_font(26), fill=TEXT)
        length = max(4, round((bar_right - bar_left) * abs(lift.lift) / biggest))
        draw.rounded_rectangle(
            (bar_left, y + 4, bar_left + length, y + row - 12), radius=6, fill=colour
        )
        sign = "+" if lift.lift > 0 else "-"
        draw.text(
            (bar_left + length + 10, y), f"{sign}{abs(lift.lift):.1f}", font=_font(24), fill=TEXT
        )
        y += row
    return y


def _scores_panel(draw: ImageDraw.ImageDraw, taste: Taste, box: tuple[int, int, int, int]) -> None:
    y = _panel(draw, box, "Their scores")
    if taste.scored == 0:
        draw.text((box[0] + 22, y + 10), "Nothing scored yet.", font=_font(26), fill=MUTED)
        return
    labels = [str(n) for n in range(1, 11)]
    _columns(draw, list(zip(labels, taste.score_counts, strict=True)), SCORES, box, y)


def _columns_panel(
    draw: ImageDraw.ImageDraw,
    title: str,
    counts: tuple[tuple[str, int], ...],
    colour: tuple[int, int, int],
    box: tuple[int, int, int, int],
) -> None:
    y = _panel(draw, box, title)
    if not any(n for _, n in counts):
        draw.text((box[0] + 22, y + 10), "No release years known yet.", font=_font(26), fill=MUTED)
        return
    _columns(draw, list(counts), colour, box, y)


def _columns(
    draw: ImageDraw.ImageDraw,
    counts: list[tuple[str, int]],
    colour: tuple[int, int, int],
    box: tuple[int, int, int, int],
    top: int,
) -> None:
    """Vertical bars, one per (label, count), labels under them."""
    left, right, bottom = box[0] + 22, box[2] - 22, box[3] - 40
    width = (right - left) / len(counts)
    tallest = max(n for _, n in counts) or 1
    for i, (label, n) in enumerate(counts):
        x0 = left + i * width + width * 0.15
        x1 = left + (i + 1) * width - width * 0.15
        height = (bottom - top) * n / tallest
        if n:
            draw.rounded_rectangle((x0, bottom - max(height, 4), x1, bottom), radius=4, fill=colour)
        font = _font(22)
        text_width = draw.textlength(label, font=font)
        draw.text(((x0 + x1 - text_width) / 2, bottom + 6), label, font=font, fill=MUTED)


def _bars_panel(
    draw: ImageDraw.ImageDraw,
    title: str,
    counts: tuple[tuple[str, int], ...],
    colour: tuple[int, int, int],
    box: tuple[int, int, int, int],
) -> None:
    """Horizontal bars for the SHOWN_FORMATS biggest counts, each as a share of all."""
    y = _panel(draw, box, title)
    total = sum(n for _, n in counts)
    if not total:
        draw.text((box[0] + 22, y + 10), "Nothing seen yet.", font=_font(26), fill=MUTED)
        return
    left, right = box[0] + 22, box[2] - 22
    bar_left, bar_right = left + 130, right - 80
    shown = counts[:SHOWN_FORMATS]
    row = min(40, (box[3] - y - 10) // len(shown))
    for name, n in shown:
        draw.text((left, y), name, font=_font(24), fill=TEXT)
        length = max(4, round((bar_right - bar_left) * n / total))
        draw.rounded_rectangle((bar_left, y + 4, bar_left + length, y + row - 10), 5, fill=colour)
        draw.text((bar_left + length + 10, y), f"{n / total:.0%}", font=_font(22), fill=MUTED)
        y += row
