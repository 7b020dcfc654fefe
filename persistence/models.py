"""Tables: stock truth (levels + ledger), idempotency records, and the order read model.

Column sizes come from domain.limits, which every edge checks input against too."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    false,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from domain import limits


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC in and out, on PostgreSQL and on SQLite (which forgets the zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime refused: times are UTC and timezone-aware")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


JSONDocument = JSON().with_variant(JSONB(), "postgresql")
# SQLite only auto-increments an INTEGER PRIMARY KEY; PostgreSQL gets a 64-bit identity.
Identity64 = BigInteger().with_variant(Integer(), "sqlite")


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    pass


class Location(Base):
    __tablename__ = "locations"

    location_id: Mapped[str] = mapped_column(String(limits.LOCATION_ID), primary_key=True)
    name: Mapped[str] = mapped_column(String(limits.LOCATION_NAME))
    kind: Mapped[str] = mapped_column(String(limits.LOCATION_KIND))
    country: Mapped[str] = mapped_column(String(limits.COUNTRY))
    postcode: Mapped[str] = mapped_column(String(limits.POSTCODE), default="")
    latitude: Mapped[float | None] = mapped_column(Float, nullable=True)
    longitude: Mapped[float | None] = mapped_column(Float, nullable=True)
    priority: Mapped[int] = mapped_column(Integer, default=100)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    group: Mapped[str] = mapped_column(String(limits.LOCATION_GROUP), default="", server_default="")
    ship_from_store: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    daily_order_capacity: Mapped[int | None] = mapped_column(Integer, nullable=True)
    cost_base_minor: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    cost_per_km_minor: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    task_queue: Mapped[str | None] = mapped_column(String(limits.TASK_QUEUE), nullable=True)
    """Its own Temporal task queue: its shipments run on workers there (None: the orders queue)."""
    # The sender address on its carrier labels (with name, postcode and country above).
    address_line1: Mapped[str] = mapped_column(Text, default="", server_default="")
    address_line2: Mapped[str] = mapped_column(Text, default="", server_default="")
    city: Mapped[str] = mapped_column(Text, default="", server_default="")
    phone: Mapped[str] = mapped_column(Text, default="", server_default="")
    email: Mapped[str] = mapped_column(String(limits.EMAIL), default="", server_default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (CheckConstraint("kind IN ('warehouse', 'store', 'dropship')", name="location_kind"),)


class StockLevel(Base):
    __tablename__ = "stock_levels"

    location_id: Mapped[str] = mapped_column(ForeignKey("locations.location_id"), primary_key=True)
    sku: Mapped[str] = mapped_column(String(limits.SKU), primary_key=True)
    on_hand: Mapped[int] = mapped_column(Integer, default=0)
    reserved: Mapped[int] = mapped_column(Integer, default=0)
    safety_stock: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    bin: Mapped[str | None] = mapped_column(String(limits.BIN), nullable=True)
    """Where on the location's shelves the SKU lies (aisle-rack-shelf, as the floor names it), for the pick list."""
    held: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    """Returned units here that may not be sold until a person releases them (refurbish): kept out
    of on_hand, so nothing that reads on_hand - reserved - safety_stock (sourcing, reservations,
    available-to-promise) can ever offer them."""

    # The last line of defence against oversell: even a faulty statement cannot commit this.
    __table_args__ = (
        CheckConstraint("on_hand >= 0", name="stock_on_hand_not_negative"),
        CheckConstraint("reserved >= 0", name="stock_reserved_not_negative"),
        CheckConstraint("reserved <= on_hand", name="stock_reserved_within_on_hand"),
        CheckConstraint("safety_stock >= 0", name="stock_safety_not_negative"),
        CheckConstraint("held >= 0", name="stock_held_not_negative"),
        Index("ix_stock_levels_sku", "sku"),
    )


