"""ReturnWorkflow: one durable run per return, from its request to its settlement.

Started by the order's workflow (a child it abandons on closing: the order may complete while its
return lives on) or directly for a channel's own return (services.returns.open_channel_return).
Its id is the return id (`return-<order id>-<n>`, or `return-<order id>-<channel>-<channel's
return id>`), never personal data. It walks domain.return_lifecycle: awaiting approval ->
requested (RMA issued; expires when no parcel comes in time, yet a late parcel is still received)
-> received -> disposed -> resolved, or rejected / cancelled before the goods came. Each step is an
update whose validator refuses before anything reaches history; each is recorded once by an
activity (activities.return_lifecycle) and shows on the order's timeline."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, TypeVar

from temporalio import workflow
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from contracts.channel_returns import ChannelReturns, HandleChannelReturnInput
    from contracts.errors import ErrorType
    from contracts.inventory import (
        Inventory,
        ReleaseStockInput,
        ReservedShipment,
        ReserveStockInput,
        ReserveStockResult,
    )
    from contracts.order_workflow import FulfilmentOptions
    from contracts.payment_links import OpenPaymentLinkInput, PaymentLinks, PaymentLinkStepInput
    from contracts.payments import ChargeDifferenceInput, Payments, PaymentStepInput
    from contracts.return_labels import CancelReturnLabelInput, ReturnLabelInput, ReturnLabels
    from contracts.return_lifecycle import (
        DisposeReturnInput,
        DisposeReturnRequest,
        DispositionLineInput,
        ExchangeDifference,
        ExchangeNoteInput,
        ReceivedLineInput,
        ReceiveReturnInput,
        ReceiveReturnRequest,
        ReturnDecision,
        ReturnLifecycle,
        ReturnStepInput,
        ReturnView,
        ReturnWorkflowInput,
    )
    from contracts.returns import RefundReturnInput, ReturnAccepted, Returns, replacement_of
    from contracts.shipments import ShipmentOutcome, ShipmentWorkflowInput
    from domain.exchanges import (
        ExchangeResolution,
        ExchangeStep,
        OutOfStockPolicy,
        next_step,
        price_replacement,
        refund_instead,
        undelivered_value,
    )
    from domain.fulfilment import ShipmentStatus
    from domain.money import Money
    from domain.order import Order, OrderLine
    from domain.payment_links import LinkStatus
    from domain.payments import PaymentStatus, extra_payment_id
    from domain.return_lifecycle import (
        FINISHED,
        Condition,
        Disposition,
        DispositionLine,
        Receipt,
        ReceivedLine,
        Resolution,
        ReturnState,
        ReturnStepRefused,
        check_dispositions,
        check_receipt,
        check_transition,
    )
    from workflows.policies import STEP_RETRY, STEP_TIMEOUT
    from workflows.shipment import ShipmentWorkflow

from workflows.refusals import refusal

CHANNEL_RETURN_TIMEOUT = timedelta(minutes=2)

RESOLUTIONS = "return-resolutions-v1"
"""From this patch on a return resolved as an exchange ships its replacement (a new shipment of
the order) instead of being refunded."""
EXCHANGE_RECHECK = timedelta(hours=1)
"""How often an exchange waiting for its replacement looks at the stock again (besides the
signal `stock_available`)."""
MAX_RESERVE_ATTEMPTS = 5
LABEL_CANCEL = "return-label-cancel-v1"
"""From this patch on, a return cancelled or expired has the label made for it cancelled at the carrier."""
RESOURCE = "exchange-resource-v1"
"""From this patch on, replacement units that did not leave (a short pick, a withdrawn shipment)
are sourced and shipped again, and given back when they cannot be."""
EXCHANGE_DIFFERENCE = "exchange-difference-v1"
"""From this patch on an exchange whose replacement costs more than the returned units were worth
charges the difference on the order's card (before, it refunded what came instead)."""
DIFFERENCE_FIRST = "exchange-difference-first-v1"
"""From this patch on, when some of a replacement left and the rest is given up, the difference
held on the card is taken before the rest is refunded: the refund then draws on the difference's
payment first (domain.refund_spread), and never asks of the order's own payment more than it holds
(before, a difference larger than what the order's payment had left lost the customer the rest)."""
RESTOCK_WAKEUP = "exchange-restock-wakeup-v1"
"""From this patch on a restock signalled while an exchange looks at the stock or notes that it
waits is kept and wakes the wait at once (before, the wait cleared it and slept until the next
signal or EXCHANGE_RECHECK, an hour)."""
MAX_REPLACEMENT_SHIPMENTS = 3
"""Rounds of shipping an exchange's replacement: the first, then up to two sourcings again of what
did not leave; what still has not left after them is refunded."""
PAY_LINK = "mollie-pay-link-v1"
"""From this patch on an exchange's difference a provider cannot charge without the customer (Mollie)
is asked of the customer with a payment link, instead of refunding what came back at once."""
AWAITING_PAYMENT = "AWAITING_PAYMENT"
"""An exchange's difference asked with a payment link, not paid yet (ExchangeDifference.status)."""
LINK_RECHECK = timedelta(hours=1)
"""How often a return waiting for a payment link reads it (besides the webhook's signal)."""

