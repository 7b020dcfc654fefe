"""On PostgreSQL an idempotent step's stock writes travel with its COMMIT in one request: its ledger
and outbox rows, its idempotency record, then its guarded stock UPDATEs, then COMMIT. A hot SKU's
row stays locked only while the server runs the tail of that request, not while a busy client
process gets round to sending the next statement; a refused guard raises on the server and the
COMMIT never happens. Elsewhere (SQLite, and any write outside an idempotent step) every statement
runs at once, in the same order."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import psycopg
from psycopg.types.json import Jsonb
from sqlalchemy import ColumnElement, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from persistence.models import StockLevel

_BATCH = "oms.guarded_commit_batch"
REFUSED = "OMS01"  # the SQLSTATE of oms_refuse_stock (migration 0003)

INSERT_MOVEMENT = (
    "INSERT INTO stock_movements (location_id, sku, kind, on_hand_delta, reserved_delta, order_id, reason, "
    "created_at) VALUES (%s, %s, %s, %s, %s, %s, %s, %s)"
)
INSERT_OUTBOX = "INSERT INTO stock_outbox (sku, created_at, attempts) VALUES (%s, %s, 0)"
INSERT_RESULT = "INSERT INTO activity_results (key, result, created_at) VALUES (%s, %s, %s)"


@dataclass(frozen=True)
class Guard:
    location_id: str
    sku: str
    quantity: int
    on_hand: int
    reserved: int
    condition_sql: str
    """The guard over stock_levels' columns, with {q} for the quantity."""
    condition: Callable[[int], ColumnElement[bool]]
    refusal: Callable[[str, int], Exception]
    at: datetime


@dataclass
class Batch:
    inserts: list[tuple[str, tuple[Any, ...]]] = field(default_factory=list)
    guards: list[Guard] = field(default_factory=list)


def defer_writes(session: Session) -> None:
    """From now on in this transaction, stock writes wait for `commit_with_guards` (PostgreSQL)."""
    if session.get_bind().dialect.name == "postgresql":
        session.info[_BATCH] = Batch()


def batch(session: Session) -> Batch | None:
    pending: Batch | None = session.info.get(_BATCH)
    return pending


def json_value(value: Any) -> Any:
    return Jsonb(value)


def run_guard_now(session: Session, guard: Guard) -> None:
    values: dict[str, object] = {"updated_at": guard.at}
    if guard.on_hand:
        values["on_hand"] = StockLevel.on_hand + guard.on_hand * guard.quantity
    if guard.reserved:
        values["reserved"] = StockLevel.reserved + guard.reserved * guard.quantity
    result = session.execute(
        update(StockLevel)
        .where(
            StockLevel.location_id == guard.location_id,
            StockLevel.sku == guard.sku,
            guard.condition(guard.quantity),
        )
        .values(**values),
        # Nothing here trusts a loaded StockLevel (stock_row re-reads): skip the ORM's bookkeeping.
        execution_options={"synchronize_session": False},
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise guard.refusal(guard.sku, guard.quantity)


def _guard_statement(n: int, guard: Guard) -> str:
    # Only integers and this module's constant guard texts are formatted in; every string is bound.
    quantity = int(guard.quantity)
    sets = ["updated_at = %s"]
    if guard.on_hand:
        sets.append(f"on_hand = on_hand + {int(guard.on_hand) * quantity}")
    if guard.reserved:
        sets.append(f"reserved = reserved + {int(guard.reserved) * quantity}")
    condition = guard.condition_sql.format(q=quantity)
    return (
        f"WITH moved AS (UPDATE stock_levels SET {', '.join(sets)} "  # noqa: S608
        f"WHERE location_id = %s AND sku = %s AND {condition} RETURNING 1) "
        f"SELECT CASE WHEN count(*) = 1 THEN 1 ELSE oms_refuse_stock({n}) END FROM moved"
    )


def commit_with_guards(session: Session) -> None:
    """Flush the ORM's pending rows, then send the step's batch and COMMIT as one request. Raises a
    refused guard's refusal, or IntegrityError (e.g. the step's key is taken), committing nothing."""
    pending = session.info.pop(_BATCH, None)
    session.flush()
    if pending is None or not (pending.inserts or pending.guards):
        session.commit()
        return
    statements: list[str] = []
    params: list[Any] = []
    for sql, values in pending.inserts:
        statements.append(sql)
        params.extend(values)
    for n, guard in enumerate(pending.guards):
        statements.append(_guard_statement(n, guard))
        params.extend((guard.at, guard.location_id, guard.sku))
    raw = session.connection().connection.dbapi_connection
    assert isinstance(raw, psycopg.Connection)
    try:
        with psycopg.ClientCursor(raw) as cursor:
            cursor.execute("; ".join([*statements, "COMMIT"]), params)
    except psycopg.errors.IntegrityError as exc:
        raise IntegrityError("; ".join(statements), params, exc) from None
    except psycopg.Error as exc:
        if exc.sqlstate == REFUSED and exc.diag.message_detail is not None:
            refused = pending.guards[int(exc.diag.message_detail)]
            raise refused.refusal(refused.sku, refused.quantity) from None
        raise
    session.commit()  # the server already committed; this closes the session's transaction
