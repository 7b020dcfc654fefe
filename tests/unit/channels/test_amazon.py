"""Amazon: mapping real-shaped SP-API Orders v0 payloads, and the client's pure parts (tokens, throttling, carriers)."""

from __future__ import annotations

import contextlib
import copy
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from domain.money import Money, MoneyError
from domain.order import FULFILLED_BY_CHANNEL, FULFILLED_BY_US, Address, InvalidOrder, hold_reasons
from integrations.channels import amazon
from integrations.channels.amazon.client import LwaTokens, _retry_after, sp_api
from integrations.channels.amazon.shipments import carrier_code, package_reference_id
from integrations.channels.errors import ChannelAuthFailed, ChannelRateLimited, ChannelRejected, ChannelUnavailable
from tests.channels.factories import channel_payload

CATALOGUE = {
    "TEE-ORG-BLK-M": "TEE-ORG-BLK-M",
    "MUG-STONE-350": "MUG-STONE-350",
    "SOCK-MER-3PK": "SOCK-MER-3PK",
    "COASTER-BAMBOO-4": "COASTER-BAMBOO-4",
}
MAPPING_ERRORS = (ValidationError, MoneyError, InvalidOrder)


def resolve(seller_sku: str) -> str | None:
    return CATALOGUE.get(seller_sku)


@pytest.fixture
def eu() -> dict[str, Any]:
    return copy.deepcopy(channel_payload("amazon/order_eu_mfn.json"))


@pytest.fixture
def us() -> dict[str, Any]:
    return copy.deepcopy(channel_payload("amazon/order_us_mfn.json"))


def amount(item: dict[str, Any], name: str) -> Decimal:
    return Decimal(item[name]["Amount"]) if name in item else Decimal(0)


def test_eu_fixture_follows_amazons_vat_inclusive_rule() -> None:
    """OrderTotal = sum of ItemPrice - PromotionDiscount + ShippingPrice - ShippingDiscount; the taxes are inside."""
    payload = channel_payload("amazon/order_eu_mfn.json")
    expected = sum(
        (
            amount(i, "ItemPrice")
            - amount(i, "PromotionDiscount")
            + amount(i, "ShippingPrice")
            - amount(i, "ShippingDiscount")
            for i in payload["items"]
        ),
        Decimal(0),
    )
    assert Decimal(payload["order"]["OrderTotal"]["Amount"]) == expected


def test_eu_order_lines_are_what_the_customer_paid(eu: dict[str, Any]) -> None:
    order = amazon.to_order(eu, resolve)
    assert [(line.sku, line.quantity, line.unit_price, line.total, line.external_line_id) for line in order.lines] == [
        # 2 x 19.99 incl. VAT = 39.98, minus a 5.00 promotion
        ("TEE-ORG-BLK-M", 2, Money(1749, "EUR"), Money(3498, "EUR"), "61840213977435"),
        # 3 x 12.99 incl. VAT; its 2.99 shipping is fully discounted
        ("MUG-STONE-350", 3, Money(1299, "EUR"), Money(3897, "EUR"), "61840213977447"),
    ]
    assert order.lines[0].title == "Bio-Baumwoll T-Shirt, Schwarz, M"
    assert order.shipping == Money(499, "EUR")
    assert order.total == Money(7894, "EUR")
    assert order.charges is None and order.discount is None
    assert hold_reasons(order, CATALOGUE.values()) == []


def test_eu_order_header(eu: dict[str, Any]) -> None:
    order = amazon.to_order(eu, resolve)
    assert order.channel == "amazon"
    assert order.external_id == order.reference == "302-3498011-7735565"
    assert order.order_id == "order-amazon-302-3498011-7735565"
    assert order.placed_at == datetime(2024, 11, 29, 8, 14, 52, tzinfo=UTC)
    assert order.currency == "EUR"
    assert order.payment_collected is True
    assert order.fulfilled_by == FULFILLED_BY_US
    assert order.customer_email == "8z0v1x7k2q4m9p3@marketplace.amazon.de"
    # Without a restricted data token Amazon sends no name or street: what it sends is kept.
    assert order.shipping_address == Address(postcode="10115", city="Berlin", region="Berlin", country="DE")


