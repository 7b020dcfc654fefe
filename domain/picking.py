"""The warehouse floor's rules that need no database: which step a shipment waits for (read from its
recorded status), when that step is due, and counting scanned units against a pick list.

The step deadlines mirror the shipment workflow's (workflows.shipment): a step is due its SLA after
the step before it was done (the pick after the shipment was made), a pickup is collected before it
expires. The workflow's escalation row, when there is one, is the exact time; this is what a pick
list sorts by before anything is late.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from domain.fulfilment import STEPS, ShipmentKind, ShipmentStatus, Step, step_location

MAX_UNITS_PER_SCAN = 999
"""A typed "1000x" is a slip of the finger, not a pick."""

_DONE_BY_STATUS: dict[ShipmentStatus, Step] = {
    ShipmentStatus.PICKED: Step.PICK,
    ShipmentStatus.PACKED: Step.PACK,
    ShipmentStatus.SHIPPED: Step.SHIP,
    ShipmentStatus.READY_FOR_PICKUP: Step.READY,
}


def waiting_step(kind: str, status: str) -> Step | None:
    """The step a shipment in `status` waits for, or None when it waits for none (finished, handed
    over to a carrier, withdrawn)."""
    try:
        shipment_kind, shipment_status = ShipmentKind(kind), ShipmentStatus(status)
    except ValueError:
        return None
    steps = STEPS[shipment_kind]
    if shipment_status is ShipmentStatus.RESERVED:
        return steps[0]
    done = _DONE_BY_STATUS.get(shipment_status)
    if done is None or done not in steps:
        return None
    following = steps.index(done) + 1
    return steps[following] if following < len(steps) else None


def pickup_location(kind: str, location_id: str, transfer_to: str | None) -> str | None:
    """Where a click & collect shipment is collected (None for a parcel to the customer)."""
    if kind == ShipmentKind.DELIVERY:
        return None
    return transfer_to or location_id


def where_step_happens(step: Step, kind: str, location_id: str, transfer_to: str | None) -> str:
    """The location that confirms `step` (ready and collect at the pickup store)."""
    return step_location(step, ShipmentKind(kind), location_id, pickup_location(kind, location_id, transfer_to))


@dataclass(frozen=True)
class StepTimes:
    """When each step of a shipment was done, as the read model recorded it."""

    created_at: datetime
    picked_at: datetime | None = None
    packed_at: datetime | None = None
    shipped_at: datetime | None = None
    ready_at: datetime | None = None


def step_due(
    step: Step, times: StepTimes, sla_seconds: Mapping[str, int], pickup_expiry_seconds: int
) -> datetime | None:
    """When `step` is due: its SLA after the step before it (a collection: when the pickup expires).
    None when no SLA applies or the step before has no recorded time."""
    started = {
        Step.PICK: times.created_at,
        Step.PACK: times.picked_at,
        Step.SHIP: times.packed_at or times.picked_at,
        Step.READY: times.shipped_at or times.picked_at,
        Step.COLLECT: times.ready_at,
    }[step]
    seconds = pickup_expiry_seconds if step is Step.COLLECT else sla_seconds.get(step.value)
    if started is None or not seconds:
        return None
    return started + timedelta(seconds=seconds)


# -- counting scans --------------------------------------------------------------------------

_MULTIPLIED = re.compile(r"^\s*(\d{1,4})\s*[xX*\u00d7]\s*(\S.*?)\s*$")


@dataclass(frozen=True)
class Scan:
    code: str
    units: int


def read_scan(typed: str, units: int = 1) -> Scan:
    """What a scanner (or a person) typed: a code, or "3x CODE" for three units of it.
    ValueError when there is nothing to count."""
    text = typed.strip()
    multiplied = _MULTIPLIED.match(text)
    if multiplied:
        units, text = int(multiplied.group(1)), multiplied.group(2)
    if not text:
        raise ValueError("scan or type an EAN or a SKU")
    if units < 1 or units > MAX_UNITS_PER_SCAN:
        raise ValueError(f"a scan counts 1 to {MAX_UNITS_PER_SCAN} units")
    return Scan(text, units)


def match_code(code: str, lines: Mapping[str, int], eans: Mapping[str, str | None]) -> str | None:
    """The SKU of the pick list a code names: its EAN, or the SKU itself (any letter case)."""
    for sku in lines:
        if eans.get(sku) and eans[sku] == code:
            return sku
    folded = code.casefold()
    for sku in lines:
        if sku.casefold() == folded:
            return sku
    return None


class ScanRefused(ValueError):
    pass


def count_scan(
    lines: Mapping[str, int], counted: Mapping[str, int], scan: Scan, eans: Mapping[str, str | None]
) -> tuple[str, dict[str, int]]:
    """Count a scan against the pick list: the SKU it counted and the new counts. ScanRefused for
    an item not on the list, or more units than the list asks for."""
    sku = match_code(scan.code, lines, eans)
    if sku is None:
        raise ScanRefused(f"{scan.code} is not on this pick list: put it back")
    now = counted.get(sku, 0) + scan.units
    if now > lines[sku]:
        raise ScanRefused(f"{sku}: the pick list asks for {lines[sku]}, this would make {now}: do not pick more")
    return sku, {**counted, sku: now}


def clean_counts(lines: Mapping[str, int], posted: Mapping[str, object]) -> dict[str, int]:
    """Counts carried in a form, kept to what can be: SKUs of the list, whole numbers from 0 up to
    what the list asks for (anything else counts as 0)."""
    counts: dict[str, int] = {}
    for sku, wanted in lines.items():
        value = posted.get(sku, 0)
        if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= wanted:
            counts[sku] = value
        else:
            counts[sku] = 0
    return counts


def missing_units(lines: Mapping[str, int], counted: Mapping[str, int]) -> dict[str, int]:
    """What a pick confirmed with these counts would leave behind (a short pick)."""
    return {sku: wanted - counted.get(sku, 0) for sku, wanted in lines.items() if counted.get(sku, 0) < wanted}
