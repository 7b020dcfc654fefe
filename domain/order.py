"""The canonical order every channel is mapped to, and the rules that decide whether it can proceed."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from domain.money import Money, MoneyError
from domain.sourcing import Destination

CHANNELS = ("shopify", "woocommerce", "bol", "amazon", "pos", "webshop")
# Who fulfils an order: we do (reserve, pick, pack, ship); the channel does (Amazon AFN/FBA: the
# order is recorded for reporting, no stock of ours moves); or it was handed over at a store counter
# (a POS sale: the store's stock goes down, nothing is reserved or shipped).
FULFILLED_BY_US = "us"
FULFILLED_BY_CHANNEL = "channel"
FULFILLED_AT_COUNTER = "counter"
FULFILMENT_MODES = (FULFILLED_BY_US, FULFILLED_BY_CHANNEL, FULFILLED_AT_COUNTER)

# Ids end up in workflow ids and URLs: keep them to a safe alphabet.
_EXTERNAL_ID = re.compile(r"^[A-Za-z0-9._:-]{1,100}$")


class InvalidOrder(ValueError):
    """The order cannot be represented at all (as opposed to a valid order that must be held)."""


def order_id_for(channel: str, external_id: str) -> str:
    if channel not in CHANNELS:
        raise InvalidOrder(f"unknown channel {channel!r}")
    if not _EXTERNAL_ID.fullmatch(external_id):
        raise InvalidOrder(f"external id {external_id!r} must be 1-100 of A-Z a-z 0-9 . _ : -")
    return f"order-{channel}-{external_id}"


@dataclass(frozen=True)
class Address:
    name: str = ""
    line1: str = ""
    line2: str = ""
    postcode: str = ""
    city: str = ""
    region: str = ""
    country: str = ""  # ISO 3166-1 alpha-2
    phone: str = ""
    latitude: float | None = None
    longitude: float | None = None


@dataclass(frozen=True)
class OrderLine:
    sku: str
    quantity: int
    unit_price: Money
    """What the customer paid per unit, tax included, after line discounts."""
    total: Money
    """What the customer paid for the whole line: exact even when it does not divide by quantity."""
    title: str = ""
    external_line_id: str = ""

    def __post_init__(self) -> None:
        if not self.sku:
            raise InvalidOrder("an order line needs a sku")
        if isinstance(self.quantity, bool) or not isinstance(self.quantity, int) or self.quantity <= 0:
            raise InvalidOrder(f"line {self.sku}: quantity must be a positive integer, got {self.quantity!r}")
        if self.unit_price.amount_minor < 0 or self.total.amount_minor < 0:
            raise InvalidOrder(f"line {self.sku}: prices cannot be negative")


def line_from_total(
    sku: str, quantity: int, line_total: Money, *, title: str = "", external_line_id: str = ""
) -> OrderLine:
    """A line whose per-unit price is derived from an exact line total (rounded down when uneven)."""
    if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity <= 0:
        raise InvalidOrder(f"line {sku}: quantity must be a positive integer, got {quantity!r}")
    unit = Money(line_total.amount_minor // quantity, line_total.currency)
    return OrderLine(sku, quantity, unit, line_total, title=title, external_line_id=external_line_id)


@dataclass(frozen=True)
class Order:
    channel: str
    external_id: str
    currency: str
    lines: tuple[OrderLine, ...]
    placed_at: datetime
    total: Money
    """What the channel charged: lines + shipping - order discounts, tax included."""
    shipping: Money
    discount: Money | None = None
    """Order-level discounts not already taken off the lines (None: nothing)."""
    charges: Money | None = None
    """Tips, duties and other amounts the channel charged beyond lines and shipping (None: nothing)."""
    reference: str = ""
    """The channel's human-facing number (Shopify's "#1001")."""
    shipping_address: Address = field(default_factory=Address)
    payment_collected: bool = False
    """True when the channel already took the money (marketplaces, paid web orders, POS)."""
    customer_email: str = ""
    payment_method: str = ""
    """A gateway token from the shop's checkout (e.g. a Stripe PaymentMethod id) to authorize."""
    pickup_location_id: str | None = None
    """Click & collect: the store the customer collects from."""
    fulfilled_by: str = FULFILLED_BY_US
    """One of FULFILMENT_MODES; a POS sale also names the store in `pickup_location_id`."""
    store_credit: Money | None = None
    """What of the total the customer pays with store credit at the channel's shop (POST /orders'
    `store_credit`): spent when the order is taken, never through the payment gateway; None: none."""
    buyer_company: str = ""
    """A business buyer's company name (printed on its invoices); empty for a consumer."""
    buyer_vat_id: str = ""
    """A business buyer's VAT id with its country prefix (e.g. DE123456789): with a shipping country
    in another EU member state than the seller's, its invoices are reverse charged (domain.vat)."""
    attention: str = ""
    """Something the channel flagged that a person must decide before we fulfil (e.g. a customer's
    cancellation request on some of the items): the order is held once with this as the reason;
    a release goes on."""

    def __post_init__(self) -> None:
        order_id_for(self.channel, self.external_id)
        if not self.lines:
            raise InvalidOrder("an order needs at least one line")
        if self.fulfilled_by not in FULFILMENT_MODES:
            raise InvalidOrder(f"fulfilled_by must be one of {', '.join(FULFILMENT_MODES)}")
        if self.fulfilled_by == FULFILLED_AT_COUNTER:
            # The goods left the store's shelf with the customer: whose stock went down, and that
            # the money was taken, must be known; there is no later step that could ask for either.
            if not self.pickup_location_id:
                raise InvalidOrder("a counter sale (fulfilled_by=counter) names its store in pickup_location_id")
            if not self.payment_collected:
                raise InvalidOrder(
                    "a counter sale (fulfilled_by=counter) is paid at the counter: payment_collected must be true"
                )
        if self.placed_at.tzinfo is None:
            raise InvalidOrder("placed_at must carry a timezone")
        try:
            amounts = (
                *(line.unit_price for line in self.lines),
                self.total,
                self.shipping,
                self.order_discount,
                self.other_charges,
                *(line.total for line in self.lines),
                *((self.store_credit,) if self.store_credit is not None else ()),
            )
            for amount in amounts:
                if amount.currency != self.currency:
                    raise InvalidOrder(f"amount in {amount.currency} on an order in {self.currency}")
        except MoneyError as exc:
            raise InvalidOrder(str(exc)) from exc
        if self.store_credit is not None and not 0 < self.store_credit.amount_minor <= self.total.amount_minor:
            raise InvalidOrder("store_credit pays more than zero and at most the order's total")

    @property
    def order_id(self) -> str:
        return order_id_for(self.channel, self.external_id)

    @property
    def order_discount(self) -> Money:
        return self.discount if self.discount is not None else Money.zero(self.currency)

    @property
    def other_charges(self) -> Money:
        return self.charges if self.charges is not None else Money.zero(self.currency)

    def expected_total(self) -> Money:
        """Lines + shipping + charges - order discounts: what the channel's total must reconcile to."""
        return self.lines_total() + self.shipping + self.other_charges - self.order_discount

    def gateway_total(self) -> Money:
        """What the payment gateway is asked for: the total less what store credit paid."""
        return self.total - self.store_credit if self.store_credit is not None else self.total

    def lines_total(self) -> Money:
        result = Money.zero(self.currency)
        for line in self.lines:
            result = result + line.total
        return result

    def unit_values(self) -> dict[str, int]:
        """Value per unit of each SKU in minor units (the dearest line's, for routing thresholds)."""
        values: dict[str, int] = {}
        for line in self.lines:
            values[line.sku] = max(values.get(line.sku, 0), line.unit_price.amount_minor)
        return values

    def destination(self) -> Destination:
        """Where its goods go, for sourcing: the shipping address's country and coordinates and
        the store it is collected at (click & collect)."""
        address = self.shipping_address
        return Destination(
            country=address.country,
            latitude=address.latitude,
            longitude=address.longitude,
            pickup_location_id=self.pickup_location_id,
        )

    def demand(self) -> dict[str, int]:
        """Units wanted per SKU (a SKU may appear on several lines)."""
        wanted: dict[str, int] = {}
        for line in self.lines:
            wanted[line.sku] = wanted.get(line.sku, 0) + line.quantity
        return wanted


def price_mismatch(order: Order) -> str | None:
    """Why the channel's total is not what its lines add up to, or None when they reconcile."""
    expected = order.expected_total()
    if expected == order.total:
        return None
    return (
        f"price mismatch: lines + shipping + charges - discounts = {expected.format()}, "
        f"channel total = {order.total.format()} (accept the channel's total, saying why, or cancel)"
    )


def hold_reasons(order: Order, known_skus: Iterable[str], *, channel_total_accepted: bool = False) -> list[str]:
    """Why a well-formed order must wait for a person; empty when it may proceed.

    Held, never dropped: the order is accepted, stored, and a person fixes the catalogue and
    releases it, or accepts the channel's total as what was charged (`channel_total_accepted`:
    then what is captured and refunded is shared out of that total, domain.allocation).
    """
    known = set(known_skus)
    reasons: list[str] = []
    unknown = sorted({line.sku for line in order.lines} - known)
    if unknown:
        reasons.append("unknown SKU: " + ", ".join(unknown))
    mismatch = price_mismatch(order)
    if mismatch and not channel_total_accepted:
        # What we would fulfil and capture must be what the channel charged, to the cent.
        reasons.append(mismatch)
    return reasons
