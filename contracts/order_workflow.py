"""What goes in and out of an OrderWorkflow: its input, the state it carries to its next run, its
signals (cancel, release, stock available) and the live view its query answers."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from contracts.payments import PaymentResult
from domain.fulfilment import DEFAULT_PICKUP_EXPIRY, ShipmentStatus
from domain.order import Order
from domain.status import OrderStatus


@dataclass
class FulfilmentOptions:
    """How shipments run: confirmed by staff (or the sandbox by itself), and their deadlines."""

    auto_confirm: bool = True
    """The warehouse provider confirms each step itself (the sandbox, or a WMS integration)."""
    slas: dict[str, dict[str, int]] = field(default_factory=dict)
    """Seconds per step per location kind; empty: domain.fulfilment.DEFAULT_SLAS."""
    pickup_expiry_seconds: int = DEFAULT_PICKUP_EXPIRY


@dataclass
class OrderWorkflowInput:
    order: Order
    received_at: datetime
    return_window_seconds: int
    backorder_deadline_seconds: int | None = None
    """How long a backorder may wait for stock before it is cancelled (None: until a person acts)."""
    fulfilment: FulfilmentOptions | None = None
    history_limit: int | None = None
    """Events after which a long wait (a backorder) continues as a new run; None: DEFAULT_HISTORY_LIMIT."""
    carried: OrderCarried | None = None
    """Set when this run continues an earlier one of the same order: where that one was."""


DEFAULT_HISTORY_LIMIT = 10_000
"""Temporal warns at 10,240 events and ends a run at 51,200: a backorder woken day after day stays
far below either, however long it waits."""


@dataclass
class OrderCarried:
    """What an order's run hands to the run it continues as (continue-as-new while it waits for
    stock): everything it knows that the order itself does not say. The step counters go along so
    the new run's idempotency keys never repeat the old run's (a repeated key returns a stored
    result, which would be another step's)."""

    status: OrderStatus
    hold_reason: str | None
    payment: PaymentResult | None
    payment_status: str | None
    captured: int
    left_units: dict[str, int]
    """Units handed over so far: what they are worth (domain.allocation.charged_for) is what
    may be captured."""
    remaining: dict[str, int]
    reserved_rounds: int
    shipments: list[ShipmentState]
    steps: dict[str, int]
    backorder_deadline: datetime | None
    auto_cancel_days: int | None
    shipped_detail: str
    handed_over_any: bool
    shipping_started: bool
    not_collected: dict[str, int]
    total_accepted: ReleaseRequest | None = None
    runs: int = 1
    """How many runs this order has had before this one."""


@dataclass
class OrderWorkflowResult:
    order_id: str
    status: OrderStatus


@dataclass
class CancelRequest:
    reason: str = ""
    requested_by: str = ""
    """A person's name, the engine's own reason (domain.cancellation.BY_*), or the selling channel's
    name when the channel cancelled: then the channel is not told back (activities.orders)."""
    confirm_lines: list[str] = field(default_factory=list)
    """The channel's line ids whose cancellation the customer requested there and the channel wants
    confirmed (bol `cancellationRequest`): told to the channel although it asked for the cancel."""


@dataclass
class ReleaseRequest:
    note: str = ""
    released_by: str = ""
    accept_channel_total: bool = False
    """A person accepts the channel's total of an order held for a price mismatch (the note says
    why): it is what gets captured, shared over the lines; recorded on the timeline."""


@dataclass
class StockAvailable:
    sku: str


@dataclass
class ShipmentState:
    shipment_id: str
    location_id: str
    status: ShipmentStatus
    carrier: str | None = None
    tracking_number: str | None = None


@dataclass
class OrderState:
    """The live view of one order, answered by the workflow's query."""

    order_id: str
    status: OrderStatus
    hold_reason: str | None = None
    shipping_started: bool = False
    cancel_requested: bool = False
    payment_status: str | None = None
    shipments: list[ShipmentState] = field(default_factory=list)
    price_mismatch: bool = False
    """Held (among other reasons) because the channel's total does not reconcile: a release must
    accept the channel's total (ReleaseRequest.accept_channel_total), or the order is cancelled."""