class StockMovement(Base):
    """The stock ledger: every change to on_hand or reserved is a row, so levels can be rebuilt."""

    __tablename__ = "stock_movements"

    id: Mapped[int] = mapped_column(Identity64, primary_key=True, autoincrement=True)
    location_id: Mapped[str] = mapped_column(String(limits.LOCATION_ID))
    sku: Mapped[str] = mapped_column(String(limits.SKU))
    kind: Mapped[str] = mapped_column(String(limits.LEDGER_KIND))
    on_hand_delta: Mapped[int] = mapped_column(Integer, default=0)
    reserved_delta: Mapped[int] = mapped_column(Integer, default=0)
    held_delta: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    """Units into (+) or out of (-) the held, non-sellable count (StockLevel.held)."""
    order_id: Mapped[str | None] = mapped_column(String(limits.ORDER_ID), nullable=True)
    reason: Mapped[str] = mapped_column(String(limits.LEDGER_REASON), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    actor: Mapped[str] = mapped_column(String(limits.EMAIL), default="", server_default="")
    """The staff member who made the move (a receipt, count, transfer, safety stock change): their
    label (domain.staff.StaffMember.label); empty for what orders and workflows move."""

    __table_args__ = (
        Index("ix_stock_movements_sku_location", "sku", "location_id"),
        Index("ix_stock_movements_order", "order_id"),
    )


class StockWriteOff(Base):
    """Units that will never be sold: scrapped at the returns desk or after refurbishing failed.
    The source of the defects-per-SKU figure; the ledger has a row for each as well."""

    __tablename__ = "stock_write_offs"

    id: Mapped[int] = mapped_column(Identity64, primary_key=True, autoincrement=True)
    location_id: Mapped[str] = mapped_column(String(limits.LOCATION_ID))
    sku: Mapped[str] = mapped_column(String(limits.SKU))
    quantity: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(String(limits.LEDGER_REASON))
    source: Mapped[str] = mapped_column(String(limits.WRITE_OFF_SOURCE))
    """Where the units were written off from: "return" (the returns desk) or "held" (refurbishing)."""
    order_id: Mapped[str | None] = mapped_column(String(limits.ORDER_ID), nullable=True)
    return_id: Mapped[str | None] = mapped_column(String(limits.RETURN_ID), nullable=True)
    actor: Mapped[str] = mapped_column(String(limits.EMAIL), default="", server_default="")
    written_off_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (
        CheckConstraint("quantity > 0", name="write_off_quantity_positive"),
        Index("ix_stock_write_offs_at", "written_off_at"),
        Index("ix_stock_write_offs_sku", "sku", "written_off_at"),
    )


class SupplierReturn(Base):
    """Returned units sent on to the supplier (warranty, recall, consignment): they leave our stock
    without ever being sellable again here, and without counting as our write-off."""

    __tablename__ = "supplier_returns"

    id: Mapped[int] = mapped_column(Identity64, primary_key=True, autoincrement=True)
    location_id: Mapped[str] = mapped_column(String(limits.LOCATION_ID))
    sku: Mapped[str] = mapped_column(String(limits.SKU))
    quantity: Mapped[int] = mapped_column(Integer)
    order_id: Mapped[str | None] = mapped_column(String(limits.ORDER_ID), nullable=True)
    return_id: Mapped[str | None] = mapped_column(String(limits.RETURN_ID), nullable=True)
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (
        CheckConstraint("quantity > 0", name="supplier_return_quantity_positive"),
        Index("ix_supplier_returns_sku", "sku", "sent_at"),
    )


class StaffAction(Base):
    """The audit list: one row per state-changing request (POST, PUT, PATCH, DELETE) by an identified
    staff member, API and screens alike (api.staff_audit writes it once the request is answered).
    What and where, never a request body: the route's template, and the ids its path names."""

    __tablename__ = "staff_actions"

    id: Mapped[int] = mapped_column(Identity64, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    user_id: Mapped[str | None] = mapped_column(String(limits.STAFF_USER_ID), nullable=True)
    """None for the bootstrap admin token (OMS_ADMIN_TOKEN)."""
    actor: Mapped[str] = mapped_column(String(limits.EMAIL))
    role: Mapped[str] = mapped_column(String(limits.STAFF_ROLE))
    via: Mapped[str] = mapped_column(String(limits.STAFF_VIA))
    """session, token (a personal API token) or admin token."""
    method: Mapped[str] = mapped_column(String(limits.HTTP_METHOD))
    route: Mapped[str] = mapped_column(String(limits.ROUTE_TEMPLATE))
    action: Mapped[str] = mapped_column(String(limits.STAFF_ACTION))
    order_id: Mapped[str | None] = mapped_column(String(limits.ORDER_ID), nullable=True)
    shipment_id: Mapped[str | None] = mapped_column(String(limits.SHIPMENT_ID), nullable=True)
    location_id: Mapped[str | None] = mapped_column(String(limits.LOCATION_ID), nullable=True)
    sku: Mapped[str | None] = mapped_column(String(limits.SKU), nullable=True)
    status: Mapped[int] = mapped_column(Integer)

    __table_args__ = (Index("ix_staff_actions_at", "at"), Index("ix_staff_actions_actor_at", "actor", "at"))


class StockOutbox(Base):
    """A SKU whose available-to-promise changed: written in the same transaction as the change, so
    no change is ever missed, and delivered by the stock-feed workflow, which computes each
    channel's ATP from committed stock at delivery (a value computed inside the writing transaction
    could miss a concurrent change that commits later) and records here what it sent."""

    __tablename__ = "stock_outbox"

    id: Mapped[int] = mapped_column(Identity64, primary_key=True, autoincrement=True)
    sku: Mapped[str] = mapped_column(String(limits.SKU))
    atp: Mapped[dict[str, int] | None] = mapped_column(JSONDocument, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)

    __table_args__ = (Index("ix_stock_outbox_pending", "delivered_at", "id"), Index("ix_stock_outbox_sku", "sku", "id"))


class ChannelStockLevel(Base):
    """What each channel was last told it may sell of a SKU."""

    __tablename__ = "channel_stock_levels"

    channel: Mapped[str] = mapped_column(String(limits.CHANNEL), primary_key=True)
    sku: Mapped[str] = mapped_column(String(limits.SKU), primary_key=True)
    quantity: Mapped[int] = mapped_column(Integer)
    sequence: Mapped[int] = mapped_column(BigInteger)
    """Grows with every value sent for this channel and SKU, so the channel can drop stale ones."""
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class SandboxStockFeedEntry(Base):
    """What the sandbox stock-feed adapter of a channel received: the stand-in for the channel's API."""

    __tablename__ = "sandbox_stock_feed"

    id: Mapped[int] = mapped_column(Identity64, primary_key=True, autoincrement=True)
    channel: Mapped[str] = mapped_column(String(limits.CHANNEL))
    sku: Mapped[str] = mapped_column(String(limits.SKU))
    quantity: Mapped[int] = mapped_column(Integer)
    sequence: Mapped[int] = mapped_column(BigInteger)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (Index("ix_sandbox_stock_feed_channel_sku", "channel", "sku", "id"),)


class ChannelConfig(Base):
    """Per-channel routing policy, the locations it sells from and its safety stock."""

    __tablename__ = "channel_configs"

    channel: Mapped[str] = mapped_column(String(limits.CHANNEL), primary_key=True)
    config: Mapped[dict[str, Any]] = mapped_column(JSONDocument)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class BackorderWait(Base):
    """A backordered order waiting for a SKU: a restock of that SKU wakes it."""

    __tablename__ = "backorder_waits"

    order_id: Mapped[str] = mapped_column(String(limits.ORDER_ID), primary_key=True)
    sku: Mapped[str] = mapped_column(String(limits.SKU), primary_key=True)
    quantity: Mapped[int] = mapped_column(Integer)
    since: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (Index("ix_backorder_waits_sku", "sku"),)


class ActivityResult(Base):
    """One row per side-effecting workflow step: a retried activity finds it and returns it."""

    __tablename__ = "activity_results"

    key: Mapped[str] = mapped_column(String(limits.IDEMPOTENCY_KEY), primary_key=True)
    result: Mapped[dict[str, Any]] = mapped_column(JSONDocument)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class OrderRecord(Base):
    __tablename__ = "orders"

    order_id: Mapped[str] = mapped_column(String(limits.ORDER_ID), primary_key=True)
    channel: Mapped[str] = mapped_column(String(limits.CHANNEL))
    external_id: Mapped[str] = mapped_column(String(limits.EXTERNAL_ID))
    reference: Mapped[str] = mapped_column(String(limits.REFERENCE), default="")
    status: Mapped[str] = mapped_column(String(limits.STATUS))
    hold_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    currency: Mapped[str] = mapped_column(String(limits.CURRENCY))
    total_minor: Mapped[int] = mapped_column(BigInteger)
    shipping_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    discount_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    payment_collected: Mapped[bool] = mapped_column(Boolean, default=False)
    shipping_address: Mapped[dict[str, Any]] = mapped_column(JSONDocument, default=dict)
    customer_email: Mapped[str] = mapped_column(String(limits.EMAIL), default="")
    email_key: Mapped[str] = mapped_column(String(limits.EMAIL), default="", server_default="")
    """The customer's e-mail as support looks it up (domain.lookup.email_key): personal data, never logged."""
    postcode_key: Mapped[str] = mapped_column(String(limits.POSTCODE), default="", server_default="")
    """The shipping postcode as support looks it up (domain.lookup.postcode_key): personal data, never logged."""
    charges_minor: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    """Tips, duties and other charges beyond lines and shipping (Order.charges), so a refund can be
    worked out from the read model exactly; None on orders recorded before it was kept."""
    placed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    shipped_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    cancel_requested_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    """When the last parcel to the customer's address was delivered (domain.carrier_events.order_delivered_at)."""
    fulfilled_by: Mapped[str] = mapped_column(String(limits.FULFILLED_BY), default="us", server_default="us")
    buyer_company: Mapped[str | None] = mapped_column(String(limits.BUYER_COMPANY), nullable=True)
    """A business buyer's company name (invoices); None for a consumer. Personal data: never logged."""
    buyer_vat_id: Mapped[str | None] = mapped_column(String(limits.BUYER_VAT_ID), nullable=True)
    """A business buyer's VAT id (reverse charge, domain.vat); None for a consumer."""
    """Set (under the order row's lock) when a cancel is taken; a shipment about to leave checks it
    under the same lock, so a cancel and a handover never both win."""
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    # Loaded only where asked for (the API's order page): the activities' hot paths never need them,
    # and "raise_on_sql" turns an accidental lazy load there into an error instead of extra queries.
    lines: Mapped[list[OrderLineRecord]] = relationship(
        order_by="OrderLineRecord.line_no", cascade="all, delete-orphan", lazy="raise_on_sql"
    )
    shipments: Mapped[list[ShipmentRecord]] = relationship(order_by="ShipmentRecord.created_at", lazy="raise_on_sql")
    payments: Mapped[list[PaymentRecord]] = relationship(order_by="PaymentRecord.created_at", lazy="raise_on_sql")

    __table_args__ = (
        # Each list filter's index ends with the list's order and its key (received_at, order_id), so
        # a page is found in the index alone, however deep (persistence.read_model.orders.list_orders).
        Index("ix_orders_external_id", "external_id"),
        Index("ix_orders_reference", "reference"),
        Index("ix_orders_email_key", "email_key"),
        Index("ix_orders_postcode_key", "postcode_key"),
        Index("ix_orders_shipped", "shipped_at"),  # sold per period, receivables (reports)
    )


# Each list filter's index ends with the list's order and its key (received_at newest first, as
# stored: neither database sorts the page it walks; then order_id), so a page is found in the index
# alone, however deep (persistence.read_model.orders.list_orders). The received_at index also
# covers what the KPI report groups a window's orders by, so a 30-day window never reads the wide
# order rows (persistence.read_model.kpis).
Index(
    "ix_orders_status_received",
    OrderRecord.status,
    OrderRecord.received_at.desc(),
    OrderRecord.order_id,
    OrderRecord.channel,  # status and channel together: the channel is read from the index too
)
Index("ix_orders_channel_received", OrderRecord.channel, OrderRecord.received_at.desc(), OrderRecord.order_id)
Index(
    "ix_orders_received",
    OrderRecord.received_at.desc(),
    OrderRecord.order_id,
    OrderRecord.status,
    OrderRecord.channel,
    OrderRecord.currency,
    OrderRecord.shipped_at,
)


class OrderLineRecord(Base):
    __tablename__ = "order_lines"

    order_id: Mapped[str] = mapped_column(ForeignKey("orders.order_id"), primary_key=True)
    line_no: Mapped[int] = mapped_column(Integer, primary_key=True)
    sku: Mapped[str] = mapped_column(String(limits.SKU))
    quantity: Mapped[int] = mapped_column(Integer)
    unit_price_minor: Mapped[int] = mapped_column(BigInteger)
    total_minor: Mapped[int] = mapped_column(BigInteger)
    title: Mapped[str] = mapped_column(Text, default="")
    external_line_id: Mapped[str] = mapped_column(String(limits.EXTERNAL_LINE_ID), default="")

    __table_args__ = (Index("ix_order_lines_sku", "sku"),)


class ShipmentRecord(Base):
    __tablename__ = "shipments"

    shipment_id: Mapped[str] = mapped_column(String(limits.SHIPMENT_ID), primary_key=True)
    order_id: Mapped[str] = mapped_column(ForeignKey("orders.order_id"), index=True)
    location_id: Mapped[str] = mapped_column(String(limits.LOCATION_ID))
    status: Mapped[str] = mapped_column(String(limits.STATUS))
    carrier: Mapped[str | None] = mapped_column(String(limits.CARRIER), nullable=True)
    tracking_number: Mapped[str | None] = mapped_column(String(limits.TRACKING_NUMBER), nullable=True)
    label_ref: Mapped[str | None] = mapped_column(String(limits.LABEL_REF), nullable=True)
    lines: Mapped[dict[str, int]] = mapped_column(JSONDocument, default=dict)
    fulfilment_cost_minor: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    """What sourcing expected this parcel to cost (the location's cost profile), in order currency."""
    transfer_to: Mapped[str | None] = mapped_column(String(limits.LOCATION_ID), nullable=True)
    kind: Mapped[str] = mapped_column(String(limits.SHIPMENT_KIND), default="delivery", server_default="delivery")
    parcels: Mapped[int | None] = mapped_column(Integer, nullable=True)
    short_lines: Mapped[dict[str, int] | None] = mapped_column(JSONDocument, nullable=True)
    """Units the pick did not find (written off there, sourced again elsewhere)."""
    confirmed_by: Mapped[dict[str, str] | None] = mapped_column(JSONDocument, nullable=True)
    """Who confirmed each step (step → user), when staff did."""
    ready_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    collected_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    """Click & collect sourced elsewhere: the store it goes to first."""
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    picked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    packed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    shipped_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    parcel_weights_grams: Mapped[list[int] | None] = mapped_column(JSONDocument, nullable=True)
    """What staff weighed at pack, one weight per parcel (the carrier label is priced by it)."""
    label_status: Mapped[str | None] = mapped_column(String(limits.STATUS), nullable=True)
    """None without a carrier integration; else pending (asked, no label yet), ready, or refused."""
    label_problem: Mapped[str | None] = mapped_column(Text, nullable=True)
    """Why the label is not there yet (the carrier's words), while pending or refused."""
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    carrier_reported_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    """When the carrier report that set the status happened: an older one arriving later moves nothing."""
    edit_withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    """An order edit took units off this shipment before it left (under the order row's lock): its
    handover stops, it is withdrawn and what it still should carry is reserved again."""

    __table_args__ = (Index("ix_shipments_tracking_number", "tracking_number"),)


class ShipmentLabel(Base):
    """A carrier label's document, kept in the database (production's file system is read-only)."""

    __tablename__ = "shipment_labels"

    shipment_id: Mapped[str] = mapped_column(ForeignKey("shipments.shipment_id"), primary_key=True)
    purpose: Mapped[str] = mapped_column(String(limits.STATUS), primary_key=True)
    """outbound (the parcel to the customer) or return (the customer's parcel back)."""
    carrier: Mapped[str] = mapped_column(String(limits.CARRIER))
    tracking_number: Mapped[str] = mapped_column(String(limits.TRACKING_NUMBER))
    reference: Mapped[str] = mapped_column(String(limits.LABEL_REF))
    """The carrier platform's id for it (sendcloud:<shipment id>)."""
    tracking_url: Mapped[str] = mapped_column(Text, default="")
    media_type: Mapped[str] = mapped_column(String(limits.STATUS))
    document: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class CarrierEventRecord(Base):
    """Every report a carrier (or a person) made about a parcel after the handover, once each:
    a redelivered webhook finds its row and changes nothing."""

    __tablename__ = "carrier_events"
    __table_args__ = (UniqueConstraint("carrier", "event_id", name="carrier_event_once"),)

    id: Mapped[int] = mapped_column(Identity64, primary_key=True, autoincrement=True)
    carrier: Mapped[str] = mapped_column(String(limits.CARRIER))
    event_id: Mapped[str] = mapped_column(String(limits.CARRIER_EVENT_ID))
    shipment_id: Mapped[str | None] = mapped_column(String(limits.SHIPMENT_ID), nullable=True, index=True)
    tracking_number: Mapped[str | None] = mapped_column(String(limits.TRACKING_NUMBER), nullable=True)
    status: Mapped[str | None] = mapped_column(String(limits.STATUS), nullable=True)
    description: Mapped[str] = mapped_column(Text, default="")
    outcome: Mapped[str] = mapped_column(String(limits.STATUS))
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class PaymentRecord(Base):
    """One payment of an order through our gateway. An order holds its own (`payment-<order id>`,
    purpose "order") and may hold extra ones: an exchange's difference charged on the same card
    (domain.payments.PaymentPurpose). Refunds spread over them (domain.refund_spread)."""

    __tablename__ = "payments"

    payment_id: Mapped[str] = mapped_column(String(limits.PAYMENT_ID), primary_key=True)
    order_id: Mapped[str] = mapped_column(ForeignKey("orders.order_id"), index=True)
    provider: Mapped[str] = mapped_column(String(limits.PAYMENT_PROVIDER))
    provider_ref: Mapped[str] = mapped_column(String(limits.PROVIDER_REF))
    status: Mapped[str] = mapped_column(String(limits.STATUS))
    currency: Mapped[str] = mapped_column(String(limits.CURRENCY))
    authorized_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    captured_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    voided_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    refunded_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    purpose: Mapped[str] = mapped_column(String(limits.PAYMENT_PURPOSE), default="order", server_default="order")
    """domain.payments.PaymentPurpose: the order itself, or an exchange's difference."""
    return_id: Mapped[str | None] = mapped_column(String(limits.RETURN_ID), nullable=True)
    """The return whose exchange this payment's difference paid for (extra payments only)."""


class PaymentMovement(Base):
    """A dated change of a payment's money: captured, refunded or voided (positive amounts). The
    payment row keeps the running totals; this ledger says on which day each part moved, for the
    books' reconciliation and the money reports. Written by persistence.guarded_writes.payment_ledger
    in the flush that changes the totals, so no writer can forget it."""

    __tablename__ = "payment_movements"

    id: Mapped[int] = mapped_column(Identity64, primary_key=True, autoincrement=True)
    payment_id: Mapped[str] = mapped_column(String(limits.PAYMENT_ID), index=True)
    order_id: Mapped[str] = mapped_column(String(limits.ORDER_ID))
    kind: Mapped[str] = mapped_column(String(limits.PAYMENT_MOVEMENT))
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(limits.CURRENCY))
    at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class PaymentLinkRecord(Base):
    """Money asked of the customer after checkout through a provider's payment link (an exchange's
    dearer replacement): open until paid, past its deadline, or called off (domain.payment_links).
    `owner` is the workflow that waits for it (a return id), told when the provider says it was paid."""

    __tablename__ = "payment_links"

    link_id: Mapped[str] = mapped_column(String(limits.PAYMENT_LINK_ID), primary_key=True)
    order_id: Mapped[str] = mapped_column(ForeignKey("orders.order_id"), index=True)
    owner: Mapped[str] = mapped_column(String(limits.RETURN_ID), index=True)
    purpose: Mapped[str] = mapped_column(String(limits.PAYMENT_LINK_PURPOSE))
    provider: Mapped[str] = mapped_column(String(limits.PAYMENT_PROVIDER))
    url: Mapped[str] = mapped_column(String(limits.PAYMENT_LINK_URL))
    status: Mapped[str] = mapped_column(String(limits.STATUS), index=True)
    currency: Mapped[str] = mapped_column(String(limits.CURRENCY))
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    payment_id: Mapped[str | None] = mapped_column(String(limits.PAYMENT_ID), nullable=True)
    """Our payment record of the money it brought in, once paid."""
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class DocumentNumberCounter(Base):
    """The last number issued in a series and year (domain.document_numbers). Its row is the lock
    every issue takes first, so two documents never read the same last number."""

    __tablename__ = "document_number_counters"

    series: Mapped[str] = mapped_column(String(limits.DOCUMENT_SERIES), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    last_number: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class IssuedDocumentNumber(Base):
    """A number given to an invoice or credit note: written once in the transaction that records the
    document, never changed or given again. `document_id` is unique: a document asking again finds
    its number here."""

    __tablename__ = "document_numbers"

    id: Mapped[int] = mapped_column(Identity64, primary_key=True, autoincrement=True)
    series: Mapped[str] = mapped_column(String(limits.DOCUMENT_SERIES))
    year: Mapped[int] = mapped_column(Integer)
    number: Mapped[int] = mapped_column(Integer)
    document_id: Mapped[str] = mapped_column(String(limits.DOCUMENT_ID))
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (
        UniqueConstraint("series", "year", "number", name="document_number_once"),
        UniqueConstraint("document_id", name="document_numbered_once"),
    )


class IssuedDocumentRecord(Base):
    """An invoice or credit note as issued (contracts.invoices.IssuedDocument): written once, in the
    transaction that took its number, never changed. `document` holds its lines and VAT per rate
    (contracts.invoices.document_json); the totals are columns for the books and reports."""

    __tablename__ = "invoices"

    document_id: Mapped[str] = mapped_column(String(limits.DOCUMENT_ID), primary_key=True)
    number: Mapped[str] = mapped_column(String(limits.DOCUMENT_NUMBER))
    kind: Mapped[str] = mapped_column(String(limits.STATUS))
    order_id: Mapped[str] = mapped_column(String(limits.ORDER_ID), index=True)
    channel: Mapped[str] = mapped_column(String(limits.CHANNEL))
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    currency: Mapped[str] = mapped_column(String(limits.CURRENCY))
    net_minor: Mapped[int] = mapped_column(BigInteger)
    vat_minor: Mapped[int] = mapped_column(BigInteger)
    gross_minor: Mapped[int] = mapped_column(BigInteger)
    reverse_charge: Mapped[bool] = mapped_column(Boolean, default=False)
    corrects: Mapped[str | None] = mapped_column(String(limits.DOCUMENT_NUMBER), nullable=True)
    shipment_id: Mapped[str | None] = mapped_column(String(limits.SHIPMENT_ID), nullable=True)
    return_id: Mapped[str | None] = mapped_column(String(limits.RETURN_ID), nullable=True)
    refund_key: Mapped[str | None] = mapped_column(String(limits.DOCUMENT_ID), nullable=True)
    document: Mapped[dict[str, Any]] = mapped_column(JSONDocument)
    buyer: Mapped[dict[str, Any]] = mapped_column(JSONDocument)

    __table_args__ = (UniqueConstraint("number", name="invoice_number_once"),)


class BookingRecord(Base):
    """What was booked in an accounting system for a day and currency (services.books): one row per
    `key` (a channel's sales entry), written after the system answered. Its unique key is what makes
    a re-run book nothing twice; a crash before this row is written is caught by looking the
    reference up at the system before posting."""

    __tablename__ = "bookings"

    id: Mapped[int] = mapped_column(Identity64, primary_key=True, autoincrement=True)
    system: Mapped[str] = mapped_column(String(limits.BOOKING_SYSTEM))
    day: Mapped[date] = mapped_column(Date)
    currency: Mapped[str] = mapped_column(String(limits.CURRENCY))
    key: Mapped[str] = mapped_column(String(limits.BOOKING_KEY))
    reference: Mapped[str] = mapped_column(String(limits.BOOKING_REFERENCE))
    external_id: Mapped[str] = mapped_column(String(limits.BOOKING_EXTERNAL_ID))
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    """The gross booked (VAT included; negative when the day's credit notes outweigh its sales)."""
    booked_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (UniqueConstraint("system", "day", "currency", "key", name="booking_once"),)


class AccountingToken(Base):
    """An accounting system's OAuth2 tokens (Exact Online rotates its refresh token on every use: the
    new one must be kept before the old is forgotten). Secrets: never logged or shown."""

    __tablename__ = "accounting_tokens"

    system: Mapped[str] = mapped_column(String(limits.BOOKING_SYSTEM), primary_key=True)
    refresh_token: Mapped[str] = mapped_column(Text)
    access_token: Mapped[str] = mapped_column(Text, default="")
    access_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class StoreCreditAccount(Base):
    """A customer's store credit at one shop, in one currency (domain.store_credit). Its row is the
    lock every write to the account's ledger takes first, so a spend is checked against entries no
    other writer is adding to."""

    __tablename__ = "store_credit_accounts"

    id: Mapped[int] = mapped_column(Identity64, primary_key=True, autoincrement=True)
    shop: Mapped[str] = mapped_column(String(limits.SHOP))
    customer_key: Mapped[str] = mapped_column(String(limits.EMAIL))
    """domain.lookup.email_key of the customer's address: personal data, never logged."""
    currency: Mapped[str] = mapped_column(String(limits.CURRENCY))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (UniqueConstraint("shop", "customer_key", name="store_credit_account_once"),)


class StoreCreditEntry(Base):
    """One line of an account's ledger: written once, never changed. `entry_id` is the writer's
    idempotency key, unique in the account: a retried write finds its entry there."""

    __tablename__ = "store_credit_entries"

    id: Mapped[int] = mapped_column(Identity64, primary_key=True, autoincrement=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("store_credit_accounts.id"))
    entry_id: Mapped[str] = mapped_column(String(limits.CREDIT_ENTRY_ID))
    kind: Mapped[str] = mapped_column(String(limits.CREDIT_KIND))
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(limits.CURRENCY))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    reason: Mapped[str | None] = mapped_column(String(limits.CREDIT_REASON), nullable=True)
    note: Mapped[str] = mapped_column(String(limits.LEDGER_REASON), default="")
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    order_id: Mapped[str] = mapped_column(String(limits.ORDER_ID), default="")
    refers_to: Mapped[str] = mapped_column(String(limits.CREDIT_ENTRY_ID), default="")
    actor: Mapped[str] = mapped_column(String(limits.EMAIL), default="")
    """Who issued it by hand (a staff member's label); "" for the engine."""

    __table_args__ = (
        UniqueConstraint("account_id", "entry_id", name="store_credit_entry_once"),
        Index("ix_store_credit_entries_order", "order_id"),
        Index("ix_store_credit_entries_expiry", "expires_at"),
    )


class GoodwillRecord(Base):
    """Goodwill given on an order without a return (domain.goodwill): reserved under the order's
    lock when support asks (so two requests at once cannot both take what is left), then refunded
    through the gateway or issued as store credit by its GoodwillWorkflow."""

    __tablename__ = "goodwill"

    goodwill_id: Mapped[str] = mapped_column(String(limits.GOODWILL_ID), primary_key=True)
    order_id: Mapped[str] = mapped_column(ForeignKey("orders.order_id"), index=True)
    form: Mapped[str] = mapped_column(String(limits.STATUS))
    """refund or store_credit (domain.goodwill.GoodwillForm)."""
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(limits.CURRENCY))
    reason: Mapped[str] = mapped_column(String(limits.LEDGER_REASON))
    given_by: Mapped[str] = mapped_column(String(limits.EMAIL))
    status: Mapped[str] = mapped_column(String(limits.STATUS))
    """RESERVED until done: REFUNDED, CREDITED, or REFUSED (the gateway refused; nothing was given)."""
    detail: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class OrderVersionRecord(Base):
    """One version of an order (domain.order_edits.OrderVersion): 1 as placed, one more per edit."""

    __tablename__ = "order_versions"

    order_id: Mapped[str] = mapped_column(ForeignKey("orders.order_id"), primary_key=True)
    number: Mapped[int] = mapped_column(Integer, primary_key=True)
    changes: Mapped[list[str]] = mapped_column(JSONDocument, default=list)
    changed_by: Mapped[str] = mapped_column(String(limits.EMAIL))
    """A person (their label) or the channel that asked."""
    reason: Mapped[str] = mapped_column(Text, default="", server_default="")
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    total_minor: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(limits.CURRENCY))
    payment: Mapped[dict[str, Any] | None] = mapped_column(JSONDocument, nullable=True)
    """How the money follows (void, refund, authorize in minor units; on_channel)."""


