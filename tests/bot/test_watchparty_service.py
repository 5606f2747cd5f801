"""The watch-party service's sentences and parsing (bot/watchparty.py), without Discord."""

from __future__ import annotations

import pytest

from bot.errors import UserFacingError
from bot.watchparty import group_reason, parse_usernames


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
    """Suited members (7/10 and up) are named best first; with none, the closest one."""
    names = ["Ann", "Ben", "Cy"]
    assert group_reason([8.0, 7.5, 9.0], names).startswith("Suits Cy, Ann and Ben alike")
    assert group_reason([8.0, 6.5, 7.0], names).startswith("Suits Ann and Cy best")
    assert "closest to Ben's taste" in group_reason([6.1, 6.9, 6.2], names)
