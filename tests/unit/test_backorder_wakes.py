"""Only orders the stock can serve are woken, longest-waiting first, each taking its share."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from domain.backorders import Waiting, orders_to_wake

T0 = datetime(2026, 12, 1, tzinfo=UTC)


def wait(order: str, sku: str, quantity: int, minutes: int = 0, channel: str = "shopify") -> Waiting:
    return Waiting(order, channel, sku, quantity, T0 + timedelta(minutes=minutes))


def test_stock_that_cannot_serve_an_order_wakes_nobody():
    assert orders_to_wake([wait("o1", "A", 3)], {"A": {"shopify": 2}}) == []


def test_the_longest_waiting_order_is_woken_and_the_next_only_if_enough_is_left():
    waits = [wait("late", "A", 2, minutes=5), wait("early", "A", 2, minutes=1), wait("small", "A", 1, minutes=9)]
    assert orders_to_wake(waits, {"A": {"shopify": 3}}) == [("early", "A"), ("small", "A")]


def test_an_order_waiting_for_two_skus_wakes_when_both_are_there():
    waits = [wait("o1", "A", 1), wait("o1", "B", 2)]
    assert orders_to_wake(waits, {"A": {"shopify": 5}, "B": {"shopify": 1}}) == []
    assert orders_to_wake(waits, {"A": {"shopify": 5}, "B": {"shopify": 2}}) == [("o1", "A")]


def test_a_channel_that_ships_what_it_has_wakes_for_a_single_unit():
    waits = [wait("o1", "A", 3, channel="bol")]
    assert orders_to_wake(waits, {"A": {"bol": 1}}, ships_what_it_has=frozenset({"bol"})) == [("o1", "A")]


def test_stock_a_channel_may_not_sell_does_not_count_for_it():
    assert orders_to_wake([wait("o1", "A", 1, channel="bol")], {"A": {"shopify": 10, "bol": 0}}) == []


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.tuples(st.sampled_from("ABC"), st.integers(1, 5), st.integers(0, 60)), min_size=1, max_size=12),
    st.dictionaries(st.sampled_from("ABC"), st.integers(0, 12)),
)
def test_orders_woken_never_want_more_than_there_is_and_nobody_servable_is_left_asleep(rows, stock):
    waits = [wait(f"o{i}", sku, qty, minutes) for i, (sku, qty, minutes) in enumerate(rows)]
    atp = {sku: {"shopify": units} for sku, units in stock.items()}
    woken = {order for order, _ in orders_to_wake(waits, atp)}
    left = dict(stock)
    for w in sorted(waits, key=lambda w: (w.since, w.order_id, w.sku)):
        if w.order_id in woken:
            left[w.sku] = left.get(w.sku, 0) - w.quantity
            assert left[w.sku] >= 0  # never more than the stock
        else:
            assert left.get(w.sku, 0) < w.quantity  # asleep only when what is left cannot serve it
