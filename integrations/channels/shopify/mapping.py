"""Shopify orders in: verify the webhook HMAC and map Shopify's REST order JSON to the canonical order.

Amounts in Shopify's payload are decimal strings in the shop currency (`currency`). What the
customer paid for a line is `price` x `quantity` minus the line's `discount_allocations`, plus its
`tax_lines` when the shop's prices exclude tax (`taxes_included: false`). `total_price` also holds
shipping, tips and duties, so all of those are mapped to keep the order reconciling to the cent.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from domain.limits import within_limits
from domain.money import Money
from domain.order import Address, Order, line_from_total
from integrations.channels import signatures
from integrations.channels.base import Amount, ChannelTime, Int64
from integrations.channels.shopify.spec import SPEC, WEBHOOK

CHANNEL = SPEC.name
# Topics whose body is a whole order. The topic header is not covered by the HMAC (only the body is),
# so it only says which deliveries we read; whether an order is cancelled, only the body says.
ORDER_TOPICS = frozenset({"orders/create"})
CANCEL_TOPICS = frozenset({"orders/cancelled"})
# Financial statuses in which Shopify already holds the customer's money.
COLLECTED = frozenset({"paid", "partially_refunded", "refunded"})


def verify_signature(secret: str, raw_body: bytes, header: str | None) -> bool:
    return signatures.verify(WEBHOOK.scheme, secret, raw_body, header)


def sign(secret: str, raw_body: bytes) -> str:
    """What Shopify sends in X-Shopify-Hmac-Sha256 (for tests, demos and the benchmark)."""
    return signatures.sign(WEBHOOK.scheme, secret, raw_body)


class _Model(BaseModel):
    model_config = ConfigDict(extra="ignore")


class TaxLine(_Model):
    price: Amount


class DiscountAllocation(_Model):
    amount: Amount


class LineItem(_Model):
    id: Int64 | None = None
    sku: str | None = None
    variant_id: Int64 | None = None
    title: str = ""
    quantity: Int64 = Field(ge=0)
    price: Amount = Field(ge=0)
    tax_lines: list[TaxLine] = []
    discount_allocations: list[DiscountAllocation] = []


class ShippingLine(_Model):
    price: Amount = Field(ge=0)
    tax_lines: list[TaxLine] = []
    discount_allocations: list[DiscountAllocation] = []


class ShopifyAddress(_Model):
    name: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    company: str | None = None
    address1: str | None = None
    address2: str | None = None
    zip: str | None = None
    city: str | None = None
    province_code: str | None = None
    province: str | None = None
    country_code: str | None = None
    phone: str | None = None
    # Bounded like POST /orders' address: NaN or 1e400 (infinity) would be stored, then fail every read.
    latitude: float | None = Field(default=None, ge=-90, le=90)
    longitude: float | None = Field(default=None, ge=-180, le=180)


class ShopifyPriceSet(_Model):
    class _Amount(_Model):
        amount: Amount

    shop_money: _Amount


class ShopifyOrder(_Model):
    id: Int64 = Field(gt=0)
    name: str = ""
    email: str | None = None
    contact_email: str | None = None
    currency: str = Field(min_length=3, max_length=3)
    created_at: ChannelTime
    cancelled_at: ChannelTime | None = None
    financial_status: str | None = None
    taxes_included: bool = False
    total_price: Amount = Field(ge=0)
    total_tip_received: Amount = Decimal(0)
    current_total_duties_set: ShopifyPriceSet | None = None
    line_items: list[LineItem] = Field(min_length=1)
    shipping_lines: list[ShippingLine] = []
    shipping_address: ShopifyAddress | None = None
    cancel_reason: str | None = None


def _sum(values: list[Decimal]) -> Decimal:
    return sum(values, Decimal(0))


def _address(address: ShopifyAddress | None) -> Address:
    if address is None:
        return Address()
    name = address.name or " ".join(part for part in (address.first_name, address.last_name) if part)
    return Address(
        name=name,
        line1=address.address1 or "",
        line2=address.address2 or "",
        postcode=address.zip or "",
        city=address.city or "",
        region=address.province_code or address.province or "",
        country=(address.country_code or "").upper(),
        phone=address.phone or "",
        latitude=address.latitude,
        longitude=address.longitude,
    )


def to_order(payload: dict[str, Any]) -> Order:
    """Map a Shopify order payload; raises pydantic.ValidationError, MoneyError or InvalidOrder."""
    shop = ShopifyOrder.model_validate(payload)
    currency = shop.currency.upper()
    lines = []
    for item in shop.line_items:
        if item.quantity == 0:  # fully removed by an edit: nothing to fulfil
            continue
        paid = item.price * item.quantity - _sum([d.amount for d in item.discount_allocations])
        if not shop.taxes_included:
            paid += _sum([t.price for t in item.tax_lines])
        # A line without a SKU still lands: the stand-in SKU is unknown, so the order is held.
        sku = (item.sku or "").strip() or f"shopify-variant-{item.variant_id or item.id}"
        lines.append(
            line_from_total(
                sku, item.quantity, Money.parse(paid, currency), title=item.title, external_line_id=str(item.id or "")
            )
        )
    shipping = Decimal(0)
    for line in shop.shipping_lines:
        shipping += line.price - _sum([d.amount for d in line.discount_allocations])
        if not shop.taxes_included:
            shipping += _sum([t.price for t in line.tax_lines])
    duties = shop.current_total_duties_set.shop_money.amount if shop.current_total_duties_set else Decimal(0)
    mapped = Order(
        channel=CHANNEL,
        external_id=str(shop.id),
        reference=shop.name,
        currency=currency,
        lines=tuple(lines),
        placed_at=shop.created_at,
        total=Money.parse(shop.total_price, currency),
        shipping=Money.parse(shipping, currency),
        charges=Money.parse(shop.total_tip_received + duties, currency),
        shipping_address=_address(shop.shipping_address),
        payment_collected=(shop.financial_status or "") in COLLECTED,
        customer_email=shop.email or shop.contact_email or "",
    )
    return within_limits(mapped)


def cancellation(payload: dict[str, Any]) -> str | None:
    """Why to cancel the order here when the signed body says Shopify cancelled it (`cancelled_at`
    set, as in every orders/cancelled body), in Shopify's own words (customer, fraud, inventory,
    declined, other); None for an order that is not cancelled, whatever topic it came under: a
    captured orders/create body re-sent as orders/cancelled must not cancel. Call after `to_order`,
    which refuses a `cancelled_at` that is not a time."""
    if payload.get("cancelled_at") is None:
        return None
    reason = payload.get("cancel_reason")
    return f"cancelled on Shopify ({reason})" if isinstance(reason, str) and reason else "cancelled on Shopify"
