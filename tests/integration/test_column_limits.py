"""Every limit of the database is known at the edge (issue 11: "a 202 is a promise").

Each String(n) and integer column of the models, enumerated from the metadata, is one of:
- filled from an order that comes in (POST /orders and every channel mapper): tested here at n
  (accepted, and stored as sent on SQLite and PostgreSQL) and at n+1 and 2**31 (refused, naming
  the field);
- filled from a staff endpoint: its schema bounds the field within the column, and n+1 is a 422;
- trimmed on purpose (only people read it): n+1 is stored cut to n;
- or derived by the engine from values that are bounded, with the longest value it can take where
  that can be computed.
A new column that is none of these fails `test_every_limited_column_is_guarded`.
"""

from __future__ import annotations

import copy
import json
import re
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pydantic import BaseModel, ValidationError
from sqlalchemy import BigInteger, Integer, String, Text, select

from activities.inventory import shipment_id_for
from api.main import create_app
from api.routes.catalogue import ListingId, ProductPut
from api.routes.event_subscriptions import SubscriptionCreate
from api.routes.goodwill import GoodwillBody
from api.routes.return_steps import ReceiveBody
from api.routes.returns import ReturnBody
from api.routes.shipments import PackedBody, ShippedBody
from api.routes.store_credit import CreditIssue
from api.schemas import (
    AdjustmentCreate,
    LocationCreate,
    LocationFields,
    OrderCreate,
    ReceiptCreate,
    SafetyStockUpdate,
    TransferCreate,
)
from config import load_settings
from contracts.order_workflow import OrderWorkflowInput
from domain import document_numbers, limits
from domain.accounts import TOKEN_PREFIX
from domain.carrier_events import CARRIER_STATUSES, Outcome
from domain.fulfilment import ShipmentKind, ShipmentStatus, Step
from domain.goodwill import GoodwillForm
from domain.invoicing import DocumentKind
from domain.money import CURRENCY_EXPONENTS, MoneyError
from domain.order import CHANNELS, FULFILMENT_MODES, InvalidOrder, Order
from domain.outbound_events import EventType
from domain.payment_links import LinkStatus
from domain.payments import PaymentPurpose, PaymentStatus, extra_payment_id
from domain.return_lifecycle import RefundTiming, ReturnState, rma_number
from domain.staff import Role
from domain.status import OrderStatus
from domain.store_credit import CreditEntryKind, CreditReason
from domain.vat import DUTCH_RATES
from integrations.carriers.sendcloud import webhooks as sendcloud
from integrations.channels import amazon, bol, shopify, woocommerce
from ops.temporal_dev import DevServer
from persistence.models import Base, ChannelMessage, OrderRecord
from persistence.read_model import orders as order_store
from persistence.read_model.channel_messages import keep_message
from persistence.unit_of_work import UnitOfWork
from services.accounts import TOKEN_NAME_MAX
from services.deliveries import STAFF_CARRIER
from tests.factories import next_id
from tests.started import started_history

DATA = Path(__file__).resolve().parents[1] / "unit" / "data"
TOKEN = "test-admin-token"
STAFF = {"Authorization": f"Bearer {TOKEN}"}

# -- the longest values the engine derives ---------------------------------------------------------

LONGEST_ORDER_ID = len(f"order-{max(CHANNELS, key=len)}-") + limits.EXTERNAL_ID
LONGEST_SHIPMENT_ID = len(shipment_id_for("o" * LONGEST_ORDER_ID, "L" * limits.LOCATION_ID, limits.MAX_UNITS))
LONGEST_RETURN_ID = max(
    len(f"return-{'o' * LONGEST_ORDER_ID}-{limits.MAX_UNITS}"),
    len(f"return-{'o' * LONGEST_ORDER_ID}-{max(CHANNELS, key=len)}-{'r' * limits.CHANNEL_RMA}"),
)
LONGEST_STEP_KEY = max(
    LONGEST_SHIPMENT_ID + len(f":escalate:{max(Step, key=len).value}"),
    LONGEST_RETURN_ID + len(":refund"),
    LONGEST_ORDER_ID + len(f":status-{max(OrderStatus, key=len).value}:{limits.MAX_UNITS}"),
)
EARTH_HALF_CIRCUMFERENCE_KM = 20_038


# -- how each column is guarded --------------------------------------------------------------------


@dataclass(frozen=True)
class Intake:
    """Filled from an order that comes in: probed through POST /orders and every channel mapper."""

    field: str


@dataclass(frozen=True)
class Staff:
    """Filled from a staff endpoint's body or path: the schema's bound must lie within the column."""

    model: type[BaseModel] | object
    field: str


@dataclass(frozen=True)
class Trimmed:
    why: str


@dataclass(frozen=True)
class Derived:
    why: str
    longest: int | None = None
    """The longest text (or the largest number) the engine can put there, when it can be computed."""


def _enum_longest(values: Any) -> int:
    return max(len(str(value)) for value in values)


ORDER_ID = Derived("order-<channel>-<external id>", LONGEST_ORDER_ID)
SHIPMENT_ID = Derived("shipment-<order id>-<location id>[-<round>]", LONGEST_SHIPMENT_ID)
LOCATION = Derived("a location id, refused past its limit by POST /locations")
CHANNEL = Derived("one of domain.order.CHANNELS (or 'unknown' in the audit)", _enum_longest((*CHANNELS, "unknown")))
SKU = Derived("a SKU from an order line (Intake) or a stock record (Staff)")
CURRENCY = Derived("an ISO 4217 code from domain.money", _enum_longest(CURRENCY_EXPONENTS))
COUNTER = Derived("a count that grows by one per attempt or per value sent")
IDENTITY = Derived("an identity column")
DOCUMENT_SERIES = Derived("a series prefix (domain.document_numbers.check_series)", document_numbers.SERIES_MAX)
DOCUMENT_YEAR = Derived("a document date's four-digit year", document_numbers.YEAR_MAX)
ORDER_AMOUNT = Derived("at most the order's total (MAX_AMOUNT_MINOR)", limits.MAX_AMOUNT_MINOR)

EVENT_ID = Derived("evt_ and 32 hex digits", len("evt_") + 32)
SUBSCRIPTION_ID = Derived("sub_ and 32 hex digits", len("sub_") + 32)
EVENT_TYPE = Derived("a domain.outbound_events.EventType", _enum_longest(EventType))
ORDERING_KEY = Derived("an order id, or a SKU for stock.changed", max(LONGEST_ORDER_ID, limits.SKU))
HTTP_STATUS = Derived("an HTTP status code", limits.HTTP_STATUS_MAX)

LONGEST_CARRIER_EVENT_ID = max(
    len(f"{limits.BIGINT_MAX}:{limits.BIGINT_MAX}:{int(datetime(9000, 12, 31, tzinfo=UTC).timestamp() * 1000)}"),
    LONGEST_SHIPMENT_ID + len(f":delivered:{datetime(9000, 12, 31, 23, 59, 59, 999999, tzinfo=UTC).isoformat()}"),
)

