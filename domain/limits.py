"""What the database can hold, known where input comes in.

One table of limits for the models (persistence.models sizes its columns from it) and for every
edge that takes input (POST /orders, the channel mappers, the staff endpoints): an answer of 202
promises the order will be recorded, so anything the database would refuse is refused at the door
with the field's name, never found out by an activity that then fails on every retry.

Identifiers, references, SKUs and e-mail addresses have limits and are refused past them: cutting
one short would make it name something else. Free text a channel sends (product titles, addresses,
reasons) is stored whole (Text or JSON) or, where only a person reads it and a shorter version
harms nobody, trimmed on purpose (persistence.read_model.channel_messages).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import UTC, datetime

from domain.order import CHANNELS, FULFILLED_AT_COUNTER, Address, InvalidOrder, Order

# -- characters ---------------------------------------------------------------------------------
EXTERNAL_ID = 100
"""A channel's order id (also bounded by domain.order's id alphabet)."""
ORDER_ID = 140
"""order-<channel>-<external id>: the longest channel name and EXTERNAL_ID fit with room to spare."""
REFERENCE = 100
"""The channel's human-facing order number (Shopify "#1001")."""
SKU = 100
EXTERNAL_LINE_ID = 100
"""The channel's own id of an order line."""
EMAIL = 320
"""RFC 5321: 64 for the local part, @, 255 for the domain."""
CURRENCY = 3
CHANNEL = 20
SHOP = 64
"""A shop's name, which store credit is held at (domain.channels.ChannelPolicy.shop)."""
CREDIT_ENTRY_ID = 300
"""A store credit ledger entry's id: an idempotency key derived from an order id (ORDER_ID) and a
step, a goodwill id (GOODWILL_ID), or a request key a person's client sends (api: at most 100
characters), with room for an expiry's ":expire:<n>"."""
REQUEST_KEY = 100
"""An Idempotency-Key header a person's client sends with goodwill or credit given by hand."""
GOODWILL_ID = 260
"""goodwill-<order id>-<request key>: ORDER_ID and REQUEST_KEY fit."""
CREDIT_KIND = 10
CREDIT_REASON = 20
"""A shop's name, which store credit is held at (domain.channels.ChannelPolicy.shop)."""
STATUS = 20
FULFILLED_BY = 10
LOCATION_ID = 64
LOCATION_NAME = 200
LOCATION_KIND = 16
COUNTRY = 2
POSTCODE = 32
LOCATION_GROUP = 64
TASK_QUEUE = 200
SHIPMENT_ID = 220
"""shipment-<order id>-<location id>[-<round>]: ORDER_ID and LOCATION_ID fit."""
RETURN_ID = 220
RMA = 40
CHANNEL_RMA = 60
"""A channel's own return id as we take it (bol.com's are about 8 digits): part of the return's id."""
"""RMA-XXXXX-XXXXX-<sequence> (domain.return_lifecycle.rma_number)."""
SHIPMENT_KIND = 20
STEP = 16
CARRIER = 64
TRACKING_NUMBER = 100
LABEL_REF = 200
PAYMENT_ID = 200
PAYMENT_PROVIDER = 32
PAYMENT_PURPOSE = 20
PAYMENT_MOVEMENT = 10
"""captured, refunded or voided (persistence.models.PaymentMovement)."""
"""domain.payments.PaymentPurpose."""
PROVIDER_REF = 200
"""A payment provider's id for the payment (Stripe's are about 30 characters)."""
PAYMENT_LINK_ID = 64
"""A provider's id of a payment link (Mollie's pl_…: about 25 characters); longer ones are refused."""
PAYMENT_LINK_URL = 500
"""Where the customer pays a link (Mollie: https://payment-links.mollie.com/payment/…)."""
PAYMENT_LINK_PURPOSE = 16
DOCUMENT_SERIES = 10
"""An invoice or credit note number's series prefix (domain.document_numbers: INV, CN, ...)."""
DOCUMENT_NUMBER = 32
"""An issued number, e.g. INV-2026-000123 (series, year, a sequence that may outgrow six digits)."""
DOCUMENT_ID = 260
"""The id of the invoice or credit note a number is issued to: derived from an order or return id
(ORDER_ID, RETURN_ID) and a short suffix; persistence.guarded_writes.document_numbers refuses longer."""
BOOKING_SYSTEM = 20
"""An accounting system the books are pushed to (services.books: "exact", "moneybird")."""
BOOKING_KEY = 60
"""What one booking of a day and currency is for: a channel, or "<channel>:<document number>"
(CHANNEL and DOCUMENT_NUMBER fit)."""
BOOKING_EXTERNAL_ID = 100
"""The accounting system's id of what was booked (an Exact EntryID GUID, a Moneybird id)."""
BOOKING_REFERENCE = 60
"""Our reference on the booking, found again at the accounting system (Exact YourRef)."""
BUYER_COMPANY = 200
"""A business buyer's company name as the order names it (printed on its invoices)."""
BUYER_VAT_ID = 20
"""A business buyer's VAT id with its country prefix (EU ids are at most 14 characters; room to spare)."""
VAT_CATEGORY = 20
"""A product's VAT category (domain.vat: standard, reduced, zero)."""
PERSON = 200
"""Who did something (a staff user, a channel, the engine's own reason)."""
LEDGER_KIND = 16
LEDGER_REASON = 200
WRITE_OFF_SOURCE = 16
"""Where a write-off came from: "return" or "held"."""
EVENT_KIND = 40
OUTBOUND_EVENT_ID = 40
"""An outbound event's id, evt_ and 32 hex digits (the webhook-id consumers dedupe on)."""
OUTBOUND_EVENT_TYPE = 40
SUBSCRIPTION_ID = 40
"""sub_ and 32 hex digits."""
SUBSCRIPTION_URL = 2000
"""An endpoint URL a subscriber gives us."""
SUBSCRIPTION_SECRET = 100
"""whsec_ and the base64 of 32 random bytes."""
DELIVERY_STATE = 16
HTTP_STATUS_MAX = 599
CARRIER_EVENT_ID = 300
"""A carrier's id for one report about a parcel (Sendcloud's: parcel id, status id and time; a
person's: the shipment id and the time)."""
MESSAGE_KIND = 60
"""A webhook topic as the channel sent it (trimmed: only people read it)."""
MESSAGE_OUTCOME = 200
"""What became of a payload (trimmed: only people read it)."""
EAN = 20
BIN = 40
"""A shelf position on the warehouse floor (aisle-rack-shelf), as staff type it."""
PRODUCT_NAME = 300
"""A catalogue name, as staff enter it (PUT /catalogue)."""
LISTING_ID = 100
IDEMPOTENCY_KEY = 400
"""A workflow step's key: <shipment id>:<step>:... fits with room to spare (see
persistence.guarded_writes.idempotency, which also hashes any longer key rather than fail)."""
STAFF_USER_ID = 64
STAFF_ROLE = 20
STAFF_VIA = 20
HTTP_METHOD = 10
ROUTE_TEMPLATE = 300
STAFF_ACTION = 100
"""The audit list's columns (persistence.models.StaffAction): longer values are cut to fit."""

