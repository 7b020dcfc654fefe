"""Parcels and refunds carry exact shares of the order's total: they add up to the cent, however
the units are split and whatever order they leave in (domain.allocation)."""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import given, settings
from hypothesis import strategies as st

from domain.allocation import charge_for_parcel, charged_for, paid_for, refund_for_units
from domain.money import Money
from domain.order import Order, OrderLine

NOW = datetime(2026, 12, 7, 12, tzinfo=UTC)


def eur(minor: int) -> Money:
    return Money(minor, "EUR")


def order_of(
    lines: list[tuple[str, int, int]],
    *,
    shipping: int = 0,
    discount: int = 0,
    charges: int = 0,
    total: int | None = None,
) -> Order:
    order_lines = tuple(OrderLine(sku, qty, eur(line_total // qty), eur(line_total)) for sku, qty, line_total in lines)
    expected = sum(t for _, _, t in lines) + shipping + charges - discount
    return Order(
        channel="webshop",
        external_id="A-1",
        currency="EUR",
        lines=order_lines,
        placed_at=NOW,
        total=eur(expected if total is None else total),
        shipping=eur(shipping),
        discount=eur(discount) if discount else None,
        charges=eur(charges) if charges else None,
    )


def parts(order: Order, parcels: list[dict[str, int]]) -> list[int]:
    before: dict[str, int] = {}
    out = []
    for parcel in parcels:
        out.append(charge_for_parcel(order, before, parcel).amount_minor)
        for sku, units in parcel.items():
            before[sku] = before.get(sku, 0) + units
    return out


def test_two_lines_of_one_sku_in_two_parcels_add_up_to_what_was_paid():
    # Found from outside: 1000 + 0 for one SKU, shipped one per parcel, was valued 1000 + 1000.
    order = order_of([("TEE", 1, 1000), ("TEE", 1, 0)])
    assert parts(order, [{"TEE": 1}, {"TEE": 1}]) == [1000, 0]


def test_a_line_that_does_not_divide_evenly_over_three_parcels_captures_all_of_it():
    # Found from outside: 10.00 for three units, one per parcel, captured 3.33 x 3 = 9.99.
    order = order_of([("MUG", 3, 1000)])
    assert parts(order, [{"MUG": 1}] * 3) == [333, 333, 334]


def test_shipping_rides_with_the_first_parcel_and_the_discount_is_shared_pro_rata():
    order = order_of([("TEE", 2, 2000), ("MUG", 1, 1000)], shipping=495, discount=300)
    first, second = parts(order, [{"MUG": 1}, {"TEE": 2}])
    assert first == 495 + 1000 - 100
    assert first + second == order.total.amount_minor


def test_an_accepted_channel_total_is_what_the_parcels_add_up_to():
    order = order_of([("TEE", 2, 2000)], shipping=500, total=2300)  # the channel charged 3.00 less
    assert sum(parts(order, [{"TEE": 1}, {"TEE": 1}])) == 2300


def test_units_beyond_what_was_ordered_are_worth_nothing():
    order = order_of([("TEE", 1, 1000)])
    assert charged_for(order, {"TEE": 5, "CAP": 2}) == eur(1000)


def test_returns_refund_exactly_what_the_goods_cost_and_no_shipping():
    order = order_of([("TEE", 3, 2999), ("MUG", 1, 1250)], shipping=495, discount=500)
    refunds = [refund_for_units(order, {}, {"TEE": 1}), refund_for_units(order, {"TEE": 1}, {"TEE": 2, "MUG": 1})]
    assert sum(r.amount_minor for r in refunds) == 2999 + 1250 - 500


@st.composite
def orders_and_splits(draw: st.DrawFn) -> tuple[Order, list[dict[str, int]], bool]:
    skus = ["A", "B", "C"]
    lines = draw(
        st.lists(
            st.tuples(st.sampled_from(skus), st.integers(1, 6), st.integers(0, 50_000)),
            min_size=1,
            max_size=5,
        )
    )
    lines_total = sum(t for _, _, t in lines)
    shipping = draw(st.integers(0, 2_000))
    charges = draw(st.integers(0, 500))
    discount = draw(st.integers(0, lines_total))
    accepted = draw(st.booleans())
    total = draw(st.integers(0, 100_000)) if accepted else None
    order = order_of(lines, shipping=shipping, discount=discount, charges=charges, total=total)
    units = [sku for sku, qty, _ in lines for _ in range(qty)]
    units = draw(st.permutations(units))
    everything = draw(st.booleans())
    shipped = units if everything else units[: draw(st.integers(0, len(units)))]
    parcels: list[dict[str, int]] = []
    i = 0
    while i < len(shipped):
        size = draw(st.integers(1, len(shipped) - i))
        parcel: dict[str, int] = {}
        for sku in shipped[i : i + size]:
            parcel[sku] = parcel.get(sku, 0) + 1
        parcels.append(parcel)
        i += size
    return order, parcels, everything


@settings(max_examples=400, deadline=None)
@given(orders_and_splits())
def test_parcels_always_add_up_to_what_left_and_to_the_total_when_everything_left(case):
    order, parcels, everything = case
    shares = parts(order, parcels)
    shipped: dict[str, int] = {}
    for parcel in parcels:
        for sku, units in parcel.items():
            shipped[sku] = shipped.get(sku, 0) + units
    assert all(share >= 0 for share in shares)
    assert sum(shares) == charged_for(order, shipped).amount_minor
    assert sum(shares) <= max(0, order.total.amount_minor)
    if everything:
        assert sum(shares) == max(0, order.total.amount_minor)


@settings(max_examples=200, deadline=None)
@given(orders_and_splits())
def test_returning_every_unit_in_parts_refunds_the_goods_exactly_once(case):
    order, parcels, everything = case
    returned: dict[str, int] = {}
    refunded = 0
    for parcel in parcels:
        refund = refund_for_units(order, returned, parcel).amount_minor
        assert refund >= 0
        refunded += refund
        for sku, units in parcel.items():
            returned[sku] = returned.get(sku, 0) + units
    assert refunded == paid_for(order, returned).amount_minor
    if everything:
        assert refunded + charged_for(order, returned).amount_minor - paid_for(order, returned).amount_minor == max(
            0, order.total.amount_minor
        )
