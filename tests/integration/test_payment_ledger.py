"""The dated payment ledger against real SQLite and PostgreSQL: every change of a payment's captured,
refunded or voided total writes a movement at the change's time in the same flush, whichever writer
made it; a rolled-back change leaves none."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from domain.money import Money
from persistence.guarded_writes.order_payments import plan_refund, take_refunds
from persistence.models import PaymentMovement, PaymentRecord
from persistence.read_model import orders as order_store
from tests.conftest import TestDatabase
from tests.factories import make_order

AT = datetime(2026, 12, 7, 23, 30, tzinfo=UTC)


def _movements(db: TestDatabase) -> list[tuple[str, str, int, datetime]]:
    with db.session() as session:
        rows = session.scalars(select(PaymentMovement).order_by(PaymentMovement.id))
        return [(row.payment_id, row.kind, row.amount_minor, row.at) for row in rows]


def test_captures_refunds_and_voids_are_dated_movements(database):
    order = make_order([("SKU-A", 2, 1000)], shipping_minor=0)
    payment_id = f"payment-{order.order_id}"
    with database.session() as session, session.begin():
        order_store.record_order(session, order, AT)
        session.add(
            PaymentRecord(
                payment_id=payment_id,
                order_id=order.order_id,
                provider="sandbox",
                provider_ref="ref-1",
                status="AUTHORIZED",
                currency="EUR",
                authorized_minor=2000,
                created_at=AT,
                updated_at=AT,
            )
        )
    assert _movements(database) == []  # an authorization moves no money
    captured_at = AT + timedelta(minutes=20)
    with database.session() as session, session.begin():
        payment = session.get(PaymentRecord, payment_id)
        assert payment is not None
        payment.captured_minor += 1500
        payment.voided_minor += 500
        payment.updated_at = captured_at
    refunded_at = captured_at + timedelta(days=1)
    with database.session() as session, session.begin():
        take_refunds(session, plan_refund(session, order.order_id, Money(700, "EUR")), refunded_at)
    with pytest.raises(RuntimeError), database.session() as session, session.begin():
        take_refunds(session, plan_refund(session, order.order_id, Money(100, "EUR")), refunded_at)
        raise RuntimeError("the refund's transaction failed")
    assert _movements(database) == [
        (payment_id, "captured", 1500, captured_at),
        (payment_id, "voided", 500, captured_at),
        (payment_id, "refunded", 700, refunded_at),
    ]
