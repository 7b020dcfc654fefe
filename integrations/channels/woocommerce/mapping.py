"""WooCommerce orders in: verify the webhook signature, recognise the ping, decide per order status, map the order.

The webhook body is the REST API v3 order JSON (`GET /wp-json/wc/v3/orders/<id>`,
https://woocommerce.github.io/woocommerce-rest-api-docs/#order-properties). Amounts are decimal
strings in the order's `currency`. WooCommerce stores every line, shipping and fee amount *net of
tax*, also when the shop's prices include tax (`prices_include_tax: true` only says how the customer
saw them; the cart carves the tax out of the gross price into `total_tax`). So what the customer paid
for a line is always its `total` (after coupons) + `total_tax`, and the order's `total` is
lines + `shipping_total` + `shipping_tax` + fees (each `total` + `total_tax`). Coupons are already
inside the line totals (`subtotal` - `total`), so `discount_total` is not taken off again.

WooCommerce rounds each of those parts to the shop's decimals only for display, while it computes the
order `total` from the unrounded values: the parts can differ from the total by a cent per item. That
rounding difference (at most one minor unit per line, shipping line and fee) is booked as a charge or
a discount so the order reconciles; a larger gap is left alone for `hold_reasons` to report.

`payment_method` in the payload is the id of the shop's gateway (`bacs`, `stripe`, `cod`), not a token
we could authorize: WooCommerce collects the money itself, so `Order.payment_method` stays empty and an
order is started only once WooCommerce reports it paid.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictInt, field_validator

from domain.limits import within_limits
from domain.money import Money
from domain.order import Address, Order, line_from_total
from integrations.channels import signatures
from integrations.channels.base import Amount, ChannelTime, Int64, SkuResolver, same_sku
from integrations.channels.woocommerce.spec import SPEC, WEBHOOK

CHANNEL = SPEC.name
# Topics whose body is a full order. `order.deleted` carries only {"id": ...} and a trashed order may
# come back, so it is acknowledged and ignored: a merchant cancels an order by setting it cancelled.
ORDER_TOPICS = frozenset({"order.created", "order.updated", "order.restored"})
# Statuses in which WooCommerce holds the customer's money: the order may be fulfilled.
PAID_STATUSES = frozenset({"processing", "completed"})
# Statuses that end an order on WooCommerce. Only an order that was ever paid can have been started
# here (WooCommerce sets `date_paid` the first time an order reaches processing or completed), so an
# unpaid one that is cancelled or fails (the daily stream of abandoned checkouts) is simply ignored.
ENDED_STATUSES = frozenset({"cancelled", "refunded", "failed"})

WebhookAction = Literal["start", "cancel", "ignore"]

_PING = re.compile(rb"webhook_id=\d{1,20}")


def verify_signature(secret: str, raw_body: bytes, header: str | None) -> bool:
    """X-WC-Webhook-Signature: base64 of the HMAC-SHA256 of the raw body with the webhook's secret."""
    return signatures.verify(WEBHOOK.scheme, secret, raw_body, header)


def sign(secret: str, raw_body: bytes) -> str:
    """What WooCommerce sends in X-WC-Webhook-Signature (for tests, demos and the sandbox)."""
    return signatures.sign(WEBHOOK.scheme, secret, raw_body)


def is_ping(raw_body: bytes, headers: Mapping[str, str]) -> bool:
    """The test delivery WooCommerce sends when a webhook is saved (WC_Webhook::deliver_ping).

    It is a form-encoded `webhook_id=<id>` POST with no X-WC-Webhook-* headers and no signature;
    WooCommerce activates the webhook only if it answers 200. Recognised by its exact shape, so an
    unsigned request can do nothing but get that 200.
    """
    return headers.get("x-wc-webhook-topic") is None and _PING.fullmatch(raw_body.strip()) is not None


class _Model(BaseModel):
    model_config = ConfigDict(extra="ignore")


class WooAddress(_Model):
    first_name: str | None = None
    last_name: str | None = None
    company: str | None = None
    address_1: str | None = None
    address_2: str | None = None
    city: str | None = None
    state: str | None = None
    postcode: str | None = None
    country: str | None = None
    email: str | None = None
    phone: str | None = None


class LineItem(_Model):
    id: Int64 | None = None
    name: str | None = None
    product_id: Int64 = 0
    variation_id: Int64 = 0
    quantity: StrictInt = Field(ge=0)
    subtotal: Amount = Decimal(0)
    subtotal_tax: Amount = Decimal(0)
    total: Amount
    total_tax: Amount = Decimal(0)
    sku: str | None = None
    # `price` (a JSON number, documented as a string: total / quantity, net and unrounded) is only a
    # display value; it is deliberately not read, so its float-ish digits never matter.


class ShippingLine(_Model):
    id: Int64 | None = None
    method_title: str = ""
    method_id: str = ""
    total: Amount
    total_tax: Amount = Decimal(0)


class FeeLine(_Model):
    id: Int64 | None = None
    name: str = ""
    total: Amount
    """Negative for a discount given as a fee."""
    total_tax: Amount = Decimal(0)


class CouponLine(_Model):
    code: str = ""
    discount: Amount = Decimal(0)
    discount_tax: Amount = Decimal(0)


