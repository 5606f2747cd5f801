"""The watch-party service's sentences and parsing (bot/watchparty.py), without Discord."""

from __future__ import annotations

import pytest

from bot.errors import UserFacingError
from bot.services.watchparty import group_reason, parse_usernames


def test_usernames_split_on_commas_and_spaces():
    """Commas, spaces or both separate names; empty pieces are ignored, order kept."""
    assert parse_usernames(" Alice,Bob  carol ,, dave ") == ["Alice", "Bob", "carol", "dave"]
    assert parse_usernames(None) == []


def test_a_malformed_username_is_named_and_more_than_eight_are_refused():
    """The refusal quotes the bad word; a ninth name is one too many."""
    with pytest.raises(UserFacingError, match="“b@d” isn't an AniList username"):
        parse_usernames("Alice b@d")
    with pytest.raises(UserFacingError, match="at most 8 usernames; you gave 9"):
        parse_usernames(" ".join(f"user{n}" for n in range(9)))


def test_reasons_name_the_members_a_pick_suits():
    """Every member named when it suits all, else those it suits, as given (best first)."""
    names = ["Ann", "Ben", "Cy"]
    assert group_reason(["Cy", "Ann", "Ben"], names).startswith(
        "Suits all of you (Cy, Ann and Ben)"
    )
    assert group_reason(["Ann", "Cy"], names).startswith("Suits Ann and Cy best")
    assert group_reason(["Ben"], names).startswith("Suits Ben best")