GUARDS: dict[str, Intake | Staff | Trimmed | Derived] = {
    "carrier_events.id": IDENTITY,
    "carrier_events.carrier": Derived(
        "a carrier integration's name or 'staff'", _enum_longest((sendcloud.CARRIER, STAFF_CARRIER))
    ),
    "carrier_events.event_id": Derived(
        "sendcloud: <parcel id>:<status id>:<ms>; staff: <shipment id>:delivered:<time>", LONGEST_CARRIER_EVENT_ID
    ),
    "carrier_events.shipment_id": SHIPMENT_ID,
    "carrier_events.tracking_number": Derived(
        "the carrier's tracking number, refused past its limit by the webhook's model", limits.TRACKING_NUMBER
    ),
    "carrier_events.status": Derived("a carrier status (domain.carrier_events)", _enum_longest(CARRIER_STATUSES)),
    "carrier_events.outcome": Derived("a domain.carrier_events.Outcome", _enum_longest(Outcome)),
    "activity_results.key": Derived("a workflow step's key (longer ones are hashed to fit)", LONGEST_STEP_KEY),
    "backorder_waits.order_id": ORDER_ID,
    "backorder_waits.sku": SKU,
    "backorder_waits.quantity": Derived("units of one SKU an order waits for (Intake bound)", limits.MAX_UNITS),
    "cancellation_notices.order_id": ORDER_ID,
    "cancellation_notices.id": IDENTITY,
    "cancellation_notices.channel": CHANNEL,
    "cancellation_notices.attempts": COUNTER,
    "channel_configs.channel": CHANNEL,
    "channel_cursors.channel": CHANNEL,
    "channel_cursors.orders_seen": COUNTER,
    "channel_listings.channel": CHANNEL,
    "channel_listings.sku": Staff("PUT /catalogue/{sku}", "sku"),
    "channel_listings.listing_id": Staff(ListingId, "listing_id"),
    "channel_messages.id": IDENTITY,
    "channel_messages.channel": CHANNEL,
    "channel_messages.kind": Trimmed("a webhook topic header as sent"),
    "channel_messages.external_id": Trimmed("whatever id a malformed payload names"),
    "channel_messages.order_id": ORDER_ID,
    "channel_messages.outcome": Trimmed("what became of the payload, with the refusal's message"),
    "channel_stock_levels.channel": CHANNEL,
    "channel_stock_levels.sku": SKU,
    "channel_stock_levels.quantity": Derived("ATP, capped at a 32-bit count", limits.INTEGER_MAX),
    "channel_stock_levels.sequence": COUNTER,
    "document_number_counters.series": DOCUMENT_SERIES,
    "document_number_counters.year": DOCUMENT_YEAR,
    "document_number_counters.last_number": COUNTER,
    "document_numbers.id": IDENTITY,
    "document_numbers.series": DOCUMENT_SERIES,
    "document_numbers.year": DOCUMENT_YEAR,
    "document_numbers.number": COUNTER,
    "document_numbers.document_id": Derived(
        "the invoice or credit note's id, refused past its limit by issue_number", limits.DOCUMENT_ID
    ),
    "invoices.document_id": Derived(
        "inv:<shipment id> / cn:<refund key>, refused past its limit by issue_number", limits.DOCUMENT_ID
    ),
    "invoices.number": Derived(
        "<series>-<year>-<sequence> (domain.document_numbers)",
        len(f"{'X' * document_numbers.SERIES_MAX}-{document_numbers.YEAR_MAX}-{limits.INTEGER_MAX}"),
    ),
    "invoices.corrects": Derived(
        "the number of the invoice a credit note corrects",
        len(f"{'X' * document_numbers.SERIES_MAX}-{document_numbers.YEAR_MAX}-{limits.INTEGER_MAX}"),
    ),
    "invoices.kind": Derived("a domain.invoicing.DocumentKind", _enum_longest(DocumentKind)),
    "invoices.order_id": ORDER_ID,
    "invoices.channel": CHANNEL,
    "invoices.currency": CURRENCY,
    "invoices.net_minor": ORDER_AMOUNT,
    "invoices.vat_minor": ORDER_AMOUNT,
    "invoices.gross_minor": ORDER_AMOUNT,
    "invoices.shipment_id": SHIPMENT_ID,
    "invoices.return_id": Derived("return-<order id>-<n>", LONGEST_RETURN_ID),
    "invoices.refund_key": Derived("the refund's key, as long as a document id at most", limits.DOCUMENT_ID),
    "event_deliveries.id": IDENTITY,
    "event_deliveries.subscription_id": SUBSCRIPTION_ID,
    "event_deliveries.event_seq": IDENTITY,
    "event_deliveries.event_id": EVENT_ID,
    "event_deliveries.ordering_key": ORDERING_KEY,
    "event_deliveries.state": Derived("pending or delivered", _enum_longest(("pending", "delivered"))),
    "event_deliveries.attempts": COUNTER,
    "event_deliveries.last_status_code": HTTP_STATUS,
    "event_delivery_attempts.id": IDENTITY,
    "event_delivery_attempts.delivery_id": IDENTITY,
    "event_delivery_attempts.subscription_id": SUBSCRIPTION_ID,
    "event_delivery_attempts.event_id": EVENT_ID,
    "event_delivery_attempts.event_type": EVENT_TYPE,
    "event_delivery_attempts.attempt": COUNTER,
    "event_delivery_attempts.status_code": HTTP_STATUS,
    "event_delivery_attempts.response_ms": Derived("one POST's milliseconds, bounded by OMS_EVENT_HTTP_TIMEOUT"),
    "event_subscriptions.subscription_id": SUBSCRIPTION_ID,
    "event_subscriptions.url": Staff(SubscriptionCreate, "url"),
    "event_subscriptions.secret": Derived("whsec_ and the base64 of 32 bytes", len("whsec_") + 44),
    "event_subscriptions.previous_secret": Derived("the secret before a rotation", len("whsec_") + 44),
    "outbound_events.seq": IDENTITY,
    "outbound_events.event_id": EVENT_ID,
    "outbound_events.type": EVENT_TYPE,
    "outbound_events.ordering_key": ORDERING_KEY,
    "bookings.id": IDENTITY,
    "bookings.system": Derived("an accounting system's name (services.exact_books.SYSTEM, ...)", len("moneybird")),
    "bookings.currency": CURRENCY,
    "bookings.key": Derived(
        "a channel, or <channel>:<document number>", _enum_longest(CHANNELS) + 1 + limits.DOCUMENT_NUMBER
    ),
    "bookings.reference": Derived(
        "OMS-<yyyymmdd>-<currency>-<channel> (services.exact_books.reference)",
        len("OMS-20261207-EUR-") + _enum_longest(CHANNELS),
    ),
    "bookings.external_id": Derived("an Exact EntryID (a GUID) or a Moneybird id", 36),
    "bookings.amount_minor": Derived("a day's sales of a channel (sum of documents' gross)"),
    "accounting_tokens.system": Derived(
        "an accounting system's name (services.exact_books.SYSTEM, ...)", len("moneybird")
    ),
    "escalations.id": IDENTITY,
    "escalations.order_id": ORDER_ID,
    "escalations.shipment_id": SHIPMENT_ID,
    "escalations.location_id": LOCATION,
    "escalations.step": Derived("a domain.fulfilment.Step", _enum_longest(Step)),
    "locations.location_id": Staff(LocationCreate, "location_id"),
    "locations.name": Staff(LocationFields, "name"),
    "locations.kind": Derived("warehouse, store or dropship", _enum_longest(("warehouse", "store", "dropship"))),
    "locations.country": Staff(LocationFields, "country"),
    "locations.postcode": Staff(LocationFields, "postcode"),
    "locations.priority": Staff(LocationFields, "priority"),
    "locations.group": Staff(LocationFields, "group"),
    "locations.daily_order_capacity": Staff(LocationFields, "daily_order_capacity"),
    "locations.cost_base_minor": Staff(LocationFields, "cost_base_minor"),
    "locations.cost_per_km_minor": Staff(LocationFields, "cost_per_km_minor"),
    "locations.email": Staff(LocationFields, "email"),
    "locations.task_queue": Derived("set by operators for a location with its own workers, never by a request"),
    "order_events.id": IDENTITY,
    "order_intake.order_id": ORDER_ID,
    "order_intake.channel": CHANNEL,
    "order_intake.attempts": COUNTER,
    "order_events.order_id": ORDER_ID,
    "order_events.kind": Derived("the engine's own event names (status:<status>, payment_<outcome>, ...)"),
    "orders.order_id": ORDER_ID,
    "orders.channel": CHANNEL,
    "orders.external_id": Intake("external_id"),
    "orders.reference": Intake("reference"),
    "orders.status": Derived("a domain.status.OrderStatus", _enum_longest(OrderStatus)),
    "orders.currency": CURRENCY,
    "orders.total_minor": Intake("total"),
    "orders.shipping_minor": Intake("shipping"),
    "orders.discount_minor": Intake("discount"),
    "orders.customer_email": Intake("customer_email"),
    "orders.buyer_company": Staff(OrderCreate, "buyer_company"),  # POST /orders only (no channel sends it yet)
    "orders.buyer_vat_id": Staff(OrderCreate, "buyer_vat_id"),
    "orders.email_key": Derived("domain.lookup.email_key: the e-mail lower-cased, '' past EMAIL", limits.EMAIL),
    "orders.postcode_key": Derived("domain.lookup.postcode_key: '' past POSTCODE", limits.POSTCODE),
    "orders.charges_minor": Derived(
        "Order.charges, refused past MAX_AMOUNT_MINOR (domain.limits)", limits.MAX_AMOUNT_MINOR
    ),
    "orders.fulfilled_by": Derived("one of domain.order.FULFILMENT_MODES", _enum_longest(FULFILMENT_MODES)),
    "order_versions.order_id": ORDER_ID,
    "order_versions.number": COUNTER,
    "order_versions.changed_by": Derived("a staff member's label (their account's e-mail) or a channel's name"),
    "order_versions.total_minor": Derived(
        "the edited order's total, refused past MAX_AMOUNT_MINOR", ORDER_AMOUNT.longest
    ),
    "order_versions.currency": CURRENCY,
    "order_lines.order_id": ORDER_ID,
    "order_lines.line_no": Derived("the line's position on an order (bodies are size-capped)"),
    "order_lines.sku": Intake("sku"),
    "order_lines.quantity": Intake("quantity"),
    "order_lines.unit_price_minor": Intake("amount"),
    "order_lines.total_minor": Intake("amount"),
    "order_lines.external_line_id": Intake("external_line_id"),
    "payment_links.link_id": Derived(
        "a provider's payment link id, refused past its limit by the gateway", limits.PAYMENT_LINK_ID
    ),
    "payment_links.order_id": ORDER_ID,
    "payment_links.owner": Derived("the return waiting for the link (its return id)", LONGEST_RETURN_ID),
    "payment_links.purpose": Derived("what the link pays for (exchange)", len("exchange")),
    "payment_links.provider": Derived("the gateway's name (mollie)"),
    "payment_links.url": Derived("where the customer pays, as the provider gives it (Mollie: about 60 characters)"),
    "payment_links.status": Derived("domain.payment_links.LinkStatus", _enum_longest(LinkStatus)),
    "payment_links.currency": CURRENCY,
    "payment_links.amount_minor": ORDER_AMOUNT,
    "payment_links.payment_id": Derived(
        "the payment it becomes: payment-<order id>-x<the return's number>",
        len(extra_payment_id("o" * LONGEST_ORDER_ID, f"x{limits.MAX_UNITS}")),
    ),
    "payment_movements.id": IDENTITY,
    "payment_movements.payment_id": Derived("a payments.payment_id (its limit)", limits.PAYMENT_ID),
    "payment_movements.order_id": ORDER_ID,
    "payment_movements.kind": Derived(
        "captured, refunded or voided", _enum_longest(("captured", "refunded", "voided"))
    ),
    "payment_movements.amount_minor": ORDER_AMOUNT,
    "payment_movements.currency": CURRENCY,
    "payments.payment_id": Derived(
        "payment-<order id>[-x<the return's number>]",
        len(extra_payment_id("o" * LONGEST_ORDER_ID, f"x{limits.MAX_UNITS}")),
    ),
    "payments.order_id": ORDER_ID,
    "payments.provider": Derived("the gateway's name (sandbox, stripe)"),
    "payments.provider_ref": Derived("the gateway's id of the payment (Stripe: about 30 characters)"),
    "payments.status": Derived("the engine's payment statuses (AUTHORIZED, CAPTURED, ...)"),
    "payments.currency": CURRENCY,
    "payments.authorized_minor": ORDER_AMOUNT,
    "payments.captured_minor": ORDER_AMOUNT,
    "payments.voided_minor": ORDER_AMOUNT,
    "payments.refunded_minor": ORDER_AMOUNT,
    "payments.purpose": Derived("domain.payments.PaymentPurpose", _enum_longest(PaymentPurpose)),
    "payments.return_id": Derived("return-<order id>-<n>", LONGEST_RETURN_ID),
    "products.sku": Staff("PUT /catalogue/{sku}", "sku"),
    "products.name": Staff(ProductPut, "name"),
    "products.vat_category": Derived("one of domain.vat's categories (PUT /catalogue)", _enum_longest(DUTCH_RATES)),
    "products.ean": Derived("a GTIN with a verified check digit (at most 14 digits)", 14),
    "products.unit_cost_currency": CURRENCY,
    "products.unit_cost_minor": Derived("a unit cost (MoneyBody: at most MAX_AMOUNT_MINOR)", limits.MAX_AMOUNT_MINOR),
    "returns.return_id": Derived("return-<order id>-<n>", LONGEST_RETURN_ID),
    "returns.order_id": ORDER_ID,
    "returns.status": Derived("the engine's return statuses (REFUNDED, REFUND_ON_CHANNEL, ...)"),
    "returns.currency": CURRENCY,
    "returns.refund_minor": ORDER_AMOUNT,
    "returns.requested_by": Derived("the staff user taking the return"),
    "returns.state": Derived("domain.return_lifecycle.ReturnState", _enum_longest(ReturnState)),
    "returns.rma": Derived("RMA-XXXXX-XXXXX-<n>", len(rma_number("o", limits.MAX_UNITS))),
    "returns.sequence": COUNTER,
    "returns.source": Derived(
        "support, customer or a channel's name", _enum_longest((*CHANNELS, "support", "customer"))
    ),
    "returns.external_rma": Derived("a channel's return id, refused past CHANNEL_RMA", limits.CHANNEL_RMA),
    "returns.refund_timing": Derived("domain.return_lifecycle.RefundTiming", _enum_longest(RefundTiming)),
    "returns.resolution": Staff(ReturnBody, "resolution"),
    "returns.location_id": Staff(ReceiveBody, "location_id"),
    "returns.over_refunded_minor": ORDER_AMOUNT,
    "returns.difference_minor": Derived("a replacement's price (staff-priced) less what came"),
    "returns.difference_status": Derived("a payment status, or REJECTED", _enum_longest((*PaymentStatus, "REJECTED"))),
    "returns.replacement_shipment_id": Derived(
        "shipment-<order id>-<location id>-x<the return's number>",
        len(shipment_id_for("o" * LONGEST_ORDER_ID, "L" * limits.LOCATION_ID, exchange=f"x{limits.MAX_UNITS}")),
    ),
    "return_refund_bases.order_id": ORDER_ID,
    "sandbox_stock_feed.id": IDENTITY,
    "sandbox_stock_feed.channel": CHANNEL,
    "sandbox_stock_feed.sku": SKU,
    "sandbox_stock_feed.quantity": Derived("ATP, capped at a 32-bit count", limits.INTEGER_MAX),
    "sandbox_stock_feed.sequence": COUNTER,
    "shipment_notices.shipment_id": SHIPMENT_ID,
    "shipment_notices.order_id": ORDER_ID,
    "shipment_notices.id": IDENTITY,
    "shipment_notices.channel": CHANNEL,
    "shipment_notices.attempts": COUNTER,
    "shipments.shipment_id": SHIPMENT_ID,
    "shipments.order_id": ORDER_ID,
    "shipments.location_id": LOCATION,
    "shipments.status": Derived("the engine's shipment statuses", _enum_longest(ShipmentStatus)),
    "shipments.carrier": Staff(ShippedBody, "carrier"),
    "shipments.tracking_number": Staff(ShippedBody, "tracking_number"),
    "shipments.label_ref": Staff(ShippedBody, "label_ref"),
    "shipments.fulfilment_cost_minor": Derived(
        "a location's cost profile over at most half the earth",
        limits.MAX_UNITS + limits.MAX_UNITS * EARTH_HALF_CIRCUMFERENCE_KM,
    ),
    "shipments.transfer_to": LOCATION,
    "shipments.kind": Derived("a domain.fulfilment.ShipmentKind", _enum_longest(ShipmentKind)),
    "shipments.label_status": Derived("pending, ready or refused", _enum_longest(("pending", "ready", "refused"))),
    "return_labels.return_id": Derived("return-<order id>-<n>", LONGEST_RETURN_ID),
    "return_labels.order_id": ORDER_ID,
    "return_labels.rma": Derived(
        "RMA-<5>-<5>-<n> (domain.return_lifecycle.rma_number)", len(f"RMA-{'X' * 11}-{limits.MAX_UNITS}")
    ),
    "return_labels.status": Derived(
        "ready, pending, refused or none", _enum_longest(("ready", "pending", "refused", "none"))
    ),
    "return_labels.shipment_id": SHIPMENT_ID,
    "return_labels.location_id": LOCATION,
    "return_labels.carrier": Derived("the carrier platform's code for the carrier (Sendcloud: postnl, dhl, ...)"),
    "return_labels.tracking_number": Derived("the carrier's tracking number (tens of characters)"),
    "return_labels.reference": Derived("sendcloud-return:<return id>[:<parcel id>]"),
    "return_labels.media_type": Derived("application/pdf", len("application/pdf")),
    "shipment_labels.shipment_id": SHIPMENT_ID,
    "shipment_labels.purpose": Derived("outbound or return", _enum_longest(("outbound", "return"))),
    "shipment_labels.carrier": Derived("the carrier platform's code for the carrier (Sendcloud: postnl, dhl, ...)"),
    "shipment_labels.tracking_number": Derived("the carrier's tracking number (tens of characters)"),
    "shipment_labels.reference": Derived("sendcloud:<Sendcloud shipment id> or sendcloud-return:<return id>"),
    "shipment_labels.media_type": Derived("application/pdf", len("application/pdf")),
    "shipments.parcels": Staff(PackedBody, "parcels"),
    "login_throttle.key": Derived(
        "account:<e-mail, at most EMAIL from the sign-in form> or address:<client IP>", len("account:") + limits.EMAIL
    ),
    "login_throttle.failures": COUNTER,
    "login_throttle.lockouts": COUNTER,
    "staff_users.id": Derived("a uuid4", 36),
    "staff_users.email": Derived("refused past EMAIL by domain.accounts.email_problem", limits.EMAIL),
    "staff_users.password_hash": Derived("an argon2id hash (pwdlib), about 100 characters"),
    "staff_users.role": Derived("a domain.staff.Role", _enum_longest(Role)),
    "staff_sessions.id_hash": Derived("SHA-256 hex of the session id", 64),
    "staff_sessions.user_id": Derived("a staff_users.id", 36),
    "staff_tokens.id": Derived("a uuid4", 36),
    "staff_tokens.user_id": Derived("a staff_users.id", 36),
    "staff_tokens.name": Derived("refused past TOKEN_NAME_MAX by services.accounts", TOKEN_NAME_MAX),
    "staff_tokens.role": Derived("a domain.staff.Role", _enum_longest(Role)),
    "staff_tokens.token_hash": Derived("SHA-256 hex of the token", 64),
    "staff_tokens.prefix": Derived("the token's first characters", len(TOKEN_PREFIX) + 4),
    "stock_levels.location_id": Staff(AdjustmentCreate, "location_id"),
    "stock_levels.sku": Staff(AdjustmentCreate, "sku"),
    "stock_levels.bin": Derived("typed on the pick list screen, refused past BIN by services.warehouse", limits.BIN),
    "stock_levels.on_hand": Staff(ReceiptCreate, "quantity"),
    "stock_levels.reserved": Derived("at most on_hand (a check constraint)"),
    "stock_levels.safety_stock": Staff(SafetyStockUpdate, "safety_stock"),
    "stock_levels.held": Derived("returned units held for refurbishing; an overflow is refused by the upsert"),
    "stock_movements.id": IDENTITY,
    "stock_movements.location_id": LOCATION,
    "stock_movements.sku": SKU,
    "stock_movements.kind": Derived("the ledger's kinds (receipt, reservation, counter_sale, ...)"),
    "stock_movements.on_hand_delta": Staff(TransferCreate, "quantity"),
    "stock_movements.reserved_delta": Derived("units of one SKU an order reserves (Intake bound)", limits.MAX_UNITS),
    "stock_movements.order_id": ORDER_ID,
    "stock_movements.reason": Derived("a staff reason (bounded by its schema) or the engine's own words"),
    "stock_movements.actor": Trimmed("a staff member's label, cut to fit (persistence.guarded_writes.inventory)"),
    "stock_movements.held_delta": Derived("returned units of one SKU held or released", limits.MAX_UNITS),
    "stock_write_offs.id": IDENTITY,
    "stock_write_offs.location_id": LOCATION,
    "stock_write_offs.sku": SKU,
    "stock_write_offs.quantity": Derived("returned units of one SKU written off", limits.MAX_UNITS),
    "stock_write_offs.reason": Derived("a scrap's reason, refused past LEDGER_REASON", limits.LEDGER_REASON),
    "stock_write_offs.source": Derived("return or held", len("return")),
    "stock_write_offs.order_id": ORDER_ID,
    "stock_write_offs.return_id": Derived("return-<order id>-<n>", LONGEST_RETURN_ID),
    "stock_write_offs.actor": Trimmed("a staff member's label, cut to fit (persistence.guarded_writes.held_stock)"),
    "supplier_returns.id": IDENTITY,
    "supplier_returns.location_id": LOCATION,
    "supplier_returns.sku": SKU,
    "supplier_returns.quantity": Derived("returned units of one SKU sent to the supplier", limits.MAX_UNITS),
    "supplier_returns.order_id": ORDER_ID,
    "supplier_returns.return_id": Derived("return-<order id>-<n>", LONGEST_RETURN_ID),
    "staff_actions.id": IDENTITY,
    "goodwill.goodwill_id": Derived(
        "goodwill-<order id>-<Idempotency-Key of at most 100, or 32 hex>",
        len("goodwill--") + LONGEST_ORDER_ID + limits.REQUEST_KEY,
    ),
    "goodwill.order_id": ORDER_ID,
    "goodwill.form": Derived("refund or store_credit", _enum_longest(GoodwillForm)),
    "goodwill.amount_minor": ORDER_AMOUNT,
    "goodwill.currency": CURRENCY,
    "goodwill.reason": Staff(GoodwillBody, "reason"),
    "goodwill.given_by": Derived("a staff member's label (an e-mail address at most)", limits.EMAIL),
    "goodwill.status": Derived("RESERVED, REFUNDED, CREDITED, REFUSED", len("RESERVED")),
    "store_credit_accounts.id": IDENTITY,
    "store_credit_accounts.shop": Staff(CreditIssue, "shop"),
    "store_credit_accounts.customer_key": Staff(CreditIssue, "email"),
    "store_credit_accounts.currency": CURRENCY,
    "store_credit_entries.id": IDENTITY,
    "store_credit_entries.account_id": IDENTITY,
    "store_credit_entries.entry_id": Derived(
        "<order id>:<step>:<n>[:<n>] or manual:<Idempotency-Key of at most 100>, then :expire:<n>",
        len("goodwill--:expire:999") + LONGEST_ORDER_ID + limits.REQUEST_KEY,
    ),
    "store_credit_entries.kind": Derived("issue, spend, reverse, expire", _enum_longest(CreditEntryKind)),
    "store_credit_entries.amount_minor": ORDER_AMOUNT,
    "store_credit_entries.currency": CURRENCY,
    "store_credit_entries.reason": Derived("domain.store_credit.CreditReason", _enum_longest(CreditReason)),
    "store_credit_entries.note": Staff(CreditIssue, "reason"),
    "store_credit_entries.order_id": ORDER_ID,
    "store_credit_entries.refers_to": Derived(
        "the entry id a reversal or expiry refers to", LONGEST_ORDER_ID + len(":credit-spend")
    ),
    "store_credit_entries.actor": Derived("a staff member's label (an e-mail address at most)", limits.EMAIL),
    "staff_actions.user_id": Trimmed("a user's id; the audit list cuts every value to fit"),
    "staff_actions.actor": Trimmed("a staff member's label (their e-mail)"),
    "staff_actions.role": Trimmed("a domain.staff.Role"),
    "staff_actions.via": Trimmed("session, token or admin token"),
    "staff_actions.method": Trimmed("an HTTP method"),
    "staff_actions.route": Trimmed("a route's template"),
    "staff_actions.action": Trimmed("a route's name in words"),
    "staff_actions.order_id": Trimmed("the order id a path names"),
    "staff_actions.shipment_id": Trimmed("the shipment id a path names"),
    "staff_actions.location_id": Trimmed("the location id a path names"),
    "staff_actions.sku": Trimmed("the SKU a path names"),
    "staff_actions.status": Derived("an HTTP status code", 599),
    "stock_outbox.id": IDENTITY,
    "stock_outbox.sku": SKU,
    "stock_outbox.attempts": COUNTER,
}


