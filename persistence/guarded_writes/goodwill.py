"""Goodwill on an order, checked and reserved under the order row's lock: what was captured, what
went back (refunds, credit given in place of money, goodwill still under way) are read by one
transaction no other goodwill request can interleave with, so two at once never give back more
than was taken (domain.goodwill.check_goodwill decides)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from domain.goodwill import GoodwillForm, GoodwillRefusalKind, GoodwillRefused, check_goodwill
from domain.money import Money
from domain.status import OrderStatus
from domain.store_credit import CreditEntryKind, CreditReason
from persistence.guarded_writes import order_payments
from persistence.guarded_writes.store_credit import issued_for_order
from persistence.models import GoodwillRecord, OrderEvent, OrderRecord, ReturnRecord, StoreCreditEntry

RESERVED = "RESERVED"
GIVEN_BACK_AS_CREDIT = (CreditReason.RETURN, CreditReason.REFUND, CreditReason.GOODWILL, CreditReason.EXCHANGE)
_SHIPPED = (OrderStatus.SHIPPED.value, OrderStatus.COMPLETED.value)


class RefundOnChannel(Exception):
    """The channel took the money (a marketplace, a POS): a refund is the channel's to make."""


@dataclass(frozen=True)
class Reserved:
    record: GoodwillRecord
    new: bool


def _credit_paid(session: Session, order_id: str) -> int:
    """What store credit paid of the order, less what went back to the account."""
    rows = session.execute(
        select(StoreCreditEntry.kind, func.sum(StoreCreditEntry.amount_minor))
        .where(
            StoreCreditEntry.order_id == order_id,
            StoreCreditEntry.kind.in_([CreditEntryKind.SPEND.value, CreditEntryKind.REVERSE.value]),
        )
        .group_by(StoreCreditEntry.kind)
    )
    sums = {kind: int(total or 0) for kind, total in rows}
    return sums.get(CreditEntryKind.SPEND.value, 0) - sums.get(CreditEntryKind.REVERSE.value, 0)


def _pending(session: Session, order_id: str, form: GoodwillForm | None = None) -> int:
    query = select(func.coalesce(func.sum(GoodwillRecord.amount_minor), 0)).where(
        GoodwillRecord.order_id == order_id, GoodwillRecord.status == RESERVED
    )
    if form is not None:
        query = query.where(GoodwillRecord.form == form.value)
    return int(session.scalar(query) or 0)


def _refunded_on_channel(session: Session, order_id: str) -> int:
    query = select(func.coalesce(func.sum(ReturnRecord.refund_minor), 0)).where(
        ReturnRecord.order_id == order_id, ReturnRecord.status == "REFUND_ON_CHANNEL"
    )
    return int(session.scalar(query) or 0)


def left_to_give_back(session: Session, order_id: str) -> int | None:
    """What can still go back to the customer of an order paid through our gateway: captured over
    all its payments plus what store credit paid, less everything given back (refunds, credit given
    in place of money, goodwill under way). None: no payment of ours (the channel took the money,
    or credit alone paid it)."""
    payments = order_payments.captured_and_refunded(session, order_id)
    if payments is None:
        return None
    given_back = payments[1] + issued_for_order(session, order_id, [reason.value for reason in GIVEN_BACK_AS_CREDIT])
    return payments[0] + _credit_paid(session, order_id) - given_back - _pending(session, order_id)


def reserve(
    session: Session,
    *,
    goodwill_id: str,
    order_id: str,
    form: GoodwillForm,
    amount: Money,
    reason: str,
    given_by: str,
    at: datetime,
) -> Reserved | None:
    """Check and hold the goodwill (None: no such order). A repeated goodwill id answers what was
    reserved the first time. GoodwillRefused says why not; RefundOnChannel for a refund of money
    the channel took."""
    order = session.scalar(select(OrderRecord).where(OrderRecord.order_id == order_id).with_for_update())
    if order is None:
        return None
    existing = session.get(GoodwillRecord, goodwill_id)
    if existing is not None:
        return Reserved(existing, False)
    payments = order_payments.captured_and_refunded(session, order_id)  # over all the order's payments
    credit_paid = _credit_paid(session, order_id)
    if payments is not None:
        captured = payments[0] + credit_paid
        given_back = payments[1]
    elif order.payment_collected:
        captured = order.total_minor
        given_back = _refunded_on_channel(session, order_id)
    else:
        captured = credit_paid
        given_back = 0
    given_back += issued_for_order(session, order_id, [reason.value for reason in GIVEN_BACK_AS_CREDIT])
    given_back += _pending(session, order_id)
    goodwill = check_goodwill(
        form,
        amount,
        reason,
        shipped=order.status in _SHIPPED,
        captured=Money(captured, order.currency),
        given_back=Money(given_back, order.currency),
    )
    if form is GoodwillForm.REFUND:
        if payments is None:
            raise RefundOnChannel(f"{order.channel} took the money for this order: refund on the channel")
        left = payments[0] - payments[1] - _pending(session, order_id, GoodwillForm.REFUND)
        if amount.amount_minor > left:
            most = Money(max(0, left), order.currency)
            raise GoodwillRefused(
                GoodwillRefusalKind.TOO_MUCH,
                f"{amount.format()} asked, but only {most.format()} can go back through the payment provider "
                "(the rest was paid with store credit: give it as credit)",
                most=most,
            )
    record = GoodwillRecord(
        goodwill_id=goodwill_id,
        order_id=order_id,
        form=form.value,
        amount_minor=amount.amount_minor,
        currency=amount.currency,
        reason=goodwill.reason,
        given_by=given_by,
        status=RESERVED,
        detail="",
        created_at=at,
    )
    session.add(record)
    asked = f"{amount.format()} as {form.value} by {given_by}: {goodwill.reason}"
    session.add(OrderEvent(order_id=order_id, kind="goodwill:requested", detail=asked, at=at))
    session.flush()
    return Reserved(record, True)


def close(session: Session, goodwill_id: str, status: str, detail: str, at: datetime) -> GoodwillRecord:
    """Mark the goodwill done (REFUNDED, CREDITED) or REFUSED, on the order's timeline with who and why."""
    record = session.get(GoodwillRecord, goodwill_id, with_for_update=True)
    assert record is not None, goodwill_id
    record.status, record.detail, record.done_at = status, detail, at
    amount = Money(record.amount_minor, record.currency)
    kind = "goodwill" if status != "REFUSED" else "goodwill:refused"
    text = f"{amount.format()} {detail} by {record.given_by}: {record.reason}"
    session.add(OrderEvent(order_id=record.order_id, kind=kind, detail=text, at=at))
    return record
