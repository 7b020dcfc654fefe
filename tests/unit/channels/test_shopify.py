"""Shopify: webhook HMAC and the mapping of a real-shaped `orders/create` payload to the canonical order."""

from __future__ import annotations

import base64
import copy
import hashlib
import hmac
import json
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from pydantic import ValidationError

from domain.money import Money, MoneyError
from domain.order import Address, InvalidOrder, hold_reasons
from integrations.channels import shopify
from tests.channels.factories import DATA, eur

pytestmark = pytest.mark.unit

RAW = (DATA / "shopify_order.json").read_bytes()
# As the webhook route decodes it: any JSON number becomes a Decimal, never a float.
PAYLOAD: dict[str, Any] = json.loads(RAW, parse_float=Decimal)
SKUS = ("TEE-ORG-BLK-M", "MUG-STONE-350", "SOCK-MER-3PK-4346")
SECRET = "shpss_0123456789abcdef0123456789abcdef"


@pytest.fixture
def payload() -> dict[str, Any]:
    return copy.deepcopy(PAYLOAD)


# --- the fixture itself is a consistent Shopify order -----------------------------------------------


def test_fixture_reconciles_by_shopify_rules() -> None:
    def d(value: str) -> Decimal:
        return Decimal(value)

    items = PAYLOAD["line_items"]
    line_items_price = sum((d(i["price"]) * i["quantity"] for i in items), Decimal(0))
    discounts = sum((d(a["amount"]) for i in items for a in i["discount_allocations"]), Decimal(0))
    shipping = sum((d(s["price"]) for s in PAYLOAD["shipping_lines"]), Decimal(0))
    taxes = sum((d(t["price"]) for i in items for t in i["tax_lines"]), Decimal(0)) + sum(
        (d(t["price"]) for s in PAYLOAD["shipping_lines"] for t in s["tax_lines"]), Decimal(0)
    )
    assert PAYLOAD["taxes_included"] is True
    assert d(PAYLOAD["total_line_items_price"]) == line_items_price
    assert d(PAYLOAD["total_discounts"]) == discounts
    assert d(PAYLOAD["subtotal_price"]) == line_items_price - discounts
    assert d(PAYLOAD["total_tax"]) == taxes
    assert d(PAYLOAD["total_shipping_price_set"]["shop_money"]["amount"]) == shipping
    assert d(PAYLOAD["total_price"]) == d(PAYLOAD["subtotal_price"]) + shipping  # tax is inside the prices


# --- signatures -------------------------------------------------------------------------------------


def reference_hmac(secret: str, body: bytes) -> str:
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def test_verify_signature_accepts_the_right_secret_and_body() -> None:
    assert shopify.verify_signature(SECRET, RAW, reference_hmac(SECRET, RAW))


def test_verify_signature_tolerates_surrounding_whitespace() -> None:
    assert shopify.verify_signature(SECRET, RAW, f" {reference_hmac(SECRET, RAW)}\r\n")


def test_verify_signature_refuses_a_changed_body() -> None:
    header = reference_hmac(SECRET, RAW)
    tampered = RAW.replace(b'"total_price": "101.33"', b'"total_price": "1.33"')
    assert tampered != RAW
    assert not shopify.verify_signature(SECRET, tampered, header)
    assert not shopify.verify_signature(SECRET, RAW + b"\n", header)


def test_verify_signature_refuses_the_wrong_secret() -> None:
    assert not shopify.verify_signature("another-secret", RAW, reference_hmac(SECRET, RAW))
    assert not shopify.verify_signature(SECRET, RAW, reference_hmac("another-secret", RAW))


@pytest.mark.parametrize("header", [None, ""])
def test_verify_signature_refuses_a_missing_header(header: str | None) -> None:
    assert not shopify.verify_signature(SECRET, RAW, header)


def test_verify_signature_refuses_an_empty_secret() -> None:
    assert not shopify.verify_signature("", RAW, reference_hmac("", RAW))