def test_full_address_when_amazon_sends_it(eu: dict[str, Any]) -> None:
    eu["order"]["ShippingAddress"] = {
        "Name": "Erika Mustermann",
        "AddressLine1": "Invalidenstr. 117",
        "AddressLine2": "Hinterhaus",
        "AddressLine3": "3. OG",
        "City": "Berlin",
        "PostalCode": "10115",
        "CountryCode": "de",
        "Phone": "+49 30 1234567",
    }
    address = amazon.to_order(eu, resolve).shipping_address
    assert (address.name, address.line1, address.line2, address.country, address.phone) == (
        "Erika Mustermann",
        "Invalidenstr. 117",
        "Hinterhaus, 3. OG",
        "DE",
        "+49 30 1234567",
    )


def test_us_order_adds_the_taxes(us: dict[str, Any]) -> None:
    order = amazon.to_order(us, resolve)
    lines = [(line.sku, line.quantity, line.unit_price.amount_minor, line.total.amount_minor) for line in order.lines]
    # 49.98 + 4.12 tax - 10.00 promotion - 0.83 tax on it = 43.27; 15.00 + 1.24 = 16.24
    assert lines == [("SOCK-MER-3PK", 2, 2163, 4327), ("COASTER-BAMBOO-4", 1, 1624, 1624)]
    assert order.shipping == Money(648, "USD")  # 5.99 + 0.49 tax
    assert order.total == Money(6599, "USD")
    assert hold_reasons(order, CATALOGUE.values()) == []


def test_unknown_marketplace_follows_amazons_total(us: dict[str, Any], eu: dict[str, Any]) -> None:
    """With no known marketplace the reading that matches OrderTotal exactly wins, either way round."""
    del us["order"]["MarketplaceId"]
    eu["order"]["MarketplaceId"] = "A0NEWMARKET01"
    assert amazon.to_order(us, resolve).lines[0].total == Money(4327, "USD")
    assert amazon.to_order(eu, resolve).lines[0].total == Money(3498, "EUR")


def test_a_total_matching_neither_reading_is_held(eu: dict[str, Any]) -> None:
    eu["order"]["OrderTotal"]["Amount"] = "80.00"
    order = amazon.to_order(eu, resolve)
    assert order.total == Money(8000, "EUR")
    assert order.lines[0].total == Money(3498, "EUR")  # the marketplace's reading, not bent to fit
    assert any(reason.startswith("price mismatch") for reason in hold_reasons(order, CATALOGUE.values()))


def test_afn_is_recorded_as_fulfilled_by_amazon() -> None:
    order = amazon.to_order(channel_payload("amazon/order_uk_afn.json"), resolve)
    assert order.fulfilled_by == FULFILLED_BY_CHANNEL
    assert order.total == Money(2398, "GBP")
    assert order.lines[0].unit_price == Money(1199, "GBP")


def test_unknown_seller_sku_gets_a_stand_in_and_is_held(eu: dict[str, Any]) -> None:
    eu["items"][1]["SellerSKU"] = "MUG-OLD-1"
    order = amazon.to_order(eu, resolve)
    assert order.lines[1].sku == "amazon-sku:MUG-OLD-1"
    assert hold_reasons(order, CATALOGUE.values()) == ["unknown SKU: amazon-sku:MUG-OLD-1"]


def test_the_resolver_translates_seller_skus(eu: dict[str, Any]) -> None:
    order = amazon.to_order(eu, {"TEE-ORG-BLK-M": "TEE-1", "MUG-STONE-350": "MUG-1"}.get)
    assert [line.sku for line in order.lines] == ["TEE-1", "MUG-1"]


def test_gift_wrap_and_cod_are_charges(eu: dict[str, Any]) -> None:
    eu["items"][0]["BuyerInfo"] = {"GiftWrapPrice": {"CurrencyCode": "EUR", "Amount": "2.50"}}
    eu["items"][1]["CODFee"] = {"CurrencyCode": "EUR", "Amount": "1.00"}
    eu["order"]["OrderTotal"]["Amount"] = "82.44"
    order = amazon.to_order(eu, resolve)
    assert order.charges == Money(350, "EUR")
    assert hold_reasons(order, CATALOGUE.values()) == []


