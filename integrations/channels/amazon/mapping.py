"""Amazon (SP-API Orders v0): map an order and its order items to the canonical order.

Reference: https://developer-docs.amazon.com/sp-api/docs/orders-api-v0-reference (model `ordersV0.json`).

What the model says and what it leaves open, and how this module reads it:
- `ItemPrice` is per line: "the selling price of the item multiplied by the quantity ordered".
- Amounts are `Money {CurrencyCode, Amount}` with `Amount` a decimal string.
- Whether `ItemPrice` holds the tax is not written down. Amazon shows buyers tax-inclusive prices in
  every store except the United States and Canada, and its answers match: in EU/UK/JP/... orders
  `ItemPrice` and `ShippingPrice` already hold the VAT and `ItemTax`/`ShippingTax` only say how much
  of it is VAT (often "0.00"); in US/CA orders the taxes come on top. The marketplace decides the
  reading; when `OrderTotal` matches only the other reading exactly, Amazon's own total wins (an
  unknown marketplace, a business order priced without VAT). A total matching neither is kept as
  sent, so the order is held for a price mismatch rather than silently "fixed".
- `PromotionDiscount` and `ShippingDiscount` are the discounts on that line's item and shipping
  (their `...Tax` fields the tax share of them); they are taken off the line and the shipping, so
  each line's total is what the customer paid for it.
- Gift wrap (`BuyerInfo.GiftWrapPrice`) and COD fees are charges beyond lines and shipping.
Amazon took the money for every order, so `payment_collected` is always True.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from domain.limits import within_limits
from domain.money import Money
from domain.order import (
    FULFILLED_BY_CHANNEL,
    FULFILLED_BY_US,
    Address,
    InvalidOrder,
    Order,
    OrderLine,
    line_from_total,
)
from integrations.channels.amazon.spec import SPEC
from integrations.channels.base import Amount as ChannelAmount
from integrations.channels.base import ChannelTime, Int64, SkuResolver

CHANNEL = SPEC.name
CANCELLED = "Canceled"
# Placed but not payable yet: they come again (with a newer LastUpdateDate) once they turn Unshipped.
NOT_YET_FULFILABLE = frozenset({"Pending", "PendingAvailability"})
# Stores whose shelf prices exclude sales tax (https://developer-docs.amazon.com/sp-api/docs/marketplace-ids).
TAX_EXCLUSIVE_MARKETPLACES = frozenset({"ATVPDKIKX0DER", "A2EUQ1WTGCTBG2"})  # US, CA


class _Model(BaseModel):
    model_config = ConfigDict(extra="ignore")


class AmazonMoney(_Model):
    CurrencyCode: str = Field(min_length=3, max_length=3)
    Amount: ChannelAmount


class AmazonAddress(_Model):
    Name: str | None = None
    CompanyName: str | None = None
    AddressLine1: str | None = None
    AddressLine2: str | None = None
    AddressLine3: str | None = None
    City: str | None = None
    StateOrRegion: str | None = None
    PostalCode: str | None = None
    CountryCode: str | None = None
    Phone: str | None = None


class OrderBuyerInfo(_Model):
    BuyerEmail: str | None = None


class ItemBuyerInfo(_Model):
    GiftWrapPrice: AmazonMoney | None = None
    GiftWrapTax: AmazonMoney | None = None


class AmazonOrder(_Model):
    AmazonOrderId: str = Field(min_length=1)
    PurchaseDate: ChannelTime
    LastUpdateDate: ChannelTime | None = None
    OrderStatus: str = ""
    FulfillmentChannel: Literal["AFN", "MFN"] | None = None
    MarketplaceId: str | None = None
    OrderTotal: AmazonMoney | None = None
    ShippingAddress: AmazonAddress | None = None
    BuyerInfo: OrderBuyerInfo | None = None


class OrderItem(_Model):
    OrderItemId: str = Field(min_length=1)
    ASIN: str = ""
    SellerSKU: str | None = None
    Title: str | None = None
    QuantityOrdered: Int64 = Field(ge=0)
    ItemPrice: AmazonMoney | None = None
    ItemTax: AmazonMoney | None = None
    ShippingPrice: AmazonMoney | None = None
    ShippingTax: AmazonMoney | None = None
    ShippingDiscount: AmazonMoney | None = None
    ShippingDiscountTax: AmazonMoney | None = None
    PromotionDiscount: AmazonMoney | None = None
    PromotionDiscountTax: AmazonMoney | None = None
    CODFee: AmazonMoney | None = None
    CODFeeDiscount: AmazonMoney | None = None
    BuyerInfo: ItemBuyerInfo | None = None


class AmazonPayload(_Model):
    """What the order source pulls: the getOrders `Order` plus all its getOrderItems `OrderItem`s."""

    order: AmazonOrder
    items: list[OrderItem] = Field(min_length=1)


class _Amounts:
    """One item's amounts in minor units, before and after its taxes."""

    def __init__(self, item: OrderItem, currency: str) -> None:
        def minor(money: AmazonMoney | None, *, discount: bool = False) -> int:
            if money is None:
                return 0
            if money.CurrencyCode.upper() != currency:
                raise InvalidOrder(f"amount in {money.CurrencyCode} on an order in {currency}")
            amount = Money.parse(money.Amount, currency).amount_minor
            # Some stores report discounts as negative numbers: a discount always lowers the price.
            return abs(amount) if discount else amount

        gift = item.BuyerInfo or ItemBuyerInfo()
        self.line = minor(item.ItemPrice) - minor(item.PromotionDiscount, discount=True)
        self.line_tax = minor(item.ItemTax) - minor(item.PromotionDiscountTax, discount=True)
        self.shipping = minor(item.ShippingPrice) - minor(item.ShippingDiscount, discount=True)
        self.shipping_tax = minor(item.ShippingTax) - minor(item.ShippingDiscountTax, discount=True)
        self.charges = minor(gift.GiftWrapPrice) + minor(item.CODFee) - minor(item.CODFeeDiscount, discount=True)
        self.charges_tax = minor(gift.GiftWrapTax)

    def total(self, *, tax_on_top: bool) -> int:
        taxes = self.line_tax + self.shipping_tax + self.charges_tax if tax_on_top else 0
        return self.line + self.shipping + self.charges + taxes


