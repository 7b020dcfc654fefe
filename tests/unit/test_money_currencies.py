"""Every ISO 4217 currency prices exactly with its own exponent; which ones we sell is a hold, not a
refusal (a channel's order in a real currency is never dropped)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from domain.channels import (
    ChannelPolicy,
    channel_policy_from_dict,
    channel_policy_to_dict,
    currency_hold_reason,
    sold_currencies,
)
from domain.money import CURRENCY_EXPONENTS, NO_MINOR_UNIT, Money, MoneyError, currency_exponent
from domain.return_lifecycle import RefundTiming
from domain.routing import RoutingConfigError
from integrations.channels import shopify
from tests.factories import shopify_payload

pytestmark = pytest.mark.unit

# ISO 4217 (SIX List One): the exponents most often guessed wrong.
KNOWN = {
    "EUR": 2,
    "USD": 2,
    "GBP": 2,
    "JPY": 0,
    "KRW": 0,
    "ISK": 0,
    "CLP": 0,
    "VND": 0,
    "UGX": 0,
    "XOF": 0,
    "XAF": 0,
    "XPF": 0,
    "PYG": 0,
    "KWD": 3,
    "BHD": 3,
    "OMR": 3,
    "JOD": 3,
    "IQD": 3,
    "LYD": 3,
    "TND": 3,
    "CLF": 4,
    "UYW": 4,
    "HUF": 2,
    "IDR": 2,
    "TWD": 2,
    "MGA": 2,
    "MRU": 2,
    "MAD": 2,
    "ZWG": 2,
    "XCG": 2,
}


@pytest.mark.parametrize(("currency", "exponent"), sorted(KNOWN.items()))
def test_the_exponent_is_the_currencys_own(currency: str, exponent: int) -> None:
    assert currency_exponent(currency) == exponent


def test_the_table_covers_the_currencies_in_use() -> None:
    assert len(CURRENCY_EXPONENTS) >= 165
    assert all(len(code) == 3 and code.isalpha() and code.isupper() for code in CURRENCY_EXPONENTS)
    assert set(CURRENCY_EXPONENTS.values()) == {0, 2, 3, 4}
    assert not NO_MINOR_UNIT & set(CURRENCY_EXPONENTS)


@pytest.mark.parametrize("currency", sorted(CURRENCY_EXPONENTS))
def test_every_currency_parses_strings_exactly_into_its_minor_units(currency: str) -> None:
    exponent = CURRENCY_EXPONENTS[currency]
    assert Money.parse("1", currency) == Money(10**exponent, currency)
    assert Money.parse("1234567.0", currency).amount_minor == 1234567 * 10**exponent
    if exponent:
        smallest = "0." + "0" * (exponent - 1) + "1"
        assert Money.parse(smallest, currency) == Money(1, currency)
        assert Money.parse(Decimal("12." + "9" * exponent), currency).amount_minor == 13 * 10**exponent - 1
    # One digit finer than the currency has is refused, never rounded.
    with pytest.raises(MoneyError, match="precision"):
        Money.parse("0." + "0" * exponent + "1", currency)


@pytest.mark.parametrize(
    ("text", "currency", "minor"),
    [("1500", "JPY", 1500), ("19.99", "EUR", 1999), ("12.345", "KWD", 12345), ("0.250", "BHD", 250)],
)
def test_prices_in_major_units(text: str, currency: str, minor: int) -> None:
    assert Money.parse(text, currency).amount_minor == minor


@pytest.mark.parametrize(("text", "currency"), [("1500.5", "JPY"), ("19.999", "EUR"), ("12.3456", "KWD")])
def test_sub_minor_precision_is_refused(text: str, currency: str) -> None:
    with pytest.raises(MoneyError, match="precision"):
        Money.parse(text, currency)


@pytest.mark.parametrize("code", ["XAU", "XDR", "XTS", "XXX"])
def test_iso_codes_without_a_minor_unit_cannot_price_an_order(code: str) -> None:
    with pytest.raises(MoneyError, match="no minor unit"):
        Money.parse("1", code)


@pytest.mark.parametrize("code", ["XYZ", "BTC", "eur", "EU", ""])
def test_codes_that_are_not_iso_4217_stay_refused(code: str) -> None:
    with pytest.raises(MoneyError, match="unknown currency"):
        Money(1, code)


def test_a_shopify_order_in_a_currency_we_do_not_sell_still_maps() -> None:
    # Moroccan dirham: a real currency, so the order is represented (and held later), not refused.
    payload = {**shopify_payload([("MUG", 2, "120.50")], shipping="30.00"), "currency": "MAD"}
    order = shopify.to_order(payload)
    assert order.currency == "MAD" and order.total == Money(27100, "MAD")


def test_channel_currencies_parse_normalise_and_round_trip() -> None:
    policy = channel_policy_from_dict("pos", {"currencies": ["eur", "EUR", " gbp "]})
    assert policy.currencies == ("EUR", "GBP")
    assert channel_policy_to_dict(policy)["currencies"] == ["EUR", "GBP"]
    assert channel_policy_from_dict("pos", channel_policy_to_dict(policy)) == policy
    assert channel_policy_from_dict("pos", {}).currencies is None
    assert channel_policy_to_dict(ChannelPolicy("pos"))["currencies"] is None


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ([], "non-empty"),
        ("EUR", "non-empty"),
        ([1], "non-empty"),
        (["XYZ"], "'XYZ' is not an ISO 4217"),
        (["XAU"], "XAU"),
    ],
)
def test_bad_channel_currencies_are_named(value: object, message: str) -> None:
    with pytest.raises(RoutingConfigError, match=message):
        channel_policy_from_dict("shopify", {"currencies": value})


def test_a_channel_narrows_the_engine_wide_list() -> None:
    engine_wide = ("EUR", "USD", "GBP")
    assert sold_currencies(ChannelPolicy("pos"), engine_wide) == engine_wide
    assert sold_currencies(ChannelPolicy("pos", currencies=("EUR", "JPY")), engine_wide) == ("EUR",)
    assert sold_currencies(ChannelPolicy("pos", currencies=("JPY",)), None) == ("JPY",)
    assert sold_currencies(ChannelPolicy("pos"), None) is None


def test_the_hold_reason_names_the_currency_and_what_is_sold() -> None:
    engine_wide = ("EUR", "USD", "GBP")
    assert currency_hold_reason("EUR", ChannelPolicy("shopify"), engine_wide) is None
    assert currency_hold_reason("JPY", ChannelPolicy("shopify"), None) is None
    reason = currency_hold_reason("JPY", ChannelPolicy("shopify"), engine_wide)
    assert reason == "currency JPY is not sold by this shop (sold: EUR, USD, GBP)"
    narrowed = currency_hold_reason("USD", ChannelPolicy("pos", currencies=("EUR",)), engine_wide)
    assert narrowed == "currency USD is not sold on pos (sold: EUR)"
    # A channel list outside the engine-wide one sells nothing: said so, not left blank.
    assert currency_hold_reason("JPY", ChannelPolicy("pos", currencies=("JPY",)), engine_wide).endswith("(sold: none)")


def test_a_channel_refunds_returns_at_receipt_unless_set_to_refund_on_request():
    assert channel_policy_from_dict("bol", {}).refund_timing is RefundTiming.AT_RECEIPT
    policy = channel_policy_from_dict("webshop", {"refund_timing": "on_request"})
    assert policy.refund_timing is RefundTiming.ON_REQUEST
    assert channel_policy_from_dict("webshop", channel_policy_to_dict(policy)) == policy
    with pytest.raises(RoutingConfigError, match="refund_timing must be at_receipt or on_request"):
        channel_policy_from_dict("webshop", {"refund_timing": "whenever"})