@pytest.mark.parametrize(
    "header",
    [
        "garbage",
        "sha256=" + reference_hmac(SECRET, RAW),
        hashlib.sha256(RAW).hexdigest(),
        reference_hmac(SECRET, RAW)[:-2],
        hmac.new(SECRET.encode(), RAW, hashlib.sha256).hexdigest(),  # hex, not base64
    ],
)
def test_verify_signature_refuses_a_garbage_header(header: str) -> None:
    assert not shopify.verify_signature(SECRET, RAW, header)


def test_verify_signature_refuses_a_non_ascii_header() -> None:
    assert not shopify.verify_signature(SECRET, RAW, "bädsignatür")


def test_sign_matches_shopify_and_verify() -> None:
    signature = shopify.sign(SECRET, RAW)
    assert signature == reference_hmac(SECRET, RAW)
    assert shopify.verify_signature(SECRET, RAW, signature)
    assert shopify.sign(SECRET, RAW + b" ") != signature


# --- mapping ----------------------------------------------------------------------------------------


def test_to_order_maps_the_header_fields(payload: dict[str, Any]) -> None:
    order = shopify.to_order(payload)
    assert order.channel == "shopify"
    assert order.external_id == "5123456789012"
    assert order.order_id == "order-shopify-5123456789012"
    assert order.reference == "#1042"
    assert order.currency == "EUR"
    assert order.customer_email == "jan.devries@example.com"
    assert order.placed_at == datetime(2024, 3, 14, 9, 23, 45, tzinfo=UTC)
    assert order.placed_at.utcoffset() is not None
    assert order.placed_at.utcoffset().total_seconds() == 0
    assert order.shipping_address == Address(
        name="Jan de Vries",
        line1="Keizersgracht 123",
        line2="3 hoog",
        postcode="1015 CJ",
        city="Amsterdam",
        region="NH",
        country="NL",
        phone="+31 20 123 4567",
        latitude=52.3738,  # Shopify geocodes the shipping address; sourcing measures distance from it
        longitude=4.8847,
    )


def test_to_order_maps_lines_after_discount_allocations(payload: dict[str, Any]) -> None:
    order = shopify.to_order(payload)
    assert [(line.sku, line.quantity) for line in order.lines] == [
        ("TEE-ORG-BLK-M", 2),
        ("MUG-STONE-350", 1),
        ("SOCK-MER-3PK-4346", 3),
    ]
    tee, mug, socks = order.lines
    # 2 x 29.95 - 5.99 discount = 53.91: not divisible by 2, so the unit rounds down and the total stays exact.
    assert tee.total == eur(5391)
    assert tee.unit_price == eur(2695)
    assert mug.total == eur(1250)
    assert mug.unit_price == eur(1250)
    assert socks.total == eur(2997)
    assert socks.unit_price == eur(999)
    assert tee.title == "Organic Tee"
    assert tee.external_line_id == "13012345678901"


def test_to_order_maps_shipping_total_and_charges(payload: dict[str, Any]) -> None:
    order = shopify.to_order(payload)
    assert order.shipping == eur(495)  # tax included: tax_lines are not added again
    assert order.total == eur(10133)
    assert order.other_charges == eur(0)
    assert order.order_discount == eur(0)  # Shopify already allocated the code to the lines


def test_to_order_reconciles_with_shopify_total(payload: dict[str, Any]) -> None:
    order = shopify.to_order(payload)
    assert order.expected_total() == order.total
    assert hold_reasons(order, SKUS) == []


def test_to_order_holds_when_a_sku_is_unknown(payload: dict[str, Any]) -> None:
    reasons = hold_reasons(shopify.to_order(payload), SKUS[:2])
    assert reasons == ["unknown SKU: SOCK-MER-3PK-4346"]


@pytest.mark.parametrize(
    ("financial_status", "collected"),
    [
        ("paid", True),
        ("partially_refunded", True),
        ("pending", False),
        ("authorized", False),
        ("partially_paid", False),
        ("voided", False),
        (None, False),
    ],
)
def test_payment_collected(payload: dict[str, Any], financial_status: str | None, collected: bool) -> None:
    payload["financial_status"] = financial_status
    assert shopify.to_order(payload).payment_collected is collected


