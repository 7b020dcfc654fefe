"""The pure rules of outbound events: the catalogue, who wants what, the body, the backoff."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.outbound_events import (
    DATA_FIELDS,
    EVENT_TYPES,
    MAX_RETRY_DELAY,
    EventType,
    UnknownEventType,
    body,
    check_types,
    gives_up,
    retry_delay,
    wants,
)

FIRST = timedelta(seconds=5)


def test_the_catalogue_holds_the_issue_s_nine_types_each_with_its_data():
    assert set(EVENT_TYPES) == {
        "order.created",
        "order.status_changed",
        "order.held",
        "shipment.shipped",
        "shipment.delivered",
        "return.received",
        "refund.issued",
        "invoice.issued",
        "stock.changed",
    }
    assert set(DATA_FIELDS) == set(EventType)


def test_types_are_checked_and_none_or_empty_means_every_type():
    assert check_types(None) is None and check_types([]) is None
    assert check_types(["stock.changed", "order.created", "order.created"]) == ("order.created", "stock.changed")
    with pytest.raises(UnknownEventType, match=r"order\.paid"):
        check_types(["order.created", "order.paid"])
    assert wants(None, "stock.changed") and wants(["order.created"], "order.created")
    assert not wants(["order.created"], "stock.changed")


def test_the_body_is_the_standard_webhooks_shape_and_the_same_bytes_every_time():
    at = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
    sent = body("order.held", at, {"order_id": "o-1", "hold_reason": "x"})
    assert json.loads(sent) == {
        "type": "order.held",
        "timestamp": "2026-03-01T12:00:00+00:00",
        "data": {"order_id": "o-1", "hold_reason": "x"},
    }
    assert sent == body("order.held", at, {"hold_reason": "x", "order_id": "o-1"})


@given(attempts=st.integers(1, 10_000), jitter=st.floats(0, 1))
def test_a_retry_waits_between_half_and_all_of_a_doubling_delay_capped(attempts, jitter):
    delay = retry_delay(attempts, FIRST, jitter)
    full = min(FIRST * 2 ** min(attempts - 1, 40), MAX_RETRY_DELAY)
    assert full / 2 <= delay <= full
    assert delay <= MAX_RETRY_DELAY


@given(attempts=st.integers(1, 30))
def test_without_jitter_each_retry_waits_at_least_as_long_as_the_one_before(attempts):
    assert retry_delay(attempts + 1, FIRST, 1.0) >= retry_delay(attempts, FIRST, 1.0)
    assert retry_delay(1, FIRST, 1.0) == FIRST


def test_nonsense_is_refused():
    with pytest.raises(ValueError, match="at least one"):
        retry_delay(0, FIRST, 0.5)
    with pytest.raises(ValueError, match="fraction"):
        retry_delay(1, FIRST, 1.5)


def test_a_delivery_is_given_up_once_its_retry_window_has_passed():
    start = datetime(2026, 3, 1, tzinfo=UTC)
    window = timedelta(days=3)
    assert not gives_up(start, start + window - timedelta(seconds=1), window)
    assert gives_up(start, start + window, window)
