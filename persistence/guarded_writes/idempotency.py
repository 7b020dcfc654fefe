"""Exactly-once effects for retried activities: the effect and its result commit together, keyed."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from temporalio.converter import AdvancedJSONEncoder, value_to_type

from domain import limits
from persistence.db import SessionFactory, readers_of
from persistence.guarded_writes.guarded_commit import INSERT_RESULT, batch, commit_with_guards, defer_writes, json_value
from persistence.models import ActivityResult, utcnow
from persistence.unit_of_work import UnitOfWork

R = TypeVar("R")
_INSERT_RESULT = insert(ActivityResult)


@dataclass(frozen=True)
class Done:
    """The result of a step that answers nothing but must happen once (an escalation, a close)."""


def run_once(session_factory: SessionFactory, key: str, effect: Callable[[Session], R], result_type: type[R]) -> R:
    """Run `effect` and store its result under `key` in one transaction, or return the stored result.

    The result is a dataclass (usually the activity's own result type): it is stored as the JSON
    Temporal would carry it and read back as the same type, so a repeat answers exactly what the
    first attempt answered.

    No look-up first (every step would pay for it; a repeat is rare): the key's insert finds a
    repeat, which then returns what was stored. On PostgreSQL the guarded stock statements travel
    with the COMMIT after the key's insert, so a concurrent attempt with the same key (a retry
    overlapping a slow first try) waits on the key before it takes any stock lock; on SQLite the
    write lock serializes them. A failed effect leaves nothing behind.
    """
    key = stored_key(key)
    with UnitOfWork(session_factory) as uow:
        defer_writes(uow.session)
        try:
            result = effect(uow.session)
            document = _document(result)
            pending = batch(uow.session)
            if pending is not None:
                pending.inserts.append((INSERT_RESULT, (key, json_value(document), utcnow())))
            else:
                uow.session.connection().execute(_INSERT_RESULT, {"key": key, "result": document})
            commit_with_guards(uow.session)
        except IntegrityError:
            uow.session.rollback()
            stored = stored_result(session_factory, key, result_type)
            if stored is None:  # not a repeat: the effect itself broke a constraint
                raise
            return stored
        return result


def stored_result(session_factory: SessionFactory, key: str, result_type: type[R]) -> R | None:
    """The result a step already recorded, if any: also checked before calling the outside world,
    so a retry of a finished step does not call a carrier or gateway again. A read-only session: on
    SQLite a write session's BEGIN IMMEDIATE would queue for the one write lock just to read."""
    with UnitOfWork(readers_of(session_factory)) as uow:
        stored = uow.session.get(ActivityResult, stored_key(key))
        return value_to_type(result_type, stored.result, []) if stored is not None else None


def _document(result: object) -> dict[str, Any]:
    """A result as the JSON object the column keeps (dataclasses as objects, times as ISO text)."""
    document = json.loads(json.dumps(result, cls=AdvancedJSONEncoder))
    if not isinstance(document, dict):
        raise TypeError(f"a step's result is a dataclass, not {type(result).__name__}")
    return document


def stored_key(key: str) -> str:
    """The key as the column holds it: whole when it fits (every key the workflows derive today
    does), else its readable start and a digest of all of it, the same on every retry, so no key
    can make a step fail for being long."""
    if len(key) <= limits.IDEMPOTENCY_KEY:
        return key
    digest = hashlib.sha256(key.encode()).hexdigest()
    return f"{key[: limits.IDEMPOTENCY_KEY - len(digest) - 1]}#{digest}"