def test_without_order_total_the_lines_make_the_total(eu: dict[str, Any]) -> None:
    """Canceled and Pending orders come without OrderTotal."""
    del eu["order"]["OrderTotal"]
    eu["order"]["OrderStatus"] = "Canceled"
    order = amazon.to_order(eu, resolve)
    assert order.total == Money(7894, "EUR")
    assert amazon.is_cancelled(eu["order"])


def test_a_line_cancelled_to_zero_units_is_left_out(eu: dict[str, Any]) -> None:
    eu["items"][1].update(QuantityOrdered=0, ItemPrice={"CurrencyCode": "EUR", "Amount": "0.00"})
    eu["items"][1]["ShippingPrice"]["Amount"] = eu["items"][1]["ShippingDiscount"]["Amount"] = "0.00"
    eu["order"]["OrderTotal"]["Amount"] = "39.97"
    order = amazon.to_order(eu, resolve)
    assert [line.sku for line in order.lines] == ["TEE-ORG-BLK-M"]
    assert hold_reasons(order, CATALOGUE.values()) == []


def test_negative_discounts_still_lower_the_price(eu: dict[str, Any]) -> None:
    eu["items"][0]["PromotionDiscount"]["Amount"] = "-5.00"
    assert amazon.to_order(eu, resolve).lines[0].total == Money(3498, "EUR")


def test_statuses() -> None:
    assert not amazon.is_fulfilable({"OrderStatus": "Pending"})
    assert not amazon.is_fulfilable({"OrderStatus": "PendingAvailability"})
    assert amazon.is_fulfilable({"OrderStatus": "Unshipped"})
    assert amazon.is_fulfilable({"OrderStatus": "Canceled"}) and amazon.is_cancelled({"OrderStatus": "Canceled"})


def _set(path: str, value: Any) -> Any:
    def mutate(payload: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        target: Any = payload
        for step in parents:
            target = target[int(step)] if isinstance(target, list) else target[step]
        key: Any = int(last) if isinstance(target, list) else last
        if value is KeyError:
            del target[key]
        else:
            target[key] = value

    return mutate


@pytest.mark.parametrize(
    "mutate",
    [
        _set("order", KeyError),
        _set("items", []),
        _set("items", "none"),
        _set("order.AmazonOrderId", ""),
        _set("order.AmazonOrderId", "302 3498011 7735565"),
        _set("order.PurchaseDate", "yesterday"),
        _set("order.FulfillmentChannel", "SFP"),
        _set("order.OrderTotal.Amount", "seventy"),
        _set("order.OrderTotal.Amount", "78.945"),
        _set("order.OrderTotal.CurrencyCode", "XYZ"),
        _set("items.0.QuantityOrdered", -1),
        _set("items.0.QuantityOrdered", "two"),
        _set("items.0.OrderItemId", KeyError),
        _set("items.1.ItemPrice.CurrencyCode", "USD"),
        _set("items.0.PromotionDiscount.Amount", "100.00"),
        _set("items.1.ShippingDiscount.Amount", "9.99"),
        _set("items.0", None),
    ],
)
def test_malformed_payloads_raise_mapping_errors_only(eu: dict[str, Any], mutate: Any) -> None:
    mutate(eu)
    with pytest.raises(MAPPING_ERRORS):
        amazon.to_order(eu, resolve)


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8) | st.decimals(allow_nan=False, places=3),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=6), children, max_size=3),
    max_leaves=6,
)
_FIELDS = [
    "order.PurchaseDate",
    "order.OrderTotal",
    "order.OrderTotal.Amount",
    "order.ShippingAddress",
    "order.BuyerInfo",
    "order.MarketplaceId",
    "items.0.ItemPrice",
    "items.0.ItemPrice.Amount",
    "items.0.QuantityOrdered",
    "items.0.SellerSKU",
    "items.1.BuyerInfo",
    "items.1.ShippingTax",
]


