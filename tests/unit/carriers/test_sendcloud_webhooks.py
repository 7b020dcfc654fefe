"""Sendcloud's parcel status webhook: the documented signature, the documented payload, and what each
of Sendcloud's parcel statuses makes of a shipment."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.fulfilment import ShipmentStatus
from integrations.carriers.sendcloud import webhooks as sendcloud

DOCUMENTED = json.loads((Path(__file__).parents[1] / "data" / "sendcloud" / "parcel_status_changed.json").read_text())


def _payload(**parcel: Any) -> dict[str, Any]:
    payload = copy.deepcopy(DOCUMENTED)
    payload["parcel"].update(parcel)
    return payload


def test_the_signature_is_the_documented_hex_hmac_of_the_raw_body():
    # sendcloud.dev, "Webhooks overview": secret "secretkey" over {"key": "value"}.
    expected = "1eed4b3d41f4653ac64fd56f1bf1cbfd349e4482cbc11dff7134bd93e5da4b0a"
    assert sendcloud.sign("secretkey", b'{"key": "value"}') == expected
    assert sendcloud.verify_signature("secretkey", b'{"key": "value"}', expected)
    assert sendcloud.verify_signature("secretkey", b'{"key": "value"}', expected.upper())


@pytest.mark.parametrize(
    ("secret", "body", "header"),
    [
        ("secretkey", b'{"key": "other"}', sendcloud.sign("secretkey", b'{"key": "value"}')),
        ("another", b'{"key": "value"}', sendcloud.sign("secretkey", b'{"key": "value"}')),
        ("secretkey", b'{"key": "value"}', None),
        ("secretkey", b'{"key": "value"}', ""),
        ("", b"{}", sendcloud.sign("", b"{}")),  # no secret configured: nothing verifies
        ("secretkey", b"{}", "ünïcode"),
    ],
)
def test_a_wrong_or_missing_signature_does_not_verify(secret, body, header):
    assert not sendcloud.verify_signature(secret, body, header)


def test_the_documented_payload_becomes_a_carrier_event():
    event = sendcloud.to_carrier_event(DOCUMENTED)
    assert event.status is ShipmentStatus.DELIVERED
    assert event.tracking_number == "3SYZXG132912330"
    assert event.shipment_id == "AMZ231231"
    assert event.carrier == "sendcloud" and event.description == "Delivered"
    # The carrier's own moment of the change, read as milliseconds.
    assert event.occurred_at == datetime.fromtimestamp(1525271885, UTC)
    assert event.event_id == "1:11:1525271885000"


def test_the_same_change_delivered_twice_is_the_same_report_and_another_status_is_another():
    again = sendcloud.to_carrier_event(copy.deepcopy(DOCUMENTED))
    assert again.event_id == sendcloud.to_carrier_event(DOCUMENTED).event_id
    moved = sendcloud.to_carrier_event(_payload(status={"id": 3, "message": "En route to sorting center"}))
    assert moved.event_id != again.event_id and moved.status is ShipmentStatus.IN_TRANSIT


def test_seconds_are_read_as_seconds_and_the_send_time_stands_in_for_the_carriers():
    payload = _payload()
    payload["timestamp"], payload["carrier_status_change_timestamp"] = 1764579600, None
    assert sendcloud.to_carrier_event(payload).occurred_at == datetime(2025, 12, 1, 9, tzinfo=UTC)


@pytest.mark.parametrize(
    ("status_id", "message", "expected"),
    [
        (11, "Delivered", ShipmentStatus.DELIVERED),
        (93, "Shipment collected by customer", ShipmentStatus.DELIVERED),
        (3, "En route to sorting center", ShipmentStatus.IN_TRANSIT),
        (8, "Delivery attempt failed", ShipmentStatus.IN_TRANSIT),
        (12, "Awaiting customer pickup", ShipmentStatus.IN_TRANSIT),  # not received yet: no window starts
        (80, "Unable to deliver", ShipmentStatus.DELIVERY_FAILED),
        (1000, "Ready to send", None),
        (1, "Announced", None),
        (2000, "Cancelled", None),
        (1337, "Unknown status - check carrier track & trace page for more insights", None),
        (62_992, "Returned to sender", ShipmentStatus.RETURNED_TO_SENDER),  # an id we do not know: its words
        (62_996, "Exception", ShipmentStatus.DELIVERY_FAILED),
        (62_990, "At sorting centre", ShipmentStatus.IN_TRANSIT),
        (99_999, "Something new", None),
    ],
)
def test_sendcloud_statuses_map_to_ours(status_id, message, expected):
    assert sendcloud.carrier_status(status_id, message) is expected


@given(st.integers(min_value=0, max_value=2**63 - 1), st.text(max_size=80))
def test_every_status_maps_to_a_carrier_status_or_to_nothing(status_id, message):
    result = sendcloud.carrier_status(status_id, message)
    assert result is None or result in {
        ShipmentStatus.IN_TRANSIT,
        ShipmentStatus.DELIVERY_FAILED,
        ShipmentStatus.DELIVERED,
        ShipmentStatus.RETURNED_TO_SENDER,
    }


@pytest.mark.parametrize(
    ("change", "names"),
    [
        (lambda p: p.pop("parcel"), "parcel"),
        (lambda p: p["parcel"].pop("status"), "parcel.status"),
        (lambda p: p["parcel"]["status"].update(id="11"), "parcel.status.id"),
        (lambda p: p["parcel"].update(id=-1), "parcel.id"),
        (lambda p: p["parcel"].update(id=2**64), "parcel.id"),
        (lambda p: p["parcel"].update(tracking_number="T" * 101), "parcel.tracking_number"),
        (lambda p: p.update(timestamp=None, carrier_status_change_timestamp=None), "timestamp"),
        (lambda p: p.update(carrier_status_change_timestamp=123), "not a time"),
        (lambda p: p.update(carrier_status_change_timestamp=10**30), "not a time"),
        (lambda p: p["parcel"].update(tracking_number=" ", external_shipment_id=None), "neither"),
    ],
)
def test_a_body_that_is_not_a_parcel_status_change_is_refused_naming_why(change, names):
    payload = copy.deepcopy(DOCUMENTED)
    change(payload)
    with pytest.raises(sendcloud.MalformedEvent, match=names.replace(".", r"\.")):
        sendcloud.to_carrier_event(payload)


def test_other_actions_are_told_apart():
    assert sendcloud.action_of({"action": "integration_connected"}) == "integration_connected"
    assert sendcloud.action_of({"action": 5}) == ""
    assert sendcloud.action_of(DOCUMENTED) == sendcloud.PARCEL_STATUS_CHANGED


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=12,
)
_FIELDS = ("id", "tracking_number", "status", "external_shipment_id")


@given(_json)
def test_any_json_is_an_event_or_a_clean_refusal(payload):
    _event_or_refusal({"action": "parcel_status_changed", "parcel": payload, "timestamp": 1764579600000})
    _event_or_refusal(payload if isinstance(payload, dict) else {"parcel": payload})


@given(st.sampled_from((*_FIELDS, "timestamp", "carrier_status_change_timestamp")), _json)
def test_the_documented_payload_with_any_field_replaced_is_an_event_or_a_clean_refusal(field, value):
    payload = copy.deepcopy(DOCUMENTED)
    (payload["parcel"] if field in _FIELDS else payload)[field] = value
    _event_or_refusal(payload)


def _event_or_refusal(payload: dict[str, Any]) -> None:
    """Never an OverflowError, TypeError, KeyError ... (a 500 that Sendcloud would retry for ever)."""
    try:
        event = sendcloud.to_carrier_event(payload)
    except sendcloud.MalformedEvent:
        return
    assert len(event.event_id) <= 300
    assert event.tracking_number is None or len(event.tracking_number) <= 100
