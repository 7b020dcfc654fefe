"""Returns in the database: the return record, the goods back on the shelf, the refund noted."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from domain.marketplace_returns import ChannelRefund
from domain.money import Money
from domain.outbound_events import EventType, money
from domain.returns import ReturnStatus
from domain.store_credit import CreditReason
from persistence.guarded_writes import order_payments
from persistence.guarded_writes.events_outbox import emit
from persistence.guarded_writes.inventory import adjust_on_hand
from persistence.guarded_writes.store_credit import issued_for_order, reversed_for_order, spends_for_order
from persistence.models import PaymentRecord, ReturnRecord, ShipmentRecord
from persistence.read_model import orders as order_store

UNCLAIMED = ("REJECTED", "CANCELLED", "EXPIRED")
"""Return states whose units are free to be asked back again (domain.return_lifecycle.ReturnState)."""


def returned_so_far(session: Session, order_id: str) -> dict[str, int]:
    """Units returned or claimed by a return still open, per SKU: what may no longer be asked back.
    A rejected, cancelled or expired request claims nothing (an expired one that is received late
    counts again from its receipt)."""
    units: dict[str, int] = {}
    claims = select(ReturnRecord.lines).where(
        ReturnRecord.order_id == order_id, ReturnRecord.state.is_(None) | ReturnRecord.state.not_in(UNCLAIMED)
    )
    for lines in session.scalars(claims):
        for sku, quantity in lines.items():
            units[sku] = units.get(sku, 0) + quantity
    return units


def shipped_units(session: Session, order_id: str) -> dict[str, int]:
    """Units that left to the customer per SKU: shipments handed over (shipped or collected), less
    what a transfer to a pickup store that never got collected still holds."""
    units: dict[str, int] = {}
    for shipment in session.scalars(
        select(ShipmentRecord).where(ShipmentRecord.order_id == order_id, ShipmentRecord.shipped_at.is_not(None))
    ):
        if shipment.kind != "delivery" and shipment.collected_at is None:
            continue  # click & collect: with the customer only once collected
        for sku, quantity in shipment.lines.items():
            units[sku] = units.get(sku, 0) + quantity
    return units


def shipped_from(session: Session, order_id: str, sku: str) -> str | None:
    """The location that shipped (or handed over) this SKU of the order: the goods go back there."""
    for shipment in session.scalars(
        select(ShipmentRecord)
        .where(ShipmentRecord.order_id == order_id, ShipmentRecord.shipped_at.is_not(None))
        .order_by(ShipmentRecord.created_at)
    ):
        if shipment.lines.get(sku):
            return shipment.transfer_to or shipment.location_id
    return None


def accept_return(
    session: Session,
    *,
    order_id: str,
    return_id: str,
    lines: Mapping[str, int],
    reason: str,
    refund: Money,
    requested_by: str,
    restock: bool,
    at: datetime,
    restock_at: str | None = None,
) -> ReturnRecord:
    """Record the return and, when `restock`, put the units back on hand where they were shipped
    from (ledger kind "return"), in one transaction. A second call with the same id changes nothing."""
    existing = session.get(ReturnRecord, return_id)
    if existing is not None:
        return existing
    record = ReturnRecord(
        return_id=return_id,
        order_id=order_id,
        status=ReturnStatus.ACCEPTED,
        lines=dict(lines),
        reason=reason,
        currency=refund.currency,
        refund_minor=refund.amount_minor,
        requested_by=requested_by,
        created_at=at,
    )
    session.add(record)
    placed = []
    for sku, quantity in sorted(lines.items()):
        location = (restock_at or shipped_from(session, order_id, sku)) if restock else None
        if location is not None:
            adjust_on_hand(session, location, sku, quantity, kind="return", reason=return_id, order_id=order_id)
            placed.append(f"{quantity} x {sku} back at {location}")
    what = ", ".join(f"{quantity} x {sku}" for sku, quantity in sorted(lines.items()))
    detail = f"{return_id}: {what}" + (f" ({reason})" if reason else "")
    order_store.add_event(session, order_id, "return_accepted", detail, at)
    if placed:
        order_store.add_event(session, order_id, "restocked", "; ".join(placed), at)
    session.flush()
    return record


def note_refund(
    session: Session, return_id: str, payment: PaymentRecord | None, amount: Money, how: str, at: datetime
) -> None:
    """The refund made (payment given: through our gateway, status REFUNDED) or left to the channel
    that took the money (status REFUND_ON_CHANNEL)."""
    if payment is not None:
        payment.refunded_minor += amount.amount_minor
        payment.updated_at = at
    note_refunds(session, return_id, None if payment is None else [(payment, amount)], amount, how, at)


def note_refunds(
    session: Session,
    return_id: str,
    taken: Sequence[tuple[PaymentRecord, Money]] | None,
    amount: Money,
    how: str,
    at: datetime,
) -> None:
    """The refund made through our gateway, booked on its payments already (`taken`: each part and
    its payment; status REFUNDED), or left to the channel that took the money (None: status
    REFUND_ON_CHANNEL). One line on the timeline; naming each payment when it drew on several."""
    record = session.get(ReturnRecord, return_id)
    assert record is not None, return_id
    if taken is None:
        record.status = ReturnStatus.REFUND_ON_CHANNEL
    else:
        record.status, record.refunded_at = ReturnStatus.REFUNDED, at
    detail = f"{return_id}: {amount.format()} {how}"
    if taken is not None and (len(taken) > 1 or any(order_payments.is_extra(p) for p, _ in taken)):
        detail += " (" + ", ".join(f"{part.format()} through {p.payment_id}" for p, part in taken) + ")"
    order_store.add_event(session, record.order_id, "refunded", detail, at)


def note_difference(session: Session, return_id: str, amount: Money, status: str) -> None:
    """The difference an exchange asked of the customer's card, and how it went (AUTHORIZED,
    DECLINED, REJECTED); once charged, its payment (order_payments.difference_payment) tells on."""
    record = session.get(ReturnRecord, return_id)
    assert record is not None, return_id
    record.difference_minor, record.difference_status = amount.amount_minor, status


def set_refund(session: Session, return_id: str, amount: Money, *, add: bool = False) -> None:
    """What the return gave back in money (the gateway's refund, or the channel's to make; all of it
    as credit for a CREDITED one): an exchange's difference, or the gateway's part of a split;
    `add`: a further refund of it (an exchange's replacement units given back), on top."""
    record = session.get(ReturnRecord, return_id)
    assert record is not None, return_id
    record.refund_minor = (record.refund_minor if add else 0) + amount.amount_minor


def note_credited(session: Session, return_id: str, at: datetime) -> None:
    """The return was settled in store credit only (the credit's own event is on the timeline)."""
    record = session.get(ReturnRecord, return_id)
    assert record is not None, return_id
    record.status, record.refunded_at = ReturnStatus.CREDITED, at


def credit_paid_left(session: Session, order_id: str) -> int:
    """Minor units of the order's store-credit spend not yet given back as credit by its returns:
    the most a return may still give back as credit when the gateway has nothing left (a cancelled
    order, whose spend went back whole, has no returns; an edit that lowered the order below its
    credit gave that part back already)."""
    spent = sum(entry.amount.amount_minor for _, entry in spends_for_order(session, order_id))
    if spent == 0:
        return 0
    spent -= reversed_for_order(session, order_id)
    return max(0, spent - issued_for_order(session, order_id, [CreditReason.RETURN.value]))


def returns_for(session: Session, order_id: str) -> list[ReturnRecord]:
    return list(
        session.scalars(select(ReturnRecord).where(ReturnRecord.order_id == order_id).order_by(ReturnRecord.created_at))
    )


def record_channel_refund(session: Session, refund: ChannelRefund, order_id: str, at: datetime) -> bool:
    """A refund the channel made itself, as a return of its units (status REFUND_ON_CHANNEL, the amount
    it paid back) and a line on the timeline; False when it is recorded already (a redelivery). No
    stock moves: the goods count as back only when they reach one of our locations."""
    if session.get(ReturnRecord, refund.return_id) is not None:
        return False
    session.add(
        ReturnRecord(
            return_id=refund.return_id,
            order_id=order_id,
            status=ReturnStatus.REFUND_ON_CHANNEL,
            lines=dict(refund.units),
            reason=refund.note,
            currency=refund.amount.currency,
            refund_minor=refund.amount.amount_minor,
            requested_by=refund.channel,
            created_at=at,
            refunded_at=at,
            source=refund.channel,
            external_rma=refund.refund_id,
        )
    )
    order_store.add_event(session, order_id, "refunded_on_channel", refund.describe(), at)
    data = {
        "order_id": order_id,
        "amount": money(refund.amount.amount_minor, refund.amount.currency),
        "payments": [],
        "source": refund.channel,
        "return_id": refund.return_id,
    }
    emit(session, EventType.REFUND_ISSUED, data, ordering_key=order_id, at=at)
    session.flush()
    return True


def exchanges_waiting(session: Session, skus: set[str] | None) -> list[str]:
    """The returns whose exchange may wait for its replacement to come in stock (disposed, resolved
    as an exchange, not settled yet: before its first shipment, or for units of it that did not leave)
    and wants one of `skus` (None: any): a restock of one of them is worth a try, so the stock feed
    wakes them as it wakes backordered orders (one shipping its replacement ignores the signal)."""
    waiting = session.scalars(
        select(ReturnRecord).where(ReturnRecord.resolution == "exchange", ReturnRecord.state == "DISPOSED")
    )
    return [
        record.return_id
        for record in waiting
        if skus is None or any(line.get("sku") in skus for line in record.replacement or ())
    ]