Activities = TypeVar("Activities")
StepInput = TypeVar("StepInput")
StepResult = TypeVar("StepResult")


def _refused(exc: ReturnStepRefused) -> ApplicationError:
    return ApplicationError(str(exc), exc.kind.value, type=ErrorType.RETURN_STEP_REFUSED)


def _moved_from(view: ReturnView, state: str) -> Callable[[], bool]:
    return lambda: view.state != state


def _receipt(view: ReturnView) -> Receipt:
    by_condition = {sku: {Condition(c): n for c, n in units.items()} for sku, units in view.received.items()}
    return Receipt(by_condition=by_condition, short=dict(view.short))


def _received_lines(data: ReceiveReturnRequest) -> list[ReceivedLine]:
    return [ReceivedLine(line.sku, line.quantity, line.condition) for line in data.lines]  # type: ignore[arg-type]


def _disposition_lines(data: DisposeReturnRequest) -> list[DispositionLine]:
    return [DispositionLine(line.sku, line.quantity, line.disposition, line.reason) for line in data.lines]  # type: ignore[arg-type]


def _exchange_tag(view: ReturnView) -> str:
    """`x<n>`, n the return's number on the order: the end of its replacement's shipment ids."""
    return f"x{view.rma.rsplit('-', 1)[-1]}"


def _not_handed_over(shipment: ReservedShipment, outcome: ShipmentOutcome) -> dict[str, int]:
    """Units of the shipment that did not leave (short, released, or never picked)."""
    missing = {sku: n - outcome.handed_over.get(sku, 0) for sku, n in shipment.lines.items()}
    return {sku: n for sku, n in sorted(missing.items()) if n > 0}


def _added(one: dict[str, int], other: dict[str, int]) -> dict[str, int]:
    return {sku: one.get(sku, 0) + other.get(sku, 0) for sku in sorted({*one, *other})}


def _units(units: dict[str, int]) -> str:
    return ", ".join(f"{n} x {sku}" for sku, n in sorted(units.items()))


def _first_view(data: ReturnWorkflowInput) -> ReturnView:
    opened, request = data.opened, data.request
    return ReturnView(
        return_id=opened.return_id,
        order_id=opened.order_id,
        rma=opened.rma,
        state=opened.state,
        source=request.source,
        announced=dict(opened.announced),
        refund=Money.zero(data.order.currency),
        external_rma=request.external_rma,
        expires_at=opened.expires_at,
        resolution=request.resolution,
    )


