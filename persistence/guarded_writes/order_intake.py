"""The durable intake of orders (table order_intake): taken in the request's transaction, claimed by
one sweeper at a time for a start, marked started, forgotten after a retention.

A claim is one UPDATE that moves the row's next_attempt_at past now by a lease: two sweepers (K API
replicas) never claim the same row at once, and a sweeper that dies holding a claim lets it go when
the lease ends. Starting is idempotent by workflow id anyway; the claim keeps it to one call."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, exists, func, literal, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from persistence.models import OrderIntake, OrderRecord

ERROR_KEPT = 500
"""Characters of a failed start's error kept on its row."""


@dataclass(frozen=True)
class Waiting:
    """A row of the intake: the order's workflow input (JSON) and where its start stands."""

    order_id: str
    workflow_input: str
    received_at: datetime
    started_at: datetime | None
    attempts: int


def take_in(
    session: Session, *, order_id: str, channel: str, workflow_input: str, received_at: datetime, first_try: datetime
) -> bool:
    """Keep the order in the caller's transaction, in one statement; False when we have it already:
    in the intake (a repeated delivery, also one racing this one: the later insert waits for the
    first and does nothing) or recorded as an order (its intake row long forgotten)."""
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    columns = OrderIntake.__table__.c
    values = {
        "order_id": order_id,
        "channel": channel,
        "workflow_input": workflow_input,
        "received_at": received_at,
        "attempts": 0,
        "next_attempt_at": first_try,
    }
    recorded = exists().where(OrderRecord.order_id == order_id)
    new_row = select(*(literal(value, columns[name].type) for name, value in values.items())).where(~recorded)
    # RETURNING, not rowcount: the driver's rowcount is not to be relied on here (psycopg says -1).
    kept = session.scalar(
        insert(OrderIntake).from_select(list(values), new_row).on_conflict_do_nothing().returning(OrderIntake.order_id)
    )
    return kept is not None


def waiting(session: Session, order_id: str) -> Waiting | None:
    row = session.get(OrderIntake, order_id)
    if row is None:
        return None
    return Waiting(row.order_id, row.workflow_input, row.received_at, row.started_at, row.attempts)


def anything_due(session: Session, now: datetime) -> bool:
    """One look on the index: whether a sweep has work (so an idle sweeper takes no write lock)."""
    due = select(OrderIntake.order_id).where(OrderIntake.started_at.is_(None), OrderIntake.next_attempt_at <= now)
    return session.scalar(due.limit(1)) is not None


def claim_due(session: Session, now: datetime, lease: timedelta, limit: int) -> list[Waiting]:
    """Claim up to `limit` rows not started whose time has come, oldest first: each one's next try
    moves to now + lease and its attempts go up by one. The caller commits at once. PostgreSQL
    skips rows another sweeper has locked, and the UPDATE checks the row again after any wait, so
    a row is claimed by one sweeper; SQLite's write lock does the same."""
    due = (
        select(OrderIntake.order_id)
        .where(OrderIntake.started_at.is_(None), OrderIntake.next_attempt_at <= now)
        .order_by(OrderIntake.next_attempt_at)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    claimed = session.execute(
        update(OrderIntake)
        .where(
            OrderIntake.order_id.in_(due.scalar_subquery()),
            OrderIntake.started_at.is_(None),
            OrderIntake.next_attempt_at <= now,
        )
        .values(next_attempt_at=now + lease, attempts=OrderIntake.attempts + 1)
        .returning(
            OrderIntake.order_id,
            OrderIntake.workflow_input,
            OrderIntake.received_at,
            OrderIntake.started_at,
            OrderIntake.attempts,
        ),
        execution_options={"synchronize_session": False},
    ).all()
    return sorted((Waiting(*row) for row in claimed), key=lambda row: row.received_at)


def mark_started(session: Session, order_ids: list[str], at: datetime) -> None:
    """Their workflows run (started now, or found started): no sweeper starts them again."""
    if order_ids:
        session.execute(
            update(OrderIntake)
            .where(OrderIntake.order_id.in_(order_ids), OrderIntake.started_at.is_(None))
            .values(started_at=at, last_error=None),
            execution_options={"synchronize_session": False},
        )


def put_off(session: Session, order_id: str, until: datetime, error: str) -> None:
    """A start that failed: tried again from `until`, with what went wrong."""
    session.execute(
        update(OrderIntake)
        .where(OrderIntake.order_id == order_id, OrderIntake.started_at.is_(None))
        .values(next_attempt_at=until, last_error=error[:ERROR_KEPT]),
        execution_options={"synchronize_session": False},
    )


def forget_started(session: Session, before: datetime) -> int:
    """Delete rows started before `before` (the order is in `orders` long since); how many."""
    gone = session.scalars(
        delete(OrderIntake)
        .where(OrderIntake.started_at.is_not(None), OrderIntake.started_at < before)
        .returning(OrderIntake.order_id),
        execution_options={"synchronize_session": False},
    ).all()
    return len(gone)


def backlog(session: Session) -> tuple[int, datetime | None]:
    """Rows not started, and when the oldest of them was taken (None: none waits)."""
    count, oldest = session.execute(
        select(func.count(), func.min(OrderIntake.received_at)).where(OrderIntake.started_at.is_(None))
    ).one()
    return int(count), oldest
