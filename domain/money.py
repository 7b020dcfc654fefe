"""Money as integer minor units with an ISO 4217 currency: floats never touch an amount."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, Inexact, InvalidOperation, localcontext

# ISO 4217 minor-unit exponents for the currencies we accept. A currency outside this table is
# refused at intake rather than guessed, because guessing the exponent misprices by 10x or 100x.
CURRENCY_EXPONENTS: dict[str, int] = {
    **dict.fromkeys(
        [
            "EUR",
            "USD",
            "GBP",
            "CHF",
            "SEK",
            "NOK",
            "DKK",
            "PLN",
            "CZK",
            "HUF",
            "RON",
            "BGN",
            "CAD",
            "AUD",
            "NZD",
            "MXN",
            "BRL",
            "ZAR",
            "SGD",
            "HKD",
            "CNY",
            "INR",
            "TRY",
            "AED",
            "SAR",
            "ILS",
            "THB",
            "MYR",
            "PHP",
            "IDR",
            "TWD",
        ],
        2,
    ),
    **dict.fromkeys(["JPY", "KRW", "ISK", "CLP", "VND"], 0),
    **dict.fromkeys(["KWD", "BHD", "JOD", "OMR", "TND"], 3),
}


class MoneyError(ValueError):
    """An amount or currency that cannot be represented exactly."""


def currency_exponent(currency: str) -> int:
    try:
        return CURRENCY_EXPONENTS[currency]
    except KeyError:
        raise MoneyError(f"unknown currency {currency!r}") from None


@dataclass(frozen=True, slots=True)
class Money:
    amount_minor: int
    currency: str

    def __post_init__(self) -> None:
        if isinstance(self.amount_minor, bool) or not isinstance(self.amount_minor, int):
            raise MoneyError(f"amount_minor must be an integer, got {self.amount_minor!r}")
        currency_exponent(self.currency)

    @classmethod
    def zero(cls, currency: str) -> Money:
        return cls(0, currency)

    @classmethod
    def parse(cls, amount: str | int | Decimal, currency: str) -> Money:
        """Parse a decimal amount in major units ("10.50") exactly; refuse sub-minor precision."""
        exponent = currency_exponent(currency)
        if isinstance(amount, float):
            raise MoneyError("amounts must be strings or integers, never floats")
        text = str(amount).strip()
        if "_" in text:  # Decimal() accepts "1_000"; no channel means that
            raise MoneyError(f"not a decimal amount: {amount!r}")
        try:
            value = Decimal(text)
        except InvalidOperation:
            raise MoneyError(f"not a decimal amount: {amount!r}") from None
        if not value.is_finite():
            raise MoneyError(f"not a finite amount: {amount!r}")
        with localcontext() as exact:
            # Enough digits for any input, and a trap instead of silent rounding.
            exact.prec = len(value.as_tuple().digits) + exponent + 2
            exact.traps[Inexact] = True
            minor = value.scaleb(exponent)
        if minor != minor.to_integral_value():
            raise MoneyError(f"{amount!r} has more precision than {currency} allows")
        return cls(int(minor), currency)

    def _same_currency(self, other: Money) -> None:
        if other.currency != self.currency:
            raise MoneyError(f"cannot combine {self.currency} with {other.currency}")

    def __add__(self, other: Money) -> Money:
        self._same_currency(other)
        return Money(self.amount_minor + other.amount_minor, self.currency)

    def __sub__(self, other: Money) -> Money:
        self._same_currency(other)
        return Money(self.amount_minor - other.amount_minor, self.currency)

    def times(self, quantity: int) -> Money:
        return Money(self.amount_minor * quantity, self.currency)

    def format(self) -> str:
        exponent = currency_exponent(self.currency)
        sign, digits = ("-" if self.amount_minor < 0 else ""), str(abs(self.amount_minor))
        if exponent == 0:
            return f"{sign}{digits} {self.currency}"
        digits = digits.rjust(exponent + 1, "0")
        return f"{sign}{digits[:-exponent]}.{digits[-exponent:]} {self.currency}"


def total(amounts: list[Money], currency: str) -> Money:
    result = Money.zero(currency)
    for amount in amounts:
        result = result + amount
    return result