@workflow.defn
class ReturnWorkflow:
    @workflow.init
    def __init__(self, data: ReturnWorkflowInput) -> None:
        """The view exists before any handler runs: a step asked the moment the return was opened
        (a receipt right after the request) is checked against it, never against nothing."""
        self._data: ReturnWorkflowInput | None = data
        self._view: ReturnView | None = _first_view(data)
        self._one_step_at_a_time = asyncio.Lock()
        self._refunded_on_request = False
        self._due_at_receipt: Money | None = None
        """Priced at receipt, refunded when the return is settled."""
        self._label_asked = False
        self._stock_available = False
        self._reserve_attempts = 0
        self._link_changed = False
        self._link_checks = 0
        self._difference_settled = False
        self._exchange_by: str | None = None
        """Set once an exchange's goods are disposed of: the run ships the replacement and resolves
        (it may wait for stock: no update waits with it)."""

    # -- queries and updates ---------------------------------------------------------------------

    @workflow.signal
    def stock_available(self) -> None:
        """Stock came in: an exchange waiting for its replacement tries to reserve it again."""
        self._stock_available = True

    @workflow.signal
    def payment_link_changed(self) -> None:
        """The provider says the payment link changed (its webhook): read it again now."""
        self._link_changed = True

    @workflow.query
    def view(self) -> ReturnView:
        assert self._view is not None
        return self._view

    @workflow.update
    async def approve(self, decision: ReturnDecision) -> ReturnView:
        """Support approves a customer's request: the RMA is issued (and refunded on request)."""
        return await self._decide(ReturnState.REQUESTED, decision)

    @approve.validator
    def _may_approve(self, decision: ReturnDecision) -> None:
        self._check(ReturnState.REQUESTED)

    @workflow.update
    async def reject(self, decision: ReturnDecision) -> ReturnView:
        return await self._decide(ReturnState.REJECTED, decision)

    @reject.validator
    def _may_reject(self, decision: ReturnDecision) -> None:
        self._check(ReturnState.REJECTED)

    @workflow.update
    async def cancel(self, decision: ReturnDecision) -> ReturnView:
        return await self._decide(ReturnState.CANCELLED, decision)

    @cancel.validator
    def _may_cancel(self, decision: ReturnDecision) -> None:
        self._check(ReturnState.CANCELLED)
        if self._refunded_on_request:
            raise ApplicationError(
                "refunded on request already: receive the parcel, or let the return expire",
                "out_of_order",
                type=ErrorType.RETURN_STEP_REFUSED,
            )

    @workflow.update
    async def receive(self, data: ReceiveReturnRequest) -> ReturnView:
        """The parcel is in at a location: per line quantity and condition; fewer than announced
        is recorded as short."""
        async with self._one_step_at_a_time:
            self._check(ReturnState.RECEIVED)
            await self._receive(data)
        return self.view()

    @receive.validator
    def _may_receive(self, data: ReceiveReturnRequest) -> None:
        self._check(ReturnState.RECEIVED)
        if not data.location_id:
            raise ApplicationError(
                "where was it received? location_id is missing", "invalid", type=ErrorType.RETURN_STEP_REFUSED
            )
        try:
            check_receipt(self.view().announced, _received_lines(data))
        except ReturnStepRefused as exc:
            raise _refused(exc) from None

    @workflow.update
    async def dispose(self, data: DisposeReturnRequest) -> ReturnView:
        """Every unit received gets a disposition (adding up exactly); the stock is booked, a
        channel's return is told back to the channel, and the return is settled."""
        async with self._one_step_at_a_time:
            self._check(ReturnState.DISPOSED)
            await self._dispose(data)
            await self._resolve(data.by)
        return self.view()

    @dispose.validator
    def _may_dispose(self, data: DisposeReturnRequest) -> None:
        self._check(ReturnState.DISPOSED)
        try:
            check_dispositions(_receipt(self.view()), _disposition_lines(data))
        except ReturnStepRefused as exc:
            raise _refused(exc) from None

    def _check(self, target: ReturnState) -> None:
        try:
            check_transition(ReturnState(self.view().state), target)
        except ReturnStepRefused as exc:
            raise _refused(exc) from None

    # -- the run ---------------------------------------------------------------------------------

    @workflow.run
    async def run(self, data: ReturnWorkflowInput) -> ReturnAccepted:
        opened, request = data.opened, data.request
        if opened.refund.amount_minor > 0:
            await self._refund(opened.refund)
            self._refunded_on_request = True
        if request.received:
            await self._at_the_counter(data)
        while ReturnState(self.view().state) not in FINISHED:
            if self.view().state == ReturnState.REQUESTED:
                await self._return_label(data)
                await self._until_received_or_expired()
            elif self._exchange_by is not None and self.view().state == ReturnState.DISPOSED:
                async with self._one_step_at_a_time:
                    await self._exchange()
                    await self._step(ReturnState.RESOLVED, self._exchange_by, "")
            else:
                await workflow.wait_condition(self._moved_or_exchange_due(self.view().state))
        if self.view().state == ReturnState.CANCELLED:
            await self._cancel_label("cancelled")
        await workflow.wait_condition(workflow.all_handlers_finished)
        view = self.view()
        return ReturnAccepted(view.return_id, view.status or view.state, view.refund, view.rma)

    def _moved_or_exchange_due(self, state: str) -> Callable[[], bool]:
        moved = _moved_from(self.view(), state)
        return lambda: moved() or self._exchange_by is not None

    async def _until_received_or_expired(self) -> None:
        view = self.view()
        assert view.expires_at is not None
        left = view.expires_at - workflow.now()
        try:
            await workflow.wait_condition(
                lambda: view.state != ReturnState.REQUESTED,
                timeout=max(left, timedelta(seconds=1)),
                timeout_summary="return expiry",
            )
        except TimeoutError:
            async with self._one_step_at_a_time:
                expired = view.state == ReturnState.REQUESTED
                if expired:
                    await self._step(ReturnState.EXPIRED, "", "")
            if expired:  # not under the lock: a late parcel is received while the carrier is asked
                await self._cancel_label("expired")

    async def _return_label(self, data: ReturnWorkflowInput) -> None:
        """Once the RMA is issued, the customer's label back (activities.return_labels: through the
        carrier integration when the order left through one). A channel's return travels on the
        channel's own label. A refusal is final and on the timeline: a person sends a label made
        another way, and the return waits for its parcel all the same."""
        if self._label_asked or data.request.external_rma:
            return
        self._label_asked = True
        view = self.view()
        try:
            await workflow.execute_activity_method(
                ReturnLabels.create_return_label,
                ReturnLabelInput(view.order_id, view.return_id, view.rma, None, dict(view.announced), workflow.now()),
                start_to_close_timeout=STEP_TIMEOUT,
                retry_policy=STEP_RETRY,
                summary=f"return label for {view.rma}",
            )
        except ActivityError:
            workflow.logger.info("no return label for %s: the carrier refused it", view.return_id)

    async def _cancel_label(self, why: str) -> None:
        """A label made for a return now cancelled or expired is cancelled at the carrier, so no
        parcel travels on it (activities.return_labels: once, on the timeline). A carrier that can
        no longer cancel it is recorded there too; the return goes on either way."""
        if not self._label_asked or not workflow.patched(LABEL_CANCEL):
            return
        view = self.view()
        await workflow.execute_activity_method(
            ReturnLabels.cancel_return_label,
            CancelReturnLabelInput(view.order_id, view.return_id, view.rma, why, workflow.now()),
            start_to_close_timeout=STEP_TIMEOUT,
            retry_policy=STEP_RETRY,
            summary=f"cancel the return label of {view.rma}",
        )

    async def _at_the_counter(self, data: ReturnWorkflowInput) -> None:
        """The goods are here already: received in full where they are, restocked (or scrapped
        with the reason when not fit to sell), settled at once."""
        request, opened = data.request, data.opened
        location = opened.receive_at or ""
        condition = Condition.AS_NEW if request.restock else Condition.DAMAGED
        disposition = Disposition.RESTOCK if request.restock else Disposition.SCRAP
        reason = "" if request.restock else (request.reason or "not fit to sell again")
        lines = sorted(opened.announced.items())
        async with self._one_step_at_a_time:
            await self._receive(
                ReceiveReturnRequest(
                    location, [ReceivedLineInput(sku, n, condition.value) for sku, n in lines], request.requested_by
                )
            )
            await self._dispose(
                DisposeReturnRequest(
                    [DispositionLineInput(sku, n, disposition.value, reason[:200]) for sku, n in lines],
                    request.requested_by,
                )
            )
            await self._resolve(request.requested_by)

    # -- the steps -------------------------------------------------------------------------------

    async def _decide(self, target: ReturnState, decision: ReturnDecision) -> ReturnView:
        async with self._one_step_at_a_time:
            self._check(target)
            due = await self._step(target, decision.by, decision.reason)
            if due.amount_minor > 0:
                await self._refund(due)
                self._refunded_on_request = True
        return self.view()

    async def _step(self, target: ReturnState, by: str, reason: str) -> Money:
        assert self._data is not None
        view = self.view()
        done = await self._activity(
            ReturnLifecycle.record_return_step,
            ReturnStepInput(self._data.order, view.return_id, target.value, by, workflow.now(), reason),
            f"return {target.value.lower()}",
        )
        view.state = target.value
        if target is ReturnState.REQUESTED:
            view.expires_at = workflow.now() + (self._data.opened.expires_at - self._data.opened.requested_at)
        return done.refund

    async def _receive(self, data: ReceiveReturnRequest) -> None:
        assert self._data is not None
        view = self.view()
        received = await self._activity(
            ReturnLifecycle.receive_return,
            ReceiveReturnInput(self._data.order, view.return_id, data.location_id, data.lines, data.by, workflow.now()),
            f"receive at {data.location_id}",
        )
        view.state, view.location_id = ReturnState.RECEIVED.value, data.location_id
        view.received, view.short, view.over_refunded = received.received, received.short, received.over_refunded
        self._due_at_receipt = received.refund

    async def _dispose(self, data: DisposeReturnRequest) -> None:
        assert self._data is not None
        view = self.view()
        disposed = await self._activity(
            ReturnLifecycle.dispose_return,
            DisposeReturnInput(
                view.order_id, view.return_id, view.location_id or "", data.lines, data.by, workflow.now()
            ),
            "dispose",
        )
        view.state = ReturnState.DISPOSED.value
        if view.external_rma:
            await workflow.execute_activity_method(
                ChannelReturns.handle_channel_return,
                HandleChannelReturnInput(
                    channel=view.source,
                    order_id=view.order_id,
                    return_id=view.return_id,
                    external_rma=view.external_rma,
                    received={sku: sum(units.values()) for sku, units in view.received.items()},
                    sellable=disposed.sellable,
                    short=dict(view.short),
                    at=workflow.now(),
                ),
                start_to_close_timeout=CHANNEL_RETURN_TIMEOUT,
                retry_policy=STEP_RETRY,
                summary=f"tell {view.source} of {view.external_rma}",
            )

    async def _resolve(self, by: str) -> None:
        if self.view().resolution == Resolution.EXCHANGE.value and workflow.patched(RESOLUTIONS):
            self._exchange_by = by  # the run ships the replacement, then resolves
            return
        due = self._due_at_receipt
        if due is not None and due.amount_minor > 0:
            await self._refund(due)
        await self._step(ReturnState.RESOLVED, by, "")

    # -- an exchange -----------------------------------------------------------------------------

    async def _exchange(self) -> None:
        """Ship the replacement as a new shipment of the order and settle the difference: refund it
        when the replacement costs less; when it costs more, charge it on the order's card once the
        replacement is reserved (never for stock we do not have), capture it when the replacement
        leaves (EXCHANGE_DIFFERENCE); unless the parcel came short, when what came is refunded
        instead. When the replacement cannot be reserved, wait for it
        (OMS_EXCHANGE_OUT_OF_STOCK=backorder, until the deadline) or refund what the returned units
        were worth instead; so too when the card declines the difference."""
        assert self._data is not None
        data, view = self._data, self.view()
        worth = self._due_at_receipt or Money.zero(data.order.currency)
        lines = price_replacement(data.order, replacement_of(data.request))
        resolution = ExchangeResolution(worth, sum((line.total for line in lines), Money.zero(data.order.currency)))
        to_charge = resolution.to_charge.amount_minor > 0
        if to_charge and (any(view.short.values()) or not workflow.patched(EXCHANGE_DIFFERENCE)):
            # Fewer units came than were announced: what came does not pay for the replacement, and
            # no replacement goes out for goods that did not come (nor, before the patch, any dearer one).
            await self._give_up(resolution, f"what came is worth {worth.format()}, less than the replacement")
            return
        demand = {line.sku: line.quantity for line in lines}
        shipments = await self._reserve_replacement(data.order, demand)
        policy = OutOfStockPolicy(data.opened.exchange_out_of_stock)
        step = next_step(policy, replacement_reserved=bool(shipments))
        if step is ExchangeStep.WAIT_AS_BACKORDER:
            await self._note("exchange_waiting", "the replacement is not in stock: waiting for it")
            shipments = await self._wait_for_replacement(data.order, demand, data.opened.exchange_wait_seconds)
        if not shipments:
            await self._give_up(resolution, "the replacement is not in stock")
            return
        if to_charge and not await self._charge_difference(resolution, shipments):
            return
        view.replacement_shipment_id = shipments[0].shipment_id
        await self._note(
            "exchange_reserved",
            f"replacement {', '.join(f'{n} x {sku}' for sku, n in sorted(demand.items()))} "
            f"to ship as {view.replacement_shipment_id}",
            view.replacement_shipment_id,
        )
        if resolution.to_refund.amount_minor > 0:
            await self._refund(resolution.to_refund)
        handed_over = await self._ship_replacement(data, shipments, lines)
        if view.difference is not None:
            await self._settle_difference(handed_over)

    async def _ship_replacement(
        self, data: ReturnWorkflowInput, shipments: list[ReservedShipment], lines: list[OrderLine]
    ) -> bool:
        """Ship the reserved replacement; True when any of it was handed over. From RESOURCE on,
        what a shipment did not hand over (a short pick, written off there; a withdrawal, released
        by the shipment itself) is reserved again and shipped again, up to MAX_REPLACEMENT_SHIPMENTS
        rounds; what cannot be (no stock and OMS_EXCHANGE_OUT_OF_STOCK=refund, a backorder past its
        deadline, the rounds used up, a pickup not collected) is given back at what it cost in the
        exchange."""
        handed_over = False
        if not workflow.patched(RESOURCE):
            for shipment in shipments:
                outcome = await self._ship(data, shipment)
                handed_over = handed_over or bool(outcome.handed_over)
                await self._note(
                    "exchange_shipped" if outcome.handed_over else "exchange_not_shipped",
                    f"{shipment.shipment_id} {outcome.status.lower()}",
                )
            return handed_over
        view, undelivered = self.view(), dict[str, int]()
        for round_ in range(1, MAX_REPLACEMENT_SHIPMENTS + 1):
            left: dict[str, int] = {}
            for shipment in shipments:
                view.replacement_shipments.append(shipment.shipment_id)
                outcome = await self._ship(data, shipment)
                handed_over = handed_over or bool(outcome.handed_over)
                missing = _not_handed_over(shipment, outcome)
                await self._note(
                    "exchange_shipped" if outcome.handed_over else "exchange_not_shipped",
                    f"{shipment.shipment_id} {outcome.status.lower()}"
                    + (f", {_units(missing)} did not leave" if missing else ""),
                    key=shipment.shipment_id,
                )
                not_collected = outcome.status == ShipmentStatus.EXPIRED  # the customer did not come: not sent again
                into = undelivered if not_collected else left
                for sku, n in missing.items():
                    into[sku] = into.get(sku, 0) + n
            if not left:
                break
            if round_ == MAX_REPLACEMENT_SHIPMENTS:
                why = f"{_units(left)} did not leave in {MAX_REPLACEMENT_SHIPMENTS} shipments"
                await self._give_up_the_rest(lines, _added(undelivered, left), why, round_, handed_over)
                return handed_over
            shipments = await self._source_again(data, left, round_ + 1)
            if not shipments:
                why = f"{_units(left)} did not leave and is not in stock"
                await self._give_up_the_rest(lines, _added(undelivered, left), why, round_, handed_over)
                return handed_over
        if undelivered:
            await self._give_up_the_rest(lines, undelivered, f"{_units(undelivered)} not collected", 0, handed_over)
        return handed_over

    async def _source_again(
        self, data: ReturnWorkflowInput, left: dict[str, int], round_: int
    ) -> list[ReservedShipment]:
        """Reserve what did not leave as shipments of their own (`x<n>-<round>`), or wait for it as
        a backorder when the shop says so; nothing when it cannot be had."""
        view, order = self.view(), data.order
        tag = f"{_exchange_tag(view)}-{round_}"
        shipments = await self._reserve_replacement(order, left, tag)
        policy = OutOfStockPolicy(data.opened.exchange_out_of_stock)
        if next_step(policy, replacement_reserved=bool(shipments)) is ExchangeStep.WAIT_AS_BACKORDER:
            await self._note(
                "exchange_waiting", f"{_units(left)} did not leave and is not in stock: waiting for it", key=tag
            )
            shipments = await self._wait_for_replacement(order, left, data.opened.exchange_wait_seconds, tag)
        if shipments:
            view.replacement_shipment_id = shipments[0].shipment_id
            await self._note(
                "exchange_resourced",
                f"{_units(left)} did not leave: sourced again as {', '.join(s.shipment_id for s in shipments)}",
                view.replacement_shipment_id,
                key=tag,
            )
        return shipments

    async def _give_up_the_rest(
        self, lines: list[OrderLine], undelivered: dict[str, int], why: str, round_: int, handed_over: bool
    ) -> None:
        """What the customer put towards the units that never left is given back: their share of
        the replacement price (for all of them, refund_instead(difference_settled=True)). A
        difference refunded before shipping is settled by then; a difference charged on the card
        is captured only when some of the replacement left (_settle_difference), so when nothing
        did it is released instead, and is not given back a second time here. When some did, it
        is taken before this refund (DIFFERENCE_FIRST), which then goes back through the
        difference's payment first and may need it: the order's own payment alone may hold less."""
        due = undelivered_value(lines, undelivered)
        held = self.view().difference
        if not handed_over and held is not None and held.payment_id is not None:
            due = Money(max(0, due.amount_minor - held.amount.amount_minor), due.currency)
        if handed_over and held is not None and held.payment_id is not None and workflow.patched(DIFFERENCE_FIRST):
            await self._settle_difference(handed_over)  # taken first: the refund may draw on it
        await self._note("exchange_refunded_instead", f"{why}: {due.format()} refunded instead", key=f"round-{round_}")
        if due.amount_minor > 0:
            await self._refund(due, part=f"undelivered-{round_}")

    # -- an exchange's difference, when the replacement costs more ------------------------------

    async def _charge_difference(self, resolution: ExchangeResolution, shipments: list[ReservedShipment]) -> bool:
        """Authorize the difference as a new payment of the order on its card (the replacement is
        reserved already). Declined: the reservation is released and the returned units' value
        refunded instead. A provider that cannot charge without the customer: see
        _collect_difference_from_customer. True when the difference is held."""
        view = self.view()
        amount = resolution.to_charge
        payment_id = extra_payment_id(view.order_id, _exchange_tag(view))
        try:
            charged = await workflow.execute_activity_method(
                Payments.charge_difference,
                ChargeDifferenceInput(
                    view.order_id, view.return_id, payment_id, amount, f"{view.return_id}:difference", workflow.now()
                ),
                start_to_close_timeout=STEP_TIMEOUT,
                retry_policy=STEP_RETRY,
                summary=f"charge the difference {amount.format()}",
            )
        except ActivityError as err:
            cause = refusal(err, ErrorType.PAYMENT_DECLINED, ErrorType.PAYMENT_REJECTED)
            if cause is None:
                raise
            if cause.type == ErrorType.PAYMENT_DECLINED:
                view.difference = ExchangeDifference(amount, PaymentStatus.DECLINED.value)
                await self._release_replacement(shipments)
                await self._give_up(resolution, f"the difference of {amount.format()} was declined ({cause.message})")
                return False
            view.difference = ExchangeDifference(amount, "REJECTED")
            return await self._collect_difference_from_customer(resolution, shipments, cause.message)
        view.difference = ExchangeDifference(amount, charged.status.value, payment_id)
        return True

    async def _collect_difference_from_customer(
        self, resolution: ExchangeResolution, shipments: list[ReservedShipment], why: str
    ) -> bool:
        """The provider cannot charge the card without the customer (Mollie), or the order was not
        paid through our gateway. From PAY_LINK on, a provider with payment links asks the customer
        for the difference with one (_difference_by_link); paid, the replacement ships. Otherwise,
        or when it is not paid in time: the replacement is released and what the returned units
        were worth refunded instead. True when the difference was collected."""
        if workflow.patched(PAY_LINK):
            if await self._difference_by_link(resolution):
                return True
            view = self.view()
            if view.difference is not None and view.difference.link is not None:
                why = f"not paid through the payment link by {view.difference.link_expires_at:%Y-%m-%d %H:%M} UTC"
        await self._release_replacement(shipments)
        await self._give_up(
            resolution,
            f"the difference of {resolution.to_charge.format()} cannot be charged without the customer ({why})",
        )
        return False

    async def _difference_by_link(self, resolution: ExchangeResolution) -> bool:
        """Ask the customer for the difference with a payment link at the order's provider (the
        replacement is reserved), shown on the return and the tracking page, and wait until it is
        paid or its deadline (OMS_PAYMENT_LINK_EXPIRY) passes; unpaid, the link is closed at the
        provider, so nobody pays for what is no longer sent. Paid: the payment through the link is
        the difference's payment (`payment-<order id>-x<n>`), captured when the replacement leaves
        (a no-op on money Mollie took at once) or refunded when it does not. A provider without
        payment links: False at once."""
        view = self.view()
        amount = resolution.to_charge
        payment_id = extra_payment_id(view.order_id, _exchange_tag(view))
        opened = await workflow.execute_activity_method(
            PaymentLinks.open_payment_link,
            OpenPaymentLinkInput(
                view.order_id,
                view.return_id,
                "exchange",
                amount,
                f"Exchange {view.rma}: the difference",
                f"{view.return_id}:pay-link",
                workflow.now(),
                payment_id=payment_id,
            ),
            start_to_close_timeout=STEP_TIMEOUT,
            retry_policy=STEP_RETRY,
            summary=f"payment link for {amount.format()}",
        )
        if opened.link_id is None or opened.expires_at is None:
            return False
        view.difference = ExchangeDifference(amount, AWAITING_PAYMENT, None, opened.url, opened.expires_at)
        status = await self._until_link_settled(opened.link_id, opened.expires_at)
        paid = status is LinkStatus.PAID
        view.difference = ExchangeDifference(
            amount,
            PaymentStatus.AUTHORIZED.value if paid else status.value.upper(),
            payment_id if paid else None,
            opened.url,
            opened.expires_at,
        )
        return paid

    async def _release_replacement(self, shipments: list[ReservedShipment]) -> None:
        view = self.view()
        for shipment in shipments:
            await workflow.execute_activity_method(
                Inventory.release_stock,
                ReleaseStockInput(
                    view.order_id,
                    shipment.shipment_id,
                    shipment.location_id,
                    dict(shipment.lines),
                    f"{view.return_id}:exchange-release:{shipment.shipment_id}",
                    workflow.now(),
                ),
                start_to_close_timeout=STEP_TIMEOUT,
                retry_policy=STEP_RETRY,
                summary=f"release the replacement at {shipment.location_id}",
            )

    async def _settle_difference(self, handed_over: bool) -> None:
        """Take the difference once the replacement left; release it when nothing of it did (the
        customer is not charged for a replacement they do not get: what they are owed then is
        domain.exchanges.refund_instead(difference_settled=False)). Once: a difference taken
        before the rest of the replacement was given up is not taken again."""
        view = self.view()
        difference = view.difference
        if difference is None or difference.payment_id is None or self._difference_settled:
            return
        self._difference_settled = True
        method = Payments.capture_payment if handed_over else Payments.void_payment
        step = "capture" if handed_over else "void"
        try:
            done = await workflow.execute_activity_method(
                method,
                PaymentStepInput(
                    view.order_id,
                    difference.payment_id,
                    difference.amount,
                    f"{view.return_id}:difference-{step}",
                    workflow.now(),
                ),
                start_to_close_timeout=STEP_TIMEOUT,
                retry_policy=STEP_RETRY,
                summary=f"{step} the difference {difference.amount.format()}",
            )
        except ActivityError as err:
            cause = refusal(err, ErrorType.PAYMENT_REJECTED)
            if cause is None:
                raise
            difference.status = PaymentStatus.CAPTURE_REFUSED.value
            await self._note("exchange_difference_not_captured", f"{difference.payment_id}: {cause.message}")
            return
        difference.status = done.status.value
        if not handed_over:
            await self._note(
                "exchange_difference_released", f"{difference.amount.format()} released: the replacement did not leave"
            )

    async def _until_link_settled(self, link_id: str, expires_at: datetime) -> LinkStatus:
        """Read the link on the webhook's signal and every LINK_RECHECK until its deadline; unpaid,
        close it (archived at the provider: a payment that came first still counts)."""
        status = LinkStatus.OPEN
        while status is LinkStatus.OPEN and workflow.now() < expires_at:
            with contextlib.suppress(TimeoutError):
                await workflow.wait_condition(
                    lambda: self._link_changed,
                    timeout=min(LINK_RECHECK, expires_at - workflow.now()),
                    timeout_summary="payment link",
                )
            self._link_changed = False  # a signal during the read below wakes the next round at once
            status = await self._link_step(PaymentLinks.check_payment_link, link_id, "check")
        if status is not LinkStatus.PAID:  # closed at the provider even when it reads expired there
            status = await self._link_step(PaymentLinks.close_payment_link, link_id, "close")
        return status

    async def _link_step(
        self, method: Callable[[PaymentLinks, PaymentLinkStepInput], Any], link_id: str, step: str
    ) -> LinkStatus:
        view = self.view()
        self._link_checks += 1
        done = await workflow.execute_activity_method(
            method,
            PaymentLinkStepInput(
                view.order_id, link_id, f"{view.return_id}:pay-link-{step}:{self._link_checks}", workflow.now()
            ),
            start_to_close_timeout=STEP_TIMEOUT,
            retry_policy=STEP_RETRY,
            summary=f"{step} payment link",
        )
        return LinkStatus(done.status)

    async def _give_up(self, resolution: ExchangeResolution, why: str) -> None:
        due = refund_instead(resolution, difference_settled=False)
        await self._note("exchange_refunded_instead", f"{why}: {due.format()} refunded instead")
        if due.amount_minor > 0:
            await self._refund(due)

    async def _reserve_replacement(self, order: Order, demand: dict[str, int], tag: str = "") -> list[ReservedShipment]:
        """Reserve the whole replacement (a lost race plans again), or nothing. `tag` ends the
        shipment ids (default `x<n>`, n the return's number on the order)."""
        view = self.view()
        self._stock_available = False  # looking now: only a restock signalled from here on wakes a wait
        for _ in range(MAX_RESERVE_ATTEMPTS):
            self._reserve_attempts += 1
            result = await workflow.execute_activity_method(
                Inventory.reserve_stock,
                ReserveStockInput(
                    order.order_id,
                    dict(demand),
                    f"{view.return_id}:exchange-reserve:{self._reserve_attempts}",
                    workflow.now(),
                    channel=order.channel,
                    destination=order.destination(),
                    unit_values=order.unit_values(),
                    exchange=tag or _exchange_tag(view),
                ),
                start_to_close_timeout=STEP_TIMEOUT,
                retry_policy=STEP_RETRY,
                summary="reserve the replacement",
            )
            if result.shipments:
                return list(result.shipments)
            if result.outcome != ReserveStockResult.CONFLICT:
                return []
        return []

    async def _wait_for_replacement(
        self, order: Order, demand: dict[str, int], wait_seconds: int | None, tag: str = ""
    ) -> list[ReservedShipment]:
        """Look again on every restock signal and every EXCHANGE_RECHECK, until the deadline. The
        wake-up is cleared when the stock is looked at (_reserve_replacement), not when the wait
        starts: a restock signalled while the last look failed or `exchange_waiting` was noted
        wakes the wait at once (RESTOCK_WAKEUP)."""
        deadline = None if wait_seconds is None else workflow.now() + timedelta(seconds=wait_seconds)
        while deadline is None or workflow.now() < deadline:
            left = EXCHANGE_RECHECK if deadline is None else min(EXCHANGE_RECHECK, deadline - workflow.now())
            if not workflow.patched(RESTOCK_WAKEUP):
                self._stock_available = False  # a restock signalled since the last look was lost
            with contextlib.suppress(TimeoutError):
                await workflow.wait_condition(
                    lambda: self._stock_available, timeout=left, timeout_summary="replacement restock"
                )
            shipments = await self._reserve_replacement(order, demand, tag)
            if shipments:
                return shipments
        return []

    async def _ship(self, data: ReturnWorkflowInput, shipment: ReservedShipment) -> ShipmentOutcome:
        """The replacement leaves like any shipment of the order (the warehouse's screens list it)."""
        order, options = data.order, data.fulfilment or FulfilmentOptions()
        return await workflow.execute_child_workflow(
            ShipmentWorkflow.run,
            ShipmentWorkflowInput.of(order, shipment, options),
            id=shipment.shipment_id,
            task_queue=shipment.task_queue or workflow.info().task_queue,
            static_summary=f"exchange: {sum(shipment.lines.values())} units from {shipment.location_id}",
        )

    async def _note(self, kind: str, detail: str, shipment_id: str | None = None, *, key: str = "") -> None:
        view = self.view()
        await workflow.execute_activity_method(
            ReturnLifecycle.note_exchange,
            ExchangeNoteInput(view.order_id, view.return_id, kind, detail, workflow.now(), shipment_id, key),
            start_to_close_timeout=STEP_TIMEOUT,
            retry_policy=STEP_RETRY,
            summary=kind.replace("_", " "),
        )

    async def _refund(self, amount: Money, part: str = "") -> None:
        """The return's refund; `part`: a further one of its own (added to what was refunded)."""
        view = self.view()
        done = await self._activity(
            Returns.refund_return,
            RefundReturnInput(
                view.order_id,
                view.return_id,
                amount,
                workflow.now(),
                on_channel=bool(view.external_rma),
                as_credit=view.resolution == Resolution.STORE_CREDIT.value,
                part=part,
            ),
            f"{'store credit' if view.resolution == Resolution.STORE_CREDIT.value else 'refund'} {amount.format()}",
        )
        view.status, view.refund = done.status, view.refund + done.refund if part else done.refund

    async def _activity(
        self, method: Callable[[Activities, StepInput], StepResult], arg: StepInput, summary: str
    ) -> StepResult:
        """A step; one the database refuses (a race the validator could not see, a location we do
        not know) fails the update that asked for it with the refusal, and the return waits on."""
        try:
            return await workflow.execute_activity_method(
                method, arg, start_to_close_timeout=STEP_TIMEOUT, retry_policy=STEP_RETRY, summary=summary
            )
        except ActivityError as err:
            if refused := refusal(err, ErrorType.RETURN_STEP_REFUSED):
                raise ApplicationError(refused.message, *refused.details, type=ErrorType.RETURN_STEP_REFUSED) from None
            raise
