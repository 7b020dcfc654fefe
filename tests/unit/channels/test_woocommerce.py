"""WooCommerce webhook: signature, ping, what each status asks of us, and the order mapping to the cent."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from domain.money import Money, MoneyError
from domain.order import InvalidOrder, hold_reasons
from integrations.channels import woocommerce
from integrations.channels.woocommerce import cancel_reason, is_ping, sign, to_order, verify_signature, webhook_action
from tests.channels.factories import channel_payload, eur


def usd(minor: int) -> Money:
    return Money(minor, "USD")


# --- signature and ping -------------------------------------------------------------------------------


def test_signature_is_base64_hmac_sha256_of_the_raw_body():
    body = b'{"id":727}'
    # Reference value from `printf %s BODY | openssl dgst -sha256 -hmac secret -binary | base64`.
    assert sign("secret", body) == "UtiK1DTZewPTdDmUeS7YHg+QGcWcgW08Tnjy5YKijZ0="
    assert verify_signature("secret", body, sign("secret", body))
    assert verify_signature("secret", body, " " + sign("secret", body) + "\n")


@pytest.mark.parametrize(
    "header", [None, "", "not-base64", "UtiK1DTZewPTdDmUeS7YHg+QGcWcgW08Tnjy5YKijZ1=", "sïgnature", "\x00"]
)
def test_a_bad_or_missing_signature_is_refused(header):
    assert not verify_signature("secret", b'{"id":727}', header)


def test_a_signature_for_another_body_or_secret_is_refused():
    body = b'{"id":727}'
    assert not verify_signature("secret", body + b" ", sign("secret", body))
    assert not verify_signature("other", body, sign("secret", body))
    assert not verify_signature("", body, sign("", body))  # no secret configured: nothing verifies


def test_the_ping_is_recognised_by_its_exact_shape():
    assert is_ping(b"webhook_id=12", {})
    assert is_ping(b"webhook_id=12\n", {"content-type": "application/x-www-form-urlencoded"})
    assert not is_ping(b"webhook_id=12", {"x-wc-webhook-topic": "order.created"})
    assert not is_ping(b"webhook_id=12&x=1", {})
    assert not is_ping(b"webhook_id=", {})
    assert not is_ping(b'{"webhook_id": 12}', {})


# --- what each status asks ----------------------------------------------------------------------------


def _with(status: str, *, paid: bool = True) -> dict:
    payload = channel_payload("woocommerce/order_docs_example.json")
    payload["status"] = status
    payload["date_paid_gmt"] = "2017-03-22T19:28:08" if paid else None
    return payload


@pytest.mark.parametrize(
    ("status", "paid", "action"),
    [
        ("processing", True, "start"),
        ("completed", True, "start"),
        ("processing", False, "start"),  # paid by definition; date_paid comes with the status
        ("pending", False, "ignore"),
        ("on-hold", False, "ignore"),
        ("on-hold", True, "ignore"),
        ("checkout-draft", False, "ignore"),
        ("trash", True, "ignore"),
        ("wc-shipped-plugin-status", True, "ignore"),
        ("cancelled", True, "cancel"),
        ("refunded", True, "cancel"),
        ("failed", True, "cancel"),
        ("cancelled", False, "ignore"),  # an abandoned checkout: never started here
        ("failed", False, "ignore"),
    ],
)
def test_webhook_action_follows_the_order_status(status, paid, action):
    assert webhook_action("order.updated", _with(status, paid=paid)) == action
    assert webhook_action("order.created", _with(status, paid=paid)) == action


def test_webhook_action_ignores_other_topics_and_refuses_what_is_not_an_order():
    assert webhook_action("order.deleted", _with("processing")) == "ignore"
    with pytest.raises(ValidationError):
        webhook_action("order.created", {"id": 5, "name": "a product", "type": "simple", "status": "publish"})


def test_cancel_reason_names_the_status():
    assert cancel_reason(_with("refunded")) == "refunded on WooCommerce"
    assert cancel_reason({}) == "cancelled on WooCommerce"


# --- mapping --------------------------------------------------------------------------------------------


def test_the_documented_example_order_maps_and_reconciles():
    order = to_order(channel_payload("woocommerce/order_docs_example.json"))
    assert order.order_id == "order-woocommerce-727"
    assert (order.channel, order.external_id, order.reference, order.currency) == ("woocommerce", "727", "727", "USD")
    assert [(line.sku, line.quantity, line.unit_price, line.total) for line in order.lines] == [
        ("woocommerce-product-93", 2, usd(322), usd(645)),  # empty sku: the stand-in holds the order
        ("Bar3", 1, usd(1290), usd(1290)),
    ]
    assert order.lines[1].title == "Ship Your Idea \u2013 Color: Black, Size: M Test"  # from &ndash;
    assert [line.external_line_id for line in order.lines] == ["315", "316"]
    assert (order.total, order.shipping, order.charges, order.discount) == (usd(2935), usd(1000), None, None)
    assert order.placed_at == datetime(2017, 3, 22, 19, 28, 2, tzinfo=UTC)
    assert order.payment_collected and order.customer_email == "john.doe@example.com"
    assert order.payment_method == ""  # "bacs" is a gateway id, not a token to authorize
    assert hold_reasons(order, {"Bar3"}) == ["unknown SKU: woocommerce-product-93"]


def test_a_tax_exclusive_order_with_coupon_fee_and_shipping_tax_reconciles_exactly():
    order = to_order(channel_payload("woocommerce/order_tax_exclusive.json"))
    # Line = total (after the 10% coupon) + total_tax: 5.40 + 0.41 and 32.40 + 2.43.
    assert [(line.sku, line.quantity, line.unit_price, line.total) for line in order.lines] == [
        ("WOO-SINGLE-1", 2, usd(290), usd(581)),
        ("SYI-BLACK-M", 3, usd(1161), usd(3483)),
    ]
    assert order.shipping == usd(1075)  # 10.00 + 0.75 tax
    assert order.charges == usd(269)  # gift wrap 2.50 + 0.19 tax
    assert order.discount is None  # the coupon is already inside the line totals
    assert order.total == usd(5408)
    assert order.expected_total() == order.total
    assert hold_reasons(order, {"WOO-SINGLE-1", "SYI-BLACK-M"}) == []
    assert order.placed_at == datetime(2024, 5, 14, 16, 12, 40, tzinfo=UTC)
    assert order.shipping_address.name == "John Doe"
    assert order.shipping_address.line2 == "Suite 400" and order.shipping_address.region == "CA"


def test_a_tax_inclusive_order_with_a_negative_fee_reconciles_exactly():
    order = to_order(channel_payload("woocommerce/order_tax_inclusive.json"))
    # WooCommerce keeps line totals net also when prices include tax: 18.00 + 3.78 = 2 x 10.89 paid.
    assert [(line.sku, line.quantity, line.unit_price, line.total) for line in order.lines] == [
        ("MUG-BLUE", 2, eur(1089), eur(2178)),
        ("TEE-RED-L", 3, eur(2178), eur(6534)),
    ]
    assert order.lines[0].title == "Mug \u2013 Blue"  # from &#8211;
    assert order.shipping == eur(599)
    assert order.discount == eur(303)  # loyalty fee -2.50 and its -0.53 tax
    assert order.charges is None
    assert order.total == eur(9008) == order.expected_total()
    assert hold_reasons(order, {"MUG-BLUE", "TEE-RED-L"}) == []
    address = order.shipping_address
    assert (address.name, address.line1, address.line2, address.postcode, address.city, address.country) == (
        "Anna de Vries",
        "Prinsengracht 263",
        "3e verdieping",
        "1016 GV",
        "Amsterdam",
        "NL",
    )
    assert address.phone == "+31 20 123 4567"  # the shipping phone is empty: billing's is the contact
    assert order.customer_email == "jan@example.nl"
    assert order.payment_collected


@pytest.mark.parametrize("fixture", ["order_tax_exclusive.json", "order_tax_inclusive.json"])
def test_prices_include_tax_does_not_change_what_a_line_cost(fixture):
    payload = channel_payload(f"woocommerce/{fixture}")
    flipped = copy.deepcopy(payload)
    flipped["prices_include_tax"] = not payload["prices_include_tax"]
    assert to_order(flipped) == to_order(payload)


def test_an_empty_or_unknown_sku_gets_a_stand_in_that_holds_the_order():
    payload = channel_payload("woocommerce/order_tax_inclusive.json")
    payload["line_items"][0]["sku"] = ""
    payload["line_items"][1]["sku"] = "TEE-RED-L"
    order = to_order(payload, resolve=lambda sku: None if sku == "TEE-RED-L" else sku or None)
    assert [line.sku for line in order.lines] == ["woocommerce-product-41", "woocommerce-product-52"]
    assert hold_reasons(order, {"MUG-BLUE", "TEE-RED-L"}) == [
        "unknown SKU: woocommerce-product-41, woocommerce-product-52"
    ]


def test_a_line_whose_product_was_deleted_still_lands():
    payload = channel_payload("woocommerce/order_docs_example.json")
    payload["line_items"][0].update(sku=None, product_id=0, variation_id=0)
    assert to_order(payload).lines[0].sku == "woocommerce-item-315"


def test_a_line_edited_to_zero_quantity_is_dropped():
    payload = channel_payload("woocommerce/order_docs_example.json")
    payload["line_items"][0].update(quantity=0, total="0.00", total_tax="0.00")
    payload["total"] = "22.90"
    order = to_order(payload)
    assert [line.sku for line in order.lines] == ["Bar3"] and order.expected_total() == order.total


def test_display_only_fields_are_not_read():
    payload = channel_payload("woocommerce/order_docs_example.json")
    payload["line_items"][0].update(price="", name=None, taxes="whatever")
    payload["line_items"][1]["price"] = Decimal("12.333333333333334")
    order = to_order(payload)
    assert order.lines[0].title == "" and order.total == order.expected_total() == usd(2935)


def test_a_cent_of_tax_rounding_is_booked_so_the_order_reconciles():
    # With "round tax at subtotal level" the order's tax is rounded once, the lines' each: 1.34 vs 0.45 + 0.90.
    payload = channel_payload("woocommerce/order_docs_example.json")
    payload.update(total_tax="1.34", cart_tax="1.34", total="29.34")
    order = to_order(payload)
    assert order.discount == usd(1) and order.expected_total() == order.total == usd(2934)
    payload.update(total_tax="1.36", cart_tax="1.36", total="29.36")
    order = to_order(payload)
    assert order.charges == usd(1) and order.expected_total() == order.total


def test_a_real_gap_is_not_hidden_but_held():
    payload = channel_payload("woocommerce/order_docs_example.json")
    payload["total"] = "34.35"
    order = to_order(payload)
    assert order.charges is None and order.discount is None
    assert any(
        reason.startswith("price mismatch") for reason in hold_reasons(order, {"Bar3", "woocommerce-product-93"})
    )


def test_payment_collected_follows_status_or_date_paid():
    assert not to_order(_with("pending", paid=False)).payment_collected
    assert to_order(_with("on-hold", paid=True)).payment_collected
    assert to_order(_with("completed", paid=False)).payment_collected


def test_an_order_without_a_shipping_address_ships_to_billing_and_gmt_dates_with_offset_convert():
    payload = channel_payload("woocommerce/order_docs_example.json")
    payload["shipping"] = {key: "" for key in payload["shipping"]}
    payload["date_created_gmt"] = "2017-03-22T21:28:02+02:00"
    order = to_order(payload)
    assert order.shipping_address.line1 == "969 Market" and order.shipping_address.phone == "(555) 555-5555"
    assert order.placed_at == datetime(2017, 3, 22, 19, 28, 2, tzinfo=UTC)


def test_a_zero_decimal_currency_maps_whole_amounts():
    payload = channel_payload("woocommerce/order_docs_example.json")
    payload.update(currency="JPY", total="2935", shipping_total="1000", shipping_tax="0", total_tax="135")
    payload["line_items"][0].update(total="600", total_tax="45")
    payload["line_items"][1].update(total="1200", total_tax="90")
    order = to_order(payload)
    assert order.total == Money(2935, "JPY") == order.expected_total()


# --- malformed input ------------------------------------------------------------------------------------

ALLOWED = (ValidationError, InvalidOrder, MoneyError)


def _broken() -> list[tuple[str, dict]]:
    good = channel_payload("woocommerce/order_tax_exclusive.json")
    changes = {
        "empty object": lambda p: p.clear(),
        "a product": lambda p: (p.clear(), p.update(id=5, name="Mug", type="simple", status="publish", sku="M")),
        "deleted-topic body": lambda p: (p.clear(), p.update(id=1042)),
        "missing id": lambda p: p.pop("id"),
        "id as text": lambda p: p.update(id="abc"),
        "id zero": lambda p: p.update(id=0),
        "id true": lambda p: p.update(id=True),
        "no line items": lambda p: p.update(line_items=[]),
        "line items not a list": lambda p: p.update(line_items="x"),
        "line item not an object": lambda p: p.update(line_items=[1]),
        "negative quantity": lambda p: p["line_items"][0].update(quantity=-1),
        "fractional quantity": lambda p: p["line_items"][0].update(quantity=Decimal("1.5")),
        "quantity as text": lambda p: p["line_items"][0].update(quantity="2"),
        "price text": lambda p: p["line_items"][0].update(total="ten"),
        "sub-cent total": lambda p: p["line_items"][0].update(total="5.401"),
        "huge exponent": lambda p: p.update(total="1e999999"),
        "NaN": lambda p: p.update(total="NaN"),
        "negative total": lambda p: p.update(total="-1.00"),
        "negative line": lambda p: p["line_items"][0].update(total="-9.00"),
        "unknown currency": lambda p: p.update(currency="XYZ"),
        "currency too long": lambda p: p.update(currency="EURO"),
        "bad date": lambda p: p.update(date_created_gmt="yesterday"),
        "null date": lambda p: p.update(date_created_gmt=None),
        "billing a list": lambda p: p.update(billing=[]),
        "fee lines null": lambda p: p.update(fee_lines=None),
        "status missing": lambda p: p.pop("status"),
        "status empty": lambda p: p.update(status=""),
    }
    cases = []
    for name, change in changes.items():
        payload = copy.deepcopy(good)
        change(payload)
        cases.append((name, payload))
    return cases


@pytest.mark.parametrize(("name", "payload"), _broken(), ids=[case[0] for case in _broken()])
def test_malformed_orders_raise_only_validation_or_domain_errors(name, payload):
    with pytest.raises(ALLOWED):
        to_order(payload)


_json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8) | st.decimals(allow_nan=True, places=3),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=5), children, max_size=3),
    max_leaves=6,
)
_paths = st.sampled_from(
    [
        ("id",),
        ("total",),
        ("currency",),
        ("status",),
        ("date_created_gmt",),
        ("shipping",),
        ("billing",),
        ("fee_lines",),
        ("shipping_total",),
        ("line_items",),
        ("line_items", 0),
        ("line_items", 0, "quantity"),
        ("line_items", 0, "total"),
        ("line_items", 0, "total_tax"),
        ("line_items", 1, "sku"),
        ("line_items", 1, "variation_id"),
        ("fee_lines", 0, "total"),
        ("number",),
    ]
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(path=_paths, value=_json_values)
def test_any_mutation_either_maps_or_raises_an_expected_error(path, value):
    payload = channel_payload("woocommerce/order_tax_exclusive.json")
    target = payload
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    try:
        order = to_order(payload)
    except ALLOWED:
        return
    assert order.channel == woocommerce.CHANNEL
