"""Request and response bodies, one per use (OrderCreate, OrderPublic, OrdersPublic, ...)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StrictInt

from domain.status import OrderStatus


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class MoneyBody(_Strict):
    amount_minor: StrictInt
    currency: str = Field(min_length=3, max_length=3, pattern="^[A-Z]{3}$")


class AddressBody(_Strict):
    name: str = ""
    line1: str = ""
    line2: str = ""
    postcode: str = ""
    city: str = ""
    region: str = ""
    country: str = Field(default="", max_length=2)
    phone: str = ""


class OrderLineCreate(_Strict):
    sku: str = Field(min_length=1, max_length=100)
    quantity: StrictInt = Field(gt=0)
    unit_price: MoneyBody
    title: str = ""


class OrderCreate(_Strict):
    """The canonical order, as the web shop and the POS send it."""

    channel: Literal["webshop", "pos"]
    external_id: str = Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9._:-]+$")
    reference: str = ""
    currency: str = Field(min_length=3, max_length=3, pattern="^[A-Z]{3}$")
    placed_at: AwareDatetime | None = None
    lines: list[OrderLineCreate] = Field(min_length=1)
    shipping: MoneyBody | None = None
    discount: MoneyBody | None = None
    total: MoneyBody | None = Field(default=None, description="What was charged; computed when omitted")
    shipping_address: AddressBody = AddressBody()
    customer_email: str = ""
    payment_collected: bool = False
    payment_method: str = Field(default="", description="Gateway token to authorize, e.g. a Stripe PaymentMethod id")


class OrderAccepted(BaseModel):
    order_id: str
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
    carrier: str | None
    tracking_number: str | None
    label_ref: str | None
    picked_at: datetime | None
    packed_at: datetime | None
    shipped_at: datetime | None


class PaymentPublic(BaseModel):
    payment_id: str
    provider: str
    status: str
    authorized: Money
    captured: Money
    voided: Money
    refunded: Money


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


class OrderPublic(OrderSummary):
    lines: list[OrderLinePublic]
    shipping: Money
    discount: Money
    shipping_address: dict[str, str]
    customer_email: str
    payment_collected: bool
    completed_at: datetime | None
    cancelled_at: datetime | None
    shipments: list[ShipmentPublic]
    payments: list[PaymentPublic]
    returns: list[dict[str, object]]
    events: list[EventPublic]


class OrdersPublic(BaseModel):
    data: list[OrderSummary]
    count: int


class ActionAccepted(BaseModel):
    order_id: str
    action: str


class CancelBody(_Strict):
    reason: str = ""


class ReleaseBody(_Strict):
    note: str = ""


class LocationCreate(_Strict):
    location_id: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._-]+$")
    name: str = Field(min_length=1, max_length=200)
    kind: Literal["warehouse", "store", "dropship"]
    country: str = Field(min_length=2, max_length=2)
    postcode: str = ""
    latitude: float | None = Field(default=None, ge=-90, le=90)
    longitude: float | None = Field(default=None, ge=-180, le=180)
    priority: StrictInt = 100
    active: bool = True


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


class AdjustmentCreate(_Strict):
    location_id: str = Field(min_length=1, max_length=64)
    sku: str = Field(min_length=1, max_length=100)
    delta: StrictInt
    reason: str = Field(min_length=1, max_length=200)


class StockAtLocation(BaseModel):
    location_id: str
    on_hand: int
    reserved: int
    safety_stock: int
    available: int


class InventoryPublic(BaseModel):
    sku: str
    available: int
    on_hand: int
    reserved: int
    locations: list[StockAtLocation]
    channels: dict[str, int]
