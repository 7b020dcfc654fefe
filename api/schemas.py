"""Request and response bodies, one per use (OrderCreate, OrderPublic, OrdersPublic, ...)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field, StrictInt

from domain import limits
from domain.limits import MAX_UNITS
from domain.status import OrderStatus
from domain.times import in_utc

UtcTime = Annotated[AwareDatetime, AfterValidator(in_utc)]
"""A time the API is given (a body field, a query parameter): with its offset, converted to UTC, and
a 422 when UTC cannot hold it (domain.times), not an OverflowError in a later step."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class MoneyBody(_Strict):
    amount_minor: StrictInt = Field(ge=-limits.MAX_AMOUNT_MINOR, le=limits.MAX_AMOUNT_MINOR)
    currency: str = Field(min_length=limits.CURRENCY, max_length=limits.CURRENCY, pattern="^[A-Z]{3}$")


class AddressBody(_Strict):
    name: str = ""
    line1: str = ""
    line2: str = ""
    postcode: str = ""
    city: str = ""
    region: str = ""
    country: str = Field(default="", max_length=2)
    phone: str = ""
    latitude: float | None = Field(default=None, ge=-90, le=90)
    longitude: float | None = Field(default=None, ge=-180, le=180)


class OrderLineCreate(_Strict):
    sku: str = Field(min_length=1, max_length=limits.SKU)
    quantity: StrictInt = Field(
        gt=0, le=limits.MAX_LINE_QUANTITY, description=f"at most {limits.MAX_COUNTER_SALE_QUANTITY} on a counter sale"
    )
    unit_price: MoneyBody
    title: str = Field(default="", description="The product's name, kept whole")


class OrderCreate(_Strict):
    """The canonical order, as the web shop and the POS send it."""

    channel: Literal["webshop", "pos"]
    external_id: str = Field(min_length=1, max_length=limits.EXTERNAL_ID, pattern=r"^[A-Za-z0-9._:-]+$")
    reference: str = Field(default="", max_length=limits.REFERENCE)
    currency: str = Field(min_length=limits.CURRENCY, max_length=limits.CURRENCY, pattern="^[A-Z]{3}$")
    placed_at: UtcTime | None = None
    lines: list[OrderLineCreate] = Field(min_length=1)
    shipping: MoneyBody | None = None
    discount: MoneyBody | None = None
    total: MoneyBody | None = Field(default=None, description="What was charged; computed when omitted")
    shipping_address: AddressBody = AddressBody()
    customer_email: str = Field(default="", max_length=limits.EMAIL)
    buyer_company: str = Field(
        default="", max_length=limits.BUYER_COMPANY, description="A business buyer's company name (on its invoices)"
    )
    buyer_vat_id: str = Field(
        default="",
        max_length=limits.BUYER_VAT_ID,
        description="A business buyer's VAT id with its country prefix (e.g. DE123456789): shipped to another EU "
        "member state than the seller's, the order is invoiced with VAT reverse charged",
    )
    payment_collected: bool = False
    payment_method: str = Field(default="", description="Gateway token to authorize, e.g. a Stripe PaymentMethod id")
    store_credit: MoneyBody | None = Field(
        default=None,
        description="What of the total the customer pays with store credit at this channel's shop (their "
        "customer_email is the account): spent when the order is taken (422 with `available` when the credit "
        "cannot cover it; nothing is recorded), given back if the order is cancelled. The rest of the total is "
        "paid as usual (payment_method, or payment_collected)",
    )
    pickup_location_id: str | None = Field(
        default=None,
        max_length=limits.LOCATION_ID,
        description="Click & collect: the store to collect from; a counter sale: the store that sold it",
    )
    fulfilled_by: Literal["us", "counter", "channel"] = Field(
        default="us",
        description="`us`: we reserve and ship (or hand over at pickup_location_id); `counter`: a POS sale "
        "handed over at the store named in pickup_location_id, already paid (payment_collected: true); "
        "`channel`: the channel fulfils it, recorded only",
    )


