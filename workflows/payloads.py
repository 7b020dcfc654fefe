"""Inputs and results of every workflow, activity, signal and query (one dataclass in, one out).

Imports nothing heavy so the workflow sandbox can load it; fields may be added later with
defaults without breaking running workflows.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import ClassVar

from domain.fulfilment import DEFAULT_PICKUP_EXPIRY
from domain.money import Money
from domain.order import Order
from domain.sourcing import Destination
from domain.status import OrderStatus

# ApplicationError types the workflow branches on (never matched by message text).
PAYMENT_DECLINED = "PaymentDeclined"
PAYMENT_REJECTED = "PaymentRejected"
# Sent by the stock-feed activity, which cannot import the workflow class (it would import itself).
STOCK_AVAILABLE_SIGNAL = "stock_available"
# Staff confirmations of a shipment step (an update with a validator) and the withdrawal of a
# shipment the order no longer wants; named here so the API need not import the workflow.
CONFIRM_STEP_UPDATE = "confirm_step"
WITHDRAW_SIGNAL = "withdraw"
# The ApplicationError type a refused confirmation carries; its details hold the RefusalKind.
CONFIRMATION_REFUSED = "ConfirmationRefused"
# The ApplicationError type (non-retryable) of an activity whose write the database can never
# take (a value that does not fit its column): the message names the column, never the value.
STORAGE_REFUSED = "StorageRefused"


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
    shipment_workflows: bool
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
class ShipmentState:
    shipment_id: str
    location_id: str
    status: str
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


@dataclass
class RecordOrderInput:
    order: Order
    received_at: datetime


@dataclass
class RecordOrderResult:
    created: bool
    hold_reason: str | None = None
    """Set when the order could not be stored as sent: a placeholder row is ON_HOLD with this
    reason, and the workflow waits for a person (cancel, or release to try recording again)."""


@dataclass
class ValidateOrderInput:
    order: Order
    attempt: int
    at: datetime
    channel_total_accepted: ReleaseRequest | None = None
    """The release by which a person accepted the channel's total (who, why), if one did."""


@dataclass
class ValidateOrderResult:
    hold_reasons: list[str]
    price_mismatch: bool = False


@dataclass
class ChangeStatusInput:
    order_id: str
    status: OrderStatus
    idempotency_key: str
    at: datetime
    hold_reason: str | None = None
    detail: str = ""
    cancel: CancelRequest | None = None
    """With CANCELLED: the cancel being recorded, so the selling channel hears of it in the same
    transaction unless it made it itself. None: not said (steps scheduled before this existed)."""


@dataclass
class ChangeStatusResult:
    status: OrderStatus


@dataclass
class ReserveStockInput:
    order_id: str
    demand: dict[str, int]
    """What is still to be reserved (the whole order, or a backordered remainder)."""
    idempotency_key: str
    at: datetime
    channel: str = ""
    destination: Destination | None = None
    unit_values: dict[str, int] = field(default_factory=dict)
    round: int = 1
    """1 for the first reservation; later rounds (backordered remainders) get their own shipment ids."""


@dataclass
class ReservedShipment:
    shipment_id: str
    location_id: str
    lines: dict[str, int]
    transfer_to: str | None = None
    cost_minor: int = 0
    location_kind: str = "warehouse"
    task_queue: str | None = None
    """The location's own task queue (its workers run its ShipmentWorkflows); None: the order's."""


@dataclass
class ReserveStockResult:
    outcome: str
    """RESERVED (all), PARTIAL (some; `unfilled` waits), CONFLICT (lost a race: plan again),
    INSUFFICIENT (backorder), HOLD (a person decides) or CANCEL (the channel's routing says so)."""
    reason: str
    location_id: str | None = None
    shipment_id: str | None = None
    shipments: list[ReservedShipment] = field(default_factory=list)
    unfilled: dict[str, int] = field(default_factory=dict)
    auto_cancel_after_days: int | None = None

    RESERVED: ClassVar[str] = "reserved"
    PARTIAL: ClassVar[str] = "partial"
    CONFLICT: ClassVar[str] = "conflict"
    INSUFFICIENT: ClassVar[str] = "insufficient"
    HOLD: ClassVar[str] = "hold"
    CANCEL: ClassVar[str] = "cancel"

    def reserved_shipments(self, demand: dict[str, int]) -> list[ReservedShipment]:
        """The shipments reserved; results recorded before multi-location sourcing carried one
        location for the whole demand, and old histories must replay the same way."""
        if self.shipments:
            return list(self.shipments)
        if self.outcome == self.RESERVED and self.shipment_id and self.location_id:
            return [ReservedShipment(self.shipment_id, self.location_id, dict(demand))]
        return []


