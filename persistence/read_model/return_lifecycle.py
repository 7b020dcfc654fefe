"""A return's steps in the database: opened against what is left to claim, received, disposed of,
settled; each in one transaction with the order's refund basis and the order's timeline.

Every write here runs inside one idempotent activity step (persistence.guarded_writes.idempotency),
so a retry finds the step done and changes nothing."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import asdict
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from contracts.return_lifecycle import DispositionLineInput, OpenedReturn, ReceivedLineInput
from contracts.returns import ReturnRequest, replacement_of
from domain.allocation import refund_for_units
from domain.exchanges import ExchangeRefused, ExchangeResolution, price_replacement
from domain.money import Money
from domain.order import Order
from domain.outbound_events import EventType
from domain.payments import order_payment_id
from domain.return_lifecycle import (
    Condition,
    DispositionLine,
    Receipt,
    ReceivedLine,
    RefundTiming,
    Resolution,
    ReturnState,
    ReturnStepRefusalKind,
    ReturnStepRefused,
    check_dispositions,
    check_receipt,
    check_transition,
    expires_at,
    refund_on_receipt,
    refund_on_request,
    rma_number,
)
from domain.returns import ReturnLine, ReturnRefusalKind, ReturnRefused, ReturnStatus, check_return
from persistence.guarded_writes.events_outbox import emit
from persistence.guarded_writes.return_stock import book_dispositions
from persistence.master_data.channels import policy_for
from persistence.models import Location, OrderRecord, PaymentRecord, RefundBasis, ReturnRecord, ShipmentRecord
from persistence.read_model import orders as order_store
from persistence.read_model.returns import returned_so_far, shipped_from, shipped_units

_NO_WINDOW = datetime.max.replace(tzinfo=UTC)
MONEY_SETTLED = frozenset(
    {ReturnStatus.REFUNDED.value, ReturnStatus.REFUND_ON_CHANNEL.value, ReturnStatus.CREDITED.value}
)


def by(person: str) -> str:
    """ " by <person>" for the timeline (empty when the engine did it)."""
    return f" by {person}" if person else ""


def units_text(units: Mapping[str, int]) -> str:
    return ", ".join(f"{quantity} x {sku}" for sku, quantity in sorted(units.items())) or "nothing"


def lock_order(session: Session, order_id: str) -> None:
    """Serialize the order's return steps: two requests never both claim its last units, two
    refunds never price from the same basis (PostgreSQL row lock; SQLite holds its write lock)."""
    session.scalar(select(OrderRecord.order_id).where(OrderRecord.order_id == order_id).with_for_update())


def refund_basis(session: Session, order_id: str) -> RefundBasis:
    """The order's refund basis; the first time, the units its one-step returns (1.x) refunded."""
    basis = session.get(RefundBasis, order_id)
    if basis is None:
        units: dict[str, int] = {}
        legacy = select(ReturnRecord.lines).where(ReturnRecord.order_id == order_id, ReturnRecord.state.is_(None))
        for lines in session.scalars(legacy):
            for sku, quantity in lines.items():
                units[sku] = units.get(sku, 0) + quantity
        basis = RefundBasis(order_id=order_id, units=units, updated_at=datetime.now(UTC))
        session.add(basis)
    return basis


def _move_basis(basis: RefundBasis, units: Mapping[str, int], at: datetime) -> None:
    basis.units, basis.updated_at = dict(units), at


