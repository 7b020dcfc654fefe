"""An order edit that costs more on an order whose payment the customer made at the provider's
checkout (Mollie): the provider cannot be asked for more without the customer, so the customer is
asked with a payment link for the increase (the edited order's gateway total less what the order's
payment holds), until OMS_PAYMENT_LINK_EXPIRY.

While the link is open nothing of the edit is applied (nothing is reserved for it) and the order
carries on as it was; no other edit is taken meanwhile. Paid (the provider's webhook signals
`payment_link_changed`, or the link is read every EDIT_LINK_RECHECK): the edit is applied exactly as
one the card's hold covers, on the order as it then stands, and the link's payment becomes an extra
payment of the order (`payment-<order id>-e<version>`, purpose edit_increase): the final capture
takes from it what the order's own payment does not hold, and what never ships is given back.
Unpaid at its deadline: the link is closed at the provider and the edit lapses (the timeline says
so). The order cancelled, or everything left before the customer paid: the link is closed; paid
meanwhile, or the edit no longer possible (units it changes handed over), its payment is refunded
and the timeline says why.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from temporalio import workflow
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from contracts.errors import ErrorType
    from contracts.order_edits import (
        AWAITING_PAYMENT,
        NEEDS_PAYMENT,
        EditOrderRequest,
        EditOrderResult,
        NoteEditInput,
        OrderEditRecords,
    )
    from contracts.order_workflow import OrderRun
    from contracts.payment_links import OpenPaymentLinkInput, PaymentLinks, PaymentLinkStepInput
    from contracts.payments import PaymentResult, Payments, PaymentStepInput
    from domain.money import Money
    from domain.order import Order
    from domain.order_edits import EditResult, describe
    from domain.payment_links import LinkStatus
    from domain.payments import PaymentPurpose, PaymentStatus, extra_payment_id
    from workflows.policies import STEP_RETRY, STEP_TIMEOUT

from workflows.order.steps import OrderSteps, refusal

PAY_LINK_EDIT = "order-edit-pay-link-v1"
"""Marks the histories where an edit the provider could not authorize without the customer asked
for the increase with a payment link (before, it was refused `needs_payment`)."""
EDIT_LINK_RECHECK = timedelta(hours=1)
"""How often an order waiting for its edit's payment link reads it (besides the webhook's signal)."""

Apply = Callable[[Order, EditOrderRequest, Money, str], Awaitable[EditOrderResult]]
"""Applies the paid edit on the order as it stands (OrderEdits.apply_paid): its result, or
ApplicationError ORDER_EDIT_REFUSED when it is no longer possible."""


class AskByLink(Exception):
    """The provider cannot authorize the increase without the customer: ask with a link."""


@dataclass
class _Waiting:
    placed: Order
    request: EditOrderRequest
    amount: Money
    payment_id: str
    link_id: str
    expires_at: datetime
    version: int


class EditLinks:
    def __init__(self, run: OrderRun, steps: OrderSteps) -> None:
        self._run = run
        self._steps = steps
        self._waiting: _Waiting | None = None
        self._task: asyncio.Task[None] | None = None
        self._changed = False
        self._call_off: str | None = None
        self._checks = 0
        self._asking = False
        """A link is being opened (the update under way): calling it off waits for it."""

    @property
    def open(self) -> bool:
        return self._waiting is not None

    def refusal(self) -> str | None:
        """Why another edit is not taken now (one waits for its payment), or None."""
        waiting = self._waiting
        if waiting is None:
            return None
        until = f"{waiting.expires_at:%Y-%m-%d %H:%M} UTC"
        return f"an edit waits for the customer's payment of {waiting.amount.format()} until {until}"

    def link_changed(self) -> None:
        """The provider's webhook said the link changed: read it now."""
        self._changed = True

    async def ask(self, placed: Order, request: EditOrderRequest, result: EditResult, apply: Apply) -> EditOrderResult:
        """Open the link for the increase and wait for it in the background: the update answers
        AWAITING_PAYMENT with the link. NEEDS_PAYMENT (as before) when the provider has no links."""
        self._asking = True
        try:
            return await self._ask(placed, request, result, apply)
        finally:
            self._asking = False

    async def _ask(self, placed: Order, request: EditOrderRequest, result: EditResult, apply: Apply) -> EditOrderResult:
        run = self._run
        assert run.payment is not None
        amount = result.order.gateway_total() - run.payment.amount - _extra_held(run)
        version = run.edits + 2
        key = self._steps.key("edit-pay-link")
        asked = run.steps["edit-pay-link"]  # a lapsed link's version number comes again: its own payment id
        payment_id = extra_payment_id(run.order_id, f"e{version}" + (f"-{asked}" if asked > 1 else ""))
        try:
            opened = await self._steps.activity(
                PaymentLinks.open_payment_link,
                OpenPaymentLinkInput(
                    run.order_id,
                    run.order_id,
                    PaymentPurpose.EDIT_INCREASE.value,
                    amount,
                    f"Order {run.order_id}: the change to your order (version {version})",
                    key,
                    workflow.now(),
                    payment_id=payment_id,
                ),
                summary=f"payment link for {amount.format()} (edit)",
                hold_on_refusal=False,
            )
        except ActivityError as err:
            rejected = refusal(err, ErrorType.PAYMENT_REJECTED)
            if rejected is None:
                raise
            raise _needs_payment(result, f"the provider refused a payment link ({rejected.message})") from None
        if opened.link_id is None or opened.expires_at is None:
            raise _needs_payment(result, opened.refusal)
        waiting = _Waiting(placed, request, amount, payment_id, opened.link_id, opened.expires_at, version)
        self._waiting, self._changed, self._call_off = waiting, False, None
        run.edit_link_open = True
        await self._note(
            "order_edit_awaiting_payment",
            f"version {version} by {request.requested_by or 'staff'} waits for {amount.format()} through the"
            f" payment link: " + "; ".join(describe(result)),
        )
        self._task = asyncio.create_task(self._until_paid(waiting, apply))
        return EditOrderResult(
            order_id=run.order_id,
            version=version,
            changes=list(describe(result)),
            total=result.new_total,
            difference=result.difference,
            void=Money.zero(amount.currency),
            refund=Money.zero(amount.currency),
            authorize=amount,
            on_channel=False,
            status=AWAITING_PAYMENT,
            payment_link=opened.url,
            pay_by=opened.expires_at,
        )

    async def call_off(self, why: str) -> bool:
        """The order cannot take the waiting edit any more (cancelled, everything left): close its
        link and wait until that is done (a payment that came first is refunded). True when the edit
        was applied before (the order has more to ship)."""
        if self._asking:  # a link being opened right now is called off once it is open
            await workflow.wait_condition(lambda: not self._asking)
        if self._task is None:
            return False
        edits = self._run.edits
        self._call_off = self._call_off or why
        await self._task
        self._task = None
        return self._run.edits > edits

    async def _until_paid(self, waiting: _Waiting, apply: Apply) -> None:
        run = self._run
        try:
            status = await self._until_settled(waiting)
            if status is not LinkStatus.PAID:
                why = self._call_off or "the payment link expired unpaid"
                await self._note("order_edit_lapsed", f"version {waiting.version} not applied: {why}")
                return
            paid = PaymentResult(waiting.payment_id, PaymentStatus.AUTHORIZED, waiting.amount)
            if self._call_off is not None:
                await self._give_back(waiting, paid, self._call_off)
                return
            try:
                await apply(waiting.placed, waiting.request, waiting.amount, waiting.payment_id)
            except ApplicationError as refused:
                if refused.type != ErrorType.ORDER_EDIT_REFUSED:
                    raise
                await self._give_back(waiting, paid, refused.message)
        finally:
            self._waiting = None
            run.edit_link_open = False

    async def _until_settled(self, waiting: _Waiting) -> LinkStatus:
        """Read the link on the webhook's signal and every EDIT_LINK_RECHECK until its deadline or
        until it is called off; unpaid, close it at the provider (a payment that came first counts)."""
        run = self._run
        status = LinkStatus.OPEN
        while status is LinkStatus.OPEN and workflow.now() < waiting.expires_at:
            with contextlib.suppress(TimeoutError):
                await workflow.wait_condition(
                    lambda: self._changed or self._call_off is not None or run.cancel is not None,
                    timeout=min(EDIT_LINK_RECHECK, waiting.expires_at - workflow.now()),
                    timeout_summary="edit payment link",
                )
            self._changed = False
            if run.cancel is not None and self._call_off is None:
                self._call_off = "the order is being cancelled"
            if self._call_off is not None:
                break
            status = await self._step(PaymentLinks.check_payment_link, waiting.link_id, "check")
        if status is not LinkStatus.PAID:
            close_as = LinkStatus.CANCELLED if self._call_off is not None else LinkStatus.EXPIRED
            status = await self._step(PaymentLinks.close_payment_link, waiting.link_id, "close", close_as)
        return status

    async def _step(
        self,
        method: Callable[[PaymentLinks, PaymentLinkStepInput], Any],
        link_id: str,
        step: str,
        close_as: LinkStatus = LinkStatus.EXPIRED,
    ) -> LinkStatus:
        self._checks += 1
        done = await workflow.execute_activity_method(
            method,
            PaymentLinkStepInput(
                self._run.order_id, link_id, self._steps.key(f"edit-pay-link-{step}"), workflow.now(), close_as.value
            ),
            start_to_close_timeout=STEP_TIMEOUT,
            retry_policy=STEP_RETRY,
            summary=f"{step} edit payment link",
        )
        return LinkStatus(done.status)

    async def _give_back(self, waiting: _Waiting, paid: PaymentResult, why: str) -> None:
        """Paid, but the edit is not applied: the customer's money goes back (Mollie refunds a
        payment taken at once when its rest is voided), and the timeline says why."""
        await self._note("order_edit_lapsed", f"version {waiting.version} not applied although paid: {why}")
        try:
            await self._steps.activity(
                Payments.void_payment,
                PaymentStepInput(
                    self._run.order_id, paid.payment_id, paid.amount, self._steps.key("edit-pay-back"), workflow.now()
                ),
                summary=f"give back {paid.amount.format()} (edit not applied)",
            )
        except ActivityError as err:
            rejected = refusal(err, ErrorType.PAYMENT_REJECTED)
            if rejected is None:
                raise
            await self._note("edit_payment_not_refunded", f"{paid.payment_id}: {rejected.message}: refund it by hand")

    async def _note(self, kind: str, detail: str) -> None:
        await self._steps.activity(
            OrderEditRecords.note_edit,
            NoteEditInput(self._run.order_id, kind, detail, workflow.now(), self._steps.key("edit-note")),
            summary=kind.replace("_", " "),
        )


def _needs_payment(result: EditResult, why: str) -> ApplicationError:
    return ApplicationError(
        f"the edit asks {result.difference.format()} more of the customer, and {why}: take the added items as a"
        " new order (or reduce elsewhere)",
        NEEDS_PAYMENT,
        type=ErrorType.ORDER_EDIT_REFUSED,
    )


def _extra_held(run: OrderRun) -> Money:
    """What earlier edits' payment links brought in (the order's payments beside its own)."""
    assert run.payment is not None
    return Money(sum(p.amount.amount_minor for p in run.extra_payments), run.payment.amount.currency)
