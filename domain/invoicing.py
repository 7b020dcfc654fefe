"""The amounts of an invoice or credit note: per line and per VAT rate, net + VAT == gross to the cent.

Input is what the customer paid, VAT included (domain.order), per line of goods and for shipping.
Per rate, the VAT is taken once out of the rate's gross total (domain.vat, EN 16931 BR-CO-17), then
shared over the rate's lines in proportion to their gross by telescoping cumulative shares
(share_k = V*C_k//G - V*C_(k-1)//G), so the lines' VAT adds up to the rate's VAT exactly and no line's
VAT exceeds its gross. The document's gross is the sum of the items' gross, to the cent.

Shipping follows the goods it carries (an ancillary supply takes the VAT of the principal supply).
With goods at several rates we follow the Dutch practice the Belastingdienst accepts and that does
not overcharge the customer: shipping is split over the rates in proportion to the goods' gross at
each rate (telescoping, exact). When all goods are free the shipping goes to the highest rate among
them; a document without goods (a shipping refund) names the rate it refunds (`shipping_category`).
Other charges the channel took with shipping (domain.allocation.extras) ride with the shipping.

Discounts: an order's discount is already spread over the goods by domain.allocation (`paid_for`);
`shipment_items` and `returned_items` use the same arithmetic per line, so an invoice for a parcel
totals exactly what domain.allocation charges for it and a credit note for returned units what it
refunds.

Credit notes carry positive amounts like the invoice (EN 16931 / UBL CreditNote); `signed` turns
them negative for the books. A credit note for everything an invoice carried has the invoice's
amounts exactly. A refund of an amount without lines (goodwill) becomes one line per rate of the
invoice it corrects, split pro rata over that invoice's rates (`amount_credit_note`).

Reverse charge: a Dutch webshop selling to an EU business with a valid VAT id in another member
state invoices without Dutch VAT; the buyer self-accounts VAT in its own country. The channel
charges such a buyer the business price (a shop's B2B checkout shows prices without VAT, as
Shopify does for a tax-exempt customer), so the amounts an order carries are what the business
paid: each is the line's net at 0 %, nothing is taken out of it, and the document totals exactly
what was captured or refunded, as every other document does.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

from domain.allocation import extras, paid_for, units_per_line
from domain.money import Money
from domain.order import Order
from domain.vat import REVERSE_CHARGE_NOTE, REVERSE_CHARGE_NOTE_NL, VatError, rate_of, vat_in_gross

REVERSE_CHARGE = "reverse_charge"
"""The category of every line of a reverse-charge document (EN 16931 category code AE, 0 %)."""

SHIPPING = "Shipping"


class DocumentKind(StrEnum):
    INVOICE = "invoice"
    CREDIT_NOTE = "credit_note"


@dataclass(frozen=True)
class Item:
    """Something a document charges or credits: its gross (VAT included) and its VAT category."""

    description: str
    category: str
    gross: Money
    quantity: int = 1

    def __post_init__(self) -> None:
        if self.gross.amount_minor < 0:
            raise VatError(f"{self.description}: an item's gross cannot be negative")
        if isinstance(self.quantity, bool) or not isinstance(self.quantity, int) or self.quantity < 0:
            raise VatError(f"{self.description}: quantity must be a non-negative integer")


@dataclass(frozen=True)
class DocumentLine:
    description: str
    category: str
    rate: int
    """Basis points (2100 = 21 %); 0 for reverse charge."""
    quantity: int
    net: Money
    vat: Money

    @property
    def gross(self) -> Money:
        return self.net + self.vat


@dataclass(frozen=True)
class RateTotal:
    """One VAT breakdown of the document (EN 16931 BG-23): the taxable amount and the VAT of a rate."""

    category: str
    rate: int
    net: Money
    vat: Money

    @property
    def gross(self) -> Money:
        return self.net + self.vat


@dataclass(frozen=True)
class VatDocument:
    kind: DocumentKind
    currency: str
    lines: tuple[DocumentLine, ...]
    rate_totals: tuple[RateTotal, ...]
    reverse_charge: bool = False

    @property
    def net(self) -> Money:
        return _sum((total.net for total in self.rate_totals), self.currency)

    @property
    def vat(self) -> Money:
        return _sum((total.vat for total in self.rate_totals), self.currency)

    @property
    def gross(self) -> Money:
        """What the document totals (what is due, or given back for a credit note)."""
        return self.net + self.vat

    @property
    def notes(self) -> tuple[str, ...]:
        """Legal notes the document must print."""
        return (REVERSE_CHARGE_NOTE, REVERSE_CHARGE_NOTE_NL) if self.reverse_charge else ()

    def signed(self, amount: Money) -> Money:
        """An amount of this document as booked: negative on a credit note."""
        return amount if self.kind is DocumentKind.INVOICE else Money(-amount.amount_minor, amount.currency)


def invoice(
    items: Sequence[Item],
    shipping: Money,
    rates: Mapping[str, int],
    *,
    reverse_charge: bool = False,
    shipping_category: str | None = None,
) -> VatDocument:
    """The invoice for these goods and this shipping (all VAT included)."""
    return _document(DocumentKind.INVOICE, items, shipping, rates, reverse_charge, shipping_category)


def credit_note(
    items: Sequence[Item],
    shipping: Money,
    rates: Mapping[str, int],
    *,
    reverse_charge: bool = False,
    shipping_category: str | None = None,
) -> VatDocument:
    """The credit note for refunded goods and shipping (all VAT included), amounts positive."""
    return _document(DocumentKind.CREDIT_NOTE, items, shipping, rates, reverse_charge, shipping_category)


def amount_credit_note(amount: Money, corrects: VatDocument, description: str) -> VatDocument:
    """A credit note for an amount without lines (goodwill): one line per rate of the invoice it
    corrects, the amount split over that invoice's rates in proportion to their gross, exact."""
    if amount.amount_minor < 0:
        raise VatError("a credit note's amount cannot be negative")
    totals = [total for total in corrects.rate_totals if total.gross.amount_minor > 0] or list(corrects.rate_totals)
    if not totals:
        raise VatError("the corrected document has no VAT rate to credit at")
    shares = _telescope(amount.amount_minor, [total.gross.amount_minor for total in totals])
    if corrects.reverse_charge:
        # A reverse-charge document's amounts are already net; nothing to take VAT out of.
        lines = tuple(
            DocumentLine(description, REVERSE_CHARGE, 0, 1, Money(share, amount.currency), Money.zero(amount.currency))
            for share in shares
        )
        rate_total = RateTotal(REVERSE_CHARGE, 0, amount, Money.zero(amount.currency))
        return VatDocument(DocumentKind.CREDIT_NOTE, amount.currency, lines, (rate_total,), reverse_charge=True)
    rates = {total.category: total.rate for total in totals}
    items = [
        Item(description, total.category, Money(share, amount.currency))
        for total, share in zip(totals, shares, strict=True)
    ]
    return credit_note(items, Money.zero(amount.currency), rates)


