"""What a carrier says about a parcel after the handover, and which of its reports move a shipment.

Carriers report late, twice and out of order (a webhook redelivered, a scan uploaded hours after
the next one). A shipment therefore only ever moves forward: SHIPPED → IN_TRANSIT ⇄ DELIVERY_FAILED
→ DELIVERED or RETURNED_TO_SENDER. The last two are final; between the middle two the newer report
wins, so a parcel that failed a delivery and is on its way again shows that, while an old "in
transit" that arrives after a newer "unable to deliver" changes nothing. A report of a delivery
always wins over one of transit, whenever it comes. Pure rules, no I/O.

Only parcels to the customer's address (ShipmentKind.DELIVERY) are delivered in this sense: a
transfer to a pickup store ends in the store's own steps (ready, collected), so carrier reports on
it are kept on the timeline but move nothing.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from domain.fulfilment import ShipmentKind, ShipmentStatus
from domain.status import OrderStatus

CARRIER_STATUSES = frozenset(
    {
        ShipmentStatus.IN_TRANSIT,
        ShipmentStatus.DELIVERY_FAILED,
        ShipmentStatus.DELIVERED,
        ShipmentStatus.RETURNED_TO_SENDER,
    }
)
"""What a carrier report can make of a shipment."""

FINAL = frozenset({ShipmentStatus.DELIVERED, ShipmentStatus.RETURNED_TO_SENDER})

_RANK: dict[ShipmentStatus, int] = {
    ShipmentStatus.SHIPPED: 0,
    ShipmentStatus.IN_TRANSIT: 1,
    ShipmentStatus.DELIVERY_FAILED: 1,
    ShipmentStatus.DELIVERED: 2,
    ShipmentStatus.RETURNED_TO_SENDER: 2,
}
"""How far along the road each status is; a report never moves a shipment to a lower rank."""

HANDED_OVER = frozenset(_RANK)
"""Statuses of a parcel with the carrier (or delivered): where carrier reports apply."""


@dataclass(frozen=True)
class CarrierEvent:
    """One report about one parcel, from a carrier integration (or a person marking it delivered).

    `status` None: a report that moves nothing (announced, a delay, a changed delivery date) but is
    still kept on the order's timeline. `event_id` is the carrier's (or derived from what makes
    its report unique): the same id twice is the same report."""

    carrier: str
    event_id: str
    occurred_at: datetime
    status: ShipmentStatus | None
    description: str = ""
    tracking_number: str | None = None
    shipment_id: str | None = None
    """Ours, when the carrier echoes it back (a reference given at announcement)."""

    def __post_init__(self) -> None:
        if self.occurred_at.tzinfo is None:
            raise ValueError("a carrier event's time must carry its zone")
        if self.status is not None and self.status not in CARRIER_STATUSES:
            raise ValueError(f"a carrier cannot report {self.status}")
        if not (self.tracking_number or self.shipment_id):
            raise ValueError("a carrier event names its parcel by tracking number or shipment id")


class Outcome(StrEnum):
    """What became of a report (the webhook's answer and the carrier_events row say it)."""

    MOVED = "moved"
    """The shipment took the report's status."""
    KEPT = "kept"
    """Recorded on the timeline; the shipment stays where it is (older, no status, or not further along)."""
    REPEATED = "repeated"
    """The same report again: nothing new."""
    NOT_HANDED_OVER = "not_handed_over"
    """The shipment has not left us yet (or was withdrawn): recorded, nothing moved."""
    NOT_A_DELIVERY = "not_a_delivery"
    """A transfer to a pickup store: the store's steps finish it, not the carrier."""
    UNKNOWN_PARCEL = "unknown_parcel"
    """No shipment of ours has this tracking number."""


def next_status(
    current: str,
    last_report_at: datetime | None,
    reported: ShipmentStatus | None,
    reported_at: datetime,
) -> ShipmentStatus | None:
    """The shipment's new status after a report, or None when it stays.

    `current`: the shipment's status now; `last_report_at`: when the report that set it happened
    (None while no report moved it)."""
    if reported is None or current not in HANDED_OVER:
        return None
    here = ShipmentStatus(current)
    if here in FINAL or reported == here:
        return None
    if _RANK[reported] > _RANK[here]:
        return reported
    if _RANK[reported] == _RANK[here] and (last_report_at is None or reported_at > last_report_at):
        return reported
    return None


NEVER_LEFT = frozenset(
    {ShipmentStatus.WITHDRAWN, ShipmentStatus.CANCELLED, ShipmentStatus.STOPPED_BY_CANCEL, ShipmentStatus.EXPIRED}
)
"""Shipments that will never reach anyone: they do not hold up an order's delivery."""


@dataclass(frozen=True)
class ParcelState:
    kind: str
    status: str
    delivered_at: datetime | None


def order_delivered_at(order_status: str, shipments: Iterable[ParcelState]) -> datetime | None:
    """When the order reached the customer: once everything has left (the order is SHIPPED or
    COMPLETED) and every parcel to the customer's address is delivered, the last of those
    deliveries. None while one is still on its way (or came back), and for an order without such
    parcels (collected at a store: the handover is the delivery, the order's shipped_at says when)."""
    if order_status not in (OrderStatus.SHIPPED.value, OrderStatus.COMPLETED.value):
        return None
    latest: datetime | None = None
    for parcel in shipments:
        if parcel.kind != ShipmentKind.DELIVERY.value or parcel.status in NEVER_LEFT:
            continue
        if parcel.status != ShipmentStatus.DELIVERED or parcel.delivered_at is None:
            return None
        latest = parcel.delivered_at if latest is None else max(latest, parcel.delivered_at)
    return latest


def returns_window_closes_at(shipped_at: datetime, delivered_at: datetime | None, window: timedelta) -> datetime:
    """The end of the returns window: counted from the delivery when the carrier reported one (the
    EU right of withdrawal runs 14 days from receipt), else from the shipping. Never earlier than
    counted from the shipping: a delivery reported with a time before the handover cannot shorten it."""
    from_shipping = shipped_at + window
    if delivered_at is None:
        return from_shipping
    return max(from_shipping, delivered_at + window)