def _limited_columns() -> Iterator[tuple[str, Any]]:
    for table in Base.metadata.sorted_tables:
        for column in table.columns:
            if (isinstance(column.type, String) and not isinstance(column.type, Text)) or isinstance(
                column.type, Integer
            ):
                yield f"{table.name}.{column.name}", column


def _capacity(column: Any) -> int:
    kind = column.type
    if isinstance(kind, String):
        return int(kind.length or 0)
    return limits.BIGINT_MAX if isinstance(kind, BigInteger) else limits.INTEGER_MAX


def test_every_limited_column_is_guarded():
    unguarded = [name for name, _ in _limited_columns() if name not in GUARDS]
    assert not unguarded, f"columns without an edge test (add each to GUARDS with its probe): {unguarded}"
    gone = set(GUARDS) - {name for name, _ in _limited_columns()}
    assert not gone, f"GUARDS names columns that are no longer limited: {gone}"
    unprobed = [name for name, guard in GUARDS.items() if isinstance(guard, Intake) and guard.field not in PROBES]
    assert not unprobed, f"order columns without a probe through POST /orders and the mappers: {unprobed}"


DERIVED_WITH_A_BOUND = [
    (name, column)
    for name, column in _limited_columns()
    if isinstance(GUARDS.get(name), Derived) and GUARDS[name].longest is not None
]


