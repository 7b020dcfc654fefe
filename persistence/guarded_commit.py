"""On PostgreSQL, the guarded stock UPDATEs of an idempotent step travel with its COMMIT in one
round trip, so a hot SKU's row stays locked only while the server runs them, not while a busy client
process gets back to sending COMMIT. Elsewhere the statements simply run in order."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

import psycopg
from sqlalchemy import ColumnElement, update
from sqlalchemy.orm import Session

from persistence.models import StockLevel

_DEFERRED = "oms.deferred_stock_guards"
REFUSED = "OMS01"  # the SQLSTATE of oms_refuse_stock (migration 0003)


@dataclass(frozen=True)
class Guard:
    location_id: str
    sku: str
    quantity: int
    on_hand: int
    reserved: int
    condition_sql: str
    """The guard as SQL over stock_levels' columns, with %(q)s for the quantity."""
    condition: Callable[[int], ColumnElement[bool]]
    refusal: Callable[[str, int], Exception]
    at: datetime


def defer_guards(session: Session) -> None:
    """From now on in this transaction, guarded stock statements wait for `commit_with_guards`."""
    if session.get_bind().dialect.name == "postgresql":
        session.info[_DEFERRED] = []


def deferred(session: Session) -> list[Guard] | None:
    guards: list[Guard] | None = session.info.get(_DEFERRED)
    return guards


def run_guard_now(session: Session, guard: Guard) -> None:
    values: dict[str, object] = {"updated_at": guard.at}
    if guard.on_hand:
        values["on_hand"] = StockLevel.on_hand + guard.on_hand * guard.quantity
    if guard.reserved:
        values["reserved"] = StockLevel.reserved + guard.reserved * guard.quantity
    result = session.execute(
        update(StockLevel)
        .where(
            StockLevel.location_id == guard.location_id, StockLevel.sku == guard.sku, guard.condition(guard.quantity)
        )
        .values(**values),
        # Nothing here trusts a loaded StockLevel (stock_row re-reads): skip the ORM's bookkeeping.
        execution_options={"synchronize_session": False},
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise guard.refusal(guard.sku, guard.quantity)


def commit_with_guards(session: Session) -> None:
    """Flush, then send every deferred guard and COMMIT as one PostgreSQL request; a refused guard
    raises its refusal and nothing is committed."""
    guards = session.info.pop(_DEFERRED, None)
    session.flush()
    if not guards:
        session.commit()
        return
    statements, params = [], {}
    for n, guard in enumerate(guards):
        sets = [f"updated_at = %(at{n})s"]
        if guard.on_hand:
            sets.append(f"on_hand = on_hand + {guard.on_hand} * %(q{n})s")
        if guard.reserved:
            sets.append(f"reserved = reserved + {guard.reserved} * %(q{n})s")
        condition = guard.condition_sql.replace("%(q)s", f"%(q{n})s")
        # Only integers and this module's constant guard texts are formatted in; every value is bound.
        statement = (
            f"WITH moved AS (UPDATE stock_levels SET {', '.join(sets)} "  # noqa: S608
            f"WHERE location_id = %(loc{n})s AND sku = %(sku{n})s AND {condition} RETURNING 1) "
            f"SELECT CASE WHEN count(*) = 1 THEN 1 ELSE oms_refuse_stock({n}) END FROM moved"
        )
        statements.append(statement)
        params.update({f"at{n}": guard.at, f"q{n}": guard.quantity, f"loc{n}": guard.location_id})
        params[f"sku{n}"] = guard.sku
    raw = session.connection().connection.dbapi_connection
    assert isinstance(raw, psycopg.Connection)
    try:
        with psycopg.ClientCursor(raw) as cursor:
            cursor.execute("; ".join([*statements, "COMMIT"]), params)
    except psycopg.Error as exc:
        if exc.sqlstate == REFUSED and exc.diag.message_detail is not None:
            refused = guards[int(exc.diag.message_detail)]
            raise refused.refusal(refused.sku, refused.quantity) from None
        raise
    session.commit()  # the server already committed; this closes the session's transaction