def test_taxes_excluded_adds_tax_lines_to_lines_and_shipping(payload: dict[str, Any]) -> None:
    # A US-style shop: prices are net and 21% tax comes on top, per line and on shipping.
    payload["taxes_included"] = False
    line_taxes = ["11.32", "2.63", "6.29"]  # 21% of 53.91, 12.50, 29.97
    for item, tax in zip(payload["line_items"], line_taxes, strict=True):
        item["tax_lines"][0]["price"] = tax
    payload["shipping_lines"][0]["tax_lines"][0]["price"] = "1.04"  # 21% of 4.95
    payload["total_tax"] = "21.28"
    payload["total_price"] = "122.61"  # 96.38 subtotal + 4.95 shipping + 21.28 tax

    order = shopify.to_order(payload)
    assert [line.total for line in order.lines] == [eur(5391 + 1132), eur(1250 + 263), eur(2997 + 629)]
    assert order.lines[0].unit_price == eur(3261)  # 65.23 / 2 rounded down
    assert order.shipping == eur(495 + 104)
    assert order.total == eur(12261)
    assert hold_reasons(order, SKUS) == []


def test_taxes_included_does_not_add_tax_again(payload: dict[str, Any]) -> None:
    # Same payload, but the total claims tax was added on top: the order must not reconcile.
    payload["total_price"] = "118.92"  # 101.33 + 17.59
    assert any(r.startswith("price mismatch") for r in hold_reasons(shopify.to_order(payload), SKUS))


def test_tips_and_duties_are_charges(payload: dict[str, Any]) -> None:
    payload["total_tip_received"] = "2.00"
    payload["current_total_duties_set"] = {
        "shop_money": {"amount": "3.50", "currency_code": "EUR"},
        "presentment_money": {"amount": "3.50", "currency_code": "EUR"},
    }
    payload["total_price"] = "106.83"  # 101.33 + 2.00 tip + 3.50 duties
    order = shopify.to_order(payload)
    assert order.charges == eur(550)
    assert order.total == eur(10683)
    assert hold_reasons(order, SKUS) == []


def test_shipping_discount_is_taken_off_shipping(payload: dict[str, Any]) -> None:
    shipping = payload["shipping_lines"][0]
    shipping["discount_allocations"] = [{"amount": "4.95", "discount_application_index": 1}]
    shipping["discounted_price"] = "0.00"
    payload["total_price"] = "96.38"
    order = shopify.to_order(payload)
    assert order.shipping == eur(0)
    assert hold_reasons(order, SKUS) == []


@pytest.mark.parametrize("sku", [None, "", "   "])
def test_line_without_sku_gets_a_variant_stand_in(payload: dict[str, Any], sku: str | None) -> None:
    payload["line_items"][1]["sku"] = sku
    order = shopify.to_order(payload)
    assert order.lines[1].sku == "shopify-variant-44112233445577"
    assert hold_reasons(order, SKUS) == ["unknown SKU: shopify-variant-44112233445577"]


def test_quantity_zero_lines_are_dropped(payload: dict[str, Any]) -> None:
    socks = payload["line_items"][2]
    socks["quantity"] = 0
    socks["current_quantity"] = 0
    payload["total_price"] = "71.36"  # 101.33 - 29.97
    order = shopify.to_order(payload)
    assert [line.sku for line in order.lines] == ["TEE-ORG-BLK-M", "MUG-STONE-350"]
    assert hold_reasons(order, SKUS) == []


def test_a_zero_decimal_currency(payload: dict[str, Any]) -> None:
    payload["currency"] = payload["presentment_currency"] = "JPY"
    payload["line_items"] = payload["line_items"][1:2]
    payload["line_items"][0].update(price="1200", quantity=2, discount_allocations=[])
    payload["shipping_lines"][0]["price"] = "500"
    payload["total_price"] = "2900"
    order = shopify.to_order(payload)
    assert order.lines[0].total == Money(2400, "JPY")
    assert order.total == Money(2900, "JPY")
    assert hold_reasons(order, SKUS) == []


