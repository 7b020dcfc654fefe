"""An order's payments through our gateway, several per order: its own and any extra ones (an
exchange's difference). What a refund may still draw on each, and the refund spread over them by
domain.refund_spread, exact to the cent."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from domain.money import Money
from domain.outbound_events import EventType, money
from domain.payments import PaymentPurpose
from domain.refund_spread import PaymentLeft, refundable, spread_refund
from persistence.guarded_writes.events_outbox import emit
from persistence.models import PaymentRecord


@dataclass(frozen=True)
class RefundDraw:
    """One part of a refund and the payment it goes back through (read before the gateway call)."""

    payment_id: str
    provider: str
    provider_ref: str
    amount: Money
    extra: bool
    """Not the order's own payment: its gateway step gets a key of its own (see step_key)."""

    def step_key(self, key: str) -> str:
        """The gateway's idempotency key for this part: the refund's own key on the order's payment
        (as before an order could hold several, so a step retried across the change finds its
        refund), the key and the payment id on an extra one."""
        return f"{key}:{self.payment_id}" if self.extra else key


def payments_of(session: Session, order_id: str, *, lock: bool = False) -> list[PaymentRecord]:
    """The order's payments, oldest first (the order's own first); `lock`: FOR UPDATE."""
    query = select(PaymentRecord).where(PaymentRecord.order_id == order_id).order_by(PaymentRecord.created_at)
    if lock:
        query = query.with_for_update()
    return list(session.scalars(query))


def is_extra(payment: PaymentRecord) -> bool:
    return (payment.purpose or PaymentPurpose.ORDER.value) != PaymentPurpose.ORDER.value


def left_on(payments: Sequence[PaymentRecord]) -> list[PaymentLeft]:
    return [
        PaymentLeft(
            p.payment_id, Money(p.captured_minor - p.refunded_minor, p.currency), p.created_at, extra=is_extra(p)
        )
        for p in payments
    ]


def refundable_on(session: Session, order_id: str, currency: str) -> Money:
    """What may still go back through the order's payments together: captured less refunded."""
    return refundable(left_on(payments_of(session, order_id)), currency)


def captured_and_refunded(session: Session, order_id: str) -> tuple[int, int] | None:
    """Minor units captured and refunded over all the order's payments; None without a payment."""
    payments = payments_of(session, order_id)
    if not payments:
        return None
    return sum(p.captured_minor for p in payments), sum(p.refunded_minor for p in payments)


def plan_refund(session: Session, order_id: str, amount: Money) -> list[RefundDraw]:
    """`amount` (or as much of it as the payments still hold) spread over the order's payments, the
    newest extra payment first (domain.refund_spread)."""
    payments = payments_of(session, order_id)
    by_id = {p.payment_id: p for p in payments}
    return [
        RefundDraw(
            part.payment_id,
            by_id[part.payment_id].provider,
            by_id[part.payment_id].provider_ref,
            part.amount,
            is_extra(by_id[part.payment_id]),
        )
        for part in spread_refund(amount, left_on(payments))
    ]


def take_refunds(session: Session, draws: Sequence[RefundDraw], at: datetime) -> list[tuple[PaymentRecord, Money]]:
    """Book each part on its payment (under the row's lock): what the gateway gave back."""
    taken: list[tuple[PaymentRecord, Money]] = []
    for draw in draws:
        payment = session.get(PaymentRecord, draw.payment_id, with_for_update=True)
        assert payment is not None, draw.payment_id
        payment.refunded_minor += draw.amount.amount_minor
        payment.updated_at = at
        taken.append((payment, draw.amount))
    _emit_refund(session, taken, at)
    return taken


def _emit_refund(session: Session, taken: Sequence[tuple[PaymentRecord, Money]], at: datetime) -> None:
    """refund.issued for what went back through our gateway, with each payment's part."""
    if not taken or not sum(amount.amount_minor for _, amount in taken):
        return
    order_id, currency = taken[0][0].order_id, taken[0][1].currency
    data = {
        "order_id": order_id,
        "amount": money(sum(amount.amount_minor for _, amount in taken), currency),
        "payments": [
            {"payment_id": payment.payment_id, "amount": money(amount.amount_minor, amount.currency)}
            for payment, amount in taken
        ],
        "source": "gateway",
    }
    emit(session, EventType.REFUND_ISSUED, data, ordering_key=order_id, at=at)


def difference_payment(session: Session, return_id: str) -> PaymentRecord | None:
    """The payment that took an exchange's difference for this return, if one did."""
    return session.scalars(select(PaymentRecord).where(PaymentRecord.return_id == return_id).limit(1)).first()
