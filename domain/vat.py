"""VAT rates and the VAT inside a price that includes it, exact to the minor unit.

Our prices are consumer prices including VAT (domain.order: every line total, shipping and the
order's total are what the customer paid, tax included). An invoice must show, per rate, the taxable
amount (net) and the VAT, and EN 16931 (BR-CO-17) wants the VAT of a rate to be that rate times the
rate's taxable amount, rounded once. So the VAT is taken out of a rate's gross total in one step,
never line by line: `vat_in_gross` picks the split net + VAT == gross for which VAT ==
round(rate x net), and when no such split exists (at 21 % about one gross amount in six has none:
net + round(0.21 x net) skips values) the one whose VAT is nearest, off by at most one minor unit.
The official EN 16931 validation artefacts (1.3.x, which Peppol BIS Billing 3.0 and Factur-X use)
accept a VAT that differs from the rounded product by less than one major unit (BR-S-09 and its
siblings); an older artefact that demands equality would need the cent moved to the document's
rounding amount (BT-114) instead.

Rates are data, not code: a mapping VAT category -> rate in basis points (2100 = 21 %), one table
per seller country; `DUTCH_RATES` is the Netherlands' (standard 21 %, reduced 9 %, zero 0 %). A
product names its category; the table in use comes from settings.

Reverse charge (EU business customer with a valid VAT id in another member state than the seller):
the supply is invoiced without VAT and the buyer accounts for it in their own country; the
document carries the legal note "VAT reverse charged" (Dutch: "Btw verlegd").
"""

from __future__ import annotations

from collections.abc import Mapping

RATE_SCALE = 10_000
"""Rates are integers in basis points: 2100 is 21 %, 900 is 9 %."""

STANDARD = "standard"
REDUCED = "reduced"
ZERO = "zero"

DUTCH_RATES: Mapping[str, int] = {STANDARD: 2100, REDUCED: 900, ZERO: 0}
"""The Netherlands' VAT rates per category (Wet OB 1968: 21 %, 9 %, 0 %)."""

REVERSE_CHARGE_NOTE = "VAT reverse charged"
REVERSE_CHARGE_NOTE_NL = "Btw verlegd"

_EU_CODES = "AT BE BG CY CZ DE DK EE ES FI FR GR HR HU IE IT LT LU LV MT NL PL PT RO SE SI SK"
EU_MEMBER_STATES = frozenset(_EU_CODES.split(" "))
"""ISO 3166-1 alpha-2 codes of the 27 EU member states (Greece's VAT prefix is EL, its country code GR)."""


class VatError(ValueError):
    """A rate or category the rate table does not know, or an amount VAT cannot be taken from."""


def rate_of(category: str, rates: Mapping[str, int]) -> int:
    """The rate of a VAT category in basis points; an unknown category is refused, never guessed."""
    try:
        rate = rates[category]
    except KeyError:
        raise VatError(f"unknown VAT category {category!r}") from None
    if isinstance(rate, bool) or not isinstance(rate, int) or not 0 <= rate < RATE_SCALE:
        raise VatError(f"VAT category {category!r}: rate must be 0-9999 basis points, got {rate!r}")
    return rate


def round_half_up(numerator: int, denominator: int) -> int:
    """numerator / denominator rounded to the nearest integer, halves away from zero (commercial
    rounding, as EN 16931 and the Belastingdienst round)."""
    if denominator <= 0:
        raise VatError("denominator must be positive")
    quotient, remainder = divmod(abs(numerator), denominator)
    if 2 * remainder >= denominator:
        quotient += 1
    return quotient if numerator >= 0 else -quotient


def vat_on_net(net_minor: int, rate: int) -> int:
    """The VAT on a taxable amount: rate x net, rounded once (EN 16931 BR-CO-17)."""
    return round_half_up(net_minor * rate, RATE_SCALE)


def vat_in_gross(gross_minor: int, rate: int) -> int:
    """The VAT inside an amount that includes it, so that gross - VAT is the taxable amount and
    VAT == vat_on_net(gross - VAT) whenever any split allows it (else off by one minor unit).

    Never negative for a non-negative gross, never more than the gross."""
    if gross_minor < 0:
        raise VatError("VAT is taken from a non-negative amount; a credit note carries positive amounts too")
    if rate == 0 or gross_minor == 0:
        return 0
    nearest = round_half_up(gross_minor * rate, RATE_SCALE + rate)
    # net + vat_on_net(net) grows by 1 or 2 per unit of net: the exact split, if any, is next to the
    # nearest; of the candidates take the exact one, else keep the nearest.
    for vat in (nearest, nearest - 1, nearest + 1):
        if 0 <= vat <= gross_minor and vat_on_net(gross_minor - vat, rate) == vat:
            return vat
    return nearest


def reverse_charge_applies(seller_country: str, buyer_country: str, buyer_vat_id: str) -> bool:
    """An intra-EU supply to a business: the buyer has a VAT id and sits in another EU member state
    than the seller. Whether the id is valid (VIES) is checked where the order is taken, not here."""
    seller, buyer = seller_country.strip().upper(), buyer_country.strip().upper()
    return bool(buyer_vat_id.strip()) and seller in EU_MEMBER_STATES and buyer in EU_MEMBER_STATES and seller != buyer
