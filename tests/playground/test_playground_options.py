"""Option values typed in the page's command box, turned into what the command's options take."""

from __future__ import annotations

import pytest

from playground.web import _typed_options

COMMAND = {
    "name": "watchparty",
    "options": [
        {"name": "count", "type": 4},
        {"name": "member1", "type": 6},
        {"name": "usernames", "type": 3},
        {"name": "spoilers", "type": 5},
    ],
}


def test_typed_text_becomes_each_options_type():
    typed = _typed_options(
        COMMAND, {"count": " 3 ", "member1": "@bob", "usernames": "A, B", "spoilers": "False"}
    )
    assert typed == {"count": 3, "member1": "bob", "usernames": "A, B", "spoilers": False}


@pytest.mark.parametrize(
    ("given", "sentence"),
    [
        ({"count": "three"}, "count takes a whole number, not 'three'."),
        ({"spoilers": "maybe"}, "spoilers takes true or false, not 'maybe'."),
        ({"colour": "red"}, "/watchparty has no option colour."),
    ],
)
def test_a_value_the_option_cannot_take_is_refused_with_a_sentence(given, sentence):
    with pytest.raises(ValueError) as refused:
        _typed_options(COMMAND, given)
    assert str(refused.value) == sentence
