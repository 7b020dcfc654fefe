"""Support takes goods back: the order's workflow checks the return against what really left,
restocks and refunds (OrderWorkflow.request_return); here, what its answers mean to the caller."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from contracts.errors import ErrorType
from contracts.return_lifecycle import (
    DisposeReturnRequest,
    ExchangeDifference,
    ReceiveReturnRequest,
    ReturnDecision,
    ReturnView,
    ReturnWorkflowInput,
)
from contracts.returns import ReturnAccepted, ReturnRequest
from domain import limits
from domain.money import Money
from domain.order import (
    CHANNELS,
    FULFILLED_AT_COUNTER,
    FULFILLED_BY_CHANNEL,
    FULFILLED_BY_US,
    InvalidOrder,
    Order,
    OrderLine,
)
from domain.return_lifecycle import ReturnState, ReturnStepRefusalKind
from domain.returns import ReturnRefusalKind, ReturnRefused, refund_for
from persistence.models import OrderRecord, PaymentLinkRecord, PaymentRecord, ReturnRecord, ShipmentRecord
from services.errors import Conflict, Failed, NotFound, Unprocessable, refused
from services.gateway import (
    EngineError,
    EngineUnavailable,
    UpdateFailed,
    WorkflowGateway,
    WorkflowNotFound,
    WorkflowNotRunning,
)
from services.unit_of_work import UnitOfWorkFactory

_UNPROCESSABLE = frozenset({ReturnRefusalKind.TOO_MANY.value, ReturnRefusalKind.INVALID.value})
_STEP_CONFLICTS = frozenset({ReturnStepRefusalKind.OUT_OF_ORDER.value, ReturnStepRefusalKind.FINISHED.value})
_STEP_UNPROCESSABLE = frozenset(kind.value for kind in ReturnStepRefusalKind) - _STEP_CONFLICTS
_LIFECYCLE_STATES = frozenset(state.value for state in ReturnState)


@dataclass(frozen=True)
class ReplacementShipment:
    """One shipment an exchange's replacement went out as (the first, or units sourced again)."""

    shipment_id: str
    location_id: str
    status: str
    lines: dict[str, int]
    """What it carries now: after a short pick, what was found."""

    @classmethod
    def of(cls, record: ShipmentRecord) -> ReplacementShipment:
        return cls(record.shipment_id, record.location_id, record.status, dict(record.lines))


@dataclass(frozen=True)
class ReturnSummary:
    """A return as the read model keeps it (lists, GET /returns/{id}); one taken in one step before
    the lifecycle (state NULL) shows its status as recorded (ACCEPTED, REFUNDED, REFUND_ON_CHANNEL)
    as its state, with no RMA."""

    return_id: str
    order_id: str
    rma: str
    state: str
    status: str
    """The money side: REFUNDED, REFUND_ON_CHANNEL or CREDITED once settled, else the state."""
    source: str
    external_rma: str | None
    lines: dict[str, int]
    reason: str
    refund: Money
    over_refunded: Money
    location_id: str | None
    received: dict[str, dict[str, int]]
    short: dict[str, int]
    created_at: datetime
    expires_at: datetime | None
    resolution: str = "refund"
    replacement_shipment_id: str | None = None
    """An exchange's new shipment of the order, once its replacement is reserved (the latest)."""
    difference: ExchangeDifference | None = None
    """What an exchange whose replacement costs more asked of the customer's card, and how it went."""
    replacement_shipments: tuple[ReplacementShipment, ...] = ()
    """Every shipment of the replacement, oldest first (GET /returns/{id} only, not the lists)."""

    @classmethod
    def of(
        cls,
        record: ReturnRecord,
        difference_payment: PaymentRecord | None = None,
        shipments: Iterable[ShipmentRecord] = (),
        links: Sequence[PaymentLinkRecord] = (),
    ) -> ReturnSummary:
        """`difference_payment`: the payment that took the exchange's difference (its status tells);
        `links`: the payment links the return opened to ask the customer for it (the latest shows)."""
        currency = record.currency
        difference = None
        if record.difference_minor is not None:
            paid = difference_payment
            link = links[-1] if links else None
            difference = ExchangeDifference(
                Money(record.difference_minor, currency),
                paid.status if paid is not None else record.difference_status or "",
                paid.payment_id if paid is not None else None,
                link.url if link is not None else None,
                link.expires_at if link is not None else None,
            )
        return cls(
            return_id=record.return_id,
            order_id=record.order_id,
            rma=record.rma or "",
            state=record.state or record.status,
            status=record.status,
            source=record.source,
            external_rma=record.external_rma,
            lines=dict(record.lines),
            reason=record.reason,
            refund=Money(record.refund_minor, currency),
            over_refunded=Money(record.over_refunded_minor, currency),
            location_id=record.location_id,
            received=dict(record.received or {}),
            short=dict(record.short or {}),
            created_at=record.created_at,
            expires_at=record.expires_at,
            resolution=record.resolution or "refund",
            replacement_shipment_id=record.replacement_shipment_id,
            difference=difference,
            replacement_shipments=tuple(ReplacementShipment.of(shipment) for shipment in shipments),
        )