# -- numbers ------------------------------------------------------------------------------------
INTEGER_MAX = 2**31 - 1
"""Quantities, deltas and counts are 32-bit integer columns."""
BIGINT_MAX = 2**63 - 1
"""Amounts in minor units are 64-bit integer columns."""
MAX_UNITS = 1_000_000_000
"""The most units one request may move (a receipt, an adjustment, a transfer, all units of one SKU
on one order): well inside a 32-bit column, so sums of a few of them still fit."""
MAX_LINE_QUANTITY = 100_000
"""The most units one order line may ask for: more is a typo or an attack, not a sale."""
MAX_COUNTER_SALE_QUANTITY = 1_000
"""The most units one line of a sale over a store counter may take off the store's shelf."""
MAX_AMOUNT_MINOR = 10**18 - 1
"""The largest amount (either sign) an order may carry in minor units: 18 digits, as many as
domain.money parses, so a 64-bit column holds it and the sum of a few of them."""


def order_limit_refusals(order: Order) -> list[str]:
    """Every field of the order the database could not hold as it is, named; empty when it fits."""
    problems: list[str] = []

    def text(field: str, value: str, limit: int | None = None) -> None:
        if limit is not None and len(value) > limit:
            problems.append(f"{field}: at most {limit} characters, got {len(value)}")
        if "\x00" in value:  # PostgreSQL's text and jsonb cannot hold one, on any length
            problems.append(f"{field}: contains a NUL character")

    def amount(field: str, minor: int) -> None:
        if abs(minor) > MAX_AMOUNT_MINOR:
            problems.append(f"{field}: {minor} minor units is beyond what an amount can be (±{MAX_AMOUNT_MINOR})")

    text("external_id", order.external_id, EXTERNAL_ID)
    text("reference", order.reference, REFERENCE)
    text("customer_email", order.customer_email, EMAIL)
    text("buyer_company", order.buyer_company, BUYER_COMPANY)
    text("buyer_vat_id", order.buyer_vat_id, BUYER_VAT_ID)
    text("currency", order.currency, CURRENCY)
    if not storable_time(order.placed_at):
        problems.append("placed_at: out of the range a timestamp can hold")
    for name, coordinate in _coordinates(order.shipping_address):
        if not _on_earth(name, coordinate):
            problems.append(f"shipping_address.{name}: not a coordinate ({coordinate})")
    if order.pickup_location_id is not None:
        text("pickup_location_id", order.pickup_location_id, LOCATION_ID)
    if order.channel not in CHANNELS:
        problems.append(f"channel: unknown channel {order.channel!r}")
    for field, money in (
        ("total", order.total),
        ("shipping", order.shipping),
        ("discount", order.order_discount),
        ("charges", order.other_charges),
    ):
        amount(field, money.amount_minor)
    most = MAX_COUNTER_SALE_QUANTITY if order.fulfilled_by == FULFILLED_AT_COUNTER else MAX_LINE_QUANTITY
    text("payment_method", order.payment_method)
    text("attention", order.attention)
    for name, value in vars(order.shipping_address).items():
        if isinstance(value, str):
            text(f"shipping_address.{name}", value)
    for n, line in enumerate(order.lines, start=1):
        text(f"lines[{n}].sku", line.sku, SKU)
        text(f"lines[{n}].external_line_id", line.external_line_id, EXTERNAL_LINE_ID)
        text(f"lines[{n}].title", line.title)
        if line.quantity > most:
            what = "a counter sale line" if order.fulfilled_by == FULFILLED_AT_COUNTER else "a line"
            problems.append(f"lines[{n}].quantity: {what} may ask for at most {most} units, got {line.quantity}")
        amount(f"lines[{n}].unit_price", line.unit_price.amount_minor)
        amount(f"lines[{n}].total", line.total.amount_minor)
    per_sku = MAX_COUNTER_SALE_QUANTITY if order.fulfilled_by == FULFILLED_AT_COUNTER else MAX_UNITS
    named = {line.sku for line in order.lines if line.quantity > most}
    for sku, units in order.demand().items():
        if units > per_sku and sku not in named:
            problems.append(f"quantity of {sku[:SKU]}: at most {per_sku} units of one SKU per order, got {units}")
    return problems


