"""The physical steps of one shipment, who may confirm them, and how long each may take.

A shipment is the part of an order one location fulfils. It goes pick → pack → ship to the
customer; for click & collect at the store that holds the stock it goes pick → ready → collected;
when the stock comes from elsewhere it is picked, packed and shipped to the pickup store and then
made ready and collected there. Staff confirm each step; a confirmation is checked here, before it
can reach the workflow's history.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum


class Step(StrEnum):
    PICK = "pick"
    PACK = "pack"
    SHIP = "ship"
    READY = "ready"
    COLLECT = "collect"


class ShipmentKind(StrEnum):
    DELIVERY = "delivery"
    """Parcel to the customer's address."""
    COLLECT = "collect"
    """Click & collect from the store that holds the stock."""
    TRANSFER_COLLECT = "transfer_collect"
    """Click & collect with stock sent from another location to the pickup store first."""


STEPS: dict[ShipmentKind, tuple[Step, ...]] = {
    ShipmentKind.DELIVERY: (Step.PICK, Step.PACK, Step.SHIP),
    ShipmentKind.COLLECT: (Step.PICK, Step.READY, Step.COLLECT),
    ShipmentKind.TRANSFER_COLLECT: (Step.PICK, Step.PACK, Step.SHIP, Step.READY, Step.COLLECT),
}


class ShipmentStatus(StrEnum):
    """Where a shipment is (the read model and the API show these)."""

    RESERVED = "RESERVED"
    PICKED = "PICKED"
    PACKED = "PACKED"
    SHIPPED = "SHIPPED"
    READY_FOR_PICKUP = "READY_FOR_PICKUP"
    COLLECTED = "COLLECTED"
    WITHDRAWN = "WITHDRAWN"
    """Cancelled before it left: pick request withdrawn, stock released."""
    EXPIRED = "EXPIRED"
    """Click & collect not collected in time: stock released, money not taken."""
    CANCELLED = "CANCELLED"
    """Nothing was found to pick (or the order was cancelled before its shipment workflow started)."""
    STOPPED_BY_CANCEL = "STOPPED_BY_CANCEL"
    """The handover found the order cancelled (the cancel won the race): nothing left, the shipment is withdrawn."""
    # After the handover the carrier (or a person, without a carrier integration) reports where the
    # parcel is: domain.carrier_events decides which report moves it.
    IN_TRANSIT = "IN_TRANSIT"
    """The carrier has the parcel and it moves (sorted, out for delivery, waiting at a service point)."""
    DELIVERY_FAILED = "DELIVERY_FAILED"
    """The carrier says it cannot deliver (address invalid, refused, unable to deliver): a person looks."""
    DELIVERED = "DELIVERED"
    """The customer has it: the returns window counts from here."""
    RETURNED_TO_SENDER = "RETURNED_TO_SENDER"
    """The carrier brought it back to us undelivered."""


# The shipment's status once a step is done.
DONE_STATUS: dict[Step, ShipmentStatus] = {
    Step.PICK: ShipmentStatus.PICKED,
    Step.PACK: ShipmentStatus.PACKED,
    Step.SHIP: ShipmentStatus.SHIPPED,
    Step.READY: ShipmentStatus.READY_FOR_PICKUP,
    Step.COLLECT: ShipmentStatus.COLLECTED,
}

# Where the goods leave our stock for good: the parcel is handed to the carrier, or the customer
# takes it over the counter. Payment for the shipment is captured at that step.
HANDOVER: dict[ShipmentKind, Step] = {
    ShipmentKind.DELIVERY: Step.SHIP,
    ShipmentKind.COLLECT: Step.COLLECT,
    ShipmentKind.TRANSFER_COLLECT: Step.SHIP,
}

HOUR = 3600
# How long each step may take before ops hear about it, per kind of location (seconds). A store
# picks between customers, a warehouse works in waves, a dropshipper answers within a day or two.
DEFAULT_SLAS: dict[str, dict[str, int]] = {
    "warehouse": {"pick": 4 * HOUR, "pack": 2 * HOUR, "ship": 8 * HOUR, "ready": 24 * HOUR},
    "store": {"pick": 2 * HOUR, "pack": 1 * HOUR, "ship": 8 * HOUR, "ready": 2 * HOUR},
    "dropship": {"pick": 24 * HOUR, "pack": 24 * HOUR, "ship": 48 * HOUR, "ready": 24 * HOUR},
}
DEFAULT_PICKUP_EXPIRY = 7 * 24 * HOUR
LABEL_DUE_SECONDS = 15 * 60
"""How long a carrier may take to give a packed shipment its label before ops hear of it (a step
`label` in OMS_SLA_OVERRIDES changes it per location kind)."""