class OrderAccepted(BaseModel):
    order_id: str
    duplicate: bool = False


class RefundRecorded(BaseModel):
    """A channel's own refund (Shopify `refunds/create`), recorded on its order once."""

    refund_id: str
    order_id: str | None
    """None: no such order here (the refund is kept in the channel audit for a person)."""
    duplicate: bool = False


class Money(BaseModel):
    amount_minor: int
    currency: str


class OrderLinePublic(BaseModel):
    sku: str
    quantity: int
    unit_price: Money
    total: Money
    title: str


class ShipmentPublic(BaseModel):
    shipment_id: str
    location_id: str
    status: str
    transfer_to: str | None = None
    fulfilment_cost: Money | None = None
    carrier: str | None
    tracking_number: str | None
    label_ref: str | None
    picked_at: datetime | None
    packed_at: datetime | None
    shipped_at: datetime | None
    kind: str = "delivery"
    """delivery, collect (click & collect at the store holding the stock) or transfer_collect."""
    lines: dict[str, int] = {}
    short_lines: dict[str, int] | None = None
    parcels: int | None = None
    ready_at: datetime | None = None
    collected_at: datetime | None = None
    cancelled_at: datetime | None = None
    channel_notified_at: datetime | None = None
    """When the channel that sold the order accepted this shipment's confirmation (None: not yet, or
    a channel we do not tell)."""
    delivered_at: datetime | None = None
    """When the carrier (or a person) reported it delivered."""


class PaymentPublic(BaseModel):
    payment_id: str
    provider: str
    status: str
    authorized: Money
    captured: Money
    voided: Money
    refunded: Money
    purpose: str = "order"
    """What it pays for: "order" (the order itself, `payment-<order id>`), "exchange_difference"
    (what an exchange's dearer replacement cost on top, `payment-<order id>-x<n>`) or "edit_increase"
    (what an order edit cost more, paid through a payment link, `payment-<order id>-e<version>`)."""
    return_id: str | None = None
    """The return whose exchange an exchange_difference payment paid for."""


class EventPublic(BaseModel):
    kind: str
    detail: str
    at: datetime


class OrderSummary(BaseModel):
    order_id: str
    channel: str
    external_id: str
    reference: str
    status: OrderStatus
    hold_reason: str | None
    total: Money
    placed_at: datetime
    received_at: datetime
    shipped_at: datetime | None


class OrderVersionPublic(BaseModel):
    number: int
    """1 is the order as placed; each accepted edit adds one."""
    changes: list[str]
    changed_by: str
    """The person (or the channel) that asked."""
    reason: str
    at: datetime
    total: Money


class EditPaymentLinkPublic(BaseModel):
    """An order edit that costs more, waiting for the customer to pay it (POST /orders/{id}/edits
    answered `awaiting_payment`): applied once paid, lapsed at `expires_at` unpaid."""

    url: str
    amount: Money
    expires_at: datetime


class OrderPublic(OrderSummary):
    lines: list[OrderLinePublic]
    shipping: Money
    discount: Money
    shipping_address: dict[str, str | float | None]
    customer_email: str
    payment_collected: bool
    fulfilled_by: str = "us"
    """`us` (we ship), `counter` (sold over a store counter) or `channel` (the channel ships it)."""
    completed_at: datetime | None
    cancelled_at: datetime | None
    delivered_at: datetime | None = Field(
        default=None,
        description="When the last parcel to the customer's address was delivered (every one of them is); "
        "the returns window counts from here",
    )
    shipments: list[ShipmentPublic]
    payments: list[PaymentPublic]
    returns: list[dict[str, object]]
    sourcing: list[EventPublic]
    """Every sourcing decision with its reasons, newest last."""
    events: list[EventPublic]
    versions: list[OrderVersionPublic] = Field(
        default_factory=list,
        description="The order's history of versions, oldest first: 1 as placed, one more per edit "
        "(POST /orders/{id}/edits): what changed, who, when, and the total after",
    )
    tracking_url: str | None = Field(
        default=None,
        description="The customer's tracking page for this order (no credential needed: the link is signed); "
        "for the web shop or channel to put in the customer's e-mail",
    )
    edit_payment_link: EditPaymentLinkPublic | None = Field(
        default=None,
        description="While an edit that costs more waits for the customer's payment: the Mollie payment link to "
        "send them, the amount and its deadline; null otherwise",
    )


