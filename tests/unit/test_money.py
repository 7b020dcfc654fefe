"""Money: exact minor units, no floats, no silent rounding, no mixing currencies."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.money import CURRENCY_EXPONENTS, MAX_DIGITS, Money, MoneyError, currency_exponent, total

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("text", "currency", "minor"),
    [
        ("10.50", "EUR", 1050),
        ("10.5", "EUR", 1050),
        ("10", "EUR", 1000),
        ("0.01", "EUR", 1),
        ("0", "EUR", 0),
        ("-3.20", "EUR", -320),
        (" 7.25 ", "USD", 725),
        ("10.500", "EUR", 1050),  # trailing zeros are not extra precision
        ("1200", "JPY", 1200),
        ("1200.0", "JPY", 1200),
        ("1.234", "KWD", 1234),
        ("0.001", "KWD", 1),
        ("12", "KWD", 12000),
    ],
)
def test_parse_decimal_string_exactly(text: str, currency: str, minor: int) -> None:
    assert Money.parse(text, currency) == Money(minor, currency)


def test_parse_accepts_int_and_decimal() -> None:
    assert Money.parse(12, "EUR") == Money(1200, "EUR")
    assert Money.parse(12, "JPY") == Money(12, "JPY")
    assert Money.parse(Decimal("0.07"), "EUR") == Money(7, "EUR")
    assert Money.parse(Decimal("19.99"), "GBP").amount_minor == 1999
    assert Money.parse(Decimal("5"), "KWD").amount_minor == 5000


@pytest.mark.parametrize("value", [10.5, 0.1, 1.0, float("nan")])
def test_parse_refuses_floats(value: float) -> None:
    with pytest.raises(MoneyError, match="float"):
        Money.parse(value, "EUR")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("text", "currency"),
    [("10.505", "EUR"), ("0.001", "USD"), ("1200.5", "JPY"), ("0.1", "JPY"), ("1.2345", "KWD")],
)
def test_parse_refuses_sub_minor_precision(text: str, currency: str) -> None:
    with pytest.raises(MoneyError, match="precision"):
        Money.parse(text, currency)


@pytest.mark.parametrize("currency", ["XYZ", "eur", "", "EURO", "BTC"])
def test_unknown_currency_is_refused(currency: str) -> None:
    with pytest.raises(MoneyError, match="unknown currency"):
        Money.parse("1.00", currency)
    with pytest.raises(MoneyError, match="unknown currency"):
        Money(100, currency)
    with pytest.raises(MoneyError):
        currency_exponent(currency)


@pytest.mark.parametrize("text", ["NaN", "nan", "-NaN", "sNaN", "Infinity", "-Infinity", "inf"])
def test_parse_refuses_non_finite(text: str) -> None:
    with pytest.raises(MoneyError, match="finite"):
        Money.parse(text, "EUR")


def test_parse_refuses_non_finite_decimal() -> None:
    with pytest.raises(MoneyError):
        Money.parse(Decimal("Infinity"), "EUR")


@pytest.mark.parametrize("text", ["", "ten", "10,50", "1.2.3", "€10", "10 EUR"])
def test_parse_refuses_garbage(text: str) -> None:
    with pytest.raises(MoneyError, match="not a decimal"):
        Money.parse(text, "EUR")


def test_exponents_for_known_currencies() -> None:
    assert currency_exponent("EUR") == 2
    assert currency_exponent("JPY") == 0
    assert currency_exponent("KWD") == 3


@pytest.mark.parametrize("amount", [1.5, "100", None, True, Decimal(1)])
def test_constructor_refuses_non_integer_minor(amount: object) -> None:
    with pytest.raises(MoneyError, match="integer"):
        Money(amount, "EUR")  # type: ignore[arg-type]


def test_add_and_subtract_same_currency() -> None:
    assert Money(1050, "EUR") + Money(250, "EUR") == Money(1300, "EUR")
    assert Money(1050, "EUR") - Money(2000, "EUR") == Money(-950, "EUR")


@pytest.mark.parametrize("op", ["add", "sub"])
def test_arithmetic_refuses_mixed_currencies(op: str) -> None:
    eur, usd = Money(100, "EUR"), Money(100, "USD")
    with pytest.raises(MoneyError, match=r"EUR.*USD"):
        _ = eur + usd if op == "add" else eur - usd


def test_total_sums_and_refuses_mixed() -> None:
    assert total([Money(1, "EUR"), Money(2, "EUR"), Money(3, "EUR")], "EUR") == Money(6, "EUR")
    assert total([], "JPY") == Money(0, "JPY")
    with pytest.raises(MoneyError):
        total([Money(1, "EUR"), Money(2, "GBP")], "EUR")


def test_times() -> None:
    assert Money(333, "EUR").times(3) == Money(999, "EUR")
    assert Money(1234, "KWD").times(0) == Money(0, "KWD")
    assert Money(1200, "JPY").times(2).currency == "JPY"


def test_times_refuses_a_fractional_quantity() -> None:
    with pytest.raises(MoneyError):
        Money(100, "EUR").times(1.5)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("money", "text"),
    [
        (Money(1050, "EUR"), "10.50 EUR"),
        (Money(5, "EUR"), "0.05 EUR"),
        (Money(0, "EUR"), "0.00 EUR"),
        (Money(-320, "EUR"), "-3.20 EUR"),
        (Money(1200, "JPY"), "1200 JPY"),
        (Money(1234, "KWD"), "1.234 KWD"),
        (Money(7, "KWD"), "0.007 KWD"),
    ],
)
def test_format(money: Money, text: str) -> None:
    assert money.format() == text


def test_money_is_immutable() -> None:
    m = Money(100, "EUR")
    with pytest.raises(AttributeError):
        m.amount_minor = 200  # type: ignore[misc]


# Every amount a 64-bit column holds with MAX_DIGITS digits: exactness must not depend on size
# (Decimal's default context would round past 28 digits; parse must not).
_MINOR = st.integers(min_value=-(10**MAX_DIGITS - 1), max_value=10**MAX_DIGITS - 1)


@settings(max_examples=300, deadline=None, database=None)
@given(minor=_MINOR, currency=st.sampled_from(sorted(CURRENCY_EXPONENTS)))
def test_format_then_parse_round_trips(minor: int, currency: str) -> None:
    money = Money(minor, currency)
    amount, code = money.format().split(" ")
    assert code == currency
    assert Money.parse(amount, code) == money


def test_parse_never_rounds_silently() -> None:
    # 30 significant digits, 3 of them after the point: sub-minor precision for EUR, must be refused.
    with pytest.raises(MoneyError):
        Money.parse("123456789012345678901234567.891", "EUR")


@pytest.mark.parametrize(
    ("text", "currency"),
    [
        ("1E+100000", "EUR"),
        ("-1E+100000", "EUR"),
        ("1e999999999", "JPY"),
        ("10000000000000000", "EUR"),  # 10^16 EUR: 19 digits in cents
        ("1000000000000000000", "JPY"),  # 19 digits
        ("1" * 5000, "EUR"),
    ],
)
def test_parse_refuses_absurd_amounts_without_building_them(text: str, currency: str) -> None:
    with pytest.raises(MoneyError, match="too large"):
        Money.parse(text, currency)
    with pytest.raises(MoneyError, match="too large"):
        Money.parse(Decimal(text), currency)


@pytest.mark.parametrize(
    ("text", "currency", "minor"),
    [
        ("9999999999999999.99", "EUR", 10**18 - 1),  # the largest: 18 digits in cents
        ("-9999999999999999.99", "EUR", -(10**18) + 1),
        ("999999999999999999", "JPY", 10**18 - 1),
        ("999999999999999.999", "KWD", 10**18 - 1),
        ("0E+100000", "EUR", 0),  # zero, however written
        ("1.000000000000000000000000000000000000000", "EUR", 100),  # trailing zeros are not digits of value
        ("12.3400000000000000000000000000000000000000000000000", "USD", 1234),
    ],
)
def test_every_amount_within_the_bound_still_parses_exactly(text: str, currency: str, minor: int) -> None:
    assert Money.parse(text, currency) == Money(minor, currency)
    assert Money.parse(Decimal(text), currency) == Money(minor, currency)
