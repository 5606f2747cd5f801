"""What can go wrong when asking AniList, as exceptions.

All but AniListQueryError are UserFacingError, whose message is one sentence for the user;
AniListQueryError means AniList rejected a query we built (a bug on our side): it is logged
with the operation name and shown as "something went wrong".
"""

from __future__ import annotations

import math

from bot.errors import UserFacingError


class InvalidUsername(UserFacingError):
    def __init__(self) -> None:
        super().__init__("That isn't an AniList username: they are 2 to 20 letters and digits.")


class AniListUserNotFound(UserFacingError):
    def __init__(self, username: str | None) -> None:
        who = f"called {username}" if username else "with that name"
        super().__init__(f"There is no AniList user {who}.")
        self.username = username


class AniListPrivateUser(UserFacingError):
    def __init__(self, username: str | None) -> None:
        whose = f"{username}'s" if username else "That"
        super().__init__(f"{whose} AniList profile or list is private, so I can't read it.")
        self.username = username


class AniListRateLimited(UserFacingError):
    def __init__(self, retry_after: float) -> None:
        self.retry_after = max(1, math.ceil(retry_after))
        super().__init__(f"AniList is rate-limiting us; try again in {self.retry_after} s.")


class AniListUnavailable(UserFacingError):
    def __init__(self, reason: str = "") -> None:
        super().__init__("AniList isn't answering right now; please try again in a few minutes.")
        self.reason = reason


class AniListQueryError(Exception):
    """AniList rejected a query we built: a bug on our side, never the user's doing."""

    def __init__(self, operation: str, messages: list[str]) -> None:
        super().__init__(f"AniList rejected query {operation}: {'; '.join(messages)}")
        self.operation = operation
        self.messages = messages