def shipment_items(
    order: Order, categories: Mapping[str, str], before: Mapping[str, int], parcel: Mapping[str, int]
) -> tuple[list[Item], Money]:
    """The goods and shipping a parcel carried, as domain.allocation charges them (`charge_for_parcel`):
    the goods per line and the shipping and charges with the first parcel. `categories` maps SKU to
    VAT category."""
    after = _add(before, parcel)
    items = _items(order, categories, before, after)
    shipped_first = any(units_per_line(order, after)) and not any(units_per_line(order, before))
    return items, Money(extras(order) if shipped_first else 0, order.currency)


def returned_items(
    order: Order, categories: Mapping[str, str], returned_before: Mapping[str, int], returning: Mapping[str, int]
) -> list[Item]:
    """The goods of a refund for returned units, as domain.allocation refunds them (`refund_for_units`)."""
    return _items(order, categories, returned_before, _add(returned_before, returning))


def _document(
    kind: DocumentKind,
    items: Sequence[Item],
    shipping: Money,
    rates: Mapping[str, int],
    reverse_charge: bool,
    shipping_category: str | None,
) -> VatDocument:
    currency = shipping.currency
    for item in items:
        if item.gross.currency != currency:
            raise VatError(f"{item.description}: amount in {item.gross.currency} on a document in {currency}")
    if shipping.amount_minor < 0:
        raise VatError("shipping cannot be negative")
    # Rate groups in the order their category first appears; each group's entries are (line, gross).
    groups: dict[str, list[tuple[str, int, int]]] = {}
    for item in items:
        rate_of(item.category, rates)
        groups.setdefault(item.category, []).append((item.description, item.quantity, item.gross.amount_minor))
    if shipping.amount_minor > 0:
        for category, share in _shipping_shares(shipping.amount_minor, groups, rates, shipping_category).items():
            if share:
                groups.setdefault(category, []).append((SHIPPING, 1, share))
    lines: list[DocumentLine] = []
    rate_totals: list[RateTotal] = []
    reverse_net = 0
    for category, entries in groups.items():
        rate = rate_of(category, rates)
        gross = sum(amount for _, _, amount in entries)
        vat = vat_in_gross(gross, rate)
        vats = _telescope(vat, [amount for _, _, amount in entries])
        for (description, quantity, amount), line_vat in zip(entries, vats, strict=True):
            if reverse_charge:  # what the business was charged is the net; no VAT in it
                line = DocumentLine(
                    description, REVERSE_CHARGE, 0, quantity, Money(amount, currency), Money.zero(currency)
                )
            else:
                line = DocumentLine(
                    description, category, rate, quantity, Money(amount - line_vat, currency), Money(line_vat, currency)
                )
            lines.append(line)
        if reverse_charge:
            reverse_net += gross
        else:
            rate_totals.append(RateTotal(category, rate, Money(gross - vat, currency), Money(vat, currency)))
    if reverse_charge:
        rate_totals = [RateTotal(REVERSE_CHARGE, 0, Money(reverse_net, currency), Money.zero(currency))]
    return VatDocument(kind, currency, tuple(lines), tuple(rate_totals), reverse_charge=reverse_charge)


