"""Domain errors: each carries one sentence that the error handler shows the user, ephemerally."""

from __future__ import annotations


class UserFacingError(Exception):
    """An expected failure whose message is safe and useful to show to the person who asked."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.user_message = message