class OrderEvent(Base):
    """The order's timeline, as people read it on the order page."""

    __tablename__ = "order_events"

    id: Mapped[int] = mapped_column(Identity64, primary_key=True, autoincrement=True)
    order_id: Mapped[str] = mapped_column(String(limits.ORDER_ID), index=True)
    kind: Mapped[str] = mapped_column(String(limits.EVENT_KIND))
    detail: Mapped[str] = mapped_column(Text, default="")
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    # Which orders ever had an event of a kind (the KPI charts' backorder rate): an index-only look-up.
    __table_args__ = (Index("ix_order_events_kind_order", "kind", "order_id"),)


class Escalation(Base):
    """A shipment step that missed its deadline: ops see it until the step is done."""

    __tablename__ = "escalations"
    __table_args__ = (
        UniqueConstraint("shipment_id", "step", name="escalation_once_per_step"),
        Index("ix_escalations_raised", "raised_at"),  # late steps per day (KPI charts)
    )

    id: Mapped[int] = mapped_column(Identity64, primary_key=True, autoincrement=True)
    order_id: Mapped[str] = mapped_column(String(limits.ORDER_ID), index=True)
    shipment_id: Mapped[str] = mapped_column(String(limits.SHIPMENT_ID))
    location_id: Mapped[str] = mapped_column(String(limits.LOCATION_ID))
    step: Mapped[str] = mapped_column(String(limits.STEP))
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    raised_at: Mapped[datetime] = mapped_column(UTCDateTime)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class ReturnRecord(Base):
    """Goods a customer sends back: what, why, and the refund it led to."""

    __tablename__ = "returns"

    return_id: Mapped[str] = mapped_column(String(limits.RETURN_ID), primary_key=True)
    order_id: Mapped[str] = mapped_column(ForeignKey("orders.order_id"), index=True)
    status: Mapped[str] = mapped_column(String(limits.STATUS))
    lines: Mapped[dict[str, int]] = mapped_column(JSONDocument)
    reason: Mapped[str] = mapped_column(Text, default="")
    currency: Mapped[str] = mapped_column(String(limits.CURRENCY))
    refund_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    requested_by: Mapped[str] = mapped_column(String(limits.PERSON), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    refunded_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # The lifecycle (domain.return_lifecycle); NULL on returns taken in one step before it (1.x).
    state: Mapped[str | None] = mapped_column(String(limits.STATUS), nullable=True)
    rma: Mapped[str | None] = mapped_column(String(limits.RMA), nullable=True)
    sequence: Mapped[int | None] = mapped_column(Integer, nullable=True)
    """The return's number on its order (1, 2, ...): the RMA's last part."""
    source: Mapped[str] = mapped_column(String(limits.CHANNEL), default="support", server_default="support")
    """Who asked: support, the customer, or the channel that sent it (its name)."""
    external_rma: Mapped[str | None] = mapped_column(String(limits.EXTERNAL_ID), nullable=True)
    """The channel's own return id, for a return a channel sent us."""
    refund_timing: Mapped[str | None] = mapped_column(String(limits.STATUS), nullable=True)
    resolution: Mapped[str | None] = mapped_column(String(limits.STATUS), nullable=True)
    location_id: Mapped[str | None] = mapped_column(String(limits.LOCATION_ID), nullable=True)
    """Where the parcel was received."""
    received: Mapped[dict[str, dict[str, int]] | None] = mapped_column(JSONDocument, nullable=True)
    """Units received per SKU and condition."""
    short: Mapped[dict[str, int] | None] = mapped_column(JSONDocument, nullable=True)
    dispositions: Mapped[list[dict[str, Any]] | None] = mapped_column(JSONDocument, nullable=True)
    over_refunded_minor: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    """Refunded on request for units that never came: owed by the customer."""
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    replacement: Mapped[list[dict[str, Any]] | None] = mapped_column(JSONDocument, nullable=True)
    """An exchange's replacement lines as priced at the request: [{sku, quantity, unit_price_minor}]."""
    replacement_shipment_id: Mapped[str | None] = mapped_column(String(limits.SHIPMENT_ID), nullable=True)
    """The new shipment of the order that carries an exchange's replacement."""
    difference_minor: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    """What an exchange's replacement cost more than the returned units were worth: asked of the
    customer's card (the payment is the one whose return_id is this return's)."""
    difference_status: Mapped[str | None] = mapped_column(String(limits.STATUS), nullable=True)
    """AUTHORIZED when the card took it (the payment's own status tells from then on), DECLINED or
    REJECTED (a provider that cannot charge without the customer) when it did not."""

    __table_args__ = (
        Index("ix_returns_created", "created_at"),  # returns in a window (KPI report, charts)
        Index("ix_returns_state", "state", "created_at"),  # GET /returns?state=
        Index("ux_returns_rma", "rma", unique=True),
    )


class RefundBasis(Base):
    """The units an order's return refunds have paid for so far (domain.return_lifecycle.RefundStep):
    each refund is priced against it and moves it in the same transaction, so two returns never
    refund the same units and the refunds never exceed what the goods cost."""

    __tablename__ = "return_refund_bases"

    order_id: Mapped[str] = mapped_column(ForeignKey("orders.order_id"), primary_key=True)
    units: Mapped[dict[str, int]] = mapped_column(JSONDocument)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ReturnLabelRecord(Base):
    """A return's label (from the customer back to the location), asked of the carrier integration
    once per return: ready with its document, pending while the carrier has not answered (with the
    return it made, when it made one), refused in the carrier's words, or none (the customer ships
    it themselves). Its own table: the returns lifecycle owns `returns`."""

    __tablename__ = "return_labels"

    return_id: Mapped[str] = mapped_column(String(limits.RETURN_ID), primary_key=True)
    order_id: Mapped[str] = mapped_column(String(limits.ORDER_ID), index=True)
    rma: Mapped[str] = mapped_column(String(limits.RETURN_ID))
    status: Mapped[str] = mapped_column(String(limits.STATUS))
    """ready, pending, refused, or none (no carrier integration for this order: the customer ships it)."""
    shipment_id: Mapped[str | None] = mapped_column(String(limits.SHIPMENT_ID), nullable=True)
    """The parcel the goods left in."""
    location_id: Mapped[str | None] = mapped_column(String(limits.LOCATION_ID), nullable=True)
    """Where the goods go back to: the location that shipped them."""
    carrier: Mapped[str | None] = mapped_column(String(limits.CARRIER), nullable=True)
    tracking_number: Mapped[str | None] = mapped_column(String(limits.TRACKING_NUMBER), nullable=True)
    reference: Mapped[str | None] = mapped_column(String(limits.LABEL_REF), nullable=True)
    """The carrier platform's id of the return (sendcloud-return:<id>; while pending, the one it made)."""
    tracking_url: Mapped[str] = mapped_column(Text, default="")
    media_type: Mapped[str | None] = mapped_column(String(limits.STATUS), nullable=True)
    document: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True, deferred=True)
    problem: Mapped[str | None] = mapped_column(Text, nullable=True)
    """The carrier's words while pending or refused."""
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ChannelCursor(Base):
    """Where a pulled channel's next pull starts; saved only after the page's orders were started."""

    __tablename__ = "channel_cursors"

    channel: Mapped[str] = mapped_column(String(limits.CHANNEL), primary_key=True)
    cursor: Mapped[str | None] = mapped_column(Text, nullable=True)
    pulled_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    orders_seen: Mapped[int] = mapped_column(BigInteger, default=0)


