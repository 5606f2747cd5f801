"""What a /similar page changes in a pick's embed.

A /similar message is stored like a /recommend one, its picks carrying ``similar_to``,
``personal`` and, on the first, ``franchise`` as well (bot/services/similar.py), so the rating
and page buttons of cogs/ui/buttons work unchanged and render_page calls
:func:`decorate_similar_page` for such picks.
"""

from __future__ import annotations

import discord

from cogs.ui.group_page import SINGLE_PICK_FIELD

FRANCHISE_FIELD = "Same franchise"


def decorate_similar_page(embed: discord.Embed, pick: dict) -> None:
    """Drop "Predicted for you" when no list of the caller's was known (there is no
    prediction then), and show the seed's other franchise entries on the page that has them."""
    if not pick.get("personal"):
        for index, shown in enumerate(embed.fields):
            if shown.name == SINGLE_PICK_FIELD:
                embed.remove_field(index)
                break
    if franchise := pick.get("franchise"):
        embed.add_field(name=FRANCHISE_FIELD, value=str(franchise)[:1024], inline=False)
