"""An order that slipped past the edge and cannot be stored as sent is kept visible, ON_HOLD with a
readable reason (a placeholder: every field that fits, no lines), instead of failing the record
step on every retry forever. The same on SQLite (which would keep long text) as on PostgreSQL."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import DataError
from temporalio.testing import ActivityEnvironment

import activities.orders
from activities.orders import OrderActivities
from contracts.order_records import RecordOrderInput, RecordOrderResult
from domain import limits
from domain.money import Money
from domain.order import Order
from domain.status import OrderStatus
from persistence.models import OrderRecord
from persistence.read_model import orders as order_store
from persistence.storage_errors import describe, is_permanent
from persistence.unit_of_work import UnitOfWork
from tests.factories import make_order

EMAIL = "someone.with.a.very.long.address@example.com"


def _record(db, order: Order) -> RecordOrderResult:
    result: RecordOrderResult = ActivityEnvironment().run(
        OrderActivities(db.session_factory).record_order, RecordOrderInput(order, datetime.now(UTC))
    )
    return result


def _unstorable() -> Order:
    order = make_order([("MUG", 2, 1250)])
    return dataclasses.replace(order, reference="R" * 101, customer_email=EMAIL + "x" * 300)


def test_an_order_its_columns_cannot_hold_is_kept_on_hold_naming_what_does_not_fit(database):
    order = _unstorable()
    result = _record(database, order)
    assert result.created
    assert result.hold_reason == limits.unstorable_reason(
        ["reference: at most 100 characters, got 101", "customer_email: at most 320 characters, got 344"]
    )
    with database.session() as session:
        record = order_store.get_order(session, order.order_id)
        assert record is not None
        assert (record.status, record.hold_reason) == (OrderStatus.ON_HOLD.value, result.hold_reason)
        assert (record.reference, record.customer_email, record.lines) == ("", "", [])
        assert (record.external_id, record.total_minor) == (order.external_id, order.total.amount_minor)
        assert [e.kind for e in order_store.order_events(session, order.order_id)] == ["received", "status:ON_HOLD"]
        listed, _ = order_store.list_orders(session, status=OrderStatus.ON_HOLD.value)
        assert [row.order_id for row in listed] == [order.order_id]
    assert EMAIL not in (result.hold_reason or "")  # the customer's address is not repeated


def test_recording_it_again_keeps_the_one_placeholder_on_hold(database):
    order = _unstorable()
    first = _record(database, order)
    again = _record(database, order)
    assert (again.created, again.hold_reason) == (False, first.hold_reason)
    with database.session() as session:
        assert session.scalar(select(func.count()).select_from(OrderRecord)) == 1
        record = order_store.get_order(session, order.order_id)
        assert record is not None and record.status == OrderStatus.ON_HOLD.value and record.lines == []


def test_a_placeholder_is_completed_once_the_order_can_be_stored(database):
    order = _unstorable()
    _record(database, order)
    fixed = dataclasses.replace(order, reference="#1001", customer_email=EMAIL)
    result = _record(database, fixed)
    assert (result.created, result.hold_reason) == (True, None)
    with database.session() as session:
        record = order_store.get_order(session, order.order_id)
        assert record is not None
        assert (record.reference, record.customer_email) == ("#1001", EMAIL)
        assert [(line.sku, line.quantity) for line in record.lines] == [("MUG", 2)]
        # Still on hold until the workflow's validation lets it go on (or holds it for another reason).
        assert record.status == OrderStatus.ON_HOLD.value
        assert order_store.order_events(session, order.order_id)[-1].kind == "recorded"
    assert _record(database, fixed).created is False  # and then it is an ordinary recorded order


def test_a_limit_the_edge_check_does_not_know_is_caught_from_the_database(database, monkeypatch):
    """Defence in depth: a column narrower than the check (a future migration, a forgotten field)."""
    monkeypatch.setattr(activities.orders, "order_limit_refusals", lambda order: [])
    order = dataclasses.replace(make_order([("MUG", 1, 1250)]), total=Money(2**63, "EUR"))
    result = _record(database, order)
    assert result.hold_reason is not None and result.hold_reason.startswith("cannot be stored as sent (")
    if database.kind == "postgresql":
        assert "orders.total_minor: 9223372036854775808 does not fit a 64-bit integer column" in result.hold_reason
    with database.session() as session:
        record = order_store.get_order(session, order.order_id)
        assert record is not None
        assert (record.status, record.total_minor, record.lines) == (OrderStatus.ON_HOLD.value, 0, [])


def test_a_refused_write_is_described_by_its_column_never_its_value(database):
    order = dataclasses.replace(make_order([("MUG", 1, 1250)]), customer_email=EMAIL + "x" * 400)
    if database.kind == "sqlite":
        order = dataclasses.replace(order, total=Money(2**63, "EUR"))  # SQLite keeps long text
    with pytest.raises(Exception) as refused, UnitOfWork(database.session_factory) as uow:
        order_store.record_order(uow.session, order, datetime.now(UTC))
        uow.commit()
    assert is_permanent(refused.value)
    text = describe(refused.value)
    assert EMAIL not in text
    if database.kind == "postgresql":
        assert isinstance(refused.value, DataError)
        assert text == "orders.customer_email: 444 characters, the column holds 320"
    else:
        assert text == "the database refused a value: Python int too large to convert to SQLite INTEGER"
