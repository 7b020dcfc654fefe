"""Money as integer minor units with an ISO 4217 currency: floats never touch an amount."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, Inexact, InvalidOperation, localcontext

# ISO 4217 minor-unit exponents of every currency in use (List One, 2025), plus the few withdrawn
# since 2023 (HRK, SLL, ZWL) so that a late order in one is held rather than refused. A code outside
# this table is refused at intake rather than guessed: a guessed exponent misprices by 10x or 1000x.
# The X-codes without a minor unit (gold XAU, SDR XDR, test XTS, none XXX, ...) cannot price an order.
_EXPONENT_0 = "BIF CLP DJF GNF ISK JPY KMF KRW PYG RWF UGX UYI VND VUV XAF XOF XPF"
_EXPONENT_3 = "BHD IQD JOD KWD LYD OMR TND"
_EXPONENT_4 = "CLF UYW"
_EXPONENT_2 = (
    "AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BMD BND BOB BOV BRL BSD BTN BWP BYN BZD "
    "CAD CDF CHE CHF CHW CNY COP COU CRC CUC CUP CVE CZK DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP GEL "
    "GHS GIP GMD GTQ GYD HKD HNL HRK HTG HUF IDR ILS INR IRR JMD KES KGS KHR KPW KYD KZT LAK LBP LKR "
    "LRD LSL MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN MXV MYR MZN NAD NGN NIO NOK NPR NZD PAB "
    "PEN PGK PHP PKR PLN QAR RON RSD RUB SAR SBD SCR SDG SEK SGD SHP SLE SLL SOS SRD SSP STN SVC SYP "
    "SZL THB TJS TMT TOP TRY TTD TWD TZS UAH USD USN UYU UZS VED VES WST XCD XCG YER ZAR ZMW ZWG ZWL"
)
CURRENCY_EXPONENTS: dict[str, int] = {
    code: exponent
    for codes, exponent in ((_EXPONENT_0, 0), (_EXPONENT_2, 2), (_EXPONENT_3, 3), (_EXPONENT_4, 4))
    for code in codes.split()
}
NO_MINOR_UNIT = frozenset(["XAG", "XAU", "XBA", "XBB", "XBC", "XBD", "XDR", "XPD", "XPT", "XSU", "XTS", "XUA", "XXX"])
"""ISO 4217 codes that are not money an order can be priced in."""


MAX_DIGITS = 18
"""The most digits an amount may have in minor units (up to 9 999 999 999 999 999.99 EUR): every
parsed amount fits a 64-bit column with room for sums, and "1E+100000" is refused, never built."""


class MoneyError(ValueError):
    """An amount or currency that cannot be represented exactly."""


def currency_exponent(currency: str) -> int:
    try:
        return CURRENCY_EXPONENTS[currency]
    except KeyError:
        if currency in NO_MINOR_UNIT:
            raise MoneyError(f"unknown currency {currency!r}: ISO 4217 gives it no minor unit") from None
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
        # Bounded before it is scaled: "1E+100000" would otherwise become a 100,001-digit integer.
        if value and value.adjusted() + exponent >= MAX_DIGITS:
            shown = text if len(text) <= 40 else f"{text[:20]}...({len(text)} characters)"
            raise MoneyError(f"{shown} is too large an amount: at most {MAX_DIGITS} digits in minor units")
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