def open_return(
    session: Session,
    *,
    order: Order,
    request: ReturnRequest,
    at: datetime,
    window_closes_at: datetime | None,
    check_window: bool,
    expiry: timedelta,
    auto_approve: bool,
    return_id: str | None = None,
    shipped: Mapping[str, int] | None = None,
    restock_at: str | None = None,
) -> OpenedReturn:
    """Check the request against what left and what other open returns claim, then record it, in
    one transaction under the order's lock (domain.returns.ReturnRefused when it cannot be right).
    A return id recorded already answers as it was opened (a channel sending its return again)."""
    order_id = order.order_id
    lock_order(session, order_id)
    if return_id is not None and (existing := session.get(ReturnRecord, return_id)) is not None:
        return opened_from(existing, order)
    units = check_return(
        [ReturnLine(line.sku, line.quantity) for line in request.lines],
        shipped=shipped_units(session, order_id) if shipped is None else shipped,
        returned=returned_so_far(session, order_id),
        window_closes_at=window_closes_at if check_window else _NO_WINDOW,
        now=at,
    )
    count = session.scalar(select(func.count()).select_from(ReturnRecord).where(ReturnRecord.order_id == order_id))
    sequence = (count or 0) + 1
    while return_id is None and session.get(ReturnRecord, f"return-{order_id}-{sequence}") is not None:
        sequence += 1
    return_id = return_id or f"return-{order_id}-{sequence}"
    awaiting = request.source == "customer" and not auto_approve and not request.received
    state = ReturnState.AWAITING_APPROVAL if awaiting else ReturnState.REQUESTED
    # Goods already here are refunded for what is here, whatever the channel's timing.
    # An exchange is priced against what came back, so it is never refunded on request.
    exchange = request.resolution == Resolution.EXCHANGE.value
    timing = (
        RefundTiming.AT_RECEIPT if request.received or exchange else policy_for(session, order.channel).refund_timing
    )
    replacement = _replacement(session, order, request, units) if exchange else None
    refund = Money.zero(order.currency)
    if state is ReturnState.REQUESTED and not request.received:
        refund = _price_on_request(session, order, timing, units, at)
    record = ReturnRecord(
        return_id=return_id,
        order_id=order_id,
        status=state.value,
        state=state.value,
        rma=rma_number(order_id, sequence),
        sequence=sequence,
        source=request.source,
        external_rma=request.external_rma,
        refund_timing=timing.value,
        resolution=request.resolution,
        replacement=replacement,
        lines=dict(units),
        reason=request.reason,
        currency=order.currency,
        refund_minor=refund.amount_minor,
        requested_by=request.requested_by,
        expires_at=expires_at(at, expiry),
        created_at=at,
        updated_at=at,
    )
    session.add(record)
    detail = f"{return_id} ({record.rma}): {units_text(units)}" + (f" ({request.reason})" if request.reason else "")
    kind = "return_awaiting_approval" if awaiting else "return_requested"
    order_store.add_event(session, order_id, kind, detail + by(request.requested_by), at)
    session.flush()
    opened = opened_from(record, order)
    if request.received:
        first = sorted(units)[0]
        opened.receive_at = request.location_id or restock_at or shipped_from(session, order_id, first)
        if opened.receive_at is None or session.get(Location, opened.receive_at) is None:
            raise ReturnRefused(ReturnRefusalKind.INVALID, f"no location {opened.receive_at!r} to take the goods in")
    return opened


def _replacement(
    session: Session, order: Order, request: ReturnRequest, units: Mapping[str, int]
) -> list[dict[str, Any]]:
    """An exchange's replacement lines, priced. One that costs more than the returned units are
    worth has its difference charged on the order's card when the replacement is reserved
    (workflows.returns); refused (INVALID) only when the order was not paid through our gateway (a
    marketplace, a counter sale, store credit alone): there is no card to charge."""
    try:
        lines = price_replacement(order, replacement_of(request))
    except ExchangeRefused as exc:
        raise ReturnRefused(ReturnRefusalKind.INVALID, str(exc)) from None
    worth = refund_for_units(order, refund_basis(session, order.order_id).units, units)
    resolution = ExchangeResolution(worth, sum((line.total for line in lines), Money.zero(order.currency)))
    if resolution.to_charge.amount_minor > 0 and session.get(PaymentRecord, order_payment_id(order.order_id)) is None:
        raise ReturnRefused(
            ReturnRefusalKind.INVALID,
            f"the replacement costs {resolution.replacement_price.format()}, the returned units are worth "
            f"{worth.format()}, and this order was not paid through our payment provider: there is no card "
            "to charge the difference on (place a new order for the rest)",
        )
    return [
        {"sku": line.sku, "quantity": line.quantity, "unit_price_minor": line.unit_price.amount_minor} for line in lines
    ]


def opened_from(record: ReturnRecord, order: Order) -> OpenedReturn:
    return OpenedReturn(
        return_id=record.return_id,
        order_id=record.order_id,
        rma=record.rma or "",
        state=record.state or "",
        timing=record.refund_timing or RefundTiming.AT_RECEIPT.value,
        announced=dict(record.lines),
        requested_at=record.created_at,
        expires_at=record.expires_at or record.created_at,
        refund=Money(record.refund_minor, order.currency),
    )


