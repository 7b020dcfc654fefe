"""Payment links in the read model: opened, then settled once (paid, expired, cancelled), each on
the order's timeline. A paid link becomes an extra payment of the order (purpose
exchange_difference, with its return: as a difference charged on a card is; or edit_increase, for an
order edit whose owner is the order), AUTHORIZED as a payment taken at Mollie's checkout is: the
return (or the order's final capture) captures it when the goods leave (a no-op on money Mollie took
at once) or gives it back when nothing leaves. The return's difference says how it went."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from domain.money import Money
from domain.payment_links import LinkStatus, settle
from domain.payments import PaymentPurpose, PaymentStatus
from persistence.models import PaymentLinkRecord, PaymentRecord, ReturnRecord
from persistence.read_model import orders as order_store
from persistence.read_model.returns import note_difference

AWAITING_PAYMENT = "AWAITING_PAYMENT"
"""The return's difference while its link waits for the customer."""

_SAID = {
    LinkStatus.EXPIRED: "payment_link_expired",
    LinkStatus.CANCELLED: "payment_link_cancelled",
}


def add_link(
    session: Session,
    *,
    link_id: str,
    order_id: str,
    owner: str,
    purpose: str,
    provider: str,
    url: str,
    amount: Money,
    expires_at: datetime,
    at: datetime,
    payment_id: str | None = None,
) -> PaymentLinkRecord:
    """The link opened (once: a repeated id finds the first record); `payment_id`: the order's
    payment it becomes once paid. The return's difference is AWAITING_PAYMENT meanwhile."""
    record = session.get(PaymentLinkRecord, link_id)
    if record is not None:
        return record
    record = PaymentLinkRecord(
        link_id=link_id,
        order_id=order_id,
        owner=owner,
        purpose=purpose,
        provider=provider,
        url=url,
        status=LinkStatus.OPEN.value,
        currency=amount.currency,
        amount_minor=amount.amount_minor,
        expires_at=expires_at,
        payment_id=payment_id,
        created_at=at,
        updated_at=at,
    )
    session.add(record)
    if session.get(ReturnRecord, owner) is not None:
        note_difference(session, owner, amount, AWAITING_PAYMENT)
    until = f"{expires_at:%Y-%m-%d %H:%M} UTC"
    detail = f"{owner}: {amount.format()} asked of the customer by {provider} payment link, until {until}"
    order_store.add_event(session, order_id, "payment_link_opened", detail, at)
    return record


def link(session: Session, link_id: str, *, for_update: bool = False) -> PaymentLinkRecord | None:
    query = select(PaymentLinkRecord).where(PaymentLinkRecord.link_id == link_id)
    return session.scalar(query.with_for_update() if for_update else query)


def links_of(session: Session, owner: str) -> list[PaymentLinkRecord]:
    """The links a return (or other owner) opened, oldest first."""
    query = select(PaymentLinkRecord).where(PaymentLinkRecord.owner == owner)
    return list(session.scalars(query.order_by(PaymentLinkRecord.created_at, PaymentLinkRecord.link_id)))


def open_links(session: Session, provider: str, amount: Money | None = None) -> list[PaymentLinkRecord]:
    """The provider's links still waiting for the customer (of `amount`, when given)."""
    query = select(PaymentLinkRecord).where(
        PaymentLinkRecord.provider == provider, PaymentLinkRecord.status == LinkStatus.OPEN.value
    )
    if amount is not None:
        query = query.where(
            PaymentLinkRecord.amount_minor == amount.amount_minor, PaymentLinkRecord.currency == amount.currency
        )
    return list(session.scalars(query.order_by(PaymentLinkRecord.created_at)))


def _payment_purpose(link_purpose: str) -> PaymentPurpose:
    """What the payment a paid link becomes pays for: an order edit's increase, else an exchange's difference."""
    if link_purpose == PaymentPurpose.EDIT_INCREASE.value:
        return PaymentPurpose.EDIT_INCREASE
    return PaymentPurpose.EXCHANGE_DIFFERENCE


def payment_id_for(record: PaymentLinkRecord) -> str:
    return f"payment-{record.order_id}-{record.link_id}"


def settle_link(
    session: Session, record: PaymentLinkRecord, seen: LinkStatus, provider_payment: str | None, at: datetime
) -> tuple[LinkStatus, bool]:
    """Record what the provider shows (domain.payment_links.settle): the status now, and whether
    it changed. Paid: the payment recorded (captured), on the timeline; a payment that came after
    the link was recorded expired or cancelled is recorded too, with a note for a person (what it
    paid for was given up: the money is to go back)."""
    current = LinkStatus(record.status)
    status = settle(current, seen)
    if status is current:
        return current, False
    record.status, record.updated_at = status.value, at
    amount = Money(record.amount_minor, record.currency)
    is_return = session.get(ReturnRecord, record.owner) is not None
    if status is LinkStatus.PAID:
        record.payment_id = record.payment_id or payment_id_for(record)
        session.add(
            PaymentRecord(
                payment_id=record.payment_id,
                order_id=record.order_id,
                provider=record.provider,
                provider_ref=provider_payment or record.link_id,
                status=PaymentStatus.AUTHORIZED,
                currency=record.currency,
                authorized_minor=record.amount_minor,
                purpose=_payment_purpose(record.purpose).value,
                return_id=record.owner if is_return else None,
                created_at=at,
                updated_at=at,
            )
        )
        if is_return:
            note_difference(session, record.owner, amount, PaymentStatus.AUTHORIZED.value)
        late = "" if current is LinkStatus.OPEN else f" after the link {current.value}: refund it by hand"
        detail = f"{record.owner}: {amount.format()} paid through the payment link{late}"
        order_store.add_event(session, record.order_id, "payment_link_paid", detail, at)
    else:
        if is_return:
            note_difference(session, record.owner, amount, status.value.upper())
        detail = f"{record.owner}: {amount.format()} not paid, the payment link {status.value}"
        order_store.add_event(session, record.order_id, _SAID[status], detail, at)
    return status, True
