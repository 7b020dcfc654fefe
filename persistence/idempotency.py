"""Exactly-once effects for retried activities: the effect and its result commit together, keyed."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from persistence.db import SessionFactory
from persistence.models import ActivityResult
from persistence.unit_of_work import UnitOfWork

Result = dict[str, Any]


def run_once(session_factory: SessionFactory, key: str, effect: Callable[[Session], Result]) -> Result:
    """Run `effect` and store its result under `key` in one transaction, or return the stored result.

    Two concurrent attempts with the same key (a retry overlapping a slow first try) both may run
    the effect, but only one commits: the other hits the primary key, rolls back everything it did,
    and returns what the winner stored.
    """
    for _ in range(3):
        with UnitOfWork(session_factory) as uow:
            stored = uow.session.get(ActivityResult, key)
            if stored is not None:
                return stored.result
            result = effect(uow.session)
            uow.session.add(ActivityResult(key=key, result=result))
            try:
                uow.commit()
            except IntegrityError:
                continue
            return result
    raise RuntimeError(f"idempotency record {key!r} neither committed nor readable")