def _price_on_request(
    session: Session, order: Order, timing: RefundTiming, announced: Mapping[str, int], at: datetime
) -> Money:
    basis = refund_basis(session, order.order_id)
    step = refund_on_request(order, timing, basis.units, announced)
    _move_basis(basis, step.refunded_units, at)
    return step.refund


def _timing(record: ReturnRecord) -> RefundTiming:
    return RefundTiming(record.refund_timing or RefundTiming.AT_RECEIPT.value)


def _record(session: Session, return_id: str) -> ReturnRecord:
    record = session.get(ReturnRecord, return_id)
    if record is None:
        raise LookupError(f"no return {return_id}")
    return record


def _move(record: ReturnRecord, target: ReturnState, at: datetime) -> None:
    check_transition(ReturnState(record.state or ReturnState.RESOLVED.value), target)
    record.state, record.updated_at = target.value, at
    if record.status not in MONEY_SETTLED:
        record.status = target.value


_STEP_EVENTS = {
    ReturnState.REQUESTED: ("return_approved", "approved, RMA issued"),
    ReturnState.REJECTED: ("return_rejected", "rejected"),
    ReturnState.CANCELLED: ("return_cancelled", "cancelled"),
    ReturnState.EXPIRED: ("return_expired", "expired: no parcel came"),
    ReturnState.RESOLVED: ("return_resolved", "resolved"),
}


def step(
    session: Session,
    *,
    order: Order,
    return_id: str,
    target: ReturnState,
    person: str,
    reason: str,
    at: datetime,
    expiry: timedelta,
) -> Money:
    """Approve (REQUESTED), reject, cancel, expire or resolve; the refund due now (an approval on a
    channel that refunds on request)."""
    lock_order(session, order.order_id)
    record = _record(session, return_id)
    _move(record, target, at)
    refund = Money.zero(order.currency)
    if target is ReturnState.REQUESTED:
        record.expires_at = expires_at(at, expiry)
        refund = _price_on_request(session, order, _timing(record), record.lines, at)
        record.refund_minor = refund.amount_minor
    if target is ReturnState.EXPIRED and record.refund_timing == RefundTiming.ON_REQUEST.value:
        record.over_refunded_minor = record.refund_minor  # refunded for goods that never came
    kind, words = _STEP_EVENTS[target]
    detail = f"{return_id} ({record.rma}) {words}" + (f": {reason}" if reason else "")
    if target is ReturnState.RESOLVED:
        detail = f"{return_id} ({record.rma}) resolved by {record.resolution or 'refund'}"
    order_store.add_event(session, order.order_id, kind, detail + by(person), at)
    return refund


def receipt_of(record: ReturnRecord) -> Receipt:
    by_condition = {
        sku: {Condition(condition): n for condition, n in units.items()}
        for sku, units in (record.received or {}).items()
    }
    return Receipt(by_condition=by_condition, short=dict(record.short or {}))


def receive(
    session: Session,
    *,
    order: Order,
    return_id: str,
    location_id: str,
    lines: Iterable[ReceivedLineInput],
    person: str,
    at: datetime,
) -> tuple[Receipt, Money, Money]:
    """Book the parcel in (not the stock: that moves at disposition); the refund due now and the
    over-refund a shortfall leaves, priced against the order's basis in the same transaction."""
    lock_order(session, order.order_id)
    record = _record(session, return_id)
    _move(record, ReturnState.RECEIVED, at)
    if session.get(Location, location_id) is None:
        raise ReturnStepRefused(ReturnStepRefusalKind.INVALID, f"no location {location_id!r}: receive it where it is")
    receipt = check_receipt(
        record.lines, [ReceivedLine(line.sku, line.quantity, Condition(line.condition)) for line in lines]
    )
    basis = refund_basis(session, order.order_id)
    priced = refund_on_receipt(order, _timing(record), basis.units, receipt)
    _move_basis(basis, priced.refunded_units, at)
    record.location_id = location_id
    record.received = {sku: {c.value: n for c, n in units.items()} for sku, units in receipt.by_condition.items()}
    record.short = dict(receipt.short)
    record.over_refunded_minor = priced.over_refunded.amount_minor
    if priced.refund.amount_minor and record.resolution != Resolution.EXCHANGE.value:
        # An exchange's units pay for its replacement: only a difference refunded is money back.
        record.refund_minor = priced.refund.amount_minor
    parts = [
        f"{n} x {sku} {condition.value}"
        for sku, units in sorted(receipt.by_condition.items())
        for condition, n in sorted(units.items())
    ]
    detail = f"{return_id} ({record.rma}) at {location_id}: " + (", ".join(parts) or "nothing in the parcel")
    if receipt.short:
        detail += f"; short {units_text(receipt.short)}"
    order_store.add_event(session, order.order_id, "return_received", detail + by(person), at)
    received = {
        "order_id": order.order_id,
        "return_id": return_id,
        "location_id": location_id,
        "received": record.received,
        "short": record.short,
    }
    emit(session, EventType.RETURN_RECEIVED, received, ordering_key=order.order_id, at=at)
    return receipt, priced.refund, priced.over_refunded


