"""domain.limits: what the database can hold, checked on the canonical order before any 2xx."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from domain import limits
from domain.channels import ChannelPolicy, available_to_promise
from domain.money import Money
from domain.order import FULFILLED_AT_COUNTER, Address, InvalidOrder, Order
from domain.outside_fulfilment import counter_sale_refusal
from persistence.guarded_writes.idempotency import stored_key
from tests.factories import make_order


def _with_line(order: Order, **changes: Any) -> Order:
    return dataclasses.replace(order, lines=(dataclasses.replace(order.lines[0], **changes), *order.lines[1:]))


def _counter(order: Order) -> Order:
    return dataclasses.replace(
        order, channel="pos", fulfilled_by=FULFILLED_AT_COUNTER, pickup_location_id="STORE", payment_collected=True
    )


def test_an_ordinary_order_is_within_every_limit():
    order = make_order([("MUG", 2, 1250), ("CUP", 1, 800)])
    assert limits.order_limit_refusals(order) == []
    assert limits.within_limits(order) is order


@pytest.mark.parametrize(
    ("change", "named"),
    [
        (lambda o: dataclasses.replace(o, reference="R" * 101), "reference: at most 100 characters, got 101"),
        (lambda o: dataclasses.replace(o, customer_email="e" * 321), "customer_email: at most 320 characters, got 321"),
        (lambda o: dataclasses.replace(o, pickup_location_id="L" * 65), "pickup_location_id: at most 64 characters"),
        (lambda o: _with_line(o, sku="S" * 101), "lines[1].sku: at most 100 characters, got 101"),
        (lambda o: _with_line(o, external_line_id="1" * 101), "lines[1].external_line_id: at most 100"),
        (lambda o: _with_line(o, quantity=100_001), "lines[1].quantity: a line may ask for at most 100000 units"),
        (lambda o: _with_line(o, quantity=2**31), "lines[1].quantity: a line may ask for at most 100000 units"),
        (lambda o: _with_line(o, unit_price=Money(10**18, "EUR")), "lines[1].unit_price: 1000000000000000000"),
        (lambda o: _with_line(o, total=Money(10**18, "EUR")), "lines[1].total: 1000000000000000000"),
        (lambda o: dataclasses.replace(o, total=Money(2**63, "EUR")), "total: 9223372036854775808 minor units"),
        (lambda o: dataclasses.replace(o, shipping=Money(10**18, "EUR")), "shipping: "),
        (
            lambda o: dataclasses.replace(o, placed_at=datetime(1, 1, 1, tzinfo=timezone(timedelta(hours=14)))),
            "placed_at: out of the range a timestamp can hold",
        ),
        (
            lambda o: dataclasses.replace(o, shipping_address=Address(latitude=float("nan"))),
            "shipping_address.latitude: not a coordinate (nan)",
        ),
    ],
)
def test_each_field_the_database_cannot_hold_is_named(change, named):
    order = change(make_order([("MUG", 2, 1250)]))
    [problem] = limits.order_limit_refusals(order)
    assert problem.startswith(named), problem
    with pytest.raises(InvalidOrder) as refused:
        limits.within_limits(order)
    assert str(refused.value) == problem


def test_long_titles_and_addresses_are_stored_whole_so_they_are_no_limit():
    order = _with_line(make_order([("MUG", 1, 1250)]), title="T" * 5000)
    order = dataclasses.replace(order, shipping_address=Address(line1="L" * 5000, name="N" * 5000))
    assert limits.order_limit_refusals(order) == []


def test_every_problem_is_named_at_once():
    order = dataclasses.replace(make_order([("MUG", 1, 1250)]), reference="R" * 101, customer_email="e" * 400)
    assert [p.split(":")[0] for p in limits.order_limit_refusals(order)] == ["reference", "customer_email"]


def test_one_sku_over_many_lines_is_bounded_as_a_whole():
    line = make_order([("MUG", limits.MAX_LINE_QUANTITY, 1)]).lines[0]
    order = dataclasses.replace(make_order([("MUG", 1, 1)]), lines=(line,) * (limits.MAX_UNITS // line.quantity + 1))
    [problem] = limits.order_limit_refusals(order)
    assert problem == f"quantity of MUG: at most {limits.MAX_UNITS} units of one SKU per order, got 1000100000"


def test_a_counter_sale_takes_at_most_a_counters_worth_per_sku():
    assert limits.order_limit_refusals(_counter(make_order([("MUG", 1000, 100)]))) == []
    [line] = limits.order_limit_refusals(_counter(make_order([("MUG", 1001, 100)])))
    assert line == "lines[1].quantity: a counter sale line may ask for at most 1000 units, got 1001"
    [total] = limits.order_limit_refusals(_counter(make_order([("MUG", 600, 100), ("MUG", 600, 100)])))
    assert total == "quantity of MUG: at most 1000 units of one SKU per order, got 1200"


def test_the_hold_reason_of_an_unstorable_order_says_what_and_what_to_do():
    reason = limits.unstorable_reason(["reference: at most 100 characters, got 101"])
    assert reason == (
        "cannot be stored as sent (reference: at most 100 characters, got 101): recorded without its lines; "
        "cancel it, or release it to try again once it can be stored"
    )


def test_counter_sales_only_at_a_store_and_a_counters_worth():
    assert counter_sale_refusal("STORE-1", "store", {"MUG": 3}) is None
    assert counter_sale_refusal("WH-1", "warehouse", {"MUG": 3}) == (
        "WH-1 is a warehouse, not a store: only a store's counter sells over the counter"
    )
    assert counter_sale_refusal("DS-1", "dropship", {"MUG": 3}) is not None
    assert counter_sale_refusal("STORE-1", "store", {"MUG": 1001, "CUP": 5}) == (
        "a counter sale takes at most 1000 units of a SKU, not MUG x1001"
    )


def test_step_keys_longer_than_the_column_are_hashed_the_same_way_every_time():
    short = "order-shopify-1:reserve:1"
    assert stored_key(short) == short
    long = "shipment-" + "x" * 500 + ":escalate:collect"
    assert len(stored_key(long)) == limits.IDEMPOTENCY_KEY
    assert stored_key(long) == stored_key(long)
    assert stored_key(long).startswith("shipment-xxx")
    assert stored_key(long) != stored_key(long + "2")
    assert stored_key("k" * limits.IDEMPOTENCY_KEY) == "k" * limits.IDEMPOTENCY_KEY


def test_available_to_promise_never_exceeds_a_32_bit_count():
    locations = {f"L{n}": limits.MAX_UNITS for n in range(3)}
    atp = available_to_promise(locations, [ChannelPolicy(channel="webshop")])
    assert atp == {"webshop": limits.INTEGER_MAX}


def test_amounts_are_bounded_like_money_parses_them():
    assert limits.MAX_AMOUNT_MINOR == 10**18 - 1 < limits.BIGINT_MAX
    # Nine of the largest amounts still sum within a 64-bit column.
    assert 9 * limits.MAX_AMOUNT_MINOR < limits.BIGINT_MAX


def test_placed_at_in_utc_range_is_fine():
    assert limits.storable_time(datetime(1, 1, 2, tzinfo=UTC))
    assert not limits.storable_time(datetime(1, 1, 1, tzinfo=timezone(timedelta(hours=14))))