def test_email_falls_back_to_contact_email(payload: dict[str, Any]) -> None:
    payload["email"] = None
    payload["contact_email"] = "orders@example.org"
    assert shopify.to_order(payload).customer_email == "orders@example.org"


def test_missing_shipping_address_gives_an_empty_address(payload: dict[str, Any]) -> None:
    del payload["shipping_address"]
    assert shopify.to_order(payload).shipping_address == Address()


def test_id_as_a_string_is_accepted(payload: dict[str, Any]) -> None:
    payload["id"] = "5123456789012"
    assert shopify.to_order(payload).order_id == "order-shopify-5123456789012"


# --- malformed payloads -----------------------------------------------------------------------------


def test_negative_quantity_is_refused(payload: dict[str, Any]) -> None:
    payload["line_items"][0]["quantity"] = -1
    with pytest.raises(ValidationError, match="quantity"):
        shopify.to_order(payload)


def test_missing_id_is_refused(payload: dict[str, Any]) -> None:
    del payload["id"]
    with pytest.raises(ValidationError, match="id"):
        shopify.to_order(payload)


@pytest.mark.parametrize("bad_id", [0, -5, "abc", None])
def test_bad_id_is_refused(payload: dict[str, Any], bad_id: object) -> None:
    payload["id"] = bad_id
    with pytest.raises(ValidationError):
        shopify.to_order(payload)


def test_missing_line_items_is_refused(payload: dict[str, Any]) -> None:
    del payload["line_items"]
    with pytest.raises(ValidationError, match="line_items"):
        shopify.to_order(payload)


def test_empty_line_items_is_refused(payload: dict[str, Any]) -> None:
    payload["line_items"] = []
    with pytest.raises(ValidationError, match="line_items"):
        shopify.to_order(payload)


def test_only_removed_lines_is_refused(payload: dict[str, Any]) -> None:
    for item in payload["line_items"]:
        item["quantity"] = 0
    with pytest.raises(InvalidOrder, match="at least one line"):
        shopify.to_order(payload)


def test_unknown_currency_is_refused(payload: dict[str, Any]) -> None:
    payload["currency"] = "XYZ"
    with pytest.raises(MoneyError, match="XYZ"):
        shopify.to_order(payload)


@pytest.mark.parametrize("price", ["12.505", "12.5001"])
def test_price_with_sub_cent_precision_is_refused(payload: dict[str, Any], price: str) -> None:
    payload["line_items"][1]["price"] = price  # quantity 1
    with pytest.raises(MoneyError, match="precision"):
        shopify.to_order(payload)


def test_total_with_sub_cent_precision_is_refused(payload: dict[str, Any]) -> None:
    payload["total_price"] = "101.333"
    with pytest.raises(MoneyError, match="precision"):
        shopify.to_order(payload)


def test_discount_larger_than_the_line_is_refused(payload: dict[str, Any]) -> None:
    payload["line_items"][1]["discount_allocations"] = [{"amount": "20.00"}]
    with pytest.raises(InvalidOrder, match="negative"):
        shopify.to_order(payload)


@pytest.mark.parametrize(
    ("field", "value"),
    [("total_price", "-1.00"), ("total_price", "abc"), ("created_at", "yesterday"), ("currency", "EU")],
)
def test_bad_header_values_are_refused(payload: dict[str, Any], field: str, value: str) -> None:
    payload[field] = value
    with pytest.raises(ValidationError, match=field):
        shopify.to_order(payload)


def test_negative_line_price_is_refused(payload: dict[str, Any]) -> None:
    payload["line_items"][0]["price"] = "-29.95"
    with pytest.raises(ValidationError, match="price"):
        shopify.to_order(payload)
