"""What a payment provider tells us happened to a payment outside our own steps (a refund made in
its dashboard, a chargeback, an authorization that lapsed): recorded on the payment and the order's
timeline, each once, under a key naming the provider's own id for it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from persistence.guarded_writes.idempotency import stored_key
from persistence.models import ActivityResult, PaymentRecord
from persistence.read_model import orders as order_store


def payment_by_ref(session: Session, provider: str, provider_ref: str) -> PaymentRecord | None:
    return session.scalar(
        select(PaymentRecord).where(PaymentRecord.provider == provider, PaymentRecord.provider_ref == provider_ref)
    )


def _first_time(session: Session, key: str, what: str) -> bool:
    """Claim `key` in this transaction; False when it was recorded before. Two deliveries at once
    both find it free: the second commit then breaks the key's primary key (ConcurrentWrite)."""
    key = stored_key(key)
    if session.get(ActivityResult, key) is not None:
        return False
    session.add(ActivityResult(key=key, result={"recorded": what}))
    return True


def note_given_back(
    session: Session, payment: PaymentRecord, ref: str, kind: str, amount_minor: int, detail: str, at: datetime
) -> bool:
    """Money given back outside our steps: counted as refunded (so a return never refunds it a
    second time) and put on the timeline, once per `ref`. True when recorded now."""
    if not _first_time(session, f"{payment.provider}:{ref}", kind):
        return False
    payment.refunded_minor += amount_minor
    payment.updated_at = at
    order_store.add_event(session, payment.order_id, kind, detail, at)
    return True


def note_provider_status(session: Session, payment: PaymentRecord, status: str, detail: str, at: datetime) -> bool:
    """A status the provider reports that changes what the order can do (an authorization expired
    or released outside our steps): on the timeline once per payment and status."""
    if not _first_time(session, f"{payment.provider}:{payment.provider_ref}:{status}", "status"):
        return False
    order_store.add_event(session, payment.order_id, "payment_status", detail, at)
    return True
