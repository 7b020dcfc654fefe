"""What goes in and out of an OrderWorkflow: its input, its state (which it carries to its next run),
its signals (cancel, release, stock available) and the live view its query answers."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import datetime

from contracts.inventory import ReservedShipment
from contracts.payments import PaymentResult
from domain.fulfilment import DEFAULT_PICKUP_EXPIRY, ShipmentStatus
from domain.order import Order
from domain.payments import PaymentStatus
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
    carried: OrderRun | None = None
    """Set when this run continues an earlier one of the same order: where that one was."""


DEFAULT_HISTORY_LIMIT = 10_000
"""Temporal warns at 10,240 events and ends a run at 51,200: a backorder woken day after day stays
far below either, however long it waits."""


PER_RUN = {"per_run": True}
"""Marks the OrderRun fields that belong to one run alone: the next run starts them afresh."""


@dataclass
class OrderRun:
    """The one state of an order's workflow: everything it knows that the order itself does not
    say. The same dataclass is what a run hands to the run it continues as (continue-as-new while it
    waits for stock): `handed_on` keeps every field except those marked PER_RUN (signals already
    acted on, the forward path's flags, shipments in hand, which a handover never has). The step
    counters go along so the new run's idempotency keys never repeat the old run's (a repeated key
    returns a stored result, which would be another step's)."""

    order_id: str = ""
    status: OrderStatus = OrderStatus.RECEIVED
    hold_reason: str | None = None
    payment: PaymentResult | None = None
    payment_status: PaymentStatus | None = None
    captured: int = 0
    """Minor units captured so far."""
    left_units: dict[str, int] = field(default_factory=dict)
    """Units handed over to carriers or customers so far, per SKU: what they are worth
    (domain.allocation.charged_for) is what may be captured."""
    remaining: dict[str, int] = field(default_factory=dict)
    """Units still to be reserved (the whole order at first, then a backordered remainder)."""
    reserved_rounds: int = 0
    shipments: dict[str, ShipmentState] = field(default_factory=dict)
    steps: dict[str, int] = field(default_factory=dict)
    """How often each kind of step has run: the idempotency keys' counters."""
    backorder_deadline: datetime | None = None
    auto_cancel_days: int | None = None
    shipped_detail: str = "everything shipped"
    handed_over_any: bool = False
    shipping_started: bool = False
    not_collected: dict[str, int] = field(default_factory=dict)
    total_accepted: ReleaseRequest | None = None
    """The release that accepted the channel's total of an order that does not reconcile."""
    runs: int = 0
    """How many runs this order has had before this one."""
    delivered_at: datetime | None = None
    """When the carrier (or a person) reported the last parcel to the customer delivered (signal `delivered`)."""
    edits: int = 0
    """Edits accepted (update `edit_order`): the order's version is this plus one."""
    edited_order: Order | None = None
    """The order as the last edit left it (None: as placed, the input's)."""
    extra_payments: list[PaymentResult] = field(default_factory=list)
    """Payments beside `payment` that an edit's increase was paid with (a payment link, already
    paid): the final capture takes from them what `payment` does not hold; their rest is given back."""
    extra_captured: int = 0
    """Minor units captured on `extra_payments` so far."""

    cancel: CancelRequest | None = field(default=None, metadata=PER_RUN)
    release: ReleaseRequest | None = field(default=None, metadata=PER_RUN)
    stock_arrived: bool = field(default=False, metadata=PER_RUN)
    may_unwind: bool = field(default=False, metadata=PER_RUN)
    """Inside the run's forward path, where a cancel unwinds to the compensation (not while
    compensating, settling or answering a return)."""
    price_mismatch: bool = field(default=False, metadata=PER_RUN)
    pending: list[ReservedShipment] = field(default_factory=list, metadata=PER_RUN)
    """Reserved shipments whose workflows have not started yet."""
    in_flight: dict[str, ReservedShipment] = field(default_factory=dict, metadata=PER_RUN)
    """Shipments whose workflows run, by shipment id."""
    withdrawn: bool = field(default=False, metadata=PER_RUN)
    resource_now: bool = field(default=False, metadata=PER_RUN)
    """A short pick came back: source the missing units elsewhere at once."""
    window_closes_at: datetime | None = field(default=None, metadata=PER_RUN)
    window_opened_at: datetime | None = field(default=None, metadata=PER_RUN)
    """When a returns window that follows the delivery opened (None: not open, or the 1.0 window)."""
    returns: int = field(default=0, metadata=PER_RUN)
    outside: str | None = field(default=None, metadata=PER_RUN)
    """How an order we do not ship is fulfilled (counter or channel); None: by us."""
    editing: bool = field(default=False, metadata=PER_RUN)
    """An edit is being applied: sourcing waits for it, and the run does not finish under it."""
    sourcing: bool = field(default=False, metadata=PER_RUN)
    """A reservation is under way: an edit waits for it to be taken."""
    held_at_intake: bool = field(default=False, metadata=PER_RUN)
    """Held by the checks before anything was reserved or charged, waiting for a person: an edit
    may change the order there, and it is checked again."""
    reauthorizing: bool = field(default=False, metadata=PER_RUN)
    """An edit is replacing the card's authorization (workflows.order.edits): captures and voids wait."""
    capturing: int = field(default=0, metadata=PER_RUN)
    """Captures under way: a re-authorization waits for them."""
    edit_link_open: bool = field(default=False, metadata=PER_RUN)
    """An edit waits for the customer to pay its payment link (workflows.order.edit_links): the run
    does not continue as new under it."""
    edit_withdrawn: list[str] = field(default_factory=list, metadata=PER_RUN)
    """Shipments an edit withdrew: their stop at the handover is the edit's, not a cancel."""

    def order_now(self, placed: Order) -> Order:
        """The order as it stands: the last edit's, else as placed."""
        return self.edited_order or placed

    def handed_on(self) -> OrderRun:
        """What the next run starts from: this state less what belongs to this run alone."""
        carried = OrderRun(**{f.name: getattr(self, f.name) for f in fields(self) if not f.metadata.get("per_run")})
        carried.runs += 1
        return carried

    def take_over(self, carried: OrderRun) -> None:
        """Start this run where the earlier one handed over, keeping what signals already brought."""
        for each in fields(carried):
            if not each.metadata.get("per_run"):
                setattr(self, each.name, getattr(carried, each.name))


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
class DeliveredNotice:
    """Every parcel of the order to the customer's address is delivered (services.deliveries): the
    returns window counts from `delivered_at` (domain.carrier_events.returns_window_closes_at)."""

    delivered_at: datetime


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
    payment_status: PaymentStatus | None = None
    shipments: list[ShipmentState] = field(default_factory=list)
    price_mismatch: bool = False
    """Held (among other reasons) because the channel's total does not reconcile: a release must
    accept the channel's total (ReleaseRequest.accept_channel_total), or the order is cancelled."""
    window_closes_at: datetime | None = None
    """When the returns window closes (None: not open yet)."""
    delivered_at: datetime | None = None
    version: int = 1
    """The order's version: 1 as placed, one more per accepted edit."""