_BOUNDS = {"latitude": 90.0, "longitude": 180.0}


def _coordinates(address: Address) -> list[tuple[str, float]]:
    pairs = (("latitude", address.latitude), ("longitude", address.longitude))
    return [(name, value) for name, value in pairs if value is not None]


def _on_earth(name: str, coordinate: float) -> bool:
    return math.isfinite(coordinate) and abs(coordinate) <= _BOUNDS[name]


def storable_address(address: Address) -> bool:
    """No NaN or infinite coordinates: the address is stored as JSON, which has neither."""
    return all(_on_earth(name, value) for name, value in _coordinates(address))


def storable_time(moment: datetime) -> bool:
    """Whether the moment has a UTC equivalent (0001-01-01T00:00+14:00 has none: it is stored in UTC)."""
    try:
        moment.astimezone(UTC)
    except OverflowError:
        return False
    return True


def within_limits(order: Order) -> Order:
    """The order, if the database can hold it as it is; else InvalidOrder naming each field that
    cannot be held (every edge calls this before it answers 2xx)."""
    problems = order_limit_refusals(order)
    if problems:
        raise InvalidOrder("; ".join(problems))
    return order


def unstorable_reason(problems: Sequence[str]) -> str:
    """The hold reason of an order kept as a placeholder because it cannot be stored as sent."""
    return (
        f"cannot be stored as sent ({'; '.join(problems)}): recorded without its lines; "
        "cancel it, or release it to try again once it can be stored"
    )
