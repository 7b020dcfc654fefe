"""Carrier reports move a shipment forward only; an order is delivered when its last parcel to the
customer is; the returns window counts from the delivery when there is one."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.carrier_events import (
    CARRIER_STATUSES,
    FINAL,
    HANDED_OVER,
    CarrierEvent,
    ParcelState,
    next_status,
    order_delivered_at,
    returns_window_closes_at,
)
from domain.fulfilment import ShipmentStatus
from domain.returns import ReturnLine, ReturnRefusalKind, ReturnRefused, check_return

T0 = datetime(2026, 12, 1, 9, tzinfo=UTC)
RANK = {
    ShipmentStatus.SHIPPED: 0,
    ShipmentStatus.IN_TRANSIT: 1,
    ShipmentStatus.DELIVERY_FAILED: 1,
    ShipmentStatus.DELIVERED: 2,
    ShipmentStatus.RETURNED_TO_SENDER: 2,
}

reports = st.lists(
    st.tuples(st.sampled_from([*sorted(CARRIER_STATUSES), None]), st.integers(min_value=0, max_value=10_000)),
    max_size=12,
)


def _replay(events: list[tuple[ShipmentStatus | None, int]]) -> list[ShipmentStatus]:
    status, last_at, seen = ShipmentStatus.SHIPPED, None, [ShipmentStatus.SHIPPED]
    for reported, minute in events:
        at = T0 + timedelta(minutes=minute)
        moved = next_status(status, last_at, reported, at)
        if moved is not None:
            status, last_at = moved, at
        seen.append(status)
    return seen


@given(reports)
def test_a_shipment_never_moves_backwards_whatever_arrives_in_whatever_order(events):
    seen = _replay(events)
    assert all(RANK[later] >= RANK[earlier] for earlier, later in itertools.pairwise(seen))
    finished = [status for status in seen if status in FINAL]
    assert all(status == finished[0] for status in finished)  # a final status stays what it was


@given(reports)
def test_a_delivery_report_always_wins_over_transit(events):
    delivered = [*events, (ShipmentStatus.DELIVERED, 0)]  # the oldest report of all, arriving last
    final = _replay(delivered)[-1]
    assert final in FINAL
    if not any(status is ShipmentStatus.RETURNED_TO_SENDER for status, _ in events):
        assert final is ShipmentStatus.DELIVERED


def test_the_newer_of_transit_and_a_failed_delivery_wins():
    assert next_status("IN_TRANSIT", T0, ShipmentStatus.DELIVERY_FAILED, T0 + timedelta(hours=1)) is (
        ShipmentStatus.DELIVERY_FAILED
    )
    # Under way again after a failed delivery: a newer transit report moves it...
    assert next_status("DELIVERY_FAILED", T0, ShipmentStatus.IN_TRANSIT, T0 + timedelta(hours=1)) is (
        ShipmentStatus.IN_TRANSIT
    )
    # ...an older one, uploaded late, does not.
    assert next_status("DELIVERY_FAILED", T0, ShipmentStatus.IN_TRANSIT, T0 - timedelta(hours=1)) is None


@pytest.mark.parametrize("status", ["RESERVED", "PICKED", "PACKED", "WITHDRAWN", "READY_FOR_PICKUP", "COLLECTED"])
def test_nothing_moves_a_shipment_that_has_not_been_handed_to_a_carrier(status):
    assert next_status(status, None, ShipmentStatus.DELIVERED, T0) is None


def test_a_report_without_a_status_moves_nothing():
    assert next_status("SHIPPED", None, None, T0) is None
    assert all(next_status(s, None, s, T0) is None for s in HANDED_OVER)  # the same status again


def test_a_carrier_event_names_its_parcel_and_carries_a_zone():
    with pytest.raises(ValueError, match="zone"):
        CarrierEvent("sendcloud", "1", datetime(2026, 12, 1), ShipmentStatus.DELIVERED, tracking_number="T")
    with pytest.raises(ValueError, match="names its parcel"):
        CarrierEvent("sendcloud", "1", T0, ShipmentStatus.DELIVERED)
    with pytest.raises(ValueError, match="cannot report"):
        CarrierEvent("sendcloud", "1", T0, ShipmentStatus.PICKED, tracking_number="T")


def _parcel(status: str, delivered_minutes: int | None = None, kind: str = "delivery") -> ParcelState:
    at = None if delivered_minutes is None else T0 + timedelta(minutes=delivered_minutes)
    return ParcelState(kind, status, at)


def test_an_order_is_delivered_when_its_last_parcel_to_the_customer_is():
    both = [_parcel("DELIVERED", 60), _parcel("DELIVERED", 30)]
    assert order_delivered_at("SHIPPED", both) == T0 + timedelta(minutes=60)
    assert order_delivered_at("COMPLETED", both) == T0 + timedelta(minutes=60)
    assert order_delivered_at("SHIPPED", [_parcel("DELIVERED", 60), _parcel("IN_TRANSIT")]) is None
    assert order_delivered_at("SHIPPED", [_parcel("DELIVERED", 60), _parcel("RETURNED_TO_SENDER")]) is None
    # A withdrawn shipment never leaves; a pickup at a store is not a delivery.
    mixed = [_parcel("DELIVERED", 5), _parcel("WITHDRAWN"), _parcel("COLLECTED", kind="collect")]
    assert order_delivered_at("SHIPPED", mixed) == T0 + timedelta(minutes=5)
    # Something still being prepared, or a backordered remainder (the order is not SHIPPED yet).
    assert order_delivered_at("SHIPPED", [_parcel("DELIVERED", 5), _parcel("PACKED")]) is None
    assert order_delivered_at("IN_FULFILMENT", [_parcel("DELIVERED", 5)]) is None
    assert order_delivered_at("SHIPPED", [_parcel("COLLECTED", kind="collect")]) is None


FOURTEEN_DAYS = timedelta(days=14)


def _return_on(day: int, *, delivered_on: int | None) -> dict[str, int]:
    shipped = T0
    delivered = None if delivered_on is None else shipped + timedelta(days=delivered_on)
    closes = returns_window_closes_at(shipped, delivered, FOURTEEN_DAYS)
    return check_return(
        [ReturnLine("TEE", 1)], shipped={"TEE": 1}, returned={}, window_closes_at=closes, now=T0 + timedelta(days=day)
    )


def test_a_return_20_days_after_shipping_but_10_after_delivery_is_within_14_days():
    assert _return_on(20, delivered_on=10) == {"TEE": 1}


def test_without_a_delivery_the_window_counts_from_shipping():
    with pytest.raises(ReturnRefused) as refused:
        _return_on(20, delivered_on=None)
    assert refused.value.kind is ReturnRefusalKind.WINDOW_CLOSED
    assert _return_on(13, delivered_on=None) == {"TEE": 1}


def test_a_delivery_reported_before_the_handover_cannot_shorten_the_window():
    assert returns_window_closes_at(T0, T0 - timedelta(days=3), FOURTEEN_DAYS) == T0 + FOURTEEN_DAYS
    with pytest.raises(ReturnRefused):
        _return_on(24, delivered_on=10)  # 14 days after the delivery: closed