@pytest.mark.parametrize(("name", "column"), DERIVED_WITH_A_BOUND, ids=[n for n, _ in DERIVED_WITH_A_BOUND])
def test_what_the_engine_derives_fits(name, column):
    guard = GUARDS[name]
    assert isinstance(guard, Derived) and guard.longest is not None
    assert guard.longest <= _capacity(column), f"{name}: {guard.why} can reach {guard.longest}"


def _bounds(model: Any, field: str) -> tuple[int | None, int | None]:
    """(max_length, le) of a pydantic field or Annotated type."""
    if isinstance(model, type) and issubclass(model, BaseModel):
        metadata = model.model_fields[field].metadata
    else:
        metadata = list(getattr(model, "__metadata__", ()))
    max_length = next((m.max_length for m in metadata if getattr(m, "max_length", None) is not None), None)
    le = next((m.le for m in metadata if getattr(m, "le", None) is not None), None)
    return max_length, le


@pytest.mark.parametrize(
    "name", [n for n, g in GUARDS.items() if isinstance(g, Staff) and not isinstance(g.model, str)]
)
def test_staff_schemas_bound_their_fields_within_the_column(name):
    guard = GUARDS[name]
    assert isinstance(guard, Staff)
    column = dict(_limited_columns())[name]
    max_length, le = _bounds(guard.model, guard.field)
    if isinstance(column.type, String):
        assert max_length is not None and max_length <= column.type.length, (name, max_length)
    else:
        assert le is not None and le <= limits.MAX_UNITS, (name, le)


