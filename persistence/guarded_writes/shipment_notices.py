"""The shipment-notice outbox: what the channel that sold an order must hear when goods leave.

A row is written in the same transaction as the handover (the stock leaving), so a shipment never
leaves without its notice and a rolled-back handover leaves none; the stock-feed workflow delivers
the rows later, with no transaction open while a channel is called (activities.channel_out).

Click & collect: the customer takes the goods over the counter, so there is no carrier and no
tracking. Shopify and WooCommerce are still told, without tracking, when the customer *collects*
(Shopify closes the fulfillment order; WooCommerce gets its note and, once everything is out, the
order is completed), so the shop stops showing the order as open. A transfer to the pickup store
is our own parcel, not the customer's: its tracking is never sent. Bol.com and Amazon do not sell
click & collect; should a collection of theirs ever happen, no notice is written (they would refuse
one without tracking) and the order's timeline says the channel must be told by hand.

Which channel hears what is its capability spec's to say (`confirms_shipments`,
`confirms_collections`: integrations.channels.<name>.spec), handed in by the caller as `channels`.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from domain.channel_notices import ShipmentNotice, ShippedLine
from domain.fulfilment import ShipmentKind
from domain.order import FULFILLED_BY_US
from persistence.guarded_writes import channel_outbox
from persistence.guarded_writes.channel_outbox import Enqueued
from persistence.models import OrderLineRecord, OrderRecord, ShipmentNoticeOutbox, ShipmentRecord, utcnow


class ShipmentNoticeTerms(Protocol):
    """What a channel's capability spec says about shipment notices."""

    @property
    def confirms_shipments(self) -> bool:
        """It sold the order itself and expects to hear that it left."""
        ...

    @property
    def confirms_collections(self) -> bool:
        """It can be told of a click & collect handover (no tracking)."""
        ...


NOT_CONNECTED = channel_outbox.NOT_CONNECTED
"""`last_error` of a notice closed because this deployment has no confirmer for its channel."""

_COLLECT_KINDS = frozenset({ShipmentKind.COLLECT.value, ShipmentKind.TRANSFER_COLLECT.value})


def enqueue_notice(
    session: Session,
    shipment: ShipmentRecord,
    channels: Mapping[str, ShipmentNoticeTerms],
    *,
    lines: Mapping[str, int] | None = None,
) -> Enqueued:
    """Write the notice for a shipment that just left (or was just collected), in the caller's
    transaction. `channels`: each channel's terms (its spec); `lines`: the units that left (default:
    the shipment's lines).

    Idempotent: the unique shipment id makes a retried handover add nothing (ON CONFLICT DO
    NOTHING, so a concurrent retry never fails the transaction). The order row is locked so two
    shipments of one order leaving at once agree on which one completes it. A collection a channel
    cannot be told of comes back `by_hand`, for the order's timeline.
    """
    order = session.execute(
        select(OrderRecord.channel, OrderRecord.external_id, OrderRecord.fulfilled_by)
        .where(OrderRecord.order_id == shipment.order_id)
        .with_for_update()
    ).first()
    terms = channels.get(order.channel) if order is not None else None
    if order is None or terms is None or not terms.confirms_shipments or order.fulfilled_by != FULFILLED_BY_US:
        return Enqueued()
    collection = shipment.kind in _COLLECT_KINDS
    if collection and shipment.collected_at is None:
        return Enqueued()  # a transfer to the pickup store: the customer has nothing yet
    at = shipment.collected_at if collection else shipment.shipped_at
    if collection and not terms.confirms_collections:
        hand = f"{shipment.shipment_id}: {order.channel} sells no click & collect; confirm the handover there by hand"
        return Enqueued(by_hand=hand, at=at)
    shipped = {sku: units for sku, units in dict(shipment.lines if lines is None else lines).items() if units > 0}
    if not shipped:
        return Enqueued()
    ordered = _ordered_lines(session, shipment.order_id)
    before = _already_noticed(session, shipment.order_id, shipment.shipment_id)
    notice_lines = _allocate(shipped, ordered, before)
    complete = _complete(ordered, before, notice_lines)
    notice = {
        "order_external_id": order.external_id,
        "shipment_id": shipment.shipment_id,
        "lines": notice_lines,
        "carrier": "" if collection else (shipment.carrier or ""),
        "tracking_number": "" if collection else (shipment.tracking_number or ""),
        "shipped_at": (at or utcnow()).isoformat(),
        "extra": {"order_complete": "true" if complete else "false", "collected": "true" if collection else "false"},
    }
    values: dict[str, Any] = {
        "shipment_id": shipment.shipment_id,
        "order_id": shipment.order_id,
        "channel": order.channel,
        "notice": notice,
        "created_at": utcnow(),
    }
    return Enqueued(written=channel_outbox.add_once(session, ShipmentNoticeOutbox, values, "shipment_id"))