def channel_return_id(order_id: str, channel: str, external_rma: str) -> str:
    """The workflow id of a channel's return: the same for every delivery of it (idempotent)."""
    return f"return-{order_id}-{channel}-{external_rma}"


@dataclass(frozen=True)
class ReturnableLine:
    """One SKU of the order, as a return form shows it."""

    sku: str
    title: str
    ordered: int
    shipped: int
    """Units that left to the customer (shipped, collected, or handed over at the counter)."""
    returned: int
    """Units already accepted back."""

    @property
    def left(self) -> int:
        """What may still come back."""
        return max(0, self.shipped - self.returned)


@dataclass(frozen=True)
class ReturnOptions:
    """What of an order may come back and what it would refund, from the read model: the form and
    its preview. The order's workflow checks again when the return is asked for (and the window)."""

    order_id: str
    status: str
    currency: str
    lines: list[ReturnableLine]
    returned: dict[str, int]
    order: Order | None = field(repr=False)
    """The order as priced (None: recorded without its lines, nothing to return)."""
    by_channel: bool = False
    """The channel shipped it (Amazon FBA, bol FBB): its returns go through the channel."""

    @property
    def refusal(self) -> str | None:
        """Why nothing of the order can be returned here, or None when something can."""
        if self.by_channel:
            return "the channel shipped this order: its returns go through the channel"
        if self.order is None or not any(line.shipped for line in self.lines):
            return "nothing of this order has reached the customer yet: nothing can be returned"
        if not any(line.left for line in self.lines):
            return "every unit that reached the customer has come back already"
        return None

    @property
    def returnable(self) -> bool:
        return self.refusal is None

    def problems(self, units: Mapping[str, int]) -> dict[str, str]:
        """Why these units cannot be asked back, per SKU ("" for the request as a whole); empty when they can."""
        found: dict[str, str] = {}
        by_sku = {line.sku: line for line in self.lines}
        for sku, quantity in units.items():
            line = by_sku.get(sku)
            if line is None:
                found[""] = f"{sku} is not on this order"
            elif quantity < 0:
                found[sku] = "cannot be below 0"
            elif quantity > line.left:
                found[sku] = (
                    f"only {line.left} of {sku} can come back "
                    f"({line.shipped} reached the customer, {line.returned} returned already)"
                )
        if not found and not any(quantity > 0 for quantity in units.values()):
            found[""] = "choose at least one unit to return"
        if self.refusal is not None:
            found[""] = self.refusal
        return found

    def refund(self, units: Mapping[str, int]) -> Money:
        """What these units refund, by the same rule the return will use (domain.returns.refund_for)."""
        if self.order is None:
            return Money.zero(self.currency)
        return refund_for(self.order, self.returned, {sku: n for sku, n in units.items() if n > 0})


def priced_order(record: OrderRecord) -> Order | None:
    """The order as refunds price it (lines, total, shipping, discounts, charges), rebuilt from its
    record; None for one recorded without lines. Charges not kept (orders recorded before they
    were) are what the total holds beyond lines, shipping and discounts: exact whenever they reconcile."""
    if not record.lines:
        return None
    currency = record.currency
    charges = record.charges_minor
    if charges is None:
        lines_total = sum(line.total_minor for line in record.lines)
        charges = max(0, record.total_minor - lines_total - record.shipping_minor + record.discount_minor)
    try:
        return Order(
            channel=record.channel,
            external_id=record.external_id,
            currency=currency,
            lines=tuple(
                OrderLine(
                    line.sku, line.quantity, Money(line.unit_price_minor, currency), Money(line.total_minor, currency)
                )
                for line in record.lines
            ),
            placed_at=record.placed_at,
            total=Money(record.total_minor, currency),
            shipping=Money(record.shipping_minor, currency),
            discount=Money(record.discount_minor, currency),
            charges=Money(charges, currency),
        )
    except InvalidOrder:
        return None