@dataclass
class ReleaseStockInput:
    order_id: str
    shipment_id: str
    location_id: str
    demand: dict[str, int]
    idempotency_key: str
    at: datetime


@dataclass
class ReleaseStockResult:
    released: bool


@dataclass
class ShipmentStepInput:
    order_id: str
    shipment_id: str
    location_id: str
    demand: dict[str, int]
    idempotency_key: str
    at: datetime


@dataclass
class ShipmentStepResult:
    shipment_id: str
    status: str
    carrier: str | None = None
    tracking_number: str | None = None
    label_ref: str | None = None


@dataclass
class AuthorizePaymentInput:
    order_id: str
    amount: Money
    payment_method: str
    idempotency_key: str
    at: datetime


@dataclass
class PaymentStepInput:
    order_id: str
    payment_id: str
    amount: Money
    idempotency_key: str
    at: datetime
    final: bool = True
    """For a capture: the last one, releasing what is left of the authorization with it."""


@dataclass
class PaymentResult:
    payment_id: str
    status: str
    amount: Money
    multicapture: bool = False
    """The authorization takes several partial captures (one per shipment as it leaves)."""


# -- shipments ------------------------------------------------------------------------------------


@dataclass
class ShipmentWorkflowInput:
    order_id: str
    shipment_id: str
    location_id: str
    location_kind: str
    lines: dict[str, int]
    kind: str
    """domain.fulfilment.ShipmentKind."""
    pickup_location_id: str | None = None
    auto_confirm: bool = True
    sla_seconds: dict[str, int] = field(default_factory=dict)
    pickup_expiry_seconds: int = DEFAULT_PICKUP_EXPIRY


@dataclass
class StepConfirmation:
    """What a warehouse or store user confirms: the step, where, and what it found."""

    step: str
    location_id: str
    quantities: dict[str, int] | None = None
    """pick: units picked per SKU (SKUs left out were picked in full); fewer than asked is a short pick."""
    parcels: int | None = None
    carrier: str | None = None
    tracking_number: str | None = None
    label_ref: str | None = None
    confirmed_by: str = ""


@dataclass
class ShipmentProgress:
    """The live state of a shipment, answered by its workflow's query and confirmation updates."""

    shipment_id: str
    order_id: str
    location_id: str
    kind: str
    status: str
    next_step: str | None
    lines: dict[str, int]
    carrier: str | None = None
    tracking_number: str | None = None
    escalated: list[str] = field(default_factory=list)


@dataclass
class ShipmentOutcome:
    shipment_id: str
    status: str
    """SHIPPED or COLLECTED (handed over), WITHDRAWN, EXPIRED, or CANCELLED (nothing found to pick)."""
    handed_over: dict[str, int] = field(default_factory=dict)
    short: dict[str, int] = field(default_factory=dict)
    """Units the pick did not find: written off there, to be sourced elsewhere."""
    released: dict[str, int] = field(default_factory=dict)
    carrier: str | None = None
    tracking_number: str | None = None
    cancelled_order: bool = False
    """The handover found the order cancelled (taken by the API before the workflow heard of it)."""


@dataclass
class ShipmentStepRequest:
    order_id: str
    shipment_id: str
    location_id: str
    step: str
    lines: dict[str, int]
    idempotency_key: str
    at: datetime
    confirmation: StepConfirmation | None = None
    """None: ask the warehouse provider (auto-confirm); else what staff confirmed."""
    due_at: datetime | None = None
    handover: bool = False
    """The goods leave our stock at this step (ship, or collect over the counter)."""


@dataclass
class AutoStepsRequest:
    order_id: str
    shipment_id: str
    location_id: str
    steps: list[str]
    handover_step: str
    lines: dict[str, int]
    idempotency_key: str
    at: datetime


@dataclass
class ShipmentStepDone:
    status: str
    lines: dict[str, int]
    """What the shipment carries after this step (a short pick carries less)."""
    short: dict[str, int] = field(default_factory=dict)
    carrier: str | None = None
    tracking_number: str | None = None
    label_ref: str | None = None


@dataclass
class CloseShipmentInput:
    order_id: str
    shipment_id: str
    location_id: str
    lines: dict[str, int]
    status: str
    """WITHDRAWN or EXPIRED: the pick request is withdrawn and the reservation released."""
    reason: str
    idempotency_key: str
    at: datetime


