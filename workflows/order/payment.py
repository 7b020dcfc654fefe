"""Payment: authorize at intake (unless the channel collected the money), capture what has left the
building, void what never will.

Capture strategy: a partial capture per shipment as it leaves where the authorization allows
several (multicapture), else one capture when the last shipment has left. Whatever a parcel
captures is its exact share of the order's total (domain.allocation), so the parts add up to the
total to the cent however the order was split.
"""

from __future__ import annotations

from temporalio import workflow
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from contracts.errors import ErrorType
    from contracts.order_workflow import CancelRequest, OrderRun
    from contracts.payments import AuthorizePaymentInput, Payments, PaymentStepInput
    from domain.allocation import charge_for_parcel, charged_for
    from domain.cancellation import BY_PAYMENT
    from domain.edit_payments import capture_shares, extra_rests
    from domain.money import Money
    from domain.order import Order
    from domain.order_edits import capture_due
    from domain.payments import PaymentStatus
    from domain.status import OrderStatus

from workflows.order.steps import Cancelled, OrderSteps, refusal


class Payment:
    def __init__(self, run: OrderRun, steps: OrderSteps) -> None:
        self._run = run
        self._steps = steps

    async def authorize(self, order: Order) -> None:
        """Declined: the order is cancelled (Cancelled), nothing reserved. Refused by the gateway
        itself (no usable payment method): ON_HOLD for a person; a release tries again."""
        run = self._run
        self._steps.raise_if_cancelled()
        if order.payment_collected or (order.store_credit is not None and order.gateway_total().amount_minor == 0):
            return  # the channel took the money, or store credit paid it all
        amount = order.gateway_total()
        while True:
            self._steps.expect_a_person()
            try:
                run.payment = await self._steps.activity(
                    Payments.authorize_payment,
                    AuthorizePaymentInput(
                        order.order_id, amount, order.payment_method, self._steps.key("authorize"), workflow.now()
                    ),
                    summary=f"authorize {amount.format()}",
                )
                run.payment_status = PaymentStatus.AUTHORIZED
                return
            except ActivityError as err:
                if declined := refusal(err, ErrorType.PAYMENT_DECLINED):
                    run.payment_status = PaymentStatus.DECLINED
                    run.cancel = CancelRequest(reason=f"payment declined: {declined.message}", requested_by=BY_PAYMENT)
                    raise Cancelled from err
                rejected = refusal(err, ErrorType.PAYMENT_REJECTED)
                if rejected is None:
                    raise
                await self._steps.set_status(OrderStatus.ON_HOLD, hold_reason=f"payment rejected: {rejected.message}")
                await self._steps.wait_for_a_person()

    def count_handover(self, order: Order, parcel: dict[str, int]) -> int:
        """The share of the order's total this parcel carries; counts its units as handed over."""
        run = self._run
        if run.edits:  # the parcels before were charged on an earlier version: the running difference
            left = dict(run.left_units)
            for sku, units in parcel.items():
                left[sku] = left.get(sku, 0) + units
            run.left_units = left
            return capture_due(order, Money(run.captured, order.currency), left).amount_minor
        value = charge_for_parcel(order, run.left_units, parcel).amount_minor
        for sku, units in parcel.items():
            run.left_units[sku] = run.left_units.get(sku, 0) + units
        return value

    async def parcel_left(self, order: Order, value: int) -> None:
        """A parcel worth `value` left: captured now where the authorization takes several
        captures; otherwise (and for the last parcel) when everything has left (`settle`)."""
        payment = self._run.payment
        if payment is None or self.nothing_left_to_ship():
            return
        if payment.multicapture:
            if order.store_credit is not None:  # the gateway takes what credit did not pay, first parcels last
                value = self._gateway_due(order)
                if value <= 0:
                    return
            if self._run.extra_payments:  # beyond what the payment holds, payment links pay (at the end)
                value = min(value, payment.amount.amount_minor - self._run.captured)
                if value <= 0:
                    return
            await self._capture(order, value, final=False)
        else:
            self._run.payment_status = PaymentStatus.AUTHORIZED  # captured when the last shipment leaves

    async def settle(self, order: Order) -> None:
        """Everything that will leave has left: take its money (the final capture) and release the rest."""
        run = self._run
        if run.payment is None:
            return
        due = self._gateway_due(order)
        if run.extra_payments:  # the order's payment takes what it holds, payment links' the rest
            held = [payment.amount.amount_minor for payment in run.extra_payments]
            own, shares = capture_shares(due, run.payment.amount.amount_minor - run.captured, held, run.extra_captured)
            await self._capture_extras(order, sum(shares))
            due = own
        if due > 0:
            await self._capture(order, due)
        await self.void_the_rest(order)

    async def void_the_rest(self, order: Order) -> None:
        run = self._run
        await self.after_reauthorizing()
        if run.extra_payments:
            await self._give_back_extras(order)
        if run.payment is None or run.payment.amount.amount_minor - run.captured <= 0:
            return
        rest = Money(run.payment.amount.amount_minor - run.captured, order.currency)
        voided = await self._steps.activity(
            Payments.void_payment,
            PaymentStepInput(order.order_id, run.payment.payment_id, rest, self._steps.key("void"), workflow.now()),
            summary=f"void {rest.format()}",
        )
        # Money already taken at checkout (iDEAL, Bancontact) is refunded instead: the record says so.
        if voided.status is PaymentStatus.REFUNDED:
            run.payment_status = PaymentStatus.REFUNDED
        else:
            run.payment_status = PaymentStatus.VOIDED if run.captured == 0 else PaymentStatus.CAPTURED

    async def _capture_extras(self, order: Order, amount: int) -> None:
        """Capture `amount` on the payments edits' links brought in, oldest first (a payment taken
        at once, as Mollie's through a link, is captured already: the capture is a record)."""
        run = self._run
        held = [payment.amount.amount_minor for payment in run.extra_payments]
        _, shares = capture_shares(amount, 0, held, run.extra_captured)
        for payment, part in zip(run.extra_payments, shares, strict=True):
            if part <= 0:
                continue
            money = Money(part, order.currency)
            await self._steps.activity(
                Payments.capture_payment,
                PaymentStepInput(
                    order.order_id, payment.payment_id, money, self._steps.key("capture-extra"), workflow.now()
                ),
                summary=f"capture {money.format()} ({payment.payment_id})",
            )
            run.extra_captured += part

    async def _give_back_extras(self, order: Order) -> None:
        """What the edits' payments hold beyond what was captured goes back (voided; refunded where
        it was taken at once), oldest first, each once."""
        run = self._run
        payments, run.extra_payments = run.extra_payments, []
        rests = extra_rests([payment.amount.amount_minor for payment in payments], run.extra_captured)
        for payment, rest in zip(payments, rests, strict=True):
            if rest <= 0:
                continue
            money = Money(rest, order.currency)
            await self._steps.activity(
                Payments.void_payment,
                PaymentStepInput(
                    order.order_id, payment.payment_id, money, self._steps.key("void-extra"), workflow.now()
                ),
                summary=f"give back {money.format()} ({payment.payment_id})",
            )

    def _gateway_due(self, order: Order) -> int:
        """What of the goods handed over so far the gateway has yet to capture: their share of the
        total, less what store credit paid (credit pays for the first goods to leave)."""
        charged = charged_for(order, self._run.left_units).amount_minor
        if order.store_credit is not None:
            charged = max(0, charged - order.store_credit.amount_minor)
        return charged - self._run.captured - self._run.extra_captured

    def nothing_left_to_ship(self) -> bool:
        return not self._run.pending and not self._run.remaining and not self._run.in_flight

    async def after_reauthorizing(self) -> None:
        """An edit replacing the authorization finishes first (the new one is then the payment)."""
        if self._run.reauthorizing:
            await workflow.wait_condition(lambda: not self._run.reauthorizing)

    async def _capture(self, order: Order, amount: int, *, final: bool = True) -> None:
        run = self._run
        await self.after_reauthorizing()
        assert run.payment is not None
        everything_shipped = self.nothing_left_to_ship()
        money = Money(amount, order.currency)
        key = self._steps.key("capture")
        run.capturing += 1
        try:
            await self._steps.activity(
                Payments.capture_payment,
                PaymentStepInput(order.order_id, run.payment.payment_id, money, key, workflow.now(), final=final),
                summary=f"capture {money.format()}" + ("" if final else " (more to follow)"),
            )
        except ActivityError as err:
            rejected = refusal(err, ErrorType.PAYMENT_REJECTED)
            if rejected is None:
                raise
            # The goods are gone; the order goes on, and the payment shows what needs a person.
            workflow.logger.warning("capture refused for %s: %s", run.order_id, rejected.message)
            run.payment_status = PaymentStatus.CAPTURE_REFUSED
            return
        finally:
            run.capturing -= 1
        run.captured += amount
        run.payment_status = PaymentStatus.CAPTURED if everything_shipped else PaymentStatus.PARTIALLY_CAPTURED