def dispose(
    session: Session,
    *,
    order_id: str,
    return_id: str,
    lines: Iterable[DispositionLineInput],
    person: str,
    at: datetime,
) -> dict[str, int]:
    """Give every unit received its disposition and book what that does to stock (in this
    transaction); the units sellable again."""
    record = _record(session, return_id)
    _move(record, ReturnState.DISPOSED, at)
    wanted = [DispositionLine(line.sku, line.quantity, line.disposition, line.reason) for line in lines]  # type: ignore[arg-type]
    effects = check_dispositions(receipt_of(record), wanted)
    location_id = record.location_id or ""
    phrases = book_dispositions(
        session, order_id=order_id, return_id=return_id, location_id=location_id, effects=effects, at=at
    )
    record.dispositions = [asdict(line) for line in lines]
    detail = f"{return_id} ({record.rma}): " + ("; ".join(phrases) or "nothing to dispose of")
    order_store.add_event(session, order_id, "return_disposed", detail + by(person), at)
    return dict(effects.sellable)


def find(session: Session, return_id_or_rma: str) -> ReturnRecord | None:
    record = session.get(ReturnRecord, return_id_or_rma)
    if record is None:
        record = session.scalar(select(ReturnRecord).where(ReturnRecord.rma == return_id_or_rma))
    return record


def listed(session: Session, *, state: str | None, limit: int, offset: int) -> tuple[list[ReturnRecord], int]:
    """Returns of the lifecycle, newest first, in `state` when given."""
    where: list[ColumnElement[bool]] = [ReturnRecord.state.is_not(None)]
    if state:
        where.append(ReturnRecord.state == state)
    count = session.scalar(select(func.count()).select_from(ReturnRecord).where(*where)) or 0
    rows = session.scalars(
        select(ReturnRecord).where(*where).order_by(ReturnRecord.created_at.desc()).limit(limit).offset(offset)
    )
    return list(rows), count


def replacement_shipments(session: Session, record: ReturnRecord) -> list[ShipmentRecord]:
    """The shipments an exchange's replacement went out as, oldest first: ids ending in `x<n>`
    (the first) or `x<n>-<round>` (units that did not leave, sourced again), n the return's number."""
    if record.sequence is None or record.resolution != "exchange":
        return []
    rows = session.scalars(
        select(ShipmentRecord)
        .where(ShipmentRecord.order_id == record.order_id)
        .order_by(ShipmentRecord.created_at, ShipmentRecord.shipment_id)
    )
    found = []
    for row in rows:
        base = f"shipment-{record.order_id}-{row.location_id}-x{record.sequence}"
        if row.shipment_id == base or row.shipment_id.startswith(f"{base}-"):
            found.append(row)
    return found


def note_exchange(
    session: Session, *, order_id: str, return_id: str, kind: str, detail: str, at: datetime, shipment_id: str | None
) -> None:
    """What became of an exchange, on the return (its replacement shipment) and the order's timeline."""
    record = _record(session, return_id)
    if shipment_id is not None:
        record.replacement_shipment_id = shipment_id
    record.updated_at = at
    order_store.add_event(session, order_id, kind, f"{return_id} ({record.rma}): {detail}", at)