class Returns:
    def __init__(
        self,
        units: UnitOfWorkFactory,
        workflows: WorkflowGateway,
        *,
        task_queue: str = "orders",
        expiry: timedelta = timedelta(days=30),
    ) -> None:
        """`task_queue`, `expiry`: where a channel's return runs and how long its RMA waits."""
        self._units = units
        self._workflows = workflows
        self._task_queue = task_queue
        self._expiry = expiry

    def options(self, order_id: str) -> ReturnOptions:
        """What of the order may come back and what it refunds (NotFound)."""
        with self._units(read_only=True) as uow:
            record = uow.orders.get(order_id)
            if record is None:
                raise NotFound(f"no order {order_id}")
            returned = uow.returns.returned_so_far(order_id)
            shipped = uow.returns.shipped_units(order_id)
            ordered: dict[str, int] = {}
            titles: dict[str, str] = {}
            for line in record.lines:
                ordered[line.sku] = ordered.get(line.sku, 0) + line.quantity
                titles.setdefault(line.sku, line.title)
            if record.fulfilled_by == FULFILLED_AT_COUNTER:
                shipped = dict(ordered)  # handed over at the counter: it all left with the customer
            order = priced_order(record)
            status, currency, by_channel = record.status, record.currency, record.fulfilled_by == FULFILLED_BY_CHANNEL
        lines = [
            ReturnableLine(sku, titles[sku], quantity, shipped.get(sku, 0), returned.get(sku, 0))
            for sku, quantity in ordered.items()
        ]
        return ReturnOptions(order_id, status, currency, lines, returned, order, by_channel)

    async def request(self, order_id: str, request: ReturnRequest) -> ReturnAccepted:
        """NotFound; Conflict or Unprocessable with the refusal's kind; Failed when the workflow took
        the return and could not complete it; EngineUnavailable."""

        def status() -> str | None:
            # Read in its own short unit of work: none may be open while the workflow's steps write.
            with self._units(read_only=True) as uow:
                recorded = uow.orders.status_of(order_id)
            return None if recorded is None else recorded.value

        recorded = await asyncio.to_thread(status)
        if recorded is None:
            raise NotFound(f"no order {order_id}")
        try:
            return await self._workflows.request_return(order_id, request)
        except UpdateFailed as exc:
            if exc.error_type == ErrorType.RETURN_REFUSED:
                kind = exc.refusal or ReturnRefusalKind.NOT_SHIPPED.value
                raise refused(exc.refused_because, kind, _UNPROCESSABLE) from None
            raise Failed(f"the return could not be completed: {exc.reason}") from None
        except (WorkflowNotFound, WorkflowNotRunning):
            # The order's workflow has ended: its returns window closed (or it was cancelled).
            message = f"order {order_id} is {recorded}: its returns window is closed"
            raise Conflict(message, refusal=ReturnRefusalKind.WINDOW_CLOSED.value) from None
        except EngineError:
            raise EngineUnavailable() from None

    # -- the lifecycle ---------------------------------------------------------------------------

    async def open_channel_return(self, order_id: str, request: ReturnRequest) -> ReturnAccepted:
        """A return a channel sent (bol.com, ...): recorded against what left and what is claimed,
        and its ReturnWorkflow started directly (the channel owns the window; the order's own
        workflow may have completed). Idempotent per (order, request.external_rma): a repeat
        answers the return opened the first time. NotFound; Conflict or Unprocessable with the
        refusal's kind; EngineUnavailable."""
        external = (request.external_rma or "").strip()
        channel = request.source
        if not external or len(external) > limits.CHANNEL_RMA or channel not in CHANNELS:
            raise refused("a channel return needs its channel and the channel's return id", "invalid", _UNPROCESSABLE)
        return_id = channel_return_id(order_id, channel, external)
        if len(return_id) > limits.RETURN_ID:
            raise refused("the channel's return id is too long", "invalid", _UNPROCESSABLE)

        def record() -> ReturnWorkflowInput:
            with self._units() as uow:
                order_record = uow.orders.get(order_id)
                if order_record is None:
                    raise NotFound(f"no order {order_id}")
                order = priced_order(order_record)
                if order is None:
                    raise refused(
                        "this order was recorded without lines: nothing to return", "not_shipped", _UNPROCESSABLE
                    )
                shipped = None
                if order_record.fulfilled_by != FULFILLED_BY_US and not uow.returns.shipped_units(order_id):
                    shipped = order.demand()  # shipped by the channel or at the counter: the order says
                try:
                    opened = uow.returns.open_channel_return(
                        order, request, return_id=return_id, at=datetime.now(UTC), expiry=self._expiry, shipped=shipped
                    )
                except ReturnRefused as exc:
                    raise refused(str(exc), exc.kind.value, _UNPROCESSABLE) from None
                uow.commit()
            return ReturnWorkflowInput(order, request, opened)

        data = await asyncio.to_thread(record)
        try:
            await self._workflows.start_return(data, task_queue=self._task_queue)
        except EngineError:
            raise EngineUnavailable() from None
        opened = data.opened
        return ReturnAccepted(opened.return_id, opened.state, opened.refund, opened.rma)

    def get(self, return_id_or_rma: str) -> ReturnSummary:
        """A return by its id or RMA (NotFound). One taken in one step before the lifecycle, or a
        channel's own refund recorded as a return, has no state: it answers with its status as
        recorded (ReturnSummary.of), and any step asked of it is refused as finished."""
        with self._units(read_only=True) as uow:
            record = uow.returns.find(return_id_or_rma.strip())
            if record is None:
                raise NotFound(f"no return {return_id_or_rma}")
            return ReturnSummary.of(
                record,
                uow.returns.difference_payment(record),
                uow.returns.replacement_shipments(record),
                links=uow.payments.links_of(record.return_id),
            )

    def page(self, *, state: str | None = None, limit: int = 50, offset: int = 0) -> tuple[list[ReturnSummary], int]:
        """Returns newest first, in `state` when given (Unprocessable for an unknown state)."""
        if state and state not in {member.value for member in ReturnState}:
            raise Unprocessable(f"state must be one of {', '.join(member.value for member in ReturnState)}")
        with self._units(read_only=True) as uow:
            records, count = uow.returns.page(state=state or None, limit=limit, offset=offset)
            return [ReturnSummary.of(record, uow.returns.difference_payment(record)) for record in records], count

    async def approve(self, return_id: str, decision: ReturnDecision) -> ReturnView:
        return await self._step(return_id, "approve", decision)

    async def reject(self, return_id: str, decision: ReturnDecision) -> ReturnView:
        return await self._step(return_id, "reject", decision)

    async def cancel(self, return_id: str, decision: ReturnDecision) -> ReturnView:
        return await self._step(return_id, "cancel", decision)

    async def receive(self, return_id: str, receipt: ReceiveReturnRequest) -> ReturnView:
        return await self._step(return_id, "receive", receipt)

    async def dispose(self, return_id: str, dispositions: DisposeReturnRequest) -> ReturnView:
        return await self._step(return_id, "dispose", dispositions)

    async def _step(
        self, return_id: str, step: str, arg: ReturnDecision | ReceiveReturnRequest | DisposeReturnRequest
    ) -> ReturnView:
        """NotFound; Conflict (out of order, finished) or Unprocessable (does not add up, ...) with
        the refusal's kind; Failed; EngineUnavailable."""
        summary = await asyncio.to_thread(self.get, return_id)
        if summary.state not in _LIFECYCLE_STATES:  # taken in one step before the lifecycle: no workflow
            raise Conflict(
                f"return {summary.return_id} was taken in one step ({summary.status}): nothing follows",
                refusal=ReturnStepRefusalKind.FINISHED.value,
            )
        try:
            return await self._workflows.return_step(summary.return_id, step, arg)
        except UpdateFailed as exc:
            if exc.error_type in (ErrorType.RETURN_STEP_REFUSED, ErrorType.RETURN_REFUSED):
                kind = exc.refusal or ReturnStepRefusalKind.OUT_OF_ORDER.value
                raise refused(exc.refused_because, kind, _STEP_UNPROCESSABLE | _UNPROCESSABLE) from None
            raise Failed(f"the return's step could not be completed: {exc.reason}") from None
        except (WorkflowNotFound, WorkflowNotRunning):
            raise Conflict(
                f"return {summary.return_id} is {summary.state}: nothing follows",
                refusal=ReturnStepRefusalKind.FINISHED.value,
            ) from None
        except EngineError:
            raise EngineUnavailable() from None