def _shipping_shares(
    shipping: int, groups: Mapping[str, list[tuple[str, int, int]]], rates: Mapping[str, int], category: str | None
) -> dict[str, int]:
    if category is not None:
        rate_of(category, rates)
        return {category: shipping}
    if not groups:
        raise VatError("shipping without goods needs the VAT category it is charged at (shipping_category)")
    goods = {name: sum(amount for _, _, amount in entries) for name, entries in groups.items()}
    if not any(goods.values()):
        highest = max(goods, key=lambda name: rate_of(name, rates))
        return {highest: shipping}
    return dict(zip(goods, _telescope(shipping, list(goods.values())), strict=True))


def _telescope(amount: int, weights: Sequence[int]) -> list[int]:
    """`amount` split in proportion to `weights` (non-negative; all zero: equally), exact: each share
    is the difference of cumulative floors, so the shares add up to `amount` and none is negative."""
    whole = sum(weights)
    if whole == 0:
        weights, whole = [1] * len(weights), len(weights)
    shares: list[int] = []
    cumulative = previous = 0
    for weight in weights:
        cumulative += weight
        upto = amount * cumulative // whole
        shares.append(upto - previous)
        previous = upto
    return shares


def _line_values(order: Order, units: Mapping[str, int]) -> list[int]:
    """Each line's weight for these units as domain.allocation weighs them (a line's first n of q
    units are worth total*n//q; when every line is free, by units)."""
    covered = units_per_line(order, units)
    if any(line.total.amount_minor for line in order.lines):
        return [line.total.amount_minor * n // line.quantity for line, n in zip(order.lines, covered, strict=True)]
    return covered


def _items(
    order: Order, categories: Mapping[str, str], before: Mapping[str, int], after: Mapping[str, int]
) -> list[Item]:
    """The goods between `before` and `after`: exactly paid_for(after) - paid_for(before), shared over
    the lines by the growth of their value (never negative)."""
    part = (paid_for(order, after) - paid_for(order, before)).amount_minor
    was, now = _line_values(order, before), _line_values(order, after)
    units_was, units_now = units_per_line(order, before), units_per_line(order, after)
    growth = [new - old for new, old in zip(now, was, strict=True)]
    shares = _telescope(part, growth)
    items: list[Item] = []
    for line, share, count_old, count_new in zip(order.lines, shares, units_was, units_now, strict=True):
        if count_new > count_old:
            try:
                category = categories[line.sku]
            except KeyError:
                raise VatError(f"no VAT category for SKU {line.sku}") from None
            items.append(Item(line.title or line.sku, category, Money(share, order.currency), count_new - count_old))
    return items


def _add(first: Mapping[str, int], second: Mapping[str, int]) -> dict[str, int]:
    return {sku: first.get(sku, 0) + second.get(sku, 0) for sku in {*first, *second}}


def _sum(amounts: Iterable[Money], currency: str) -> Money:
    result = Money.zero(currency)
    for amount in amounts:
        result = result + amount
    return result