class WooOrder(_Model):
    id: StrictInt = Field(gt=0)
    number: str = ""
    status: str = Field(min_length=1)
    currency: str = Field(min_length=3, max_length=3)
    prices_include_tax: bool = False
    date_created_gmt: ChannelTime
    date_paid_gmt: ChannelTime | None = None
    discount_total: Amount = Decimal(0)
    discount_tax: Amount = Decimal(0)
    shipping_total: Amount = Decimal(0)
    shipping_tax: Amount = Decimal(0)
    total: Amount = Field(ge=0)
    total_tax: Amount = Decimal(0)
    billing: WooAddress | None = None
    shipping: WooAddress | None = None
    payment_method: str = ""
    line_items: list[LineItem]
    shipping_lines: list[ShippingLine] = []
    fee_lines: list[FeeLine] = []
    coupon_lines: list[CouponLine] = []

    @field_validator("number", mode="before")
    @classmethod
    def _number_as_text(cls, value: object) -> object:
        # Documented as a string; order-number plugins and older shops may send an integer.
        return str(value) if isinstance(value, int) and not isinstance(value, bool) else value


def parse(payload: dict[str, Any]) -> WooOrder:
    """Validate the order JSON; raises pydantic.ValidationError when it is not a WooCommerce order."""
    return WooOrder.model_validate(payload)


def webhook_action(topic: str, payload: dict[str, Any]) -> WebhookAction:
    """What an order.created/updated delivery asks of us, from the order's status.

    - processing/completed: paid, so start it. Every later update of a started order repeats this;
      the order id dedupes, so a repeat is harmless.
    - cancelled/refunded/failed after it was paid (`date_paid_gmt` set): cancel it here (the saga
      undoes reservations; once shipped the cancel is refused and it becomes a return).
    - a partial refund leaves the status as it was: nothing to cancel.
    - cancelled/refunded/failed never paid, pending (awaiting payment), on-hold (awaiting a bank
      transfer or a payment review), checkout-draft, trash and plugin statuses: nothing to do yet;
      the update that marks it paid starts it.
    Raises pydantic.ValidationError when the payload is not an order.
    """
    order = parse(payload)
    if topic not in ORDER_TOPICS:
        return "ignore"
    if order.status in PAID_STATUSES:
        return "start"
    if order.status in ENDED_STATUSES and order.date_paid_gmt is not None:
        return "cancel"
    return "ignore"


def cancel_reason(payload: dict[str, Any]) -> str:
    status = payload.get("status")
    return f"{status} on WooCommerce" if isinstance(status, str) and status else "cancelled on WooCommerce"


def _address(woo: WooOrder) -> Address:
    # Checkout copies the billing address into `shipping` unless the customer ships elsewhere; an
    # order entered by hand or through the API may leave `shipping` empty, then billing is the address.
    address = woo.shipping
    if address is None or not (address.address_1 or address.country):
        address = woo.billing
    if address is None:
        return Address()
    phone = address.phone or (woo.billing.phone if woo.billing else None)
    return Address(
        name=" ".join(part for part in (address.first_name, address.last_name) if part),
        line1=address.address_1 or "",
        line2=address.address_2 or "",
        postcode=address.postcode or "",
        city=address.city or "",
        region=address.state or "",
        country=(address.country or "").upper(),
        phone=phone or "",
    )


def _stand_in_sku(item: LineItem) -> str:
    if item.variation_id or item.product_id:
        return f"woocommerce-product-{item.variation_id or item.product_id}"
    return f"woocommerce-item-{item.id or 0}"  # the product was deleted from the shop


def to_order(payload: dict[str, Any], resolve: SkuResolver = same_sku) -> Order:
    """Map a WooCommerce order payload; raises pydantic.ValidationError, MoneyError or InvalidOrder."""
    woo = parse(payload)
    currency = woo.currency.upper()

    def money(amount: Decimal) -> Money:
        return Money.parse(amount, currency)

    lines = []
    for item in woo.line_items:
        if item.quantity == 0:  # removed by an order edit: nothing to fulfil
            continue
        # A line without a SKU (or one `resolve` does not know) still lands under a stand-in SKU
        # that no location stocks, so the order is held for a person, never dropped.
        sku = resolve((item.sku or "").strip()) or _stand_in_sku(item)
        paid = money(item.total + item.total_tax)
        title = html.unescape(item.name or "")  # names come HTML-encoded (&ndash;)
        lines.append(line_from_total(sku, item.quantity, paid, title=title, external_line_id=str(item.id or "")))
    shipping = money(woo.shipping_total + woo.shipping_tax)
    fees = [money(fee.total + fee.total_tax) for fee in woo.fee_lines]
    charges = sum((fee.amount_minor for fee in fees if fee.amount_minor > 0), 0)
    discount = -sum((fee.amount_minor for fee in fees if fee.amount_minor < 0), 0)
    total = money(woo.total)
    parts = sum((line.total.amount_minor for line in lines), 0) + shipping.amount_minor + charges - discount
    rounding = total.amount_minor - parts
    if rounding and abs(rounding) <= len(woo.line_items) + len(woo.shipping_lines) + len(woo.fee_lines):
        charges, discount = (charges + rounding, discount) if rounding > 0 else (charges, discount - rounding)
    mapped = Order(
        channel=CHANNEL,
        external_id=str(woo.id),
        reference=woo.number or str(woo.id),
        currency=currency,
        lines=tuple(lines),
        placed_at=woo.date_created_gmt,  # the *_gmt fields carry no offset: UTC by definition
        total=total,
        shipping=shipping,
        charges=Money(charges, currency) if charges else None,
        discount=Money(discount, currency) if discount else None,
        shipping_address=_address(woo),
        payment_collected=woo.status in PAID_STATUSES or woo.date_paid_gmt is not None,
        customer_email=(woo.billing.email if woo.billing else None) or "",
    )
    return within_limits(mapped)
