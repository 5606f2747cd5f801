"""The /profile picture decodes as a PNG of the size Discord shows well, whatever the taste."""

from __future__ import annotations

import io

from PIL import Image

from bot.services.profile_picture import HEIGHT, WIDTH, draw_profile
from model.taste import Lift, Taste


def taste(**changes) -> Taste:
    base = dict(
        titles=40,
        watched=35,
        scored=30,
        mean_score=7.2,
        lifts=(Lift("Mecha", "genre", 1.3, 12), Lift("A" * 60 + "é", "tag", 0.4, 5)),
        sinks=(Lift("Romance", "genre", -1.1, 9),),
        score_counts=(0, 1, 0, 2, 3, 5, 8, 6, 4, 1),
        formats=(("TV", 20), ("Movie", 10), ("OVA", 3), ("ONA", 1), ("Special", 1)),
        eras=(("< 1980", 0), ("1980s", 2), ("1990s", 5), ("2000s", 8), ("2010s", 12), ("2020s", 8)),
        most_watched_genres=(("Action", 20),),
        popular_seen=30,
        popular_total=500,
    )
    return Taste(**(base | changes))


def decode(png: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(png))
    image.load()
    return image


def test_the_picture_is_a_png_of_the_planned_size():
    png = draw_profile(taste(), "Alice", "ANIME")
    image = decode(png)
    assert image.format == "PNG" and image.size == (WIDTH, HEIGHT)
    assert 10_000 < len(png) < 1_000_000  # an upload a phone fetches quickly
    # Not blank: the bars are drawn in several colours on the dark card.
    assert len(image.getcolors(maxcolors=1 << 16) or []) > 50


def test_an_unscored_list_still_draws():
    empty = taste(
        scored=0,
        mean_score=float("nan"),
        lifts=(),
        sinks=(),
        score_counts=(0,) * 10,
        formats=(),
        eras=tuple((label, 0) for label, _ in taste().eras),
    )
    assert decode(draw_profile(empty, "Newcomer", "MANGA")).size == (WIDTH, HEIGHT)
