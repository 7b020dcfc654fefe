"""Sendcloud's parcel status webhook: its signature, its documented payload, and what each of its
parcel statuses means for a shipment here.

Sendcloud POSTs `{"action": "parcel_status_changed", "timestamp", "carrier_status_change_timestamp",
"parcel": {"id", "tracking_number", "status": {"id", "message"}, "order_number",
"external_order_id", "external_shipment_id", ...}}` to the integration's webhook URL, signed in
`Sendcloud-Signature` with the hex HMAC-SHA256 of the raw body under the integration's secret key
(sendcloud.dev, "Webhooks overview" and "Parcel status changed"). Other actions (integration
connected/modified/deleted, return created) are acknowledged and ignored.

The payload carries no event id: a report is named by the parcel, its status id and the moment of
the change, so a redelivery of the same webhook is the same report. Timestamps are documented as
Unix timestamps; the examples are in milliseconds, so a value too large for seconds is read as
milliseconds.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, StrictInt, ValidationError

from domain import limits
from domain.carrier_events import CarrierEvent
from domain.fulfilment import ShipmentStatus

SIGNATURE_HEADER = "Sendcloud-Signature"
PARCEL_STATUS_CHANGED = "parcel_status_changed"
CARRIER = "sendcloud"

# Sendcloud's parcel statuses (GET /parcels/statuses) and what each makes of a parcel we handed over.
# None: the report is kept on the timeline and moves nothing (the label's own life before the
# carrier has the parcel, cancellations, a delay, a status Sendcloud itself does not know).
STATUS_BY_ID: dict[int, ShipmentStatus | None] = {
    1: None,  # Announced
    3: ShipmentStatus.IN_TRANSIT,  # En route to sorting center
    4: ShipmentStatus.IN_TRANSIT,  # Delivery delayed
    5: ShipmentStatus.IN_TRANSIT,  # Sorted
    6: ShipmentStatus.IN_TRANSIT,  # Not sorted
    7: ShipmentStatus.IN_TRANSIT,  # Being sorted
    8: ShipmentStatus.IN_TRANSIT,  # Delivery attempt failed: the carrier tries again
    11: ShipmentStatus.DELIVERED,  # Delivered
    12: ShipmentStatus.IN_TRANSIT,  # Awaiting customer pickup: at a service point, not yet received
    13: None,  # Announced: not collected
    15: None,  # Error collecting
    22: ShipmentStatus.IN_TRANSIT,  # Shipment picked up by driver
    80: ShipmentStatus.DELIVERY_FAILED,  # Unable to deliver
    91: ShipmentStatus.IN_TRANSIT,  # Parcel en route
    92: ShipmentStatus.IN_TRANSIT,  # Driver en route
    93: ShipmentStatus.DELIVERED,  # Shipment collected by customer (from the service point)
    999: None,  # No label
    1000: None,  # Ready to send
    1001: None,  # Being announced
    1002: None,  # Announcement failed
    1337: None,  # Unknown status: check the carrier's track & trace page
    1998: None,  # Cancelled upstream
    1999: None,  # Cancellation requested
    2000: None,  # Cancelled
    2001: None,  # Submitting cancellation request
}

# Sendcloud's tracking "parent statuses" by their words, for a status id not in the table above
# (Sendcloud adds statuses; its documented parent statuses include these outcomes).
STATUS_BY_MESSAGE: dict[str, ShipmentStatus] = {
    "delivered": ShipmentStatus.DELIVERED,
    "returned to sender": ShipmentStatus.RETURNED_TO_SENDER,
    "returned": ShipmentStatus.RETURNED_TO_SENDER,
    "unable to deliver": ShipmentStatus.DELIVERY_FAILED,
    "address invalid": ShipmentStatus.DELIVERY_FAILED,
    "refused by recipient": ShipmentStatus.DELIVERY_FAILED,
    "exception": ShipmentStatus.DELIVERY_FAILED,
    "at sorting centre": ShipmentStatus.IN_TRANSIT,
    "at customs": ShipmentStatus.IN_TRANSIT,
    "out for delivery": ShipmentStatus.IN_TRANSIT,
}

_MILLISECONDS_FROM = 100_000_000_000
"""A Unix time in seconds this large is in the year 5138: such a value is milliseconds."""


def sign(secret: str, raw_body: bytes) -> str:
    """What Sendcloud sends in Sendcloud-Signature: hex HMAC-SHA256 of the raw body."""
    return hmac.new(secret.encode(), raw_body, hashlib.sha256).hexdigest()


def verify_signature(secret: str, raw_body: bytes, header: str | None) -> bool:
    """Never true without a secret or a header; compared in constant time."""
    if not secret or not header:
        return False
    expected = sign(secret, raw_body).encode()
    return hmac.compare_digest(expected, header.strip().lower().encode("utf-8", "replace"))


def carrier_status(status_id: int, message: str) -> ShipmentStatus | None:
    """What a Sendcloud parcel status makes of a shipment (None: nothing moves)."""
    if status_id in STATUS_BY_ID:
        return STATUS_BY_ID[status_id]
    return STATUS_BY_MESSAGE.get(" ".join(message.lower().split()))


class _Status(BaseModel):
    model_config = ConfigDict(extra="ignore")
    id: StrictInt = Field(ge=0, le=limits.BIGINT_MAX)
    message: str = Field(default="", max_length=500)


class _Parcel(BaseModel):
    model_config = ConfigDict(extra="ignore")
    id: StrictInt = Field(ge=0, le=limits.BIGINT_MAX)
    tracking_number: str | None = Field(default=None, max_length=limits.TRACKING_NUMBER)
    status: _Status
    external_shipment_id: str | None = Field(default=None, max_length=500)


class ParcelStatusChanged(BaseModel):
    """The documented parcel_status_changed payload, the fields we read (addresses are not kept)."""

    model_config = ConfigDict(extra="ignore")
    action: str
    timestamp: float | None = None
    carrier_status_change_timestamp: float | None = None
    parcel: _Parcel


class MalformedEvent(ValueError):
    """A signed body that is not a parcel status change we can read (HTTP 422)."""


def action_of(payload: dict[str, Any]) -> str:
    action = payload.get("action")
    return action if isinstance(action, str) else ""


def to_carrier_event(payload: dict[str, Any]) -> CarrierEvent:
    """The parcel status change as a carrier event; MalformedEvent says what is missing."""
    try:
        change = ParcelStatusChanged.model_validate(payload)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "body"
        raise MalformedEvent(f"not a Sendcloud parcel status change: {where}: {first['msg']}") from None
    parcel = change.parcel
    moment = change.carrier_status_change_timestamp or change.timestamp
    if moment is None:
        raise MalformedEvent("not a Sendcloud parcel status change: no timestamp")
    occurred_at = _unix_time(moment)
    tracking = (parcel.tracking_number or "").strip() or None
    shipment_id = (parcel.external_shipment_id or "").strip() or None
    if tracking is None and shipment_id is None:
        raise MalformedEvent("the parcel has neither a tracking number nor an external shipment id")
    return CarrierEvent(
        carrier=CARRIER,
        event_id=f"{parcel.id}:{parcel.status.id}:{int(occurred_at.timestamp() * 1000)}",
        occurred_at=occurred_at,
        status=carrier_status(parcel.status.id, parcel.status.message),
        description=parcel.status.message or f"status {parcel.status.id}",
        tracking_number=tracking,
        shipment_id=shipment_id,
    )


def _unix_time(value: float) -> datetime:
    seconds = value / 1000 if abs(value) >= _MILLISECONDS_FROM else value
    try:
        moment = datetime.fromtimestamp(seconds, UTC)
    except (OverflowError, OSError, ValueError):
        raise MalformedEvent(f"timestamp {value} is not a time") from None
    if not 2000 <= moment.year <= 9000:
        raise MalformedEvent(f"timestamp {value} is not a time between 2000 and 9000")
    return moment
