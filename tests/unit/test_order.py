"""The canonical order: ids, lines, invariants and the reasons an order is held."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from domain.money import Money
from domain.order import CHANNELS, InvalidOrder, Order, OrderLine, hold_reasons, line_from_total, order_id_for

pytestmark = pytest.mark.unit

PLACED = datetime(2024, 3, 14, 9, 23, 45, tzinfo=UTC)


def eur(minor: int) -> Money:
    return Money(minor, "EUR")


def line(sku: str, quantity: int, unit_minor: int, currency: str = "EUR") -> OrderLine:
    unit = Money(unit_minor, currency)
    return OrderLine(sku, quantity, unit, unit.times(quantity))


def make_order(**overrides: Any) -> Order:
    fields: dict[str, Any] = {
        "channel": "webshop",
        "external_id": "WS-1001",
        "currency": "EUR",
        "lines": (line("SKU-A", 2, 1000), line("SKU-B", 1, 550)),
        "placed_at": PLACED,
        "total": eur(2550 + 495),
        "shipping": eur(495),
    }
    fields.update(overrides)
    return Order(**fields)


# --- order ids ------------------------------------------------------------------------------------


def test_order_id_format() -> None:
    assert order_id_for("shopify", "5123456789") == "order-shopify-5123456789"
    assert order_id_for("bol", "A1B2.c3_d4:e5-f6") == "order-bol-A1B2.c3_d4:e5-f6"


@pytest.mark.parametrize("channel", CHANNELS)
def test_every_contract_channel_is_accepted(channel: str) -> None:
    assert order_id_for(channel, "1") == f"order-{channel}-1"


def test_channel_list_matches_contract() -> None:
    assert set(CHANNELS) == {"shopify", "woocommerce", "bol", "amazon", "pos", "webshop"}


@pytest.mark.parametrize("channel", ["", "Shopify", "etsy", "shopify ", "web shop"])
def test_unknown_channel_is_refused(channel: str) -> None:
    with pytest.raises(InvalidOrder, match="unknown channel"):
        order_id_for(channel, "1")


@pytest.mark.parametrize(
    "external_id",
    ["", "a b", "a/b", "../etc", "id?x=1", "ünïcode", "a#1", "x" * 101, "tab\there"],
)
def test_bad_external_id_is_refused(external_id: str) -> None:
    with pytest.raises(InvalidOrder, match="external id"):
        order_id_for("webshop", external_id)


def test_external_id_of_100_characters_is_accepted() -> None:
    assert order_id_for("webshop", "x" * 100) == "order-webshop-" + "x" * 100


def test_external_id_with_trailing_newline_is_refused() -> None:
    with pytest.raises(InvalidOrder):
        order_id_for("webshop", "WS-1001\n")


def test_order_id_property() -> None:
    assert make_order().order_id == "order-webshop-WS-1001"


# --- lines ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("quantity", [0, -1, True, False, 1.0, 2.5, "2", None])
def test_line_refuses_bad_quantity(quantity: object) -> None:
    with pytest.raises(InvalidOrder, match="quantity"):
        OrderLine("SKU-A", quantity, eur(100), eur(100))  # type: ignore[arg-type]


def test_line_refuses_negative_prices() -> None:
    with pytest.raises(InvalidOrder, match="negative"):
        OrderLine("SKU-A", 1, eur(-1), eur(100))
    with pytest.raises(InvalidOrder, match="negative"):
        OrderLine("SKU-A", 1, eur(100), eur(-1))


def test_line_refuses_empty_sku() -> None:
    with pytest.raises(InvalidOrder, match="sku"):
        OrderLine("", 1, eur(100), eur(100))


def test_free_line_is_allowed() -> None:
    free = OrderLine("GIFT", 1, eur(0), eur(0))
    assert free.total == eur(0)


def test_line_from_total_uneven_division() -> None:
    result = line_from_total("SKU-A", 3, eur(1000), title="Tee", external_line_id="L1")
    assert result.unit_price == eur(333)
    assert result.total == eur(1000)  # the exact line total is kept, not unit x quantity
    assert result.quantity == 3
    assert (result.title, result.external_line_id) == ("Tee", "L1")


def test_line_from_total_even_division() -> None:
    assert line_from_total("SKU-A", 4, Money(4800, "JPY")).unit_price == Money(1200, "JPY")


@pytest.mark.parametrize("quantity", [0, -2, True])
def test_line_from_total_refuses_bad_quantity(quantity: int) -> None:
    with pytest.raises(InvalidOrder, match="quantity"):
        line_from_total("SKU-A", quantity, eur(1000))


def test_line_from_total_refuses_negative_total() -> None:
    with pytest.raises(InvalidOrder, match="negative"):
        line_from_total("SKU-A", 3, eur(-1000))


# --- order invariants -----------------------------------------------------------------------------


def test_valid_order() -> None:
    order = make_order()
    assert order.lines_total() == eur(2550)
    assert order.expected_total() == eur(3045)
    assert order.order_discount == eur(0)
    assert order.other_charges == eur(0)


def test_order_refuses_naive_placed_at() -> None:
    with pytest.raises(InvalidOrder, match="timezone"):
        make_order(placed_at=datetime(2024, 3, 14, 9, 23, 45))


def test_order_accepts_any_aware_placed_at() -> None:
    placed = datetime(2024, 3, 14, 10, 23, 45, tzinfo=timezone(timedelta(hours=1)))
    assert make_order(placed_at=placed).placed_at == PLACED


def test_order_refuses_no_lines() -> None:
    with pytest.raises(InvalidOrder, match="at least one line"):
        make_order(lines=())


def test_order_refuses_bad_channel_or_id() -> None:
    with pytest.raises(InvalidOrder):
        make_order(channel="etsy")
    with pytest.raises(InvalidOrder):
        make_order(external_id="has space")


@pytest.mark.parametrize(
    "overrides",
    [
        {"total": Money(3045, "USD")},
        {"shipping": Money(495, "GBP")},
        {"discount": Money(100, "USD")},
        {"charges": Money(100, "CHF")},
        {"lines": (line("SKU-A", 1, 1000), line("SKU-B", 1, 550, currency="USD"))},
    ],
    ids=["total", "shipping", "discount", "charges", "line"],
)
def test_order_refuses_mixed_currencies(overrides: dict[str, Any]) -> None:
    with pytest.raises(InvalidOrder, match="EUR"):
        make_order(**overrides)


def test_order_refuses_unknown_order_currency() -> None:
    with pytest.raises(InvalidOrder):
        make_order(currency="XYZ")


def test_order_refuses_unit_price_in_another_currency() -> None:
    mixed = OrderLine("SKU-A", 1, Money(1000, "USD"), eur(1000))
    with pytest.raises(InvalidOrder):
        make_order(lines=(mixed,), total=eur(1000), shipping=eur(0))


def test_demand_sums_a_sku_on_several_lines() -> None:
    order = make_order(
        lines=(line("SKU-A", 2, 100), line("SKU-B", 1, 100), line("SKU-A", 3, 90)),
        total=eur(200 + 100 + 270),
        shipping=eur(0),
    )
    assert order.demand() == {"SKU-A": 5, "SKU-B": 1}


# --- hold reasons ---------------------------------------------------------------------------------


def test_no_hold_reasons_when_consistent() -> None:
    assert hold_reasons(make_order(), ["SKU-A", "SKU-B", "SKU-C"]) == []


def test_no_hold_reasons_with_discount_and_charges() -> None:
    order = make_order(discount=eur(300), charges=eur(150), total=eur(2550 + 495 + 150 - 300))
    assert hold_reasons(order, iter(["SKU-A", "SKU-B"])) == []


def test_unknown_skus_are_named_sorted() -> None:
    order = make_order(
        lines=(line("ZED-9", 1, 100), line("KNOWN", 1, 100), line("ALPHA-1", 1, 100), line("ZED-9", 1, 100)),
        total=eur(400),
        shipping=eur(0),
    )
    reasons = hold_reasons(order, {"KNOWN"})
    assert reasons == ["unknown SKU: ALPHA-1, ZED-9"]


@pytest.mark.parametrize("delta", [1, -1, 10000, -3045])
def test_price_mismatch_in_both_directions(delta: int) -> None:
    order = make_order(total=eur(3045 + delta))
    reasons = hold_reasons(order, ["SKU-A", "SKU-B"])
    assert len(reasons) == 1
    assert reasons[0].startswith("price mismatch")
    assert "30.45 EUR" in reasons[0]
    assert eur(3045 + delta).format() in reasons[0]


def test_discount_is_subtracted_not_added() -> None:
    # total computed as if the discount were added: must be held.
    order = make_order(discount=eur(300), total=eur(2550 + 495 + 300))
    assert any(r.startswith("price mismatch") for r in hold_reasons(order, ["SKU-A", "SKU-B"]))


def test_unknown_sku_and_mismatch_together() -> None:
    reasons = hold_reasons(make_order(total=eur(1)), ["SKU-A"])
    assert reasons[0] == "unknown SKU: SKU-B"
    assert reasons[1].startswith("price mismatch")
