"""Exchanges: the returned units are swapped for replacement lines, and the difference is settled.

What the returned units are worth is what the customer paid for them, by the same rule a refund of
them uses (domain.returns.refund_for, itself domain.allocation), so an exchange never gives back
more or less than a refund of the same units would. Against it stands what the replacement lines
cost now. The difference is charged when the replacement costs more, refunded when it costs less,
nothing when they match, and always

    returned value + difference = replacement price, to the cent.

When the replacement cannot be reserved, the shop's setting decides: wait for it as a backorder,
or give up the exchange and refund what the customer is owed instead.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

from domain.money import Money
from domain.order import Order, OrderLine
from domain.returns import refund_for


class OutOfStockPolicy(StrEnum):
    """What an exchange does when its replacement cannot be reserved anywhere (a setting)."""

    BACKORDER = "backorder"
    """Wait for the replacement as a backorder (then as any backorder: a restock or the deadline)."""
    REFUND = "refund"
    """Give up the exchange and refund the customer instead."""


class ExchangeStep(StrEnum):
    """What happens next to an exchange, once it is known whether the replacement is in stock."""

    SHIP_REPLACEMENT = "ship_replacement"
    """Reserve and ship the replacement as a new shipment of the order."""
    WAIT_AS_BACKORDER = "wait_as_backorder"
    REFUND_INSTEAD = "refund_instead"


class Settlement(StrEnum):
    CHARGE = "charge"
    """The replacement costs more: the customer pays the difference."""
    REFUND = "refund"
    """The replacement costs less: the difference goes back to the customer."""
    EVEN = "even"
    """Like for like: nothing changes hands."""


class ExchangeRefusalKind(StrEnum):
    INVALID = "invalid"
    """No replacement lines, or nothing returned: HTTP 422."""
    CURRENCY = "currency"
    """A replacement priced in another currency than the order's: HTTP 422."""


class ExchangeRefused(Exception):
    def __init__(self, kind: ExchangeRefusalKind, message: str) -> None:
        super().__init__(message)
        self.kind = kind


@dataclass(frozen=True)
class ExchangeResolution:
    returned_value: Money
    """What the customer paid for the returned units (what a refund of them would give back)."""
    replacement_price: Money
    """What the replacement lines cost, their totals added up."""

    @property
    def difference(self) -> Money:
        """Replacement price less returned value: positive to charge, negative to refund."""
        return self.replacement_price - self.returned_value

    @property
    def settlement(self) -> Settlement:
        minor = self.difference.amount_minor
        return Settlement.CHARGE if minor > 0 else Settlement.REFUND if minor < 0 else Settlement.EVEN

    @property
    def to_charge(self) -> Money:
        return Money(max(0, self.difference.amount_minor), self.difference.currency)

    @property
    def to_refund(self) -> Money:
        return Money(max(0, -self.difference.amount_minor), self.difference.currency)


def price_replacement(order: Order, lines: Sequence[tuple[str, int, Money | None]]) -> list[OrderLine]:
    """The replacement lines (sku, quantity, unit price or None) as priced order lines.

    Our rule for the price: one given is used (support quotes the price the shop sells at today);
    without one, a SKU on the order costs what the customer paid per unit for it there (like for
    like, or another quantity of it); any other SKU needs its price in the request, since the
    engine keeps no price list. ExchangeRefused (INVALID or CURRENCY) otherwise."""
    paid = {line.sku: line.unit_price for line in order.lines}
    priced: list[OrderLine] = []
    seen: set[str] = set()
    for sku, quantity, unit_price in lines:
        if not sku or sku in seen:
            raise ExchangeRefused(ExchangeRefusalKind.INVALID, "one replacement line per SKU, each with a SKU")
        seen.add(sku)
        if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity < 1:
            raise ExchangeRefused(ExchangeRefusalKind.INVALID, f"replacement {sku}: quantity must be at least 1")
        price = unit_price if unit_price is not None else paid.get(sku)
        if price is None:
            raise ExchangeRefused(
                ExchangeRefusalKind.INVALID, f"replacement {sku} is not on the order: give its unit_price"
            )
        if price.currency != order.currency:
            raise ExchangeRefused(
                ExchangeRefusalKind.CURRENCY,
                f"replacement {sku} is priced in {price.currency}, the order in {order.currency}",
            )
        if price.amount_minor < 0:
            raise ExchangeRefused(ExchangeRefusalKind.INVALID, f"replacement {sku}: a price cannot be negative")
        priced.append(OrderLine(sku, quantity, price, Money(price.amount_minor * quantity, price.currency)))
    if not priced:
        raise ExchangeRefused(ExchangeRefusalKind.INVALID, "an exchange needs at least one replacement line")
    return priced


def resolve_exchange(
    order: Order,
    returned_before: Mapping[str, int],
    returning: Mapping[str, int],
    replacements: Sequence[OrderLine],
) -> ExchangeResolution:
    """The exchange of `returning` units (already checked by domain.returns.check_return) for the
    `replacements`, given `returned_before` units of the order came back earlier."""
    if not any(quantity > 0 for quantity in returning.values()):
        raise ExchangeRefused(ExchangeRefusalKind.INVALID, "an exchange takes back at least one unit")
    if not replacements:
        raise ExchangeRefused(ExchangeRefusalKind.INVALID, "an exchange needs at least one replacement line")
    price = Money.zero(order.currency)
    for line in replacements:
        if line.total.currency != order.currency or line.unit_price.currency != order.currency:
            raise ExchangeRefused(
                ExchangeRefusalKind.CURRENCY,
                f"replacement {line.sku} is priced in {line.total.currency}, the order in {order.currency}",
            )
        price = price + line.total
    return ExchangeResolution(refund_for(order, returned_before, returning), price)


def next_step(policy: OutOfStockPolicy, *, replacement_reserved: bool) -> ExchangeStep:
    """Ship when the replacement could be reserved; otherwise what the shop's setting says."""
    if replacement_reserved:
        return ExchangeStep.SHIP_REPLACEMENT
    if policy is OutOfStockPolicy.BACKORDER:
        return ExchangeStep.WAIT_AS_BACKORDER
    return ExchangeStep.REFUND_INSTEAD


def refund_instead(resolution: ExchangeResolution, *, difference_settled: bool) -> Money:
    """What the customer gets back when the exchange is given up (no stock, or a backorder past its
    deadline). Before the difference changed hands: the returned units' value, as a refund. After:
    everything they put towards the replacement, i.e. the returned value plus the difference they
    paid (or less the difference they already got back) = the replacement price."""
    return resolution.replacement_price if difference_settled else resolution.returned_value


def undelivered_value(replacements: Sequence[OrderLine], undelivered: Mapping[str, int]) -> Money:
    """What the replacement units that never left (a short pick, a withdrawn shipment, not sourced
    again) cost in the exchange: given back when the rest of the replacement is given up after the
    difference changed hands. Per line its total pro rata, rounded down (never more than was put
    towards it); every unit of the replacement undelivered: the replacement price, as
    refund_instead(..., difference_settled=True) gives."""
    if not replacements:
        raise ExchangeRefused(ExchangeRefusalKind.INVALID, "an exchange needs at least one replacement line")
    currency = replacements[0].total.currency
    value = Money.zero(currency)
    for line in replacements:
        units = min(max(0, undelivered.get(line.sku, 0)), line.quantity)
        if units == line.quantity:
            value = value + line.total
        elif units:
            value = value + Money(line.total.amount_minor * units // line.quantity, currency)
    return value