@dataclass
class EscalationInput:
    order_id: str
    shipment_id: str
    location_id: str
    step: str
    due_at: datetime
    idempotency_key: str
    at: datetime


@dataclass
class StockFeedInput:
    passes_before_continue: int = 500
    idle_seconds: float = 1.0
    """Between idle passes, in runs from before the activity waited for work itself."""
    batch_size: int = 200
    wait_for_work_seconds: float = 240.0
    """How long a pass that found nothing waits inside its activity for something to deliver."""


@dataclass
class PublishStockResult:
    delivered: int
    """Outbox rows delivered (or superseded by a newer row of the same SKU)."""
    failed: int
    """SKUs whose delivery failed this pass (they stay pending, in order)."""
    woken: int = 0
    """Backordered orders signalled that a SKU they wait for is available again."""


@dataclass
class StockAvailable:
    sku: str


@dataclass
class PullChannelInput:
    channel: str
    """A pulled channel (bol, amazon) whose credentials the worker has."""
    max_pages: int = 20
    """Pages taken in one run at most; the rest waits for the next scheduled run (from the cursor)."""


@dataclass
class PullChannelResult:
    channel: str
    pages: int = 0
    pulled: int = 0
    """Orders the channel handed over (new or changed since the cursor)."""
    started: int = 0
    duplicates: int = 0
    """Already known here (a repeated page, or a change to an order we have)."""
    cancelled: int = 0
    rejected: int = 0
    """Payloads that could not be mapped: kept in the audit (channel_messages) for a person."""
    more: bool = False
    """The channel had more than max_pages: the next run continues from the saved cursor."""
    overtaken: bool = False
    """Another pull moved the cursor first; this one stopped without saving (it would go backwards)."""


@dataclass
class DeliverNoticesInput:
    batch_size: int = 200


@dataclass
class DeliverNoticesResult:
    delivered: int
    """Notices the selling channel accepted (shipment confirmed, with tracking where there is one)."""
    failed: int
    """Notices refused (kept, attempts + 1) or met by a channel that is down (kept as they were)."""
    skipped: int
    """Notices closed because no confirmer is configured for their channel ("channel not connected")."""
    deferred: int = 0
    """Notices not tried this pass: their channel was down, throttled us, or refused them recently."""


@dataclass
class OutboxPassResult:
    """One stock-feed pass over every outbox (OutboxActivities.deliver_outboxes)."""

    stock: PublishStockResult
    shipments: DeliverNoticesResult
    cancellations: DeliverNoticesResult


# -- sold at the counter ----------------------------------------------------------------------------

# The ApplicationError type of a counter sale naming a store we do not know, a location that is not
# a store, or more units than a counter sells: the order waits on hold.
UNKNOWN_STORE = "UnknownStore"


@dataclass
class SellAtCounterInput:
    order_id: str
    location_id: str
    """The store whose counter sold the goods (the order's pickup_location_id)."""
    lines: dict[str, int]
    idempotency_key: str
    at: datetime


@dataclass
class SellAtCounterResult:
    taken: dict[str, int]
    """Units taken off the store's on_hand per SKU."""
    short: dict[str, int] = field(default_factory=dict)
    """Units sold that the record did not hold (a person counts the shelf)."""


# -- returns ---------------------------------------------------------------------------------------

RETURN_REFUSED = "ReturnRefused"
"""ApplicationError type of a refused return; its first detail is the domain.returns.ReturnRefusalKind."""


@dataclass
class ReturnRequestLine:
    sku: str
    quantity: int


@dataclass
class ReturnRequest:
    lines: list[ReturnRequestLine]
    reason: str = ""
    requested_by: str = "support"
    restock: bool = True
    """False: the goods are not fit to sell again (damaged): refunded, not put back on the shelf."""


@dataclass
class AcceptReturnInput:
    order: Order
    return_id: str
    lines: dict[str, int]
    reason: str
    requested_by: str
    restock: bool
    window_closes_at: datetime | None
    at: datetime
    shipped: dict[str, int] | None = None
    """Units that left to the customer when no shipment records them (a counter sale); None: the shipments."""
    restock_at: str | None = None
    """Where the goods go back when no shipment says (the store of a counter sale)."""


@dataclass
class RefundReturnInput:
    order_id: str
    return_id: str
    amount: Money
    at: datetime


@dataclass
class ReturnAccepted:
    return_id: str
    status: str
    refund: Money
