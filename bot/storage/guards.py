"""Keeping /forget final: a request that began before a /forget writes nothing after it.

A request takes a WriteGuard when it begins; each write made on its behalf checks it inside its
own transaction (Database.check_guard), and /forget marks what it erased inside its
transaction (Database.note_erased), so whichever order the two run in, nothing the request
writes outlives the /forget.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.errors import UserFacingError


class UserForgotten(UserFacingError):
    """A request's write was refused because /forget erased its user (or list) meanwhile."""

    def __init__(self) -> None:
        super().__init__(
            "Your data was deleted while I was working on this, so I kept nothing; "
            "run the command again if you like."
        )


@dataclass(frozen=True, slots=True)
class WriteGuard:
    """How often /forget had erased each key (user or AniList username) when a request began.

    Writes made on the request's behalf check, inside their own transaction, that the counts
    are unchanged; /forget bumps them inside its transaction, so whichever order the two run
    in, nothing the request writes outlives the /forget.
    """

    marks: tuple[tuple[str, int], ...] = ()
