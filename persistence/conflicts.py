"""Concurrency refusals as exceptions of our own, so the code that decides what to do about them (try
again, answer 409 or 503) need not know SQLAlchemy, and a fake unit of work can raise the same ones.

Only these two are translated: every other database error passes through unchanged (the API answers
an unreachable database with 503, a value it refuses with 422)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.exc import IntegrityError, OperationalError

_LOCK_CYCLES = frozenset({"40P01", "40001"})  # PostgreSQL: deadlock detected, serialization failure


class ConcurrentWrite(Exception):
    """A unique key we wrote was written first by another transaction: nothing of ours was kept, and
    reading again shows what the other one wrote."""


class LockCycle(Exception):
    """The database broke a deadlock (or a serialization failure) by refusing our transaction:
    nothing was written, and the same work may simply be tried again."""


@contextmanager
def translated() -> Iterator[None]:
    """Raise ConcurrentWrite or LockCycle for the refusals they name; anything else as it is."""
    try:
        yield
    except IntegrityError as exc:
        raise ConcurrentWrite(str(exc.orig)) from exc
    except OperationalError as exc:
        if getattr(exc.orig, "sqlstate", None) in _LOCK_CYCLES:
            raise LockCycle(str(exc.orig)) from exc
        raise