class ChannelMessage(Base):
    """Every payload a channel sent us (webhook body or pulled order), kept for audit. Card data
    and secrets are removed before it is stored (integrations.channels.audit)."""

    __tablename__ = "channel_messages"

    id: Mapped[int] = mapped_column(Identity64, primary_key=True, autoincrement=True)
    channel: Mapped[str] = mapped_column(String(limits.CHANNEL))
    kind: Mapped[str] = mapped_column(String(limits.MESSAGE_KIND))
    """The webhook topic (orders/create, order.updated, ...) or "pull"."""
    external_id: Mapped[str | None] = mapped_column(String(limits.EXTERNAL_ID), nullable=True)
    order_id: Mapped[str | None] = mapped_column(String(limits.ORDER_ID), nullable=True)
    outcome: Mapped[str] = mapped_column(String(limits.MESSAGE_OUTCOME), default="")
    body: Mapped[str] = mapped_column(Text)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (
        Index("ix_channel_messages_order", "order_id"),
        Index("ix_channel_messages_channel", "channel", "id"),
    )


class OrderIntake(Base):
    """An order taken from a channel, kept in the request's own transaction before the 202 (services.intake):
    its workflow is started right after the answer, or later by the sweeper (services.intake_sweeper)
    when that start did not happen (Temporal away, the process gone). `workflow_input` is the
    OrderWorkflowInput as Temporal's default payload converter writes it (JSON), started as it is.
    Started rows are deleted after OMS_INTAKE_RETENTION; by then the order is in `orders`."""

    __tablename__ = "order_intake"

    order_id: Mapped[str] = mapped_column(String(limits.ORDER_ID), primary_key=True)
    channel: Mapped[str] = mapped_column(String(limits.CHANNEL))
    workflow_input: Mapped[str] = mapped_column(Text)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    """Starts the sweeper claimed it for (the request's own start is not counted)."""
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime)
    """When the sweeper may claim it: a moment after it was taken (the request's own start comes
    first), later after each failed start; a claim moves it on by a lease."""

    __table_args__ = (Index("ix_order_intake_due", "started_at", "next_attempt_at"),)