class OrdersPublic(BaseModel):
    data: list[OrderSummary]
    count: int


class ChannelMessagePublic(BaseModel):
    id: int
    channel: str
    kind: str = Field(description="The webhook topic, `api` for POST /orders, or `pull`")
    external_id: str | None
    outcome: str = Field(description="started, duplicate, cancelled, ignored, or `rejected: <why>`")
    received_at: datetime
    body: object = Field(description="What the channel sent, card data and secrets removed; JSON when it parses")


class ChannelMessagesPublic(BaseModel):
    data: list[ChannelMessagePublic]
    count: int


class ActionAccepted(BaseModel):
    order_id: str
    action: str


class CancelBody(_Strict):
    reason: str = ""


class ReleaseBody(_Strict):
    note: str = ""
    accept_channel_total: bool = Field(
        default=False,
        description="For an order held for a price mismatch: accept the channel's total as what is charged "
        "(the note must say why; both go on the order's timeline)",
    )


class LocationFields(_Strict):
    name: str = Field(min_length=1, max_length=limits.LOCATION_NAME)
    kind: Literal["warehouse", "store", "dropship"]
    country: str = Field(
        min_length=limits.COUNTRY, max_length=limits.COUNTRY, pattern="^[A-Za-z]{2}$", description="ISO 3166-1 alpha-2"
    )
    postcode: str = Field(default="", max_length=limits.POSTCODE)
    latitude: float | None = Field(default=None, ge=-90, le=90)
    longitude: float | None = Field(default=None, ge=-180, le=180)
    priority: StrictInt = Field(default=100, ge=-MAX_UNITS, le=MAX_UNITS, description="Lower ships first on a tie")
    active: bool = True
    group: str = Field(default="", max_length=limits.LOCATION_GROUP, description="Location group, for routing filters")
    ship_from_store: bool = Field(default=False, description="A store that may ship orders (not only sell)")
    daily_order_capacity: StrictInt | None = Field(
        default=None, ge=0, le=MAX_UNITS, description="Orders this location can fulfil per day; null: unlimited"
    )
    cost_base_minor: StrictInt = Field(default=0, ge=0, le=MAX_UNITS, description="Cost per shipment, in cents")
    cost_per_km_minor: StrictInt = Field(
        default=0, ge=0, le=MAX_UNITS, description="Cost per km to the shipping address, in cents"
    )
    # The sender on its carrier labels (with name, postcode and country): Sendcloud needs line 1 and city.
    address_line1: str = Field(default="", max_length=1000, description="Street and number, for carrier labels")
    address_line2: str = Field(default="", max_length=1000)
    city: str = Field(default="", max_length=1000)
    phone: str = Field(default="", max_length=100)
    email: str = Field(default="", max_length=limits.EMAIL)


class LocationCreate(LocationFields):
    """Create a location, or update it: on update, fields left out keep their current values."""

    location_id: str = Field(min_length=1, max_length=limits.LOCATION_ID, pattern=r"^[A-Za-z0-9._-]+$")


class LocationReplace(LocationFields):
    """The whole location: fields left out get their defaults."""

    location_id: str | None = Field(default=None, description="Optional; must match the path when given")


class LocationPublic(BaseModel):
    location_id: str
    name: str
    kind: str
    country: str
    postcode: str
    latitude: float | None
    longitude: float | None
    priority: int
    active: bool
    group: str
    ship_from_store: bool
    daily_order_capacity: int | None
    cost_base_minor: int
    cost_per_km_minor: int
    address_line1: str
    address_line2: str
    city: str
    phone: str
    email: str


