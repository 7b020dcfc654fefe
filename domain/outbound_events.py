"""Events other systems subscribe to (an ERP, a CRM, an e-mail tool): the catalogue of types, the
body every subscriber receives (Standard Webhooks: `{"type", "timestamp", "data"}`), which
subscription wants which event, and how long a failing delivery waits before its next try.

Data carries ids, statuses, amounts in minor units with their currency and SKUs; never a name, an
e-mail or an address (a subscriber that needs them asks GET /orders/{id} with its own token)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any


class EventType(StrEnum):
    ORDER_CREATED = "order.created"
    ORDER_STATUS_CHANGED = "order.status_changed"
    ORDER_HELD = "order.held"
    SHIPMENT_SHIPPED = "shipment.shipped"
    SHIPMENT_DELIVERED = "shipment.delivered"
    RETURN_RECEIVED = "return.received"
    REFUND_ISSUED = "refund.issued"
    INVOICE_ISSUED = "invoice.issued"
    STOCK_CHANGED = "stock.changed"


EVENT_TYPES: tuple[str, ...] = tuple(kind.value for kind in EventType)

DATA_FIELDS: dict[EventType, tuple[str, ...]] = {
    EventType.ORDER_CREATED: ("order_id", "channel", "external_id", "status", "total", "lines"),
    EventType.ORDER_STATUS_CHANGED: ("order_id", "from", "to"),
    EventType.ORDER_HELD: ("order_id", "hold_reason"),
    EventType.SHIPMENT_SHIPPED: ("order_id", "shipment_id", "location_id", "carrier", "tracking_number", "lines"),
    EventType.SHIPMENT_DELIVERED: ("order_id", "shipment_id", "delivered_at"),
    EventType.RETURN_RECEIVED: ("order_id", "return_id", "location_id", "received", "short"),
    EventType.REFUND_ISSUED: ("order_id", "amount", "payments", "source"),
    EventType.INVOICE_ISSUED: ("order_id", "invoice_id", "number", "total", "issued_at"),
    EventType.STOCK_CHANGED: ("sku", "available"),
}
"""What each type's `data` holds (the README lists them for subscribers)."""

MAX_RETRY_DELAY = timedelta(hours=6)


class UnknownEventType(ValueError):
    pass


def check_types(types: Iterable[str] | None) -> tuple[str, ...] | None:
    """The event types a subscription asks for, each known, in catalogue order; None (or an empty
    list) is every type, now and any added later."""
    if not types:
        return None
    wanted = set(types)
    unknown = sorted(wanted - set(EVENT_TYPES))
    if unknown:
        raise UnknownEventType(f"unknown event types {unknown}; known: {list(EVENT_TYPES)}")
    return tuple(kind for kind in EVENT_TYPES if kind in wanted)


def wants(types: Iterable[str] | None, event_type: str) -> bool:
    """Whether a subscription to `types` (None: all) receives an event of `event_type`."""
    return types is None or event_type in set(types)


def money(amount_minor: int, currency: str) -> dict[str, Any]:
    """An amount as the API writes it everywhere."""
    return {"amount_minor": int(amount_minor), "currency": currency}


def body(event_type: str, occurred_at: datetime, data: Mapping[str, Any]) -> str:
    """The request body a subscriber receives: compact, keys sorted, so every retry and replay of an
    event sends the same bytes."""
    document = {"type": event_type, "timestamp": occurred_at.isoformat(), "data": dict(data)}
    return json.dumps(document, separators=(",", ":"), sort_keys=True)


def retry_delay(attempts: int, first: timedelta, jitter: float, cap: timedelta = MAX_RETRY_DELAY) -> timedelta:
    """The wait after the `attempts`-th failed try: `first`, doubling each time up to `cap`, scaled by
    `jitter` in [0, 1] to between half and all of it, so endpoints that failed together do not all
    come back at the same moment."""
    if attempts < 1:
        raise ValueError("a retry follows at least one attempt")
    if not 0.0 <= jitter <= 1.0:
        raise ValueError("jitter is a fraction in [0, 1]")
    exponent = min(attempts - 1, 40)  # 2**40 times any first delay is past any cap
    full = min(first * (1 << exponent), cap)
    return full * (0.5 + 0.5 * jitter)


def gives_up(first_failed_at: datetime, now: datetime, window: timedelta) -> bool:
    """A delivery failing since `first_failed_at` is given up once the retry window has passed."""
    return now - first_failed_at >= window
