"""Bol.com: mapping real-shaped Retailer API v10 order details, the cancellation rules and carrier codes."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from pydantic import ValidationError

from domain.money import MoneyError
from domain.order import FULFILLED_BY_CHANNEL, FULFILLED_BY_US, Address, InvalidOrder, hold_reasons
from integrations.channels import bol
from integrations.channels.bol.shipments import transporter_code
from tests.channels.factories import channel_payload, eur

CATALOGUE = {
    "8712345678906": "TEE-ORG-BLK-M",
    "8712345678913": "MUG-STONE-350",
    "8712345678920": "SOCK-MER-3PK",
    "8712345678937": "COASTER-BAMBOO-4",
}


@pytest.fixture
def payload() -> dict[str, Any]:
    return copy.deepcopy(channel_payload("bol/order_fbr.json"))


def test_fixture_prices_follow_bols_rule() -> None:
    """totalPrice = unitPrice x quantity - discounts, as the v10 schema example (12.99 x 10 - 10.99 = 118.91)."""
    for item in channel_payload("bol/order_fbr.json")["orderItems"]:
        discounts = sum((d["amount"] for d in item["discounts"]), Decimal(0))
        assert item["totalPrice"] == item["unitPrice"] * item["quantity"] - discounts


def test_maps_the_header(payload: dict[str, Any]) -> None:
    order = bol.to_order(payload, CATALOGUE.get)
    assert order.channel == "bol"
    assert order.external_id == "1043965710"
    assert order.order_id == "order-bol-1043965710"
    assert order.reference == "1043965710"
    assert order.currency == "EUR"
    assert order.placed_at == datetime(2024, 3, 14, 9, 23, 45, tzinfo=UTC)
    assert order.placed_at.utcoffset() is not None and order.placed_at.utcoffset().total_seconds() == 0
    assert order.payment_collected is True
    assert order.fulfilled_by == FULFILLED_BY_US
    assert order.customer_email == "2ytbpm5slb7ue5gnkyd7ypoqxfnquq@verkopen.bol.com"


def test_maps_the_address_with_house_number_extension(payload: dict[str, Any]) -> None:
    assert bol.to_order(payload, CATALOGUE.get).shipping_address == Address(
        name="Billie de Vries",
        line1="Kerkstraat 12 A",
        line2="3 hoog",
        postcode="3581RB",
        city="Utrecht",
        country="NL",
    )


def test_maps_lines_in_exact_minor_units_and_skips_the_cancelled_item(payload: dict[str, Any]) -> None:
    order = bol.to_order(payload, CATALOGUE.get)
    assert [(line.sku, line.quantity, line.external_line_id) for line in order.lines] == [
        ("TEE-ORG-BLK-M", 3, "2095052647"),
        ("MUG-STONE-350", 2, "2095052648"),
        ("COASTER-BAMBOO-4", 3, "2095052650"),  # 4 ordered, 1 cancelled
    ]
    tee, mug, coasters = order.lines
    assert (tee.unit_price, tee.total) == (eur(1299), eur(3897))  # 12.99 x 3
    assert (mug.unit_price, mug.total) == (eur(2245), eur(4490))  # 2 x 24.95 - 5.00 promotion
    assert (coasters.unit_price, coasters.total) == (eur(499), eur(1497))  # 3 of 4 units of 19.96
    assert tee.title == "Organic T-shirt zwart - maat M"


def test_total_is_what_the_lines_carry_and_reconciles(payload: dict[str, Any]) -> None:
    order = bol.to_order(payload, CATALOGUE.get)
    assert order.total == eur(3897 + 4490 + 1497)
    assert order.shipping == eur(0)
    assert order.order_discount == eur(0)
    assert order.expected_total() == order.total
    assert hold_reasons(order, CATALOGUE.values()) == []


def test_unknown_ean_keeps_a_stand_in_sku_so_the_order_is_held(payload: dict[str, Any]) -> None:
    order = bol.to_order(payload, lambda ean: None if ean == "8712345678913" else CATALOGUE[ean])
    assert order.lines[1].sku == "ean:8712345678913"
    assert hold_reasons(order, CATALOGUE.values()) == ["unknown SKU: ean:8712345678913"]


def test_resolver_is_asked_with_the_ean(payload: dict[str, Any]) -> None:
    asked: list[str] = []
    bol.to_order(payload, lambda ean: asked.append(ean) or None)
    assert asked == ["8712345678906", "8712345678913", "8712345678937"]


def test_fbb_order_is_fulfilled_by_the_channel_and_nullable_fields_are_accepted() -> None:
    order = bol.to_order(channel_payload("bol/order_fbb.json"), CATALOGUE.get)
    assert order.fulfilled_by == FULFILLED_BY_CHANNEL
    assert order.placed_at == datetime(2024, 6, 1, 19, 5, tzinfo=UTC)
    assert order.total == eur(3998)
    assert order.shipping_address.line2 == "Albert Heijn: UTRECHT, bol.com"
    assert order.shipping_address.phone == "012123456"


def test_mixed_order_keeps_only_the_retailers_own_items(payload: dict[str, Any]) -> None:
    payload["orderItems"][1]["fulfilment"]["method"] = "FBB"
    order = bol.to_order(payload, CATALOGUE.get)
    assert order.fulfilled_by == FULFILLED_BY_US
    assert [line.external_line_id for line in order.lines] == ["2095052647", "2095052650"]
    assert order.total == order.expected_total() == eur(3897 + 1497)


def test_total_price_missing_falls_back_to_unit_price_less_discounts(payload: dict[str, Any]) -> None:
    for item in payload["orderItems"]:
        del item["totalPrice"]
    assert bol.to_order(payload, CATALOGUE.get).lines[1].total == eur(4490)


def test_order_placed_date_missing_falls_back_to_the_earliest_item_change(payload: dict[str, Any]) -> None:
    del payload["orderPlacedDateTime"]
    assert bol.to_order(payload, CATALOGUE.get).placed_at == datetime(2024, 3, 14, 9, 23, 45, tzinfo=UTC)


def test_fully_cancelled_order_still_maps_as_placed() -> None:
    payload = channel_payload("bol/order_fbr.json")
    for item in payload["orderItems"]:
        item["quantityCancelled"] = item["quantity"]
    order = bol.to_order(payload, CATALOGUE.get)
    assert [line.quantity for line in order.lines] == [3, 2, 1, 4]
    assert order.total == order.expected_total()
    assert bol.is_cancelled(payload)


def test_cancellation_rules() -> None:
    assert not bol.is_cancelled(channel_payload("bol/order_fbr.json"))  # one item cancelled, the others open
    assert bol.is_cancelled(channel_payload("bol/order_cancellation_requested.json"))
    assert not bol.is_cancelled(channel_payload("bol/order_fbb.json"))
    assert not bol.is_cancelled({"orderItems": []})


def test_fully_shipped_rule() -> None:
    assert bol.is_fully_shipped(channel_payload("bol/order_fbb.json"))
    assert not bol.is_fully_shipped(channel_payload("bol/order_fbr.json"))
    assert not bol.is_fully_shipped(channel_payload("bol/order_cancellation_requested.json"))


@pytest.mark.parametrize(
    "mutate",
    [
        lambda p: p.pop("orderId"),
        lambda p: p.update(orderId=""),
        lambda p: p.update(orderItems=[]),
        lambda p: p.update(orderItems=None),
        lambda p: p["orderItems"][0].update(quantity=-1),
        lambda p: p["orderItems"][0].update(quantity="three"),
        lambda p: p["orderItems"][0].update(unitPrice="abc"),
        lambda p: p["orderItems"][0].update(unitPrice=Decimal("-1")),
        lambda p: p["orderItems"][0].pop("unitPrice"),
        lambda p: p["orderItems"][0].pop("orderItemId"),
        lambda p: p["orderItems"][0].update(product={"title": "no ean"}) or p["orderItems"][0]["product"].update(ean=5),
        lambda p: p.update(orderPlacedDateTime="yesterday"),
        lambda p: p.update(shipmentDetails="Kerkstraat 12"),
    ],
)
def test_malformed_payloads_raise_validation_errors(payload: dict[str, Any], mutate: Any) -> None:
    mutate(payload)
    with pytest.raises(ValidationError):
        bol.to_order(payload, CATALOGUE.get)


@pytest.mark.parametrize(
    "mutate",
    [
        lambda p: p["orderItems"][0].update(totalPrice=Decimal("38.975")),  # sub-cent
        lambda p: p.update(orderId="has spaces"),
        lambda p: [item.update(quantity=0) for item in p["orderItems"]],
    ],
)
def test_unrepresentable_orders_raise_domain_errors(payload: dict[str, Any], mutate: Any) -> None:
    mutate(payload)
    with pytest.raises((MoneyError, InvalidOrder)):
        bol.to_order(payload, CATALOGUE.get)


def test_item_without_product_gets_a_stand_in(payload: dict[str, Any]) -> None:
    payload["orderItems"][0]["product"] = None
    assert bol.to_order(payload, CATALOGUE.get).lines[0].sku == "bol-item:2095052647"


@pytest.mark.parametrize(
    ("carrier", "code"),
    [
        ("PostNL", "TNT"),
        ("POSTNL", "TNT"),
        ("TNT", "TNT"),
        ("DHL", "DHL"),
        ("dhlforyou", "DHLFORYOU"),
        ("DPD", "DPD-NL"),
        ("DPD-BE", "DPD-BE"),
        ("dpd_be", "DPD-BE"),
        ("UPS", "UPS"),
        ("GLS", "GLS"),
        ("bpost", "BPOST_BE"),
        ("Sandbox Express", "OTHER"),
        ("", "OTHER"),
    ],
)
def test_transporter_codes(carrier: str, code: str) -> None:
    assert transporter_code(carrier) == code


def test_cancellation_requests_to_confirm_are_the_open_items_the_customer_asked_about() -> None:
    assert bol.cancellation_requested(channel_payload("bol/order_cancellation_requested.json")) == ("2095061001",)
    assert bol.cancellation_requested(channel_payload("bol/order_fbr.json")) == ()
    payload = {
        "orderItems": [
            {"orderItemId": "1", "cancellationRequest": True, "quantity": 2},
            {"orderItemId": "2", "cancellationRequest": True, "quantity": 1, "quantityCancelled": 1},  # bol did it
            {"orderItemId": "3", "cancellationRequest": True, "quantity": 1, "quantityShipped": 1},  # gone already
            {"orderItemId": "4", "cancellationRequest": False, "quantity": 1},
        ]
    }
    assert bol.cancellation_requested(payload) == ("1",)


def test_a_cancellation_request_on_some_items_asks_a_person_before_anything_ships(payload: dict[str, Any]) -> None:
    payload["orderItems"][1]["cancellationRequest"] = True
    order = bol.to_order(payload, CATALOGUE.get)
    assert "MUG-STONE-350 (item 2095052648)" in order.attention
    assert "cancel the order here" in order.attention


def test_no_request_or_a_request_on_every_item_needs_no_person(payload: dict[str, Any]) -> None:
    assert bol.to_order(payload, CATALOGUE.get).attention == ""
    for item in payload["orderItems"]:
        item["cancellationRequest"] = True
    assert bol.to_order(payload, CATALOGUE.get).attention == ""  # the pull cancels it instead
