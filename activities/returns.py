"""Returns: check a request against what really left, take the goods back, refund exactly once."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.orm import Session
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.payments import refund_draws
from contracts.errors import ErrorType
from contracts.returns import AcceptReturnInput, RefundReturnInput, ReturnAccepted, Returns
from contracts.store_credit import IssueCreditInput
from domain.money import Money
from domain.order import Order
from domain.returns import ReturnLine, ReturnRefused, ReturnStatus, check_return, refund_for
from domain.store_credit import CreditReason
from integrations.payments.routing import PaymentGateways
from integrations.providers import PaymentGateway
from persistence.db import SessionFactory
from persistence.guarded_writes import goodwill as goodwill_store
from persistence.guarded_writes import order_payments
from persistence.guarded_writes.idempotency import run_once, stored_result
from persistence.models import ReturnRecord
from persistence.read_model import issuing
from persistence.read_model import orders as order_store
from persistence.read_model import returns as return_store
from persistence.read_model.returns import credit_paid_left, shipped_units
from persistence.unit_of_work import UnitOfWork
from services.errors import ServiceError
from services.store_credit import CreditAccounts
from services.unit_of_work import units_on


class ReturnActivities(Returns):
    def __init__(
        self,
        session_factory: SessionFactory,
        gateway: PaymentGateway | PaymentGateways,
        credit_expiry: timedelta | None = None,
    ) -> None:
        """`gateway`: one for everything, or the gateways per provider (worker.py); `credit_expiry`:
        settings.store_credit_expiry, stamped on credit a return gives back."""
        self._session_factory = session_factory
        self._gateways = PaymentGateways.of(gateway)
        self._credit = CreditAccounts(units_on(session_factory), credit_expiry)

    @activity.defn
    def accept_return(self, data: AcceptReturnInput) -> ReturnAccepted:
        """Check the request against the database (what shipped, what came back), then record the
        return and restock in one transaction; a retry answers what was recorded the first time."""

        def effect(session: Session) -> ReturnAccepted:
            order: Order = data.order
            returned = return_store.returned_so_far(session, order.order_id)
            try:
                units = check_return(
                    [ReturnLine(sku, quantity) for sku, quantity in data.lines.items()],
                    shipped=shipped_units(session, order.order_id) if data.shipped is None else data.shipped,
                    returned=returned,
                    window_closes_at=data.window_closes_at,
                    now=data.at,
                )
            except ReturnRefused as refused:
                raise ApplicationError(
                    str(refused), refused.kind.value, type=ErrorType.RETURN_REFUSED, non_retryable=True
                ) from None
            refund = refund_for(order, returned, units)
            return_store.accept_return(
                session,
                order_id=order.order_id,
                return_id=data.return_id,
                lines=units,
                reason=data.reason,
                refund=refund,
                requested_by=data.requested_by,
                restock=data.restock,
                at=data.at,
                restock_at=data.restock_at,
            )
            return ReturnAccepted(data.return_id, ReturnStatus.ACCEPTED, refund)

        return run_once(self._session_factory, f"{data.return_id}:accept", effect, ReturnAccepted)

    @activity.defn
    def refund_return(self, data: RefundReturnInput) -> ReturnAccepted:
        """Give the return's money back, once. Refund through our gateway when we took the money; a
        marketplace or POS order was paid on the channel, so the refund is noted as the channel's to
        make. What the gateway cannot give back because the customer paid it with store credit goes
        back as credit (capped at what the order spent); a store-credit resolution gives it all as
        credit. No transaction is open during the gateway call; the gateway dedupes by the step key,
        credit by its entry id, and the outcome is recorded once. An order with several payments (an
        exchange's difference charged on top) gives back through them by domain.refund_spread: the
        newest extra payment first, never more than any of them took and has not given back. A
        second refund of one return (what a replacement left undelivered) is its own `part`."""
        key = f"{data.return_id}:refund" + (f":{data.part}" if data.part else "")
        stored = stored_result(self._session_factory, key, ReturnAccepted)
        if stored is not None:
            return stored
        on_gateway = not data.on_channel and not data.as_credit
        with UnitOfWork(self._session_factory) as uow:
            # Never more than the customer paid and has not had back (goodwill, earlier refunds, credit).
            left = None if data.on_channel else goodwill_store.left_to_give_back(uow.session, data.order_id)
            asked = (
                data.amount
                if left is None
                else Money(min(data.amount.amount_minor, max(0, left)), data.amount.currency)
            )
            draws = order_payments.plan_refund(uow.session, data.order_id, asked) if on_gateway else []
            credit_left = 0 if data.on_channel else credit_paid_left(uow.session, data.order_id)
        if data.as_credit:
            gateway, credit = Money.zero(data.amount.currency), asked
        else:
            gateway = Money(sum(draw.amount.amount_minor for draw in draws), data.amount.currency)
            rest = asked.amount_minor - gateway.amount_minor
            credit = Money(min(rest, credit_left), data.amount.currency)
        short = data.amount - gateway - credit if left is not None else Money.zero(data.amount.currency)
        refund_draws(self._gateways, draws, key)
        if credit.amount_minor > 0:
            self._credit_back(data, credit)

        def effect(session: Session) -> ReturnAccepted:
            # The credit note for it, whichever way the money goes back (gateway, credit, channel).
            record = session.get(ReturnRecord, data.return_id)
            issuing.credit_refund(
                session,
                data.order_id,
                key,
                data.amount,
                data.at,
                description=f"Return {record.rma or data.return_id}" if record is not None else "Return",
                return_id=data.return_id,
                units=None if data.part or record is None else dict(record.lines),
            )
            # The return's `refund_minor` is the money back (through the gateway, or the channel's
            # to make): what the refund figures count. Credit is counted in the credit ledger.
            credited = credit if credit.amount_minor > 0 else None
            if short.amount_minor > 0:
                detail = (
                    f"{short.format()} of {data.amount.format()} not given back: the order's payments and credit "
                    "hold no more (goodwill or earlier refunds took it)"
                )
                order_store.add_event(session, data.order_id, "refund_short", detail, data.at)
            if draws:
                taken = order_payments.take_refunds(session, draws, data.at)
                return_store.note_refunds(session, data.return_id, taken, gateway, "refunded to the customer", data.at)
                return_store.set_refund(session, data.return_id, gateway, add=bool(data.part))
                return ReturnAccepted(data.return_id, ReturnStatus.REFUNDED, gateway + credit, credited=credited)
            if credited is not None:
                return_store.note_credited(session, data.return_id, data.at)
                return_store.set_refund(session, data.return_id, credit, add=bool(data.part))
                return ReturnAccepted(data.return_id, ReturnStatus.CREDITED, credit, credited=credited)
            if left is not None:  # we took the money, and nothing of it is left to give back
                return_store.set_refund(session, data.return_id, Money.zero(data.amount.currency), add=bool(data.part))
                return ReturnAccepted(data.return_id, ReturnStatus.REFUNDED, Money.zero(data.amount.currency))
            return_store.note_refund(session, data.return_id, None, data.amount, "to refund on the channel", data.at)
            return_store.set_refund(session, data.return_id, data.amount, add=bool(data.part))
            return ReturnAccepted(data.return_id, ReturnStatus.REFUND_ON_CHANNEL, data.amount)

        return run_once(self._session_factory, key, effect, ReturnAccepted)

    def _credit_back(self, data: RefundReturnInput, amount: Money) -> None:
        """Issue `amount` as credit (reason return) to the order's customer, once per return (and part)."""
        note = "the return settled as store credit" if data.as_credit else "paid with store credit"
        issue = IssueCreditInput(
            f"{data.return_id}:credit" + (f":{data.part}" if data.part else ""),
            amount,
            CreditReason.RETURN,
            data.at,
            order_id=data.order_id,
            note=note,
        )
        try:
            self._credit.issue(issue)
        except ServiceError as exc:
            raise ApplicationError(
                exc.message, str(exc.facts.get("refusal", "invalid")), type=ErrorType.CREDIT_REFUSED, non_retryable=True
            ) from None