# -- staff endpoints: n+1 and 2**31 are a 422 -------------------------------------------------------


@pytest.fixture
def staff_api(database) -> Iterator[TestClient]:
    settings = load_settings(database_url=database.url, admin_token=TOKEN, temporal_address="localhost:1")
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        yield client


def _location(**changes: Any) -> dict[str, Any]:
    return {"location_id": "AMS", "name": "Amsterdam", "kind": "warehouse", "country": "NL", **changes}


def _move(**changes: Any) -> dict[str, Any]:
    body = {"location_id": "AMS", "sku": "MUG", "delta": 1, "reason": "count", **changes}
    return {key: value for key, value in body.items() if value is not None}


STAFF_PROBES: list[tuple[str, str, str, Callable[[int], Any]]] = [
    # (column, method, path, body for a value of size n): the path may use {v}
    ("locations.location_id", "POST", "/locations", lambda n: _location(location_id="L" * n)),
    ("locations.name", "POST", "/locations", lambda n: _location(name="N" * n)),
    ("locations.postcode", "POST", "/locations", lambda n: _location(postcode="1" * n)),
    ("locations.group", "POST", "/locations", lambda n: _location(group="G" * n)),
    ("locations.priority", "POST", "/locations", lambda n: _location(priority=n)),
    ("locations.daily_order_capacity", "POST", "/locations", lambda n: _location(daily_order_capacity=n)),
    ("locations.cost_base_minor", "POST", "/locations", lambda n: _location(cost_base_minor=n)),
    ("locations.cost_per_km_minor", "POST", "/locations", lambda n: _location(cost_per_km_minor=n)),
    ("stock_levels.location_id", "POST", "/inventory/adjustments", lambda n: _move(location_id="L" * n)),
    ("stock_levels.sku", "POST", "/inventory/adjustments", lambda n: _move(sku="S" * n)),
    (
        "stock_levels.on_hand",
        "POST",
        "/inventory/receipts",
        lambda n: {"location_id": "AMS", "sku": "A", "quantity": n},
    ),
    ("stock_levels.safety_stock", "PUT", "/inventory/MUG/locations/AMS", lambda n: {"safety_stock": n}),
    (
        "stock_movements.on_hand_delta",
        "POST",
        "/inventory/transfers",
        lambda n: {"from_location_id": "A", "to_location_id": "B", "sku": "S", "quantity": n, "reason": "x"},
    ),
    ("products.name", "PUT", "/catalogue/MUG", lambda n: {"name": "N" * n}),
    ("products.vat_category", "PUT", "/catalogue/MUG", lambda n: {"name": "Mug", "vat_category": "s" * n}),
    ("orders.buyer_company", "POST", "/orders", lambda n: _canonical("buyer_company", "C" * n)),
    ("orders.buyer_vat_id", "POST", "/orders", lambda n: _canonical("buyer_vat_id", "DE" + "1" * (n - 2))),
    ("channel_listings.listing_id", "PUT", "/catalogue/MUG", lambda n: {"name": "Mug", "listings": {"bol": "1" * n}}),
    ("shipments.carrier", "POST", "/shipments/s-1/shipped", lambda n: _shipped(carrier="C" * n)),
    ("shipments.tracking_number", "POST", "/shipments/s-1/shipped", lambda n: _shipped(tracking_number="T" * n)),
    ("shipments.label_ref", "POST", "/shipments/s-1/shipped", lambda n: _shipped(label_ref="R" * n)),
    ("shipments.parcels", "POST", "/shipments/s-1/packed", lambda n: {"location_id": "AMS", "parcels": n}),
]