def _ordered_lines(session: Session, order_id: str) -> list[tuple[str, str, int]]:
    """(sku, external line id, quantity) of the order, in line order."""
    rows = session.execute(
        select(OrderLineRecord.sku, OrderLineRecord.external_line_id, OrderLineRecord.quantity)
        .where(OrderLineRecord.order_id == order_id)
        .order_by(OrderLineRecord.line_no)
    )
    return [(sku, external_line_id or "", quantity) for sku, external_line_id, quantity in rows]


def _already_noticed(session: Session, order_id: str, except_shipment: str) -> dict[tuple[str, str], int]:
    """Units of each (sku, external line id) earlier shipments of the order already announced."""
    noticed: dict[tuple[str, str], int] = {}
    rows: Iterable[dict[str, Any]] = session.scalars(
        select(ShipmentNoticeOutbox.notice).where(
            ShipmentNoticeOutbox.order_id == order_id, ShipmentNoticeOutbox.shipment_id != except_shipment
        )
    )
    for notice in rows:
        for line in notice.get("lines", []):
            key = (str(line["sku"]), str(line.get("external_line_id", "")))
            noticed[key] = noticed.get(key, 0) + int(line["quantity"])
    return noticed


def _allocate(
    shipped: Mapping[str, int], ordered: list[tuple[str, str, int]], before: Mapping[tuple[str, str], int]
) -> list[dict[str, Any]]:
    """Spread each SKU's shipped units over the order lines carrying it (a channel confirms per line),
    filling lines earlier shipments left open first; units beyond the order go on its last line."""
    open_units = dict(before)
    result: list[dict[str, Any]] = []
    for sku, units in sorted(shipped.items()):
        candidates = [(line_id, quantity) for line_sku, line_id, quantity in ordered if line_sku == sku]
        left = units
        for line_id, quantity in candidates:
            free = quantity - open_units.get((sku, line_id), 0)
            take = min(left, free)
            if take > 0:
                result.append({"sku": sku, "quantity": take, "external_line_id": line_id})
                open_units[(sku, line_id)] = open_units.get((sku, line_id), 0) + take
                left -= take
        if left > 0:
            last_line = candidates[-1][0] if candidates else ""
            result.append({"sku": sku, "quantity": left, "external_line_id": last_line})
    return result


def _complete(
    ordered: list[tuple[str, str, int]], before: Mapping[tuple[str, str], int], now: list[dict[str, Any]]
) -> bool:
    """Every ordered unit is in some notice once this one is counted (WooCommerce then completes)."""
    covered = dict(before)
    for line in now:
        key = (line["sku"], line["external_line_id"])
        covered[key] = covered.get(key, 0) + line["quantity"]
    needed: dict[tuple[str, str], int] = {}
    for sku, line_id, quantity in ordered:
        needed[(sku, line_id)] = needed.get((sku, line_id), 0) + quantity
    return all(covered.get(key, 0) >= quantity for key, quantity in needed.items())


def to_notice(stored: Mapping[str, Any]) -> ShipmentNotice:
    """The stored JSON back as the ShipmentNotice a confirmer takes."""
    return ShipmentNotice(
        order_external_id=str(stored["order_external_id"]),
        shipment_id=str(stored["shipment_id"]),
        lines=tuple(
            ShippedLine(str(line["sku"]), int(line["quantity"]), str(line.get("external_line_id", "")))
            for line in stored["lines"]
        ),
        carrier=str(stored.get("carrier", "")),
        tracking_number=str(stored.get("tracking_number", "")),
        shipped_at=datetime.fromisoformat(str(stored["shipped_at"])),
        extra={str(key): str(value) for key, value in (stored.get("extra") or {}).items()},
    )


def pending_notices(
    session: Session, *, limit: int, after_id: int = 0, excluded: Collection[str] = ()
) -> list[ShipmentNoticeOutbox]:
    """The oldest notices not yet delivered (nor closed), after `after_id`, leaving out the
    `excluded` channels (down this pass: their backlog is not even read)."""
    return channel_outbox.pending(session, ShipmentNoticeOutbox, limit=limit, after_id=after_id, excluded=excluded)


def reopen_not_connected(session: Session, channel: str) -> int:
    """Queue again the notices closed while `channel` had no connection (once it has one)."""
    return channel_outbox.reopen_not_connected(session, ShipmentNoticeOutbox, channel)
