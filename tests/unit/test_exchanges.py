"""Exchanges: the returned units are worth what a refund of them gives back, and the difference to
the replacement is charged or refunded to the cent (domain.exchanges)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.exchanges import (
    ExchangeRefusalKind,
    ExchangeRefused,
    ExchangeResolution,
    ExchangeStep,
    OutOfStockPolicy,
    Settlement,
    next_step,
    refund_instead,
    resolve_exchange,
    undelivered_value,
)
from domain.money import Money
from domain.order import Order, OrderLine, line_from_total
from domain.returns import refund_for

NOW = datetime(2026, 12, 7, 12, tzinfo=UTC)


def eur(minor: int) -> Money:
    return Money(minor, "EUR")


def order(discount: int = 0) -> Order:
    lines = (OrderLine("TEE", 3, eur(1000), eur(2999)), OrderLine("MUG", 1, eur(1250), eur(1250)))
    return Order(
        channel="webshop",
        external_id="X-1",
        currency="EUR",
        lines=lines,
        placed_at=NOW,
        total=eur(2999 + 1250 + 495 - discount),
        shipping=eur(495),
        discount=eur(discount) if discount else None,
    )


def test_a_tee_swapped_for_a_dearer_one_charges_the_difference():
    exchange = resolve_exchange(order(), {}, {"TEE": 1}, [line_from_total("TEE-XL", 1, eur(1200))])
    assert exchange.returned_value == eur(999)  # the first of three units of 29.99
    assert exchange.difference == eur(201)
    assert (exchange.settlement, exchange.to_charge, exchange.to_refund) == (Settlement.CHARGE, eur(201), eur(0))


def test_a_cheaper_replacement_refunds_the_difference_after_an_order_discount():
    exchange = resolve_exchange(order(discount=425), {"TEE": 1}, {"MUG": 1}, [line_from_total("MUG-S", 1, eur(900))])
    assert exchange.returned_value == refund_for(order(discount=425), {"TEE": 1}, {"MUG": 1})
    assert exchange.settlement is Settlement.REFUND
    assert exchange.to_refund == exchange.returned_value - eur(900)
    assert exchange.to_charge == eur(0)


def test_like_for_like_changes_no_money():
    exchange = resolve_exchange(order(), {}, {"MUG": 1}, [line_from_total("MUG", 1, eur(1250))])
    assert exchange.settlement is Settlement.EVEN and exchange.difference == eur(0)


@pytest.mark.parametrize(
    ("returning", "replacements", "kind"),
    [
        ({"TEE": 1}, [], ExchangeRefusalKind.INVALID),
        ({}, [line_from_total("TEE", 1, eur(1000))], ExchangeRefusalKind.INVALID),
        ({"TEE": 0}, [line_from_total("TEE", 1, eur(1000))], ExchangeRefusalKind.INVALID),
        ({"TEE": 1}, [line_from_total("TEE", 1, Money(1000, "USD"))], ExchangeRefusalKind.CURRENCY),
    ],
)
def test_refusals_say_why(returning, replacements, kind):
    with pytest.raises(ExchangeRefused) as refused:
        resolve_exchange(order(), {}, returning, replacements)
    assert refused.value.kind is kind


@pytest.mark.parametrize(
    ("policy", "reserved", "step"),
    [
        (OutOfStockPolicy.BACKORDER, True, ExchangeStep.SHIP_REPLACEMENT),
        (OutOfStockPolicy.REFUND, True, ExchangeStep.SHIP_REPLACEMENT),
        (OutOfStockPolicy.BACKORDER, False, ExchangeStep.WAIT_AS_BACKORDER),
        (OutOfStockPolicy.REFUND, False, ExchangeStep.REFUND_INSTEAD),
    ],
)
def test_an_out_of_stock_replacement_waits_or_falls_back_to_a_refund_as_set(policy, reserved, step):
    assert next_step(policy, replacement_reserved=reserved) is step


def test_giving_up_an_exchange_refunds_what_the_customer_put_towards_it():
    exchange = resolve_exchange(order(), {}, {"TEE": 1}, [line_from_total("TEE-XL", 1, eur(1200))])
    assert refund_instead(exchange, difference_settled=False) == eur(999)
    assert refund_instead(exchange, difference_settled=True) == eur(999 + 201)  # the charge too
    cheaper = resolve_exchange(order(), {}, {"MUG": 1}, [line_from_total("MUG-S", 1, eur(900))])
    assert refund_instead(cheaper, difference_settled=True) == eur(900)  # 350 went back already


@settings(max_examples=300, deadline=None)
@given(
    lines=st.lists(
        st.tuples(st.sampled_from(["A", "B", "C"]), st.integers(1, 5), st.integers(0, 10_000)), min_size=1, max_size=4
    ),
    shipping=st.integers(0, 1000),
    discount=st.integers(0, 500),
    returned=st.dictionaries(st.sampled_from(["A", "B", "C"]), st.integers(0, 5)),
    returning=st.dictionaries(st.sampled_from(["A", "B", "C"]), st.integers(1, 5), min_size=1),
    replacement=st.lists(st.tuples(st.integers(1, 5), st.integers(0, 20_000)), min_size=1, max_size=3),
    settled=st.booleans(),
)
def test_the_difference_and_the_returned_value_add_up_to_the_replacement_price(
    lines, shipping, discount, returned, returning, replacement, settled
):
    goods = sum(total for _, _, total in lines)
    discount = min(discount, goods)
    placed = Order(
        channel="webshop",
        external_id="X-2",
        currency="EUR",
        lines=tuple(OrderLine(sku, qty, eur(total // qty), eur(total)) for sku, qty, total in lines),
        placed_at=NOW,
        total=eur(goods + shipping - discount),
        shipping=eur(shipping),
        discount=eur(discount) if discount else None,
    )
    replacements = [line_from_total(f"R{n}", qty, eur(total)) for n, (qty, total) in enumerate(replacement)]
    exchange = resolve_exchange(placed, returned, returning, replacements)
    price = sum(total for _, total in replacement)
    assert exchange.difference + exchange.returned_value == eur(price) == exchange.replacement_price
    assert exchange.returned_value == refund_for(placed, returned, returning)
    assert 0 <= exchange.returned_value.amount_minor <= goods - discount
    assert exchange.to_charge.amount_minor * exchange.to_refund.amount_minor == 0
    assert exchange.to_charge - exchange.to_refund == exchange.difference
    # Given up: the returned value back, plus the charge paid (less the difference refunded) if settled.
    paid_towards = exchange.returned_value + (exchange.to_charge - exchange.to_refund if settled else eur(0))
    assert refund_instead(exchange, difference_settled=settled) == paid_towards


def test_replacement_units_that_never_left_are_worth_their_share_of_the_line():
    lines = [line_from_total("TEE", 3, eur(2999)), line_from_total("MUG", 1, eur(1250))]
    assert undelivered_value(lines, {}) == eur(0)
    assert undelivered_value(lines, {"TEE": 1}) == eur(999)  # a third of 29.99, rounded down
    assert undelivered_value(lines, {"TEE": 3, "MUG": 1}) == eur(4249)
    assert undelivered_value(lines, {"TEE": 7, "CAP": 2}) == eur(2999)  # never more than the line
    with pytest.raises(ExchangeRefused):
        undelivered_value([], {"TEE": 1})


@settings(max_examples=300, deadline=None)
@given(
    replacement=st.lists(st.tuples(st.integers(1, 6), st.integers(0, 20_000)), min_size=1, max_size=4),
    left=st.lists(st.integers(0, 6), min_size=4, max_size=4),
    returned_value=st.integers(0, 50_000),
)
def test_what_never_left_is_never_more_than_was_put_towards_it_and_all_of_it_is_refund_instead(
    replacement, left, returned_value
):
    lines = [line_from_total(f"R{n}", qty, eur(total)) for n, (qty, total) in enumerate(replacement)]
    price = sum((line.total for line in lines), eur(0))
    undelivered = {line.sku: min(n, line.quantity) for line, n in zip(lines, left, strict=False)}
    value = undelivered_value(lines, undelivered)
    assert 0 <= value.amount_minor <= price.amount_minor
    for line in lines:  # each line's share rounds down, never up
        alone = undelivered_value(lines, {line.sku: undelivered[line.sku]})
        assert alone.amount_minor * line.quantity <= line.total.amount_minor * undelivered[line.sku]
    everything = undelivered_value(lines, {line.sku: line.quantity for line in lines})
    resolution = ExchangeResolution(eur(returned_value), price)
    assert everything == price == refund_instead(resolution, difference_settled=True)