def _shipped(**changes: Any) -> dict[str, Any]:
    return {"location_id": "AMS", "carrier": "postnl", "tracking_number": "3S1", **changes}


def _column_limit(name: str) -> int:
    column = dict(_limited_columns())[name]
    return int(column.type.length or 0) if isinstance(column.type, String) else limits.MAX_UNITS


@pytest.mark.parametrize(("name", "method", "path", "body"), STAFF_PROBES, ids=[p[0] for p in STAFF_PROBES])
def test_staff_endpoints_refuse_what_their_columns_cannot_hold(staff_api, name, method, path, body):
    n = _column_limit(name)
    sizes = [n + 1] if isinstance(dict(_limited_columns())[name].type, String) else [n + 1, 2**31, 2**63]
    for size in sizes:
        response = staff_api.request(method, path, json=body(size), headers=STAFF)
        assert response.status_code == 422, (name, size, response.text)


@pytest.mark.parametrize("path", ["/catalogue/{v}"])
def test_a_sku_in_the_path_past_its_column_is_422(staff_api, path):
    assert staff_api.put(path.format(v="S" * (limits.SKU + 1)), json={"name": "x"}, headers=STAFF).status_code == 422


def test_trimmed_columns_keep_the_first_n_characters(database):
    keep_message(
        database.session_factory,
        "shopify",
        "k" * (limits.MESSAGE_KIND + 1),
        "{}",
        external_id="e" * (limits.EXTERNAL_ID + 1),
        outcome="o" * (limits.MESSAGE_OUTCOME + 1),
    )
    with database.session() as session:
        message = session.scalars(select(ChannelMessage)).one()
    assert (len(message.kind), len(message.external_id or ""), len(message.outcome)) == (
        limits.MESSAGE_KIND,
        limits.EXTERNAL_ID,
        limits.MESSAGE_OUTCOME,
    )


# -- orders coming in: each channel mapper and POST /orders -----------------------------------------


def _load(name: str) -> dict[str, Any]:
    return json.loads((DATA / name).read_text(), parse_float=Decimal)


def _nothing_known(_identifier: str) -> str | None:
    return None  # an empty catalogue: bol and Amazon lines keep their stand-in SKUs


PAYLOADS: dict[str, Callable[[], dict[str, Any]]] = {
    "shopify": lambda: _load("shopify_order.json"),
    "woocommerce": lambda: _load("woocommerce/order_docs_example.json"),
    "bol": lambda: _load("bol/order_fbr.json"),
    "amazon": lambda: _load("amazon/order_eu_mfn.json"),
}
MAPPERS: dict[str, Callable[[dict[str, Any]], Order]] = {
    "shopify": shopify.to_order,
    "woocommerce": woocommerce.to_order,
    "bol": lambda payload: bol.to_order(payload, _nothing_known),
    "amazon": lambda payload: amazon.to_order(payload, _nothing_known),
}


def _email(n: int) -> str:
    return "a" * (n - len("@example.com")) + "@example.com"


def _price(minor: int) -> str:
    return f"{Decimal(minor).scaleb(-2):.2f}"


