"""What the channel outboxes (shipment notices, cancellation notices) share: one row per thing the
selling channel must hear, pending until delivered or closed, refusals counted in `attempts`.

Each statement closes or notes a row only while it is still pending, so two passes that overlap
(a retried activity) never both close one and write two timeline events.

Nothing here writes the order's timeline (that is the read side's): each call answers what it did,
and the caller adds the timeline event in the same transaction.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from persistence.models import CancellationNoticeOutbox, ShipmentNoticeOutbox

Row = TypeVar("Row", ShipmentNoticeOutbox, CancellationNoticeOutbox)

NOT_CONNECTED = "channel not connected"
"""`last_error` of a row closed because this deployment has no adapter for its channel."""


@dataclass(frozen=True)
class Enqueued:
    """What writing a notice did: `written` a row (False: none was due, or a retry found it there);
    or, for a channel that can only be told by a person, `by_hand` saying what to do, for the caller
    to put on the order's timeline at `at`, in the same transaction."""

    written: bool = False
    by_hand: str = ""
    at: datetime | None = None


def add_once(session: Session, model: type[Row], values: Mapping[str, Any], unique: str) -> bool:
    """Insert a pending row unless one with the same `unique` column exists (a retried step writes
    nothing twice); True when this call added it. Runs in the caller's transaction."""
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    statement = (
        dialect.insert(model)
        .values(**values, attempts=0)
        .on_conflict_do_nothing(index_elements=[unique])
        .returning(model.id)
    )
    return session.connection().execute(statement).scalar() is not None


def pending(
    session: Session, model: type[Row], *, limit: int, after_id: int = 0, excluded: Collection[str] = ()
) -> list[Row]:
    """The oldest rows not yet delivered (nor closed), after `after_id`, leaving out the `excluded`
    channels (down this pass: their backlog is not even read)."""
    query = select(model).where(model.delivered_at.is_(None), model.id > after_id)
    if excluded:
        query = query.where(model.channel.not_in(sorted(excluded)))
    return list(session.scalars(query.order_by(model.id).limit(limit)))


def close(session: Session, model: type[Row], row_id: int, at: datetime, error: str | None) -> bool:
    """Close the row (delivered, or with the reason it never will be); False when another pass did."""
    result = session.execute(
        update(model).where(model.id == row_id, model.delivered_at.is_(None)).values(delivered_at=at, last_error=error),
        execution_options={"synchronize_session": False},
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def note_refused(session: Session, model: type[Row], row_id: int, reason: str) -> None:
    """One more refusal: counted, so the next try waits longer (activities.channel_out.next_attempt_at)."""
    session.execute(
        update(model)
        .where(model.id == row_id, model.delivered_at.is_(None))
        .values(attempts=model.attempts + 1, last_error=reason),
        execution_options={"synchronize_session": False},
    )


def note_unavailable(session: Session, model: type[Row], row_id: int, reason: str) -> None:
    """Only the reason: a channel being down is no fault of the row, so its attempts stay."""
    session.execute(
        update(model).where(model.id == row_id, model.delivered_at.is_(None)).values(last_error=reason),
        execution_options={"synchronize_session": False},
    )


def reopen_not_connected(session: Session, model: type[Row], channel: str) -> int:
    """Queue again the rows closed while `channel` had no connection (once it has one)."""
    result = session.execute(
        update(model)
        .where(model.channel == channel, model.last_error == NOT_CONNECTED)
        .values(delivered_at=None, last_error=None),
        execution_options={"synchronize_session": False},
    )
    return int(result.rowcount)  # type: ignore[attr-defined]