class _ChannelOutboxRow:
    """The columns every channel outbox shares (persistence.guarded_writes.channel_outbox works on both)."""

    id: Mapped[int] = mapped_column(Identity64, primary_key=True, autoincrement=True)
    channel: Mapped[str] = mapped_column(String(limits.CHANNEL))
    notice: Mapped[dict[str, Any]] = mapped_column(JSONDocument)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)


class ShipmentNoticeOutbox(_ChannelOutboxRow, Base):
    """A shipment that left, to be confirmed to the channel that sold the order (with tracking);
    written in the handover's own transaction, delivered by the channel feed."""

    __tablename__ = "shipment_notices"

    shipment_id: Mapped[str] = mapped_column(String(limits.SHIPMENT_ID), unique=True)
    order_id: Mapped[str] = mapped_column(String(limits.ORDER_ID))

    __table_args__ = (Index("ix_shipment_notices_pending", "delivered_at", "id"),)


class CancellationNoticeOutbox(_ChannelOutboxRow, Base):
    """An order of a channel's own that ended cancelled here, to be cancelled there too (or the
    customer's request confirmed); written in the same transaction as the CANCELLED status, at most
    once per order, delivered by the channel feed."""

    __tablename__ = "cancellation_notices"

    order_id: Mapped[str] = mapped_column(String(limits.ORDER_ID), unique=True)

    __table_args__ = (Index("ix_cancellation_notices_pending", "delivered_at", "id"),)


