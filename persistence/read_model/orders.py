"""The order read model: written by activities, read by the API, never by asking Temporal."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, delete, func, or_, select, update
from sqlalchemy.orm import Session, selectinload

from domain import limits
from domain.lookup import email_key, postcode_key
from domain.order import Order
from domain.outbound_events import EventType, money
from domain.status import OrderStatus
from persistence.guarded_writes.events_outbox import emit
from persistence.models import OrderEvent, OrderLineRecord, OrderRecord, utcnow


def record_order(session: Session, order: Order, received_at: datetime) -> bool:
    """Insert the order and its lines as RECEIVED; False when it was already there. A placeholder
    (`record_placeholder`) is completed instead: its fields and lines are written, its status kept."""
    existing = session.get(OrderRecord, order.order_id)
    if existing is not None:
        if not _is_placeholder(session, order.order_id):
            return False
        for name, value in _order_fields(order).items():
            setattr(existing, name, value)
        session.add_all(_line_rows(order))
        add_event(session, order.order_id, "recorded", "recorded in full as sent", received_at)
        return True
    session.add(
        OrderRecord(
            **_order_fields(order),
            status=OrderStatus.RECEIVED.value,
            received_at=received_at,
            updated_at=received_at,
            lines=_line_rows(order),
        )
    )
    add_event(
        session,
        order.order_id,
        "received",
        f"from {order.channel} as {order.reference or order.external_id}",
        received_at,
    )
    _emit_created(session, order, OrderStatus.RECEIVED, received_at)
    return True


def as_received(order: Order, received_at: datetime) -> OrderRecord:
    """The order as `record_order` will write it, RECEIVED, in no session and never saved: how an
    order taken (in the intake) but not yet recorded by its workflow reads."""
    return OrderRecord(
        **_order_fields(order),
        status=OrderStatus.RECEIVED.value,
        received_at=received_at,
        updated_at=received_at,
        lines=_line_rows(order),
        shipments=[],
        payments=[],
    )


def record_placeholder(session: Session, order: Order, received_at: datetime, hold_reason: str) -> bool:
    """An order the database cannot hold as sent, kept visible: ON_HOLD with `hold_reason`, with
    every field that fits and no lines (what marks it a placeholder; `record_order` completes it
    once the order can be stored). False when it was already there (its hold is noted again)."""
    if session.get(OrderRecord, order.order_id) is not None:
        set_status(session, order.order_id, OrderStatus.ON_HOLD, hold_reason=hold_reason, at=received_at)
        return False
    fields = _order_fields(order)
    for name, limit in (("reference", limits.REFERENCE), ("customer_email", limits.EMAIL)):
        if len(fields[name]) > limit:
            fields[name] = ""  # a shortened reference or address would name something else
    for name, limit in (("buyer_company", limits.BUYER_COMPANY), ("buyer_vat_id", limits.BUYER_VAT_ID)):
        if len(fields[name] or "") > limit:
            fields[name] = None
    fields["email_key"] = email_key(fields["customer_email"])
    for name in ("total_minor", "shipping_minor", "discount_minor", "charges_minor"):
        if abs(fields[name]) > limits.MAX_AMOUNT_MINOR:
            fields[name] = 0
    if not limits.storable_time(order.placed_at):
        fields["placed_at"] = received_at
    if not limits.storable_address(order.shipping_address):
        fields["shipping_address"] = {}
        fields["postcode_key"] = ""
    session.add(
        OrderRecord(
            **fields,
            status=OrderStatus.ON_HOLD.value,
            hold_reason=hold_reason,
            received_at=received_at,
            updated_at=received_at,
        )
    )
    add_event(session, order.order_id, "received", f"from {order.channel} as {order.external_id}", received_at)
    add_event(session, order.order_id, f"status:{OrderStatus.ON_HOLD.value}", hold_reason, received_at)
    _emit_created(session, order, OrderStatus.ON_HOLD, received_at)
    _emit_held(session, order.order_id, hold_reason, received_at)
    return True


def _emit_created(session: Session, order: Order, status: OrderStatus, at: datetime) -> None:
    """order.created: ids, status, the total and the lines by SKU (no names, e-mail or address)."""
    data = {
        "order_id": order.order_id,
        "channel": order.channel,
        "external_id": order.external_id,
        "status": status.value,
        "total": money(order.total.amount_minor, order.currency),
        "lines": [
            {
                "sku": line.sku,
                "quantity": line.quantity,
                "unit_price": money(line.unit_price.amount_minor, order.currency),
            }
            for line in order.lines
        ],
    }
    emit(session, EventType.ORDER_CREATED, data, ordering_key=order.order_id, at=at)


def _emit_held(session: Session, order_id: str, hold_reason: str | None, at: datetime) -> None:
    data = {"order_id": order_id, "hold_reason": hold_reason or ""}
    emit(session, EventType.ORDER_HELD, data, ordering_key=order_id, at=at)


def _order_fields(order: Order) -> dict[str, Any]:
    return {
        "order_id": order.order_id,
        "channel": order.channel,
        "external_id": order.external_id,
        "reference": order.reference,
        "currency": order.currency,
        "total_minor": order.total.amount_minor,
        "shipping_minor": order.shipping.amount_minor,
        "discount_minor": order.order_discount.amount_minor,
        "payment_collected": order.payment_collected,
        "fulfilled_by": order.fulfilled_by,
        "shipping_address": asdict(order.shipping_address),
        "customer_email": order.customer_email,
        "email_key": email_key(order.customer_email),
        "postcode_key": postcode_key(order.shipping_address.postcode),
        "charges_minor": order.other_charges.amount_minor,
        "placed_at": order.placed_at,
        "buyer_company": order.buyer_company or None,
        "buyer_vat_id": order.buyer_vat_id or None,
    }


def _line_rows(order: Order) -> list[OrderLineRecord]:
    return [
        OrderLineRecord(
            order_id=order.order_id,
            line_no=n,
            sku=line.sku,
            quantity=line.quantity,
            unit_price_minor=line.unit_price.amount_minor,
            total_minor=line.total.amount_minor,
            title=line.title,
            external_line_id=line.external_line_id,
        )
        for n, line in enumerate(order.lines, start=1)
    ]


def _is_placeholder(session: Session, order_id: str) -> bool:
    """Every order has a line; one recorded without any is a placeholder (`record_placeholder`)."""
    line = session.scalar(select(OrderLineRecord.line_no).where(OrderLineRecord.order_id == order_id).limit(1))
    return line is None


def add_event(session: Session, order_id: str, kind: str, detail: str = "", at: datetime | None = None) -> None:
    session.add(OrderEvent(order_id=order_id, kind=kind, detail=detail, at=at or utcnow()))


def set_status(
    session: Session,
    order_id: str,
    status: OrderStatus,
    *,
    hold_reason: str | None = None,
    detail: str = "",
    at: datetime | None = None,
    only_from: OrderStatus | None = None,
) -> bool:
    """One UPDATE (no load) plus a timeline event; with `only_from`, only an order in that status
    moves, and False says it was not."""
    at = at or utcnow()
    values: dict[str, Any] = {"status": status.value, "hold_reason": hold_reason, "updated_at": at}
    if status is OrderStatus.SHIPPED:
        values["shipped_at"] = func.coalesce(OrderRecord.shipped_at, at)
    elif status is OrderStatus.COMPLETED:
        values["completed_at"] = at
    elif status is OrderStatus.CANCELLED:
        values["cancelled_at"] = at
    statement = update(OrderRecord).where(OrderRecord.order_id == order_id)
    if only_from is not None:
        statement = statement.where(OrderRecord.status == only_from.value)
        was: str | None = only_from.value
    else:  # for order.status_changed's "from": one look-up by key, no load
        was = session.scalar(select(OrderRecord.status).where(OrderRecord.order_id == order_id))
    result = session.execute(statement.values(**values), execution_options={"synchronize_session": False})
    if result.rowcount != 1:  # type: ignore[attr-defined]
        if only_from is not None:
            return False
        raise LookupError(f"order {order_id} is not recorded")
    add_event(session, order_id, f"status:{status.value}", detail or (hold_reason or ""), at)
    if was != status.value:
        data = {"order_id": order_id, "from": was, "to": status.value}
        emit(session, EventType.ORDER_STATUS_CHANGED, data, ordering_key=order_id, at=at)
    if status is OrderStatus.ON_HOLD:
        _emit_held(session, order_id, hold_reason, at)
    return True


def get_order(session: Session, order_id: str) -> OrderRecord | None:
    """The order with its lines, shipments and payments, for the order page."""
    return session.get(
        OrderRecord,
        order_id,
        options=[
            selectinload(OrderRecord.lines),
            selectinload(OrderRecord.shipments),
            selectinload(OrderRecord.payments),
        ],
    )


def order_events(session: Session, order_id: str) -> list[OrderEvent]:
    """The order's timeline by time (then by insertion, for events of one moment): a note written
    after the fact, such as who asked for a cancel the workflow already carried out, sits where it happened."""
    query = select(OrderEvent).where(OrderEvent.order_id == order_id).order_by(OrderEvent.at, OrderEvent.id)
    return list(session.scalars(query))


def list_orders(
    session: Session,
    *,
    status: str | None = None,
    channel: str | None = None,
    sku: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[OrderRecord], int]:
    """Newest first (then by id), and how many match in all. The page is found by its keys alone
    (a deferred join: the offset is walked in an index holding received_at and order_id, not over
    whole rows), then only its rows are read; the count is the database's over the same index, and
    is not asked for at all when the page itself shows the end of the list."""
    wanted: list[ColumnElement[bool]] = []
    if status:
        wanted.append(OrderRecord.status == status)
    if channel:
        wanted.append(OrderRecord.channel == channel)
    if sku:
        wanted.append(OrderRecord.order_id.in_(select(OrderLineRecord.order_id).where(OrderLineRecord.sku == sku)))
    newest_first = (OrderRecord.received_at.desc(), OrderRecord.order_id)
    keys = select(OrderRecord.order_id).where(*wanted).order_by(*newest_first).limit(limit).offset(offset).subquery()
    rows = list(
        session.scalars(select(OrderRecord).join(keys, keys.c.order_id == OrderRecord.order_id).order_by(*newest_first))
    )
    if (rows and len(rows) < limit) or (not rows and offset == 0):
        return rows, offset + len(rows)  # the last page: what it holds says how many there are
    count = session.scalar(select(func.count()).select_from(OrderRecord).where(*wanted)) or 0
    return rows, count


def recorded_status(session: Session, order_id: str) -> OrderStatus | None:
    """The order's status in the read model, or None when we have no record of it: the authority on
    whether an order exists here (Temporal forgets a finished run once it leaves retention)."""
    status = session.scalar(select(OrderRecord.status).where(OrderRecord.order_id == order_id))
    return None if status is None else OrderStatus(status)


def find_orders(
    session: Session, *, exact: str, email_key: str, postcode_key: str, limit: int = 50
) -> tuple[list[OrderRecord], int]:
    """Orders whose id, channel id or reference is `exact`, or whose e-mail or postcode key is the one
    given ("" matches nothing): newest first, and how many match in all. Each is an indexed column."""
    wanted = [OrderRecord.order_id == exact, OrderRecord.external_id == exact, OrderRecord.reference == exact]
    if email_key:
        wanted.append(OrderRecord.email_key == email_key)
    if postcode_key:
        wanted.append(OrderRecord.postcode_key == postcode_key)
    query = select(OrderRecord).where(or_(*wanted))
    count = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.scalars(query.order_by(OrderRecord.received_at.desc(), OrderRecord.order_id).limit(limit))
    return list(rows), count


_EDITABLE_FIELDS = (
    "total_minor",
    "shipping_minor",
    "discount_minor",
    "charges_minor",
    "shipping_address",
    "postcode_key",
)


def rewrite_order(session: Session, order: Order, at: datetime) -> None:
    """The order after an edit: its lines, totals and address replace what was recorded (its
    versions keep what it was: persistence.read_model.order_versions)."""
    record = session.get(OrderRecord, order.order_id)
    if record is None:
        return
    session.execute(
        delete(OrderLineRecord).where(OrderLineRecord.order_id == order.order_id),
        execution_options={"synchronize_session": False},
    )
    session.expire(record, ["lines"])
    fields = _order_fields(order)
    for name in _EDITABLE_FIELDS:
        setattr(record, name, fields[name])
    record.updated_at = at
    session.add_all(_line_rows(order))
