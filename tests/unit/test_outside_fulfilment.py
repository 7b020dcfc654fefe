"""Rules for orders we do not ship: who may cancel them, and what a short shelf record means."""

from __future__ import annotations

import pytest

from domain.order import FULFILLED_AT_COUNTER, FULFILLED_BY_CHANNEL, FULFILLED_BY_US
from domain.outside_fulfilment import (
    COUNTER_SALE_REFUSAL,
    cancel_refusal_for,
    count_the_shelf,
    shelf_shortfall,
)
from domain.status import OrderStatus, cancel_refusal

pytestmark = pytest.mark.unit

S = OrderStatus


@pytest.mark.parametrize("status", [S.RECEIVED, S.ON_HOLD, S.SHIPPED, S.COMPLETED])
def test_a_counter_sale_is_never_cancelled(status: OrderStatus) -> None:
    assert cancel_refusal_for(FULFILLED_AT_COUNTER, status, shipping_started=False) == COUNTER_SALE_REFUSAL
    assert "return" in COUNTER_SALE_REFUSAL


@pytest.mark.parametrize("status", [S.RECEIVED, S.SHIPPED])
def test_the_channel_may_cancel_what_it_fulfils_until_the_order_closes(status: OrderStatus) -> None:
    assert cancel_refusal_for(FULFILLED_BY_CHANNEL, status, shipping_started=False) is None


@pytest.mark.parametrize("fulfilled_by", [FULFILLED_BY_CHANNEL, FULFILLED_AT_COUNTER])
def test_closed_orders_refuse_whoever_fulfils_them(fulfilled_by: str) -> None:
    assert cancel_refusal_for(fulfilled_by, S.CANCELLED, shipping_started=False) == "the order is already cancelled"
    assert cancel_refusal_for(fulfilled_by, S.COMPLETED, shipping_started=False) is not None


@pytest.mark.parametrize("status", list(OrderStatus))
@pytest.mark.parametrize("shipping_started", [False, True])
def test_orders_we_ship_keep_the_usual_rule(status: OrderStatus, shipping_started: bool) -> None:
    assert cancel_refusal_for(FULFILLED_BY_US, status, shipping_started) == cancel_refusal(status, shipping_started)


def test_the_shortfall_is_what_was_sold_beyond_what_the_record_gave() -> None:
    assert shelf_shortfall({"B": 2, "A": 3, "C": 1}, {"A": 1, "C": 1}) == {"A": 2, "B": 2}
    assert shelf_shortfall({"A": 3}, {"A": 3}) == {}


def test_the_note_sends_a_person_to_count_the_shelf() -> None:
    assert count_the_shelf("STORE-1", "A", 2) == "count the shelf at STORE-1: the record was short by 2 of A"
    assert "no stock record of B" in count_the_shelf("STORE-1", "B", 1, recorded=False)
