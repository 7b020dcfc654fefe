"""What goes in and out of a ReturnWorkflow: its input, the steps people take (updates), its live
view (query), and the activities that record each step (activities.return_lifecycle)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from temporalio import activity

from contracts.order_workflow import FulfilmentOptions
from contracts.returns import ReturnRequest
from domain.money import Money
from domain.order import Order


@dataclass
class OpenReturnInput:
    key: str
    """The step's idempotency key (the order workflow's step counter, or the channel's return id)."""
    order: Order
    request: ReturnRequest
    window_closes_at: datetime | None
    """None: nothing reached the customer yet; a channel return leaves the window to the channel."""
    at: datetime
    return_id: str | None = None
    """None: `return-<order id>-<n>`, n its number on the order, given in the database."""
    shipped: dict[str, int] | None = None
    """Units that left when no shipment records them (a counter sale); None: the shipments."""
    restock_at: str | None = None
    """Where goods go back when no shipment says (the store of a counter sale)."""
    check_window: bool = True


@dataclass
class OpenedReturn:
    return_id: str
    order_id: str
    rma: str
    state: str
    timing: str
    """domain.return_lifecycle.RefundTiming of the order's channel when the return was opened."""
    announced: dict[str, int]
    requested_at: datetime
    expires_at: datetime
    refund: Money
    """Due now (refunded on request); zero otherwise."""
    receive_at: str | None = None
    """Where goods already here (request.received) are received."""
    exchange_out_of_stock: str = "refund"
    """domain.exchanges.OutOfStockPolicy as set when the return was opened (OMS_EXCHANGE_OUT_OF_STOCK)."""
    exchange_wait_seconds: int | None = None
    """How long an exchange waits for its replacement as a backorder (OMS_BACKORDER_DEADLINE; None:
    until stock comes)."""


@dataclass
class ReturnWorkflowInput:
    order: Order
    request: ReturnRequest
    opened: OpenedReturn
    fulfilment: FulfilmentOptions | None = None
    """How an exchange's replacement shipment runs (the order's own options)."""


@dataclass
class ReturnDecision:
    """approve, reject or cancel: who decided, and why (a rejection's reason is shown to support)."""

    by: str
    reason: str = ""


@dataclass
class ReceivedLineInput:
    sku: str
    quantity: int
    condition: str = "as_new"


@dataclass
class ReceiveReturnRequest:
    location_id: str
    lines: list[ReceivedLineInput]
    by: str = "warehouse"


@dataclass
class DispositionLineInput:
    sku: str
    quantity: int
    disposition: str
    reason: str = ""


@dataclass
class DisposeReturnRequest:
    lines: list[DispositionLineInput]
    by: str = "warehouse"


@dataclass
class ExchangeDifference:
    """What an exchange whose replacement costs more asked of the customer's card."""

    amount: Money
    status: str
    """AUTHORIZED (held), CAPTURED (taken when the replacement left), VOIDED (released: it did not
    leave), DECLINED by the card, or REJECTED (a provider that cannot charge without the customer);
    asked with a payment link instead: AWAITING_PAYMENT, then AUTHORIZED once paid, or EXPIRED."""
    payment_id: str | None = None
    """The order's payment that took it (`payment-<order id>-x<n>`); None when it was not taken."""
    link: str | None = None
    """Where the customer pays it when their provider cannot charge without them (a Mollie payment
    link, open until `link_expires_at`)."""
    link_expires_at: datetime | None = None


@dataclass
class ReturnView:
    """A return as its workflow knows it (the query `view`, and every step's answer)."""

    return_id: str
    order_id: str
    rma: str
    state: str
    source: str
    announced: dict[str, int]
    refund: Money
    """Refunded (or noted as the channel's to refund) so far."""
    status: str = ""
    """The money side: REFUNDED or REFUND_ON_CHANNEL once settled, else empty."""
    external_rma: str | None = None
    location_id: str | None = None
    received: dict[str, dict[str, int]] = field(default_factory=dict)
    short: dict[str, int] = field(default_factory=dict)
    over_refunded: Money | None = None
    expires_at: datetime | None = None
    resolution: str = "refund"
    replacement_shipment_id: str | None = None
    """An exchange's new shipment of the order, once its replacement is reserved (the latest, when
    units that did not leave were sourced again)."""
    difference: ExchangeDifference | None = None
    """An exchange's difference charged (or asked and not taken) when its replacement costs more."""
    replacement_shipments: list[str] = field(default_factory=list)
    """Every shipment an exchange's replacement went out as, in order: the first, then one per
    sourcing again of units that did not leave (a short pick, a withdrawal)."""


@dataclass
class ReturnStepInput:
    """A step that changes only the state (approve, reject, cancel, expire, resolve)."""

    order: Order
    return_id: str
    state: str
    by: str
    at: datetime
    reason: str = ""


@dataclass
class ReturnStepDone:
    refund: Money
    """Due now (an approval on a channel that refunds on request); zero otherwise."""


@dataclass
class ReceiveReturnInput:
    order: Order
    return_id: str
    location_id: str
    lines: list[ReceivedLineInput]
    by: str
    at: datetime


@dataclass
class ReceivedReturn:
    received: dict[str, dict[str, int]]
    short: dict[str, int]
    refund: Money
    """Due now (refunded at receipt for what came); zero when it was refunded on request."""
    over_refunded: Money


@dataclass
class DisposeReturnInput:
    order_id: str
    return_id: str
    location_id: str
    lines: list[DispositionLineInput]
    by: str
    at: datetime


@dataclass
class DisposedReturn:
    sellable: dict[str, int]


@dataclass
class ExchangeNoteInput:
    """What became of an exchange: its replacement shipment (or none), on the return and the timeline."""

    order_id: str
    return_id: str
    kind: str
    """exchange_reserved, exchange_shipped, exchange_not_shipped, exchange_resourced, exchange_waiting,
    exchange_refunded_instead, or what became of a difference charged: exchange_difference_released
    (voided), exchange_difference_not_captured."""
    detail: str
    at: datetime
    shipment_id: str | None = None
    key: str = ""
    """What makes this note one of several of its kind (a shipment id, an attempt); empty: once per
    return and kind."""


@dataclass
class ExchangeNoted:
    kind: str


class ReturnLifecycle:
    """The steps of a return, recorded once each (activities.return_lifecycle implements them)."""

    @activity.defn
    def open_return(self, data: OpenReturnInput) -> OpenedReturn:
        raise NotImplementedError

    @activity.defn
    def record_return_step(self, data: ReturnStepInput) -> ReturnStepDone:
        raise NotImplementedError

    @activity.defn
    def receive_return(self, data: ReceiveReturnInput) -> ReceivedReturn:
        raise NotImplementedError

    @activity.defn
    def dispose_return(self, data: DisposeReturnInput) -> DisposedReturn:
        raise NotImplementedError

    @activity.defn
    def note_exchange(self, data: ExchangeNoteInput) -> ExchangeNoted:
        raise NotImplementedError