class Product(Base):
    """The catalogue on top of stock records: a name and an EAN (how Bol.com names a product)."""

    __tablename__ = "products"

    sku: Mapped[str] = mapped_column(String(limits.SKU), primary_key=True)
    name: Mapped[str] = mapped_column(String(limits.PRODUCT_NAME), default="")
    ean: Mapped[str | None] = mapped_column(String(limits.EAN), nullable=True, unique=True)
    vat_category: Mapped[str] = mapped_column(
        String(limits.VAT_CATEGORY), default="standard", server_default="standard"
    )
    """The VAT category its invoices charge (domain.vat: standard, reduced, zero); a SKU not in the
    catalogue is invoiced at standard."""
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    unit_cost_minor: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    """What one unit cost us (minor units of `unit_cost_currency`), for the stock value; None: not known."""
    unit_cost_currency: Mapped[str | None] = mapped_column(String(limits.CURRENCY), nullable=True)

    __table_args__ = (
        CheckConstraint(
            "(unit_cost_minor IS NULL AND unit_cost_currency IS NULL) OR "
            "(unit_cost_minor IS NOT NULL AND unit_cost_minor >= 0 AND unit_cost_currency IS NOT NULL)",
            name="product_unit_cost_whole",
        ),
    )


class ChannelListing(Base):
    """How a channel names one of our SKUs: an Amazon SellerSKU, a Bol.com offer id, ..."""

    __tablename__ = "channel_listings"
    __table_args__ = (UniqueConstraint("channel", "listing_id", name="channel_listing_once"),)

    channel: Mapped[str] = mapped_column(String(limits.CHANNEL), primary_key=True)
    sku: Mapped[str] = mapped_column(String(limits.SKU), primary_key=True)
    listing_id: Mapped[str] = mapped_column(String(limits.LISTING_ID))


