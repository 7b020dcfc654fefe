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

    The key is claimed before the effect runs: a repeat finds the claim taken and returns what was
    stored; a concurrent attempt with the same key (a retry overlapping a slow first try) waits on
    the claim (PostgreSQL) or on the write lock (SQLite) before taking any stock lock. A failed
    effect rolls its claim back.
    """
    with UnitOfWork(session_factory) as uow:
        # No look-up first: the claim itself finds a repeat (a retry is rare; every step pays a look-up).
        claim = ActivityResult(key=key, result={})
        uow.session.add(claim)
        try:
            uow.session.flush()
            result = effect(uow.session)
            claim.result = result
            uow.commit()
        except IntegrityError:
            uow.session.rollback()
            stored = _stored(session_factory, key)
            if stored is None:  # not a repeat: the effect itself broke a constraint
                raise
            return stored
        return result


def _stored(session_factory: SessionFactory, key: str) -> Result | None:
    with UnitOfWork(session_factory) as uow:
        stored = uow.session.get(ActivityResult, key)
        return stored.result if stored is not None else None
