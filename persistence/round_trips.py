"""Counting what a process asks its database: each statement sent, each transaction begun, committed
or rolled back. The benchmark divides these by the orders it drove (database round trips per order),
and an operator reads them next to the orders taken to see a path that started asking more.

On PostgreSQL each is a round trip over the network, except a statement sent with its COMMIT as one
request (persistence/guarded_writes/guarded_commit.py), which counts as a statement and a commit. On
SQLite each is a call into the library that may wait for its one write lock.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import Engine, event

RoundTrip = Callable[[str], None]
"""Called with the kind of each round trip: "statement", "begin", "commit" or "rollback"."""

KINDS = ("statement", "begin", "commit", "rollback")


def count_round_trips(engine: Engine, counted: RoundTrip) -> None:
    """Call `counted` for every round trip on `engine` (its pooled connections, every session).
    SQLite's BEGIN is a statement of ours (persistence.db), so it is counted as a statement there."""

    @event.listens_for(engine, "before_cursor_execute")
    def _statement(*_: Any) -> None:
        counted("statement")

    if engine.dialect.name != "sqlite":

        @event.listens_for(engine, "begin")
        def _begin(_connection: Any) -> None:
            counted("begin")

    @event.listens_for(engine, "commit")
    def _commit(_connection: Any) -> None:
        counted("commit")

    @event.listens_for(engine, "rollback")
    def _rollback(_connection: Any) -> None:
        counted("rollback")