class StaffAccount(Base):
    """A person who runs the shop: their role, the locations a warehouse user works at, and their
    password's hash (argon2, never the password)."""

    __tablename__ = "staff_users"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    email: Mapped[str] = mapped_column(String(limits.EMAIL), unique=True)
    """Lower case (domain.accounts.normal_email), so one address is one account."""
    password_hash: Mapped[str] = mapped_column(String(500))
    role: Mapped[str] = mapped_column(String(20))
    location_ids: Mapped[list[str]] = mapped_column(JSONDocument, default=list)
    disabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    password_changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_sign_in_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    __table_args__ = (CheckConstraint("role IN ('admin', 'support', 'warehouse', 'finance')", name="staff_user_role"),)


class StaffSessionRecord(Base):
    """A signed-in browser. Keyed by the SHA-256 of the session id the cookie carries: a copy of
    this table signs nobody in."""

    __tablename__ = "staff_sessions"

    id_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[str | None] = mapped_column(String(36), ForeignKey("staff_users.id"), nullable=True, index=True)
    """None: signed in with OMS_ADMIN_TOKEN (the bootstrap admin)."""
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class StaffToken(Base):
    """A personal API token: its owner, the role it carries (never above theirs), the SHA-256 of the
    token (the token itself is shown once and kept nowhere) and the first characters to recognise it."""

    __tablename__ = "staff_tokens"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(36), ForeignKey("staff_users.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    role: Mapped[str] = mapped_column(String(20))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    __table_args__ = (CheckConstraint("role IN ('admin', 'support', 'warehouse', 'finance')", name="staff_token_role"),)


class LoginThrottle(Base):
    """Failed sign-ins per key ("account:<email>", "address:<ip>"), shared by every API process
    (domain.accounts.Throttle)."""

    __tablename__ = "login_throttle"

    key: Mapped[str] = mapped_column(String(400), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    window_started_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    lockouts: Mapped[int] = mapped_column(Integer, default=0)


class OutboundEvent(Base):
    """An event for other systems (domain.outbound_events), written in the transaction of the change
    it tells of: a rolled-back change leaves none. The event-delivery workflow fans each out to the
    subscriptions that want it (`fanned_out_at`), so writing one costs the change a single insert."""

    __tablename__ = "outbound_events"

    seq: Mapped[int] = mapped_column(Identity64, primary_key=True, autoincrement=True)
    """The order events are delivered in, per ordering key."""
    event_id: Mapped[str] = mapped_column(String(limits.OUTBOUND_EVENT_ID), unique=True)
    type: Mapped[str] = mapped_column(String(limits.OUTBOUND_EVENT_TYPE))
    ordering_key: Mapped[str] = mapped_column(String(limits.ORDER_ID))
    """The order id (a SKU for stock.changed): a subscriber gets one key's events in order."""
    data: Mapped[dict[str, Any]] = mapped_column(JSONDocument)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime)
    fanned_out_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    __table_args__ = (
        Index("ix_outbound_events_fan_out", "fanned_out_at", "seq"),
        Index("ix_outbound_events_occurred", "occurred_at"),
    )


class EventSubscription(Base):
    """An endpoint that receives events, signed with its own secret (Standard Webhooks). The secret
    is kept as given out (it signs every delivery) and shown only at creation and on rotation."""

    __tablename__ = "event_subscriptions"

    subscription_id: Mapped[str] = mapped_column(String(limits.SUBSCRIPTION_ID), primary_key=True)
    url: Mapped[str] = mapped_column(String(limits.SUBSCRIPTION_URL))
    secret: Mapped[str] = mapped_column(String(limits.SUBSCRIPTION_SECRET))
    previous_secret: Mapped[str | None] = mapped_column(String(limits.SUBSCRIPTION_SECRET), nullable=True)
    """The secret before the last rotation: deliveries carry its signature too until
    `previous_secret_until`, so a consumer can switch to the new one without refusing any."""
    previous_secret_until: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    event_types: Mapped[list[str] | None] = mapped_column(JSONDocument, nullable=True)
    """The types it receives; None: every type."""
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    disabled_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    disabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class EventDelivery(Base):
    """One event owed to one subscription: pending until the endpoint answers 2xx. Per subscription
    and ordering key only the earliest pending one is sent, so a key's events arrive in order."""

    __tablename__ = "event_deliveries"

    id: Mapped[int] = mapped_column(Identity64, primary_key=True, autoincrement=True)
    subscription_id: Mapped[str] = mapped_column(String(limits.SUBSCRIPTION_ID))
    event_seq: Mapped[int] = mapped_column(BigInteger)
    event_id: Mapped[str] = mapped_column(String(limits.OUTBOUND_EVENT_ID))
    ordering_key: Mapped[str] = mapped_column(String(limits.ORDER_ID))
    state: Mapped[str] = mapped_column(String(limits.DELIVERY_STATE), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    first_failed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    """When the current run of failures began: the retry window counts from here."""
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_status_code: Mapped[int | None] = mapped_column(Integer, nullable=True)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (
        UniqueConstraint("subscription_id", "event_seq", name="event_delivered_once_per_subscription"),
        Index("ix_event_deliveries_pending", "subscription_id", "state", "ordering_key", "event_seq"),
        Index("ix_event_deliveries_due", "state", "next_attempt_at"),
    )


class EventDeliveryAttempt(Base):
    """Every POST of an event to a subscriber: the delivery log people read on the settings screen."""

    __tablename__ = "event_delivery_attempts"

    id: Mapped[int] = mapped_column(Identity64, primary_key=True, autoincrement=True)
    delivery_id: Mapped[int] = mapped_column(BigInteger)
    subscription_id: Mapped[str] = mapped_column(String(limits.SUBSCRIPTION_ID))
    event_id: Mapped[str] = mapped_column(String(limits.OUTBOUND_EVENT_ID))
    event_type: Mapped[str] = mapped_column(String(limits.OUTBOUND_EVENT_TYPE))
    attempt: Mapped[int] = mapped_column(Integer)
    status_code: Mapped[int | None] = mapped_column(Integer, nullable=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    response_ms: Mapped[int] = mapped_column(Integer)
    at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (Index("ix_event_delivery_attempts_subscription", "subscription_id", "id"),)