def _one_unit(item: dict[str, Any], *fields: str) -> None:
    for field in fields:
        item[field] = 1


@dataclass(frozen=True)
class Probe:
    limit: int
    value: Callable[[int], Any]
    """A value of size n for the canonical order (POST /orders)."""
    stored: Callable[[OrderRecord], Any]
    named: str
    """What a refusal must mention."""
    beyond: tuple[int, ...] = ()
    """Sizes past the limit that must be refused; none: the column takes anything (Text)."""
    size: Callable[[Any], int] = len


def _line(record: OrderRecord) -> Any:
    return record.lines[0]


PROBES: dict[str, Probe] = {
    "external_id": Probe(limits.EXTERNAL_ID, lambda n: "1" * n, lambda r: r.external_id, "external.id", (1,)),
    "reference": Probe(limits.REFERENCE, lambda n: "R" * n, lambda r: r.reference, "reference", (1,)),
    "customer_email": Probe(limits.EMAIL, _email, lambda r: r.customer_email, "customer_email", (1,)),
    "sku": Probe(limits.SKU, lambda n: "S" * n, lambda r: _line(r).sku, "sku", (1,)),
    "external_line_id": Probe(
        limits.EXTERNAL_LINE_ID, lambda n: "1" * n, lambda r: _line(r).external_line_id, "external_line_id", (1,)
    ),
    "title": Probe(10_000, lambda n: "T" * n, lambda r: _line(r).title, "title"),
    "quantity": Probe(
        limits.MAX_LINE_QUANTITY, lambda n: n, lambda r: _line(r).quantity, "quantity", (1, 2**31), size=int
    ),
    "amount": Probe(
        limits.MAX_AMOUNT_MINOR, lambda n: n, lambda r: _line(r).unit_price_minor, "amount|price|total", (1, 2**63), int
    ),
    "total": Probe(limits.MAX_AMOUNT_MINOR, lambda n: n, lambda r: r.total_minor, "total", (1, 2**63), int),
    "shipping": Probe(limits.MAX_AMOUNT_MINOR, lambda n: n, lambda r: r.shipping_minor, "shipping", (1,), int),
    "discount": Probe(limits.MAX_AMOUNT_MINOR, lambda n: n, lambda r: r.discount_minor, "discount", (1,), int),
}

Setter = Callable[[dict[str, Any], int], None]


def _shopify_amount(payload: dict[str, Any], minor: int) -> None:
    item = payload["line_items"][0]
    item.update(price=_price(minor), quantity=1, discount_allocations=[], tax_lines=[])


def _woo_amount(payload: dict[str, Any], minor: int) -> None:
    payload["line_items"][0].update(total=_price(minor), total_tax="0.00", subtotal=_price(minor), quantity=1)


def _bol_amount(payload: dict[str, Any], minor: int) -> None:
    item = payload["orderItems"][0]
    item.update(unitPrice=Decimal(_price(minor)), totalPrice=Decimal(_price(minor)), quantity=1, discounts=[])
    payload["orderItems"] = [item]  # bol's total is the sum of the items: only this one


def _amazon_amount(payload: dict[str, Any], minor: int) -> None:
    item = payload["items"][0]
    item.update(QuantityOrdered=1, PromotionDiscount=None, PromotionDiscountTax=None)
    item["ItemPrice"] = {"CurrencyCode": "EUR", "Amount": _price(minor)}


def _size(probe: str, n: int) -> Any:
    return PROBES[probe].value(n)


# Where each channel carries each field (value of size n → payload). A field a channel does not send
# is named in NOT_SENT with the reason.
SETTERS: dict[str, dict[str, Setter]] = {
    "shopify": {
        "external_id": lambda p, n: p.update(id=int("1" * n)),
        "reference": lambda p, n: p.update(name="#" + "1" * (n - 1)),
        "customer_email": lambda p, n: p.update(email=_email(n), contact_email=_email(n)),
        "sku": lambda p, n: p["line_items"][0].update(sku="S" * n),
        "external_line_id": lambda p, n: p["line_items"][0].update(id=int("1" * n)),
        "title": lambda p, n: p["line_items"][0].update(title="T" * n),
        "quantity": lambda p, n: p["line_items"][0].update(quantity=n),
        "amount": _shopify_amount,
        "total": lambda p, n: p.update(total_price=_price(n)),
    },
    "woocommerce": {
        "external_id": lambda p, n: p.update(id=int("1" * n)),
        "reference": lambda p, n: p.update(number="R" * n),
        "customer_email": lambda p, n: p["billing"].update(email=_email(n)),
        "sku": lambda p, n: p["line_items"][0].update(sku="S" * n),
        "external_line_id": lambda p, n: p["line_items"][0].update(id=int("1" * n)),
        "title": lambda p, n: p["line_items"][0].update(name="T" * n),
        "quantity": lambda p, n: p["line_items"][0].update(quantity=n),
        "amount": _woo_amount,
        "total": lambda p, n: p.update(total=_price(n)),
    },
    "bol": {
        "external_id": lambda p, n: p.update(orderId="1" * n),
        "customer_email": lambda p, n: p["shipmentDetails"].update(email=_email(n)),
        # An EAN the catalogue does not know keeps the stand-in SKU "ean:<ean>".
        "sku": lambda p, n: p["orderItems"][0]["product"].update(ean="8" * (n - len("ean:"))),
        "external_line_id": lambda p, n: p["orderItems"][0].update(orderItemId="1" * n),
        "title": lambda p, n: p["orderItems"][0]["product"].update(title="T" * n),
        "quantity": lambda p, n: p["orderItems"][0].update(quantity=n, quantityCancelled=0),
        "amount": _bol_amount,
    },
    "amazon": {
        "external_id": lambda p, n: p["order"].update(AmazonOrderId="1" * n),
        "customer_email": lambda p, n: p["order"].update(BuyerInfo={"BuyerEmail": _email(n)}),
        # A SellerSKU the catalogue does not know keeps the stand-in SKU "amazon-sku:<SellerSKU>".
        "sku": lambda p, n: p["items"][0].update(SellerSKU="S" * (n - len("amazon-sku:"))),
        "external_line_id": lambda p, n: p["items"][0].update(OrderItemId="1" * n),
        "title": lambda p, n: p["items"][0].update(Title="T" * n),
        "quantity": lambda p, n: p["items"][0].update(QuantityOrdered=n),
        "amount": _amazon_amount,
        "total": lambda p, n: p["order"].update(OrderTotal={"CurrencyCode": "EUR", "Amount": _price(n)}),
    },
}
NOT_SENT = {
    ("bol", "reference"): "bol's order id is the reference (the external_id probe)",
    ("amazon", "reference"): "Amazon's order id is the reference (the external_id probe)",
    ("bol", "total"): "bol's total is the sum of its items (the amount probe)",
    **{
        (channel, field): "parsed by domain.money like every channel amount (the amount probe)"
        for channel in SETTERS
        for field in ("shipping", "discount")
    },
}
INTEGER_IDS = {
    (channel, field): "a JSON integer on the channel (a 64-bit id): at most 20 digits, far inside the column"
    for channel in ("shopify", "woocommerce")
    for field in ("external_id", "external_line_id")
}
CASES = [
    (channel, field)
    for channel in SETTERS
    for field in PROBES
    if (channel, field) not in NOT_SENT and (channel, field) not in INTEGER_IDS
]


