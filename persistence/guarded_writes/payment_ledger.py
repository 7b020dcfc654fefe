"""Every change of a payment's captured, refunded or voided total also writes a dated movement,
in the same flush: the payments table keeps running totals only, and the books must say on which
day money moved (the reconciliation of what was captured and refunded against what was booked).

A `before_flush` hook on the session factory sees each payment whose totals changed, so none of the
several writers (a capture, a refund spread over payments, a marketplace's refund, money given back
outside our steps) can forget it. The movement takes the payment's `updated_at`, which every writer
sets to the moment of the change (the step's time), so a capture and the invoice it issues fall on
the same day.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import event, inspect
from sqlalchemy.orm import Session

from persistence.db import SessionFactory
from persistence.models import PaymentMovement, PaymentRecord, utcnow

MOVEMENTS = (("captured_minor", "captured"), ("refunded_minor", "refunded"), ("voided_minor", "voided"))


def _moved(payment: PaymentRecord, column: str, new: bool) -> int:
    history = inspect(payment).attrs[column].history
    if not history.has_changes():
        return 0
    after = int(history.added[0] or 0) if history.added else int(getattr(payment, column) or 0)
    before = 0 if new or not history.deleted else int(history.deleted[0] or 0)
    return after - before


def _note_movements(session: Session, _context: Any, _instances: Any) -> None:
    for payment, new in [*((p, True) for p in session.new), *((p, False) for p in session.dirty)]:
        if not isinstance(payment, PaymentRecord):
            continue
        at = payment.updated_at or utcnow()
        for column, kind in MOVEMENTS:
            amount = _moved(payment, column, new)
            if amount:
                session.add(
                    PaymentMovement(
                        payment_id=payment.payment_id,
                        order_id=payment.order_id,
                        kind=kind,
                        amount_minor=amount,
                        currency=payment.currency,
                        at=at,
                    )
                )


def install(session_factory: SessionFactory) -> None:
    event.listen(session_factory, "before_flush", _note_movements)
