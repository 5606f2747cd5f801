"""Group commit: rows that arrive together are written in one statement.

Under a burst of rating clicks each click then waits for one commit, not for a commit per
click queued before it; every commit is a trip to the database's thread, and each trip waits
its turn on a busy event loop.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Awaitable, Callable

# A rating is seven values: a statement of this many rows stays far below SQLite's 32,766
# parameters.
ROWS_PER_STATEMENT = 500

Write = Callable[[str, list], Awaitable[int]]


class GroupCommit:
    """Writes rows with ``write(statement(n), values of n rows)``, batching rows that wait."""

    def __init__(self, write: Write, statement: Callable[[int], str]) -> None:
        self._write = write
        self._statement = statement
        self._pending: list[tuple[tuple, asyncio.Future[None]]] = []
        self._writer: asyncio.Task[None] | None = None

    async def save(self, row: tuple) -> None:
        """Return once `row` is committed. A row the database refuses fails only this call
        (with its sqlite3.DatabaseError), not the others of its batch."""
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._pending.append((row, future))
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._write_pending())
        await future

    async def drain(self) -> None:
        """Wait until the rows being committed have landed (or failed)."""
        if self._writer is not None:
            await asyncio.gather(self._writer, return_exceptions=True)

    async def _write_pending(self) -> None:
        """Commit the waiting rows, batch after batch, until none is left."""
        while self._pending:
            batch = self._pending[:ROWS_PER_STATEMENT]
            del self._pending[:ROWS_PER_STATEMENT]
            try:
                await self._write(self._statement(len(batch)), [v for row, _ in batch for v in row])
            except sqlite3.DatabaseError as error:
                if len(batch) == 1:
                    _settle(batch[0][1], error)
                else:  # one bad row spoils the batch: commit each on its own
                    for row, future in batch:
                        await self._write_alone(row, future)
                continue
            except BaseException as error:  # closing, cancelled: nobody may wait forever
                for _, future in batch + self._pending:
                    _settle(future, error)
                self._pending = []
                raise
            for _, future in batch:
                _settle(future, None)

    async def _write_alone(self, row: tuple, future: asyncio.Future[None]) -> None:
        try:
            await self._write(self._statement(1), list(row))
        except sqlite3.DatabaseError as error:
            _settle(future, error)
        else:
            _settle(future, None)


def _settle(future: asyncio.Future[None], error: BaseException | None) -> None:
    """Resolve a waiter's future, unless it gave up waiting (cancelled)."""
    if future.done():
        return
    if error is None:
        future.set_result(None)
    else:
        future.set_exception(error)