def test_every_channel_sends_every_field_or_says_why_not():
    missing = [(c, f) for c in SETTERS for f in PROBES if f not in SETTERS[c] and (c, f) not in NOT_SENT]
    assert not missing


@pytest.mark.parametrize(("channel", "field"), sorted(INTEGER_IDS), ids=[f"{c}-{f}" for c, f in sorted(INTEGER_IDS)])
def test_integer_ids_fit_their_columns_at_the_channels_largest(database, channel, field):
    payload = copy.deepcopy(PAYLOADS[channel]())
    largest = 2**63 - 1
    if field == "external_id":
        payload["id"] = largest
    else:
        payload["line_items"][0]["id"] = largest
    record = _stored(database, MAPPERS[channel](payload))
    stored = record.external_id if field == "external_id" else _line(record).external_line_id
    assert stored == str(largest) and len(str(2**64)) <= PROBES[field].limit


def _mapped(channel: str, field: str, n: int) -> Order:
    payload = copy.deepcopy(PAYLOADS[channel]())
    SETTERS[channel][field](payload, n)
    return MAPPERS[channel](payload)


def _stored(database: Any, order: Order) -> OrderRecord:
    with UnitOfWork(database.session_factory) as uow:
        assert order_store.record_order(uow.session, order, datetime.now(UTC))
        uow.commit()
    with database.session() as session:
        record = order_store.get_order(session, order.order_id)
        assert record is not None
        return record


@pytest.mark.parametrize(("channel", "field"), CASES, ids=[f"{c}-{f}" for c, f in CASES])
def test_each_channel_mapper_at_the_limit_maps_and_is_stored_whole(database, channel, field):
    probe = PROBES[field]
    order = _mapped(channel, field, probe.limit)
    record = _stored(database, order)
    assert probe.size(probe.stored(record)) == probe.limit


@pytest.mark.parametrize(
    ("channel", "field"),
    [case for case in CASES if PROBES[case[1]].beyond],
    ids=[f"{c}-{f}" for c, f in CASES if PROBES[f].beyond],
)
def test_each_channel_mapper_past_the_limit_refuses_naming_the_field(channel, field):
    probe = PROBES[field]
    for past in probe.beyond:
        size = probe.limit + past if past == 1 else past
        with pytest.raises((InvalidOrder, ValidationError, MoneyError)) as refused:
            _mapped(channel, field, size)
        if not (field in ("amount", "total") and isinstance(refused.value, MoneyError)):
            # Money's own refusal of an amount with too many digits names the amount itself.
            assert _names(str(refused.value), probe.named), (channel, field, size, str(refused.value)[:300])


def _names(message: str, named: str) -> bool:
    return re.search(named, message) is not None


# -- POST /orders ------------------------------------------------------------------------------------


def _canonical(field: str, value: Any) -> dict[str, Any]:
    line: dict[str, Any] = {"sku": "MUG", "quantity": 1, "unit_price": {"amount_minor": 1250, "currency": "EUR"}}
    body: dict[str, Any] = {"channel": "webshop", "external_id": f"L-{next_id()}", "currency": "EUR", "lines": [line]}
    money = {"amount_minor": value, "currency": "EUR"}
    if field in ("sku", "quantity", "title"):
        line[field] = value
    elif field == "amount":
        line["unit_price"] = money
    elif field in ("total", "shipping", "discount"):
        body[field] = money
        body.setdefault("total", {"amount_minor": 1250, "currency": "EUR"})  # else computed from them
    else:
        body[field] = value
    return body


API_FIELDS = [field for field in PROBES if field != "external_line_id"]
"""The canonical order has no line ids of the channel's."""


@pytest.fixture
def order_api(database, temporal_server: DevServer) -> Iterator[TestClient]:
    settings = load_settings(
        database_url=database.url,
        admin_token=TOKEN,
        temporal_address=temporal_server.address,
        task_queue=f"column-limits-{uuid.uuid4()}",
    )
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        yield client


@pytest.mark.parametrize("field", API_FIELDS)
async def test_post_orders_at_the_limit_is_202_and_is_stored_whole(order_api, database, temporal_client, field):
    probe = PROBES[field]
    response = order_api.post("/orders", json=_canonical(field, probe.value(probe.limit)), headers=STAFF)
    assert response.status_code == 202, response.text
    history = await started_history(temporal_client, response.json()["order_id"])
    started = history.events[0].workflow_execution_started_event_attributes
    [start] = await temporal_client.data_converter.decode(started.input.payloads, [OrderWorkflowInput])
    record = _stored(database, start.order)  # what the workflow's first step will write
    assert probe.size(probe.stored(record)) == probe.limit


@pytest.mark.parametrize("field", [field for field in API_FIELDS if PROBES[field].beyond])
def test_post_orders_past_the_limit_is_422_naming_the_field(staff_api, field):
    probe = PROBES[field]
    for past in probe.beyond:
        size = probe.limit + past if past == 1 else past
        response = staff_api.post("/orders", json=_canonical(field, probe.value(size)), headers=STAFF)
        assert response.status_code == 422, (field, size, response.text)
        assert _names(json.dumps(response.json()), probe.named.replace("amount|price|total", "amount_minor"))


def test_a_line_total_that_overflows_is_422_not_a_stuck_order(staff_api):
    body = _canonical("amount", limits.MAX_AMOUNT_MINOR)
    body["lines"][0]["quantity"] = 2  # each unit fits, the line does not
    response = staff_api.post("/orders", json=body, headers=STAFF)
    assert response.status_code == 422, response.text
    assert "lines[1].total" in response.json()["detail"]["message"]


def test_stock_on_hand_never_passes_a_32_bit_count(staff_api):
    for location in ("AMS", "UTR"):
        assert staff_api.post("/locations", json=_location(location_id=location), headers=STAFF).status_code == 201
        for _ in range(2):
            receipt = {"location_id": location, "sku": "A", "quantity": limits.MAX_UNITS}
            assert staff_api.post("/inventory/receipts", json=receipt, headers=STAFF).status_code == 201
    refused = staff_api.post(
        "/inventory/receipts", json={"location_id": "AMS", "sku": "A", "quantity": limits.MAX_UNITS}, headers=STAFF
    )
    assert refused.status_code == 422, refused.text
    assert "more than a stock record holds" in refused.json()["detail"]["message"]
    moved = {"from_location_id": "UTR", "to_location_id": "AMS", "sku": "A", "quantity": limits.MAX_UNITS}
    transfer = staff_api.post("/inventory/transfers", json={**moved, "reason": "rebalance"}, headers=STAFF)
    assert transfer.status_code == 422, transfer.text
    levels = staff_api.get("/inventory/A", headers=STAFF).json()["locations"]
    assert {level["location_id"]: level["on_hand"] for level in levels} == {"AMS": 2 * 10**9, "UTR": 2 * 10**9}