@settings(max_examples=150, deadline=None)
@given(field=st.sampled_from(_FIELDS), value=_JSON)
def test_any_garbage_in_a_field_is_refused_or_mapped(field: str, value: Any) -> None:
    payload = copy.deepcopy(channel_payload("amazon/order_eu_mfn.json"))
    _set(field, value)(payload)
    with contextlib.suppress(*MAPPING_ERRORS):  # anything else (TypeError, KeyError, ...) fails the test
        amazon.to_order(payload, resolve)


def test_carrier_codes() -> None:
    assert carrier_code("DHL Express") == "DHL"
    assert carrier_code("royal-mail") == "Royal Mail"
    assert carrier_code("UPS") == "UPS"
    assert carrier_code("PostNL") == "Other"


def test_package_reference_ids_are_stable_positive_numbers() -> None:
    first = package_reference_id("shipment-order-amazon-302-3498011-7735565-AMS")
    assert first == package_reference_id("shipment-order-amazon-302-3498011-7735565-AMS")
    assert first.isdigit() and int(first) > 0
    assert first != package_reference_id("shipment-order-amazon-302-3498011-7735565-RTM")
    assert package_reference_id("42") == "42"


def test_retry_after_prefers_the_header_then_the_rate_limit() -> None:
    assert _retry_after(httpx.Response(429, headers={"Retry-After": "7"})) == 7.0
    assert _retry_after(httpx.Response(429, headers={"x-amzn-RateLimit-Limit": "0.5"})) == 2.0
    assert _retry_after(httpx.Response(429, headers={"x-amzn-RateLimit-Limit": "0.0167"})) == pytest.approx(59.88, 0.01)
    assert _retry_after(httpx.Response(429)) is None


def _raise_for_status(response: httpx.Response, what: str) -> None:
    """What the client makes of an answer that is not 2xx."""
    with httpx.Client() as http:
        raise sp_api(http).error_for(response, what)


@pytest.mark.parametrize(
    ("status", "error"),
    [(429, ChannelRateLimited), (500, ChannelUnavailable), (503, ChannelUnavailable), (403, ChannelAuthFailed)],
)
def test_status_mapping(status: int, error: type[Exception]) -> None:
    with pytest.raises(error):
        _raise_for_status(httpx.Response(status, json={"errors": [{"code": "X", "message": "m"}]}), "GET /x")


def test_rejections_carry_amazons_message() -> None:
    body = {"errors": [{"code": "InvalidInput", "message": "Invalid Input", "details": "shipDate"}]}
    with pytest.raises(ChannelRejected, match=r"InvalidInput: Invalid Input \(shipDate\)"):
        _raise_for_status(httpx.Response(400, json=body), "POST /x")


def test_lwa_token_is_cached_until_shortly_before_expiry() -> None:
    issued: list[dict[str, str]] = []

    def lwa(request: httpx.Request) -> httpx.Response:
        form = dict(httpx.QueryParams(request.content.decode()))
        issued.append(form)
        return httpx.Response(200, json={"access_token": f"Atza|{len(issued)}", "expires_in": 3600})

    now = [1000.0]
    with httpx.Client(transport=httpx.MockTransport(lwa)) as http:
        tokens = LwaTokens(http, "https://lwa.test/auth/o2/token", "cid", "csecret", "Atzr|r", clock=lambda: now[0])
        assert tokens.get() == tokens.get() == "Atza|1"
        now[0] += 3600 - 301
        assert tokens.get() == "Atza|1"
        now[0] += 2
        assert tokens.get() == "Atza|2"
        tokens.invalidate("Atza|1")  # an old token: nothing to forget
        assert tokens.get() == "Atza|2"
        tokens.invalidate("Atza|2")
        assert tokens.get() == "Atza|3"
    assert issued[0] == {
        "grant_type": "refresh_token",
        "refresh_token": "Atzr|r",
        "client_id": "cid",
        "client_secret": "csecret",
    }
