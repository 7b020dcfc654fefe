"""Shopify refunds made in Shopify's admin: the `refunds/create` webhook's Refund mapped to a ChannelRefund.

Reference: https://shopify.dev/docs/api/admin-rest/latest/resources/refund (the webhook body is the
Refund: `id`, `order_id`, `created_at`, `note`, `restock`, `refund_line_items[{id, line_item_id,
quantity, restock_type, subtotal, subtotal_set, line_item{...}}]`, `transactions[{id, kind, status,
amount, currency, gateway}]`, `order_adjustments`). What Shopify paid back is the sum of its refund
transactions that succeeded; a pending or failed one paid nothing (yet).
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from domain.marketplace_returns import ChannelRefund
from domain.money import Money
from integrations.channels.base import Amount, Int64
from integrations.channels.shopify.spec import SPEC

REFUND_TOPICS = frozenset({"refunds/create"})
NOTE_LIMIT = 1000


class _Model(BaseModel):
    model_config = ConfigDict(extra="ignore")


class ShopifyRefundedItem(_Model):
    id: Int64 | None = None
    variant_id: Int64 | None = None
    sku: str | None = None


class ShopifyRefundLineItem(_Model):
    line_item_id: Int64 | None = None
    quantity: Int64 = Field(ge=0)
    restock_type: str | None = None
    line_item: ShopifyRefundedItem | None = None


class ShopifyTransaction(_Model):
    kind: str = ""
    status: str = ""
    amount: Amount = Field(ge=0)
    currency: str | None = Field(default=None, min_length=3, max_length=3)


class ShopifyRefund(_Model):
    id: Int64 = Field(gt=0)
    order_id: Int64 = Field(gt=0)
    note: str | None = None
    refund_line_items: list[ShopifyRefundLineItem] = Field(default_factory=list)
    transactions: list[ShopifyTransaction] = Field(default_factory=list)


def _sku(line: ShopifyRefundLineItem) -> str:
    """The SKU the order's line got (mapping.to_order): Shopify's SKU, else the variant stand-in."""
    item = line.line_item or ShopifyRefundedItem()
    return (item.sku or "").strip() or f"shopify-variant-{item.variant_id or item.id or line.line_item_id}"


def to_refund(payload: dict[str, Any], currency: str) -> ChannelRefund:
    """Map a `refunds/create` body; pydantic.ValidationError or MoneyError when it is not one.
    `currency`: the order's, for a refund whose transactions do not say."""
    refund = ShopifyRefund.model_validate(payload)
    units: dict[str, int] = {}
    restock: dict[str, set[str]] = {}
    for line in refund.refund_line_items:
        if line.quantity:
            sku = _sku(line)
            units[sku] = units.get(sku, 0) + line.quantity
            restock.setdefault(sku, set()).add(line.restock_type or "no_restock")
    amount = Money.zero(currency)
    for transaction in refund.transactions:
        if transaction.kind == "refund" and transaction.status == "success":
            amount = amount + Money.parse(transaction.amount, transaction.currency or currency)
    return ChannelRefund(
        channel=SPEC.name,
        refund_id=str(refund.id),
        order_external_id=str(refund.order_id),
        units=units,
        amount=amount,
        restock_types={sku: tuple(sorted(kinds)) for sku, kinds in restock.items()},
        note=(refund.note or "").strip()[:NOTE_LIMIT],
    )
