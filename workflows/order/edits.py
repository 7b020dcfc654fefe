"""Order edits: staff or a channel change the order before it ships (the update `edit_order`).

The validator refuses before anything reaches history: too early (not reserved yet), too late
(everything left, cancelled), units already handed over, an unknown line, an empty edit, or more
money asked of a customer whose card cannot be asked again (see below). Applying waits for a quiet
moment (no reservation half taken), takes the money first where the edit costs more (below), records
the new version under the order row's lock (a parcel leaving meanwhile refuses it there), withdraws
every running shipment that loses units (a picked or packed parcel is withdrawn and re-picked: its
stock is released by the shipment itself) and reserves what it still should carry, with what was
added, like any order.

Money: captures after an edit come to the new total (domain.order_edits.capture_due), and the
authorization's rest is voided (or, taken at checkout, refunded) when everything has left, as for
any order; so a decrease needs no call now, nor an increase the card's hold still covers. An
increase beyond the hold on an order whose payment we take, before anything was captured, is
authorized anew: the edited order's gateway part is held on the same card (Payments.reauthorize_payment,
a step key of its own), and only once that holds is the old authorization voided; the order keeps
one payment record, now naming the new hold. Declined: the edit is refused (`payment_declined`) and
the order and its old hold stay as they were; the provider cannot do it without the customer (Mollie,
whose payments the customer makes at its checkout; a Stripe card not saved for reuse): from
PAY_LINK_EDIT on, a provider with payment links asks the customer for the increase with one and the
edit applies once paid (workflows.order.edit_links: `awaiting_payment`), otherwise `needs_payment`;
the gateway away after a few tries: `payment_unavailable`. Something captured
already (a first parcel, with multicapture) or nothing authorized yet (held by the checks, or all
paid by store credit): `needs_payment`, since a second authorization beside the first would split
the order's money over two payments that captures, returns and goodwill each settle against one.
For an order the channel took the money for (marketplaces, POS, paid web orders) the channel
settles the difference: it is recorded on the version, nothing more.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from temporalio import workflow
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from contracts.errors import ErrorType
    from contracts.order_edits import (
        CARRIER_UNAVAILABLE,
        LABEL_NOT_CANCELLABLE,
        NEEDS_PAYMENT,
        PAYMENT_DECLINED,
        PAYMENT_UNAVAILABLE,
        EditOrderRequest,
        EditOrderResult,
        OrderEditRecords,
        RecordEditInput,
        to_domain,
    )
    from contracts.order_workflow import CancelRequest, OrderRun, ReleaseRequest
    from contracts.payments import PaymentResult, Payments, ReauthorizePaymentInput, VoidReplacedInput
    from contracts.shipments import CancelLabelInput, LabelCancelled, LabelInput, Shipments
    from contracts.store_credit import ReverseCreditInput, StoreCredit
    from domain.fulfilment import ShipmentKind, ShipmentStatus, shipment_kind
    from domain.limits import order_limit_refusals
    from domain.money import Money
    from domain.order import FULFILLED_BY_US, Order
    from domain.order_edits import (
        EditRefusalKind,
        EditRefused,
        EditRequest,
        EditResult,
        PaymentChange,
        PaymentPosition,
        ShipmentState,
        apply_edit,
        describe,
        payment_change,
    )
    from domain.payments import PaymentStatus
    from domain.status import OrderStatus
    from workflows.policies import LABEL_CANCEL_RETRY, REAUTHORIZE_RETRY, STEP_RETRY, STEP_TIMEOUT

from workflows.order.edit_links import PAY_LINK_EDIT, AskByLink, EditLinks
from workflows.order.fulfilment import Fulfilment
from workflows.order.sourcing import Sourcing
from workflows.order.steps import OrderSteps, refusal

ORDER_EDITS = "order-edits-v1"
"""Marks the histories that took an edit (the update is new: nothing before it changes)."""

EDITABLE = frozenset({OrderStatus.RESERVED, OrderStatus.IN_FULFILMENT, OrderStatus.BACKORDERED})
REAUTHORIZE = "order-edit-reauthorize-v1"
"""Marks the histories where an edit that costs more authorized the card anew (before, it was refused)."""
CREDIT_BACK = "edit-credit-back-v1"
"""Marks the histories where an edit lowering an order below the store credit it spent gave the
credit beyond the new total back (before, such an edit could not be applied)."""
RELABEL = "edit-relabel-v1"
"""Marks the histories where an edit's new address cancelled the carrier labels made for the old one
and asked for new ones (before, a printed label kept the old address)."""


def _refused(message: str, kind: str) -> ApplicationError:
    return ApplicationError(message, kind, type=ErrorType.ORDER_EDIT_REFUSED)


class OrderEdits:
    def __init__(self, run: OrderRun, steps: OrderSteps, sourcing: Sourcing, fulfilment: Fulfilment) -> None:
        self._run = run
        self._steps = steps
        self._sourcing = sourcing
        self._fulfilment = fulfilment
        self._one_at_a_time = asyncio.Lock()
        """Two edits accepted together are applied one after the other, each on the order as it stands."""
        self.links = EditLinks(run, steps)
        """An edit the customer pays for with a payment link (workflows.order.edit_links)."""

    # -- the validator ---------------------------------------------------------------------------

    def check(self, placed: Order | None, request: EditOrderRequest) -> None:
        """Refuse before history (ApplicationError ORDER_EDIT_REFUSED with the refusal's kind)."""
        if self._run.editing:
            raise _refused("another edit of this order is being applied: try again in a moment", "not_editable")
        if (waiting := self.links.refusal()) is not None:
            raise _refused(f"{waiting}: no other edit meanwhile", "not_editable")
        self._result(placed, request)

    def _result(self, placed: Order | None, request: EditOrderRequest, *, paid: bool = False) -> EditResult:
        """The edit on the order as it stands, or its refusal; `paid`: its increase was paid by link."""
        run = self._run
        if placed is None or run.outside is not None or placed.fulfilled_by != FULFILLED_BY_US:
            raise _refused("this order is not fulfilled by us: it cannot be changed here", "not_editable")
        if run.cancel is not None or run.status is OrderStatus.CANCELLED:
            raise _refused("the order is being cancelled", "not_editable")
        at_intake = run.status is OrderStatus.ON_HOLD and run.held_at_intake
        if (run.status not in EDITABLE and not at_intake) or not run.may_unwind:
            when = (
                "once it is reserved, backordered or held by the checks"
                if run.status in (OrderStatus.RECEIVED, OrderStatus.ON_HOLD)
                else "only before everything has left: use returns"
            )
            raise _refused(f"the order is {run.status.value}: it can be changed {when}", "not_editable")
        if not request.changes:
            raise _refused("an edit needs at least one change", EditRefusalKind.INVALID.value)
        order = run.order_now(placed)
        try:
            changes = tuple(to_domain(change) for change in request.changes)
            edit = EditRequest(changes, request.requested_by, request.reason)
            result = apply_edit(order, edit, self._shipments(order))
        except EditRefused as refused:
            raise _refused(str(refused), refused.kind.value) from None
        if not result.changed:
            raise _refused("the edit changes nothing", EditRefusalKind.INVALID.value)
        if problems := order_limit_refusals(result.order):
            raise _refused("the edited order cannot be kept: " + "; ".join(problems), EditRefusalKind.INVALID.value)
        more = result.difference.amount_minor > 0 and not order.payment_collected and not paid
        if more and (why := self._increase_refused(order, result)) is not None:
            raise _refused(
                f"the edit asks {result.difference.format()} more of the customer, {why}: take the added items"
                " as a new order (or reduce elsewhere)",
                NEEDS_PAYMENT,
            )
        return result

    def _increase_refused(self, order: Order, result: EditResult) -> str | None:
        """Why the card cannot be asked for the increase here, or None: the hold covers it, or a
        new authorization can replace the hold (nothing taken from it yet)."""
        run = self._run
        if run.payment is None:
            return "and no card authorization was taken for the order yet (it follows the checks, or credit paid)"
        if result.order.gateway_total().amount_minor <= run.payment.amount.amount_minor + _by_link(run):
            return None
        if run.captured or run.payment_status is not PaymentStatus.AUTHORIZED:
            taken = Money(run.captured, order.currency).format()
            return (
                f"and {taken} of the card's authorization of {run.payment.amount.format()} was captured already"
                " (a second authorization would split the order's payment)"
            )
        return None

    async def _reauthorize(self, placed: Order, result: EditResult) -> Money | None:
        """Before anything of the edit is applied: where it costs more than the card holds, hold
        the new amount on the card and then void the old hold. The new authorization's amount, or
        None (no call needed). Refused (the order unchanged): declined, not possible without the
        customer, the gateway away."""
        run = self._run
        order = run.order_now(placed)
        if order.payment_collected or result.difference.amount_minor <= 0:
            return None
        if not workflow.patched(REAUTHORIZE):  # before, every increase on a card was refused
            raise _refused(f"the edit asks {result.difference.format()} more of the customer", NEEDS_PAYMENT)
        amount = result.order.gateway_total()
        if run.payment is None or amount.amount_minor <= run.payment.amount.amount_minor + _by_link(run):
            return None  # the hold (and what links brought in) covers it (no hold at all was refused above)
        if run.capturing:
            await workflow.wait_condition(lambda: not run.capturing)
        if run.cancel is not None:
            raise _refused("the order is being cancelled", "not_editable")
        if (why := self._increase_refused(order, result)) is not None:
            raise _refused(f"the edit asks {result.difference.format()} more of the customer, {why}", NEEDS_PAYMENT)
        held = run.payment
        run.reauthorizing = True
        try:
            try:
                done = await workflow.execute_activity_method(
                    Payments.reauthorize_payment,
                    ReauthorizePaymentInput(
                        run.order_id, held.payment_id, amount, self._steps.key("reauthorize"), workflow.now()
                    ),
                    start_to_close_timeout=STEP_TIMEOUT,
                    retry_policy=REAUTHORIZE_RETRY,
                    summary=f"authorize {amount.format()} anew (edit)",
                )
            except ActivityError as err:
                if refusal(err, ErrorType.PAYMENT_REJECTED) is not None and workflow.patched(PAY_LINK_EDIT):
                    raise AskByLink() from None  # the customer pays the increase through a link
                raise _payment_refused(err, amount) from None
            run.payment, run.payment_status = done.payment, PaymentStatus.AUTHORIZED
            await self._void_replaced(done.replaced_ref, done.replaced)
        finally:
            run.reauthorizing = False
        return amount

    async def _void_replaced(self, provider_ref: str, amount: Money) -> None:
        """The old hold, released once the new one holds (retried like any void); a provider that
        refuses it leaves it to expire there, which the log says."""
        run = self._run
        assert run.payment is not None
        try:
            await self._steps.activity(
                Payments.void_replaced_authorization,
                VoidReplacedInput(
                    run.order_id, run.payment.payment_id, provider_ref, amount, self._steps.key("void"), workflow.now()
                ),
                summary=f"void {amount.format()} (replaced by the edit)",
            )
        except ActivityError as err:
            rejected = refusal(err, ErrorType.PAYMENT_REJECTED)
            if rejected is None:
                raise
            workflow.logger.warning(
                "the replaced authorization of %s was not voided: %s", run.order_id, rejected.message
            )

    def _shipments(self, order: Order) -> list[ShipmentState]:
        """The order's shipments as the edit rules see them: those reserved or running (as reserved),
        and what was handed over so far as one parcel that left."""
        run = self._run
        states = [
            ShipmentState(
                s.shipment_id,
                s.location_id,
                shipment_kind(s.location_id, order.pickup_location_id, s.transfer_to),
                ShipmentStatus.RESERVED,
                dict(s.lines),
            )
            for s in [*run.pending, *run.in_flight.values()]
        ]
        if run.left_units:
            left = dict(run.left_units)
            states.append(ShipmentState("left", "", ShipmentKind.DELIVERY, ShipmentStatus.SHIPPED, left))
        return states

    async def settled(self, fulfil: Callable[[], Awaitable[None]]) -> None:
        """For the order's loop, before it decides what remains: an edit being applied first, then
        the shipments an edit started meanwhile, until they too have ended."""
        run = self._run
        while True:
            await workflow.wait_condition(lambda: not run.editing)
            if not run.in_flight and not run.pending:
                return
            await fulfil()

    # -- applying it -----------------------------------------------------------------------------

    async def apply(self, placed: Order, request: EditOrderRequest) -> EditOrderResult:
        run = self._run
        workflow.patched(ORDER_EDITS)
        async with self._one_at_a_time:
            run.editing = True
            try:
                # Nothing half taken: a reservation under way is started first (its shipments run).
                await workflow.wait_condition(lambda: (not run.pending and not run.sourcing) or run.cancel is not None)
                if (waiting := self.links.refusal()) is not None:
                    raise _refused(f"{waiting}: no other edit meanwhile", "not_editable")
                result = self._result(placed, request)
                relabel = await self._cancel_labels(result)  # refused here, nothing has changed
                try:
                    authorized = await self._reauthorize(placed, result)
                    done = await self._apply(run.order_now(placed), request, result, authorized)
                except AskByLink:  # nothing of it applies until paid: labelled again, to the address kept
                    await self._relabel(relabel)
                    return await self.links.ask(placed, request, result, self.apply_paid)
                except ApplicationError:
                    await self._relabel(relabel)  # refused after all: labelled again, to the address kept
                    raise
                await self._relabel(relabel)
                return done
            finally:
                run.editing = False

    async def apply_paid(
        self, placed: Order, request: EditOrderRequest, amount: Money, payment_id: str
    ) -> EditOrderResult:
        """The edit whose increase the customer paid through a payment link (workflows.order.
        edit_links), applied on the order as it now stands, as one the hold covers; the link's
        payment becomes the order's. ApplicationError ORDER_EDIT_REFUSED when it no longer can be."""
        run = self._run
        async with self._one_at_a_time:
            run.editing = True
            try:
                await workflow.wait_condition(lambda: (not run.pending and not run.sourcing) or run.cancel is not None)
                result = self._result(placed, request, paid=True)
                paid = PaymentResult(payment_id, PaymentStatus.AUTHORIZED, amount)
                relabel = await self._cancel_labels(result)
                try:
                    done = await self._apply(run.order_now(placed), request, result, None, paid)
                except ApplicationError:
                    await self._relabel(relabel)
                    raise
                await self._relabel(relabel)
                return done
            finally:
                run.editing = False

    async def _cancel_labels(self, result: EditResult) -> dict[str, str]:
        """A new address: the carrier labels made for the old one are cancelled at the carrier, before
        anything of the edit is applied (a shipment the edit withdraws keeps its label, as any
        withdrawn one does). Shipment id → location of those cancelled (to be labelled
        anew). Refused (the order unchanged, those cancelled so far labelled again): the carrier no
        longer lets a label go (`label_not_cancellable`), or does not answer (`carrier_unavailable`)."""
        run = self._run
        cancelled: dict[str, str] = {}
        withdrawn = {r.shipment_id for r in result.releases}  # re-picked into new shipments: labelled as they pack
        readdress = [sid for sid in result.readdress if sid in run.in_flight and sid not in withdrawn]
        if not readdress or not workflow.patched(RELABEL):
            return cancelled
        version = run.edits + 2
        for shipment_id in readdress:
            try:
                done: LabelCancelled = await workflow.execute_activity_method(
                    Shipments.cancel_label,
                    CancelLabelInput(
                        run.order_id,
                        shipment_id,
                        f"the order's address changed (version {version})",
                        f"{shipment_id}:label-cancel:{version}",
                        workflow.now(),
                    ),
                    start_to_close_timeout=STEP_TIMEOUT,
                    retry_policy=LABEL_CANCEL_RETRY,
                    summary=f"cancel the label of {shipment_id} (new address)",
                )
            except ActivityError as err:
                await self._relabel(cancelled)
                if refused := refusal(err, ErrorType.CARRIER_REFUSED):
                    raise _refused(
                        f"the carrier label of {shipment_id} can no longer be cancelled ({refused.message}): the"
                        " address stays as it was; change it with the carrier, or cancel the order",
                        LABEL_NOT_CANCELLABLE,
                    ) from None
                away = refusal(err, ErrorType.CARRIER_UNAVAILABLE)
                why = away.message if away is not None else "the carrier did not answer its cancellation"
                raise _refused(
                    f"the label of {shipment_id} cannot be redone now ({why}): the address stays as it was,"
                    " try again later",
                    CARRIER_UNAVAILABLE,
                ) from None
            if done.cancelled:
                cancelled[shipment_id] = run.in_flight[shipment_id].location_id
        return cancelled

    async def _relabel(self, cancelled: dict[str, str]) -> None:
        """A new label for each shipment whose label was cancelled, through the label activity the
        shipment itself uses (it reads the address the order has now). A carrier refusing the new
        address leaves the shipment's label refused for a person, as when it was packed."""
        run = self._run
        for shipment_id, location_id in cancelled.items():
            try:
                await workflow.execute_activity_method(
                    Shipments.request_label,
                    LabelInput(run.order_id, shipment_id, location_id, workflow.now()),
                    start_to_close_timeout=STEP_TIMEOUT,
                    retry_policy=STEP_RETRY,
                    summary=f"carrier label for {shipment_id} (new address)",
                )
            except ActivityError as err:
                if refusal(err, ErrorType.CARRIER_REFUSED) is None:
                    raise
                workflow.logger.warning("the new label of %s was refused by the carrier", shipment_id)

    async def _apply(
        self,
        order: Order,
        request: EditOrderRequest,
        result: EditResult,
        authorized: Money | None,
        paid: PaymentResult | None = None,
    ) -> EditOrderResult:
        run = self._run
        withdraw = sorted({r.shipment_id for r in result.releases if r.shipment_id in run.in_flight})
        money = self._payment_change(order, result, paid.amount if paid is not None else None)
        version = run.edits + 2
        await self._record(order, request, result, version, withdraw, money, authorized, paid)
        if paid is not None:  # the link's payment is the order's now: the final capture takes from it
            run.extra_payments.append(paid)
        credit_back = await self._give_credit_back(result, version)
        run.edits += 1
        run.edited_order = result.order
        run.edit_withdrawn.extend(withdraw)
        run.remaining = self._remaining(result, withdraw)
        await self._fulfilment.withdraw(
            withdraw, CancelRequest(reason=f"order edited (version {version})", requested_by=request.requested_by)
        )
        if run.held_at_intake:  # changed while held by the checks: checked again as it now stands
            run.release = ReleaseRequest(note=f"edited (version {version})", released_by=request.requested_by)
        elif run.remaining and run.cancel is None:
            await self._source(result.order, withdraw)
        return EditOrderResult(
            order_id=run.order_id,
            version=version,
            changes=list(describe(result)),
            total=result.new_total,
            difference=result.difference,
            void=money.void,
            refund=money.refund,
            authorize=money.authorize,
            on_channel=money.on_channel,
            authorized=authorized,
            credit_back=credit_back,
        )

    async def _give_credit_back(self, result: EditResult, version: int) -> Money | None:
        """Store credit the order spent beyond its new total goes back to the customer's account,
        into the lots it came from (the cancellation's reversal, for this much; keyed by the version,
        so it is given once). The card's part was taken off first (domain.order_edits.credit_kept):
        its hold is released when everything has left, as for any decrease. None: nothing to give."""
        back = result.credit_back
        if back.amount_minor <= 0 or not workflow.patched(CREDIT_BACK):
            return None
        run = self._run
        await self._steps.activity(
            StoreCredit.reverse_store_credit,
            ReverseCreditInput(
                run.order_id,
                f"{run.order_id}:edit-{version}:credit-back",
                workflow.now(),
                back,
                f"edit, version {version}",
            ),
            summary=f"give back {back.format()} store credit (edit)",
        )
        return back

    async def _record(
        self,
        order: Order,
        request: EditOrderRequest,
        result: EditResult,
        version: int,
        withdraw: list[str],
        money: PaymentChange,
        authorized: Money | None,
        paid: PaymentResult | None = None,
    ) -> None:
        try:
            await self._steps.activity(
                OrderEditRecords.record_edit,
                RecordEditInput(
                    order=result.order,
                    version=version,
                    changes=list(describe(result)),
                    changed_by=request.requested_by,
                    reason=request.reason,
                    at=workflow.now(),
                    idempotency_key=self._steps.key("edit"),
                    withdraw=withdraw,
                    readdress=list(result.readdress),
                    payment={
                        "void": money.void.amount_minor,
                        "refund": money.refund.amount_minor,
                        "authorize": money.authorize.amount_minor,
                        "on_channel": money.on_channel,
                        **({"reauthorized": authorized.amount_minor} if authorized is not None else {}),
                        **({"credit_back": result.credit_back.amount_minor} if result.credit_back.amount_minor else {}),
                        **({"paid_by_link": paid.amount.amount_minor} if paid is not None else {}),
                    },
                    cancel_items=_items_to_cancel(order, result, request),
                    reduced_items=[] if request.requested_by == order.channel else _reduced_items(order, result),
                    placed_total=order.total if version == 2 else None,
                ),
                summary=f"edit: version {version}, total {result.new_total.format()}",
                hold_on_refusal=False,
            )
        except ActivityError as err:
            refused = refusal(err, ErrorType.ORDER_EDIT_REFUSED)
            if refused is None:
                raise
            raise _refused(refused.message, str(refused.details[0]) if refused.details else "handed_over") from None

    def _payment_change(self, order: Order, result: EditResult, paid: Money | None = None) -> PaymentChange:
        """How the money follows; `paid`: the edit's own increase, paid through its payment link."""
        run = self._run
        zero = Money.zero(order.currency)
        authorized = run.payment.amount if run.payment is not None else zero
        brought = _by_link(run) + (paid.amount_minor if paid is not None else 0)
        authorized += Money(brought, order.currency)  # what payment links brought in
        captured = Money(run.captured + run.extra_captured, order.currency)
        position = PaymentPosition(authorized, captured, order.payment_collected)
        return payment_change(result.gateway_difference, position)  # the credit given back apart

    def _remaining(self, result: EditResult, withdraw: list[str]) -> dict[str, int]:
        """What is still to be reserved: less the units removed that no location held, plus those
        added, plus what the withdrawn shipments carried and the order still wants."""
        run = self._run
        remaining = dict(run.remaining)
        for sku, units in result.unsourced_dropped.items():
            remaining[sku] = remaining.get(sku, 0) - units
        for sku, units in result.to_source.items():
            remaining[sku] = remaining.get(sku, 0) + units
        released = {(r.shipment_id, r.sku): r.quantity for r in result.releases}
        for shipment_id in withdraw:
            for sku, units in run.in_flight[shipment_id].lines.items():
                remaining[sku] = remaining.get(sku, 0) + units - released.get((shipment_id, sku), 0)
        return {sku: units for sku, units in sorted(remaining.items()) if units > 0}

    async def _source(self, order: Order, withdraw: list[str]) -> None:
        """Reserve what remains now where shipments are running (once the withdrawn ones have
        released their stock) and start it; otherwise the order's own loop, waiting for stock or
        for its shipments, sources it."""
        run = self._run
        run.resource_now = True
        run.stock_arrived = True
        others = [sid for sid in run.in_flight if sid not in withdraw]
        if not others:
            return
        await workflow.wait_condition(lambda: all(sid not in run.in_flight for sid in withdraw))
        if run.cancel is None and await self._sourcing.reserve_now(order) and run.cancel is None:
            await self._fulfilment.start_pending(order)  # (cancelled meanwhile: the compensation releases it)


def _by_link(run: OrderRun) -> int:
    """Minor units earlier edits' payment links brought in (paid, beside the order's payment)."""
    return sum(payment.amount.amount_minor for payment in run.extra_payments)


def _payment_refused(err: ActivityError, amount: Money) -> ApplicationError:
    """The edit's refusal for a new authorization that did not come about."""
    if declined := refusal(err, ErrorType.PAYMENT_DECLINED):
        return _refused(
            f"the card declined {amount.format()} ({declined.message}): the order stays as it was", PAYMENT_DECLINED
        )
    if rejected := refusal(err, ErrorType.PAYMENT_REJECTED):
        return _refused(
            f"the payment provider cannot hold {amount.format()} without the customer ({rejected.message}):"
            " take the added items as a new order",
            NEEDS_PAYMENT,
        )
    return _refused(
        f"the payment provider did not answer the authorization of {amount.format()}: the order stays as it was,"
        " try again later",
        PAYMENT_UNAVAILABLE,
    )


def _items_to_cancel(order: Order, result: EditResult, request: EditOrderRequest) -> list[str]:
    """The channel's item ids to cancel there: those it asked us to confirm, or (our edit) the
    lines removed whole (a channel cancels an item, not some of its units)."""
    if request.requested_by == order.channel:
        return list(request.confirm_lines)
    kept = {line.external_line_id for line in result.order.lines}
    return [
        line.external_line_id for line in order.lines if line.external_line_id and line.external_line_id not in kept
    ]


def _reduced_items(order: Order, result: EditResult) -> list[str]:
    """The channel's item ids of lines our edit reduced but kept (a channel cancels whole items)."""
    after = {line.external_line_id: line.quantity for line in result.order.lines if line.external_line_id}
    return [
        line.external_line_id
        for line in order.lines
        if line.external_line_id in after and after[line.external_line_id] < line.quantity
    ]