def shipment_kind(location_id: str, pickup_location_id: str | None, transfer_to: str | None) -> ShipmentKind:
    if pickup_location_id is None:
        return ShipmentKind.DELIVERY
    if transfer_to is not None or location_id != pickup_location_id:
        return ShipmentKind.TRANSFER_COLLECT
    return ShipmentKind.COLLECT


def next_step(kind: ShipmentKind, done: int) -> Step | None:
    """The step after `done` completed steps, or None when the shipment is finished."""
    steps = STEPS[kind]
    return steps[done] if done < len(steps) else None


def step_location(step: Step, kind: ShipmentKind, origin: str, pickup: str | None) -> str:
    """Where a step happens: at the pickup store for ready and collect, else where the stock is."""
    if step in (Step.READY, Step.COLLECT) and pickup is not None:
        return pickup
    return origin


def sla_for(location_kind: str, slas: Mapping[str, Mapping[str, int]] | None = None) -> dict[str, int]:
    table = slas if slas is not None else DEFAULT_SLAS
    return dict(table.get(location_kind, table.get("warehouse", {})))


class RefusalKind(StrEnum):
    OUT_OF_ORDER = "out_of_order"
    """Not the step the shipment waits for (already done, or too early): HTTP 409."""
    FINISHED = "finished"
    """The shipment is withdrawn, expired or done: HTTP 409."""
    WRONG_LOCATION = "wrong_location"
    """Confirmed by a location that does not do this step: HTTP 422."""
    INVALID = "invalid"
    """Quantities, parcels or tracking that cannot be right: HTTP 422."""


class ConfirmationRefused(ValueError):
    def __init__(self, kind: RefusalKind, message: str) -> None:
        super().__init__(message)
        self.kind = kind


@dataclass(frozen=True)
class Confirmation:
    step: str
    location_id: str
    quantities: Mapping[str, int] | None = None
    parcels: int | None = None
    carrier: str | None = None
    tracking_number: str | None = None


def check_confirmation(
    confirmation: Confirmation,
    *,
    expected: Step | None,
    finished_as: str | None,
    step_location_id: str,
    requested: Mapping[str, int],
) -> None:
    """Refuse a confirmation that is out of order, from the wrong place or impossible."""
    try:
        step = Step(confirmation.step)
    except ValueError:
        raise ConfirmationRefused(RefusalKind.INVALID, f"unknown step {confirmation.step!r}") from None
    if finished_as is not None:
        raise ConfirmationRefused(RefusalKind.FINISHED, f"the shipment is {finished_as}; nothing left to confirm")
    if expected is None or step != expected:
        waiting = f"it waits for {expected.value}" if expected else "it is finished"
        raise ConfirmationRefused(RefusalKind.OUT_OF_ORDER, f"cannot confirm {step.value} now: {waiting}")
    if confirmation.location_id != step_location_id:
        raise ConfirmationRefused(
            RefusalKind.WRONG_LOCATION,
            f"{step.value} for this shipment is confirmed at {step_location_id}, not {confirmation.location_id}",
        )
    if step is Step.PICK:
        _check_picked(confirmation.quantities, requested)
    if step is Step.PACK and confirmation.parcels is not None and confirmation.parcels < 1:
        raise ConfirmationRefused(RefusalKind.INVALID, "a packed shipment has at least one parcel")
    if step is Step.SHIP and not (confirmation.carrier and confirmation.tracking_number):
        raise ConfirmationRefused(RefusalKind.INVALID, "shipped needs a carrier and a tracking number")


def _check_picked(quantities: Mapping[str, int] | None, requested: Mapping[str, int]) -> None:
    if quantities is None:
        return  # everything requested was picked
    unknown = sorted(set(quantities) - set(requested))
    if unknown:
        raise ConfirmationRefused(RefusalKind.INVALID, "not on this pick list: " + ", ".join(unknown))
    for sku, quantity in quantities.items():
        if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity < 0:
            raise ConfirmationRefused(RefusalKind.INVALID, f"{sku}: picked quantity must be a whole number ≥ 0")
        if quantity > requested[sku]:
            raise ConfirmationRefused(
                RefusalKind.INVALID, f"{sku}: picked {quantity}, but only {requested[sku]} were requested"
            )


def picked_lines(requested: Mapping[str, int], quantities: Mapping[str, int] | None) -> dict[str, int]:
    """What was actually picked (SKUs not mentioned count as picked in full), zero lines dropped."""
    picked = {
        sku: (quantities.get(sku, wanted) if quantities is not None else wanted) for sku, wanted in requested.items()
    }
    return {sku: units for sku, units in picked.items() if units > 0}


def shortfall(requested: Mapping[str, int], picked: Mapping[str, int]) -> dict[str, int]:
    """Units requested but not found on the shelf: they must be sourced elsewhere."""
    return {sku: wanted - picked.get(sku, 0) for sku, wanted in requested.items() if wanted > picked.get(sku, 0)}