def _currency(payload: AmazonPayload) -> str:
    if payload.order.OrderTotal is not None:
        return payload.order.OrderTotal.CurrencyCode.upper()
    for item in payload.items:
        if item.ItemPrice is not None:
            return item.ItemPrice.CurrencyCode.upper()
    raise InvalidOrder("no currency: neither OrderTotal nor any ItemPrice")


def _tax_on_top(order: AmazonOrder, amounts: list[_Amounts], total: int | None) -> bool:
    """Whether the taxes come on top of the prices (see the module docstring)."""
    default = order.MarketplaceId in TAX_EXCLUSIVE_MARKETPLACES
    if total is None:
        return default
    matches = {flag for flag in (default, not default) if sum(a.total(tax_on_top=flag) for a in amounts) == total}
    return default if default in matches or not matches else not default


def _address(address: AmazonAddress | None) -> Address:
    if address is None:
        return Address()
    extra = ", ".join(part for part in (address.AddressLine2, address.AddressLine3) if part)
    return Address(
        name=address.Name or address.CompanyName or "",
        line1=address.AddressLine1 or "",
        line2=extra,
        postcode=address.PostalCode or "",
        city=address.City or "",
        region=address.StateOrRegion or "",
        country=(address.CountryCode or "").upper(),
        phone=address.Phone or "",
    )


def _sku(item: OrderItem, resolve: SkuResolver) -> str:
    seller_sku = (item.SellerSKU or "").strip()
    if not seller_sku:
        return f"amazon-asin:{item.ASIN or item.OrderItemId}"
    # Unknown SellerSKU: a stand-in no location stocks, so the order is held, never dropped.
    return resolve(seller_sku) or f"amazon-sku:{seller_sku}"


def to_order(payload: dict[str, Any], resolve: SkuResolver) -> Order:
    """Map {"order": Order, "items": [OrderItem, ...]}; raises pydantic.ValidationError, MoneyError or InvalidOrder."""
    parsed = AmazonPayload.model_validate(payload)
    order = parsed.order
    currency = _currency(parsed)
    total = Money.parse(order.OrderTotal.Amount, currency).amount_minor if order.OrderTotal else None
    # A line cancelled down to zero units has nothing to fulfil (Shopify's removed lines, likewise).
    items = [item for item in parsed.items if item.QuantityOrdered > 0]
    amounts = [_Amounts(item, currency) for item in items]
    tax_on_top = _tax_on_top(order, amounts, total)
    lines: list[OrderLine] = []
    shipping = charges = 0
    for item, amount in zip(items, amounts, strict=True):
        line_total = amount.line + (amount.line_tax if tax_on_top else 0)
        lines.append(
            line_from_total(
                _sku(item, resolve),
                item.QuantityOrdered,
                Money(line_total, currency),
                title=item.Title or "",
                external_line_id=item.OrderItemId,
            )
        )
        shipping += amount.shipping + (amount.shipping_tax if tax_on_top else 0)
        charges += amount.charges + (amount.charges_tax if tax_on_top else 0)
    if shipping < 0 or charges < 0:
        raise InvalidOrder("discounts larger than the shipping or charges they apply to")
    computed = sum(line.total.amount_minor for line in lines) + shipping + charges
    mapped = Order(
        channel=CHANNEL,
        external_id=order.AmazonOrderId,
        reference=order.AmazonOrderId,
        currency=currency,
        lines=tuple(lines),
        placed_at=order.PurchaseDate,
        # Canceled and Pending orders come without OrderTotal: nothing to reconcile against.
        total=Money(computed if total is None else total, currency),
        shipping=Money(shipping, currency),
        charges=Money(charges, currency) if charges else None,
        shipping_address=_address(order.ShippingAddress),
        payment_collected=True,
        customer_email=(order.BuyerInfo.BuyerEmail or "") if order.BuyerInfo else "",
        fulfilled_by=FULFILLED_BY_CHANNEL if order.FulfillmentChannel == "AFN" else FULFILLED_BY_US,
    )
    return within_limits(mapped)


def is_cancelled(order: dict[str, Any]) -> bool:
    return order.get("OrderStatus") == CANCELLED


def is_fulfilable(order: dict[str, Any]) -> bool:
    """False for orders not paid yet (Pending, PendingAvailability): they come back once Unshipped."""
    status = order.get("OrderStatus")
    return not (isinstance(status, str) and status in NOT_YET_FULFILABLE)  # anything else: to_order decides