class AdjustmentCreate(_Strict):
    location_id: str = Field(min_length=1, max_length=limits.LOCATION_ID)
    sku: str = Field(min_length=1, max_length=limits.SKU)
    delta: StrictInt = Field(ge=-MAX_UNITS, le=MAX_UNITS)
    reason: str = Field(min_length=1, max_length=limits.LEDGER_REASON)


class ReceiptCreate(_Strict):
    location_id: str = Field(min_length=1, max_length=limits.LOCATION_ID)
    sku: str = Field(min_length=1, max_length=limits.SKU)
    quantity: StrictInt = Field(gt=0, le=MAX_UNITS)
    reason: str = Field(default="receipt", min_length=1, max_length=120)
    reference: str = Field(default="", max_length=64, description="e.g. the purchase order or delivery note")
    kind: Literal["receipt", "return"] = Field(
        default="receipt", description="`return`: goods a customer brought back, restocked here"
    )


class TransferCreate(_Strict):
    from_location_id: str = Field(min_length=1, max_length=limits.LOCATION_ID)
    to_location_id: str = Field(min_length=1, max_length=limits.LOCATION_ID)
    sku: str = Field(min_length=1, max_length=limits.SKU)
    quantity: StrictInt = Field(gt=0, le=MAX_UNITS)
    reason: str = Field(min_length=1, max_length=120)


class SafetyStockUpdate(_Strict):
    safety_stock: StrictInt = Field(ge=0, le=MAX_UNITS)


class HeldRelease(_Strict):
    location_id: str = Field(min_length=1, max_length=limits.LOCATION_ID)
    sku: str = Field(min_length=1, max_length=limits.SKU)
    quantity: StrictInt = Field(gt=0, le=MAX_UNITS)
    to: Literal["sellable", "scrap"] = Field(
        description="`sellable`: on hand and offered to the channels again; `scrap`: written off (a defect)"
    )
    reason: str = Field(default="", max_length=limits.LEDGER_REASON, description="Required for a scrap")


class StockAtLocation(BaseModel):
    location_id: str
    on_hand: int
    reserved: int
    safety_stock: int
    available: int
    held: int = Field(
        default=0, description="Returned units held for refurbishing: not on hand, never available until released"
    )


class StockRecord(StockAtLocation):
    sku: str


class TransferPublic(BaseModel):
    sku: str
    quantity: int
    source: StockRecord
    destination: StockRecord


class SafetyStockPublic(StockRecord):
    previous_safety_stock: int
    warning: str | None = Field(description="Set when the safety stock exceeds the unreserved stock")


class StockOverview(BaseModel):
    data: list[StockRecord]
    count: int


class ChannelSentPublic(BaseModel):
    quantity: int
    sent_at: datetime


class InventoryPublic(BaseModel):
    sku: str
    available: int
    on_hand: int
    reserved: int
    held: int = Field(default=0, description="Returned units held for refurbishing at every location")
    locations: list[StockAtLocation]
    channels: dict[str, int] = Field(description="Available to promise per channel, by its selling policy")
    last_sent: dict[str, ChannelSentPublic] = Field(description="What each channel's stock feed was last told")


class ForecastFigures(BaseModel):
    on_hand: int
    reserved: int
    safety_stock: int
    available: int
    shipped_in_window: int
    velocity_per_day: float
    days_of_cover: float | None = Field(description="available / velocity; null when nothing shipped in the window")
    reorder_point: int = Field(description="velocity x lead time + safety stock, rounded up (in on-hand terms)")
    reorder_now: bool = Field(description="on hand - reserved is at or below the reorder point")
    suggested_quantity: int = Field(description="Tops up to the lead time plus cover_days of demand + safety stock")


class LocationForecast(ForecastFigures):
    location_id: str


class ForecastPublic(BaseModel):
    sku: str
    window_days: int
    lead_time_days: int
    cover_days: int
    since: datetime
    locations: list[LocationForecast]
    total: ForecastFigures = Field(description="The same figures over every location together")
