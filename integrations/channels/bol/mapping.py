"""Bol.com: map a Retailer API v10 order (`GET /retailer/orders/{order-id}`) to the canonical order.

Reference: https://api.bol.com/retailer/public/redoc/v10/retailer.html#operation/get-order (schema `Order`).
Bol identifies products by EAN (`orderItems[].product.ean`); our SKU comes from the integrator's resolver.

Money: `unitPrice` and `totalPrice` are JSON numbers in EUR, VAT included; `totalPrice` is what the customer
paid for the whole item after bol's promotions (`discounts`), so it is the line total. Bol collects the
payment and charges no shipping on top of the items, so what the retailer's order holds is the sum of
its items: the order total is exactly that, and reconciles by construction. Bol's `commission` is the
retailer's cost, not the customer's, and is not part of the order.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from domain.limits import within_limits
from domain.money import Money
from domain.order import FULFILLED_BY_CHANNEL, FULFILLED_BY_US, Address, InvalidOrder, Order, OrderLine, line_from_total
from integrations.channels.base import Amount, ChannelTime, Int64, SkuResolver
from integrations.channels.bol.spec import SPEC

CHANNEL = SPEC.name
CURRENCY = "EUR"
FBR = "FBR"
FBB = "FBB"


class _Model(BaseModel):
    model_config = ConfigDict(extra="ignore")


class BolShipmentDetails(_Model):
    """Where the parcel goes (for a pick-up point order: the pick-up point's address)."""

    pickupPointName: str | None = None
    salutation: str | None = None
    firstName: str | None = None
    surname: str | None = None
    streetName: str | None = None
    houseNumber: str | None = None
    houseNumberExtension: str | None = None
    extraAddressInformation: str | None = None
    zipCode: str | None = None
    city: str | None = None
    countryCode: str | None = None
    email: str | None = None
    company: str | None = None
    deliveryPhoneNumber: str | None = None
    language: str | None = None


class BolBillingDetails(_Model):
    email: str | None = None


class BolFulfilment(_Model):
    method: str | None = None
    distributionParty: str | None = None


class BolOffer(_Model):
    offerId: str | None = None
    reference: str | None = None


class BolProduct(_Model):
    ean: str = ""
    title: str | None = None


class BolDiscount(_Model):
    title: str | None = None
    amount: Amount = Field(ge=0)


class BolOrderItem(_Model):
    orderItemId: str = Field(min_length=1)
    cancellationRequest: bool = False
    fulfilment: BolFulfilment | None = None
    offer: BolOffer | None = None
    product: BolProduct | None = None
    quantity: Int64 = Field(ge=0)
    quantityShipped: Int64 = Field(default=0, ge=0)
    quantityCancelled: Int64 = Field(default=0, ge=0)
    unitPrice: Amount = Field(ge=0)
    totalPrice: Amount | None = Field(default=None, ge=0)
    discounts: list[BolDiscount] | None = None
    latestChangedDateTime: ChannelTime | None = None

    @property
    def open_quantity(self) -> int:
        """Units still wanted: ordered minus cancelled (shipped units stay part of the order)."""
        return max(self.quantity - self.quantityCancelled, 0)

    @property
    def fulfilment_method(self) -> str:
        method = self.fulfilment.method if self.fulfilment else None
        return (method or FBR).upper()

    @property
    def line_total(self) -> Decimal:
        """What the customer paid for every ordered unit: `totalPrice`, else unit price less discounts."""
        if self.totalPrice is not None:
            return self.totalPrice
        return self.unitPrice * self.quantity - sum((d.amount for d in self.discounts or []), Decimal(0))


class BolOrder(_Model):
    orderId: str = Field(min_length=1)
    pickupPoint: bool | None = None
    orderPlacedDateTime: ChannelTime | None = None
    shipmentDetails: BolShipmentDetails | None = None
    billingDetails: BolBillingDetails | None = None
    orderItems: list[BolOrderItem] = Field(min_length=1)


def _placed_at(order: BolOrder) -> datetime:
    """`orderPlacedDateTime` is optional in v10; the earliest item change is the closest stand-in."""
    if order.orderPlacedDateTime is not None:
        return order.orderPlacedDateTime
    changes = [item.latestChangedDateTime for item in order.orderItems if item.latestChangedDateTime]
    if not changes:
        raise InvalidOrder(f"bol order {order.orderId} has neither orderPlacedDateTime nor item change times")
    return min(changes)


def _join(parts: Iterable[str | None], separator: str = " ") -> str:
    return separator.join(part.strip() for part in parts if part and part.strip())


def _address(details: BolShipmentDetails | None) -> Address:
    if details is None:
        return Address()
    return Address(
        name=_join((details.firstName, details.surname)),
        line1=_join((details.streetName, details.houseNumber, details.houseNumberExtension)),
        line2=_join((details.pickupPointName, details.company, details.extraAddressInformation), ", "),
        postcode=(details.zipCode or "").strip(),
        city=(details.city or "").strip(),
        country=(details.countryCode or "").strip().upper(),
        phone=(details.deliveryPhoneNumber or "").strip(),
    )


def _sku(item: BolOrderItem, resolve: SkuResolver) -> str:
    """Our SKU for the item's EAN; an unknown EAN keeps a stand-in SKU so the order is held, not dropped."""
    ean = (item.product.ean if item.product else "").strip()
    if not ean:
        return f"bol-item:{item.orderItemId}"
    return resolve(ean) or f"ean:{ean}"


def _kept_items(order: BolOrder) -> tuple[list[BolOrderItem], str]:
    """The items we map and who fulfils them.

    Fully cancelled items are skipped. An order bol fulfils entirely (FBB) is recorded as fulfilled by
    the channel; in a mixed order only the retailer's own (FBR) items are ours to fulfil. When every
    item is cancelled the order is kept as placed, so a cancelled order new to us can still be started
    and cancelled (`PulledOrder.cancelled` says so).
    """
    items = [item for item in order.orderItems if item.open_quantity > 0] or [
        item for item in order.orderItems if item.quantity > 0
    ]
    ours = [item for item in items if item.fulfilment_method != FBB]
    if ours:
        return ours, FULFILLED_BY_US
    return items, FULFILLED_BY_CHANNEL


def to_order(payload: dict[str, Any], resolve: SkuResolver) -> Order:
    """Map an order detail payload; raises pydantic.ValidationError, MoneyError or InvalidOrder."""
    bol = BolOrder.model_validate(payload)
    items, fulfilled_by = _kept_items(bol)
    lines = []
    for item in items:
        ordered = Money.parse(item.line_total, CURRENCY)
        quantity = item.open_quantity or item.quantity
        # A partly cancelled item keeps its share of what was paid (rounded down to the cent).
        paid = Money(ordered.amount_minor * quantity // item.quantity, CURRENCY) if item.quantity else ordered
        title = (item.product.title if item.product else None) or ""
        lines.append(
            line_from_total(_sku(item, resolve), quantity, paid, title=title, external_line_id=item.orderItemId)
        )
    total = Money.zero(CURRENCY)
    for line in lines:
        total = total + line.total
    details = bol.shipmentDetails
    email = (details.email if details else None) or (bol.billingDetails.email if bol.billingDetails else None)
    mapped = Order(
        channel=CHANNEL,
        external_id=bol.orderId,
        reference=bol.orderId,
        currency=CURRENCY,
        lines=tuple(lines),
        placed_at=_placed_at(bol),
        total=total,
        shipping=Money.zero(CURRENCY),
        shipping_address=_address(details),
        payment_collected=True,  # the customer pays bol; bol pays the retailer out
        customer_email=email or "",
        fulfilled_by=fulfilled_by,
        attention=_partial_cancellation_request(payload, lines),
    )
    return within_limits(mapped)


def _partial_cancellation_request(payload: dict[str, Any], lines: list[OrderLine]) -> str:
    """A customer asked bol to cancel some (not all) open items: we must not ship them unasked, so
    the checks hold the order for it; the pull then takes those items off with an edit by bol
    (services.intake), which checks the order again. Where that cannot be done the hold stays for a
    person (cancel the order, or ship it all). When the whole order is asked, the pull cancels it
    (`is_cancelled`)."""
    requested = set(cancellation_requested(payload))
    ours = {line.external_line_id for line in lines}
    if not requested & ours or ours <= requested:
        return ""
    asked = ", ".join(
        f"{line.sku} (item {line.external_line_id})" for line in lines if line.external_line_id in requested
    )
    return (
        f"the customer asked bol to cancel {asked}: cancel the order here (bol is told), "
        "or release it to ship every item"
    )


def is_cancelled(payload: dict[str, Any]) -> bool:
    """Every item is cancelled, or its cancellation was requested by the customer before shipping."""
    items = payload.get("orderItems")
    if not isinstance(items, list) or not items:
        return False
    return all(
        isinstance(item, dict)
        and (
            item.get("cancellationRequest") is True
            or (_count(item.get("quantityCancelled")) >= _count(item.get("quantity")) > 0)
        )
        for item in items
    )


def cancellation_requested(payload: dict[str, Any]) -> tuple[str, ...]:
    """The items whose cancellation the customer requested and that are still open: bol expects
    the retailer to confirm these (reason REQUESTED_BY_CUSTOMER) rather than ship them. Items bol
    already cancelled itself (`quantityCancelled` == `quantity`) need nothing."""
    items = payload.get("orderItems")
    if not isinstance(items, list):
        return ()
    return tuple(
        str(item["orderItemId"])
        for item in items
        if isinstance(item, dict)
        and item.get("cancellationRequest") is True
        and item.get("orderItemId")
        and _count(item.get("quantityShipped")) + _count(item.get("quantityCancelled")) < _count(item.get("quantity"))
    )


def is_fully_shipped(payload: dict[str, Any]) -> bool:
    """Nothing left to ship: every ordered unit was shipped or cancelled, and at least one was shipped."""
    items = payload.get("orderItems")
    if not isinstance(items, list) or not items or not all(isinstance(item, dict) for item in items):
        return False
    shipped = sum(_count(item.get("quantityShipped")) for item in items)
    return shipped > 0 and all(
        _count(item.get("quantityShipped")) + _count(item.get("quantityCancelled")) >= _count(item.get("quantity"))
        for item in items
    )


def _count(value: object) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0
