"""Goodwill's steps: refund through our gateway (no transaction open during the call; the gateway
dedupes by the step key, the outcome is recorded once) or issue store credit (the ledger entry and
the goodwill's close in one transaction), and close a refused one so its amount is free again."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.orm import Session
from temporalio import activity

from activities.payments import refund_draws, rejected
from contracts.goodwill import GoodwillResult, GoodwillStatus, GoodwillStep, GoodwillSteps
from domain.money import Money
from domain.store_credit import CreditReason, CreditRefused, account_for
from integrations.payments.routing import PaymentGateways
from integrations.providers import PaymentGateway, PaymentRejected
from persistence.db import SessionFactory
from persistence.guarded_writes import goodwill as goodwill_store
from persistence.guarded_writes import order_payments
from persistence.guarded_writes import store_credit as credit_store
from persistence.guarded_writes.idempotency import run_once, stored_result
from persistence.master_data.channels import policy_for
from persistence.models import GoodwillRecord, OrderRecord
from persistence.read_model import issuing
from persistence.unit_of_work import UnitOfWork


def _result(record: GoodwillRecord) -> GoodwillResult:
    return GoodwillResult(record.goodwill_id, record.status, Money(record.amount_minor, record.currency))


class GoodwillActivities(GoodwillSteps):
    def __init__(
        self,
        session_factory: SessionFactory,
        gateway: PaymentGateway | PaymentGateways,
        credit_expiry: timedelta | None = None,
    ) -> None:
        self._session_factory = session_factory
        self._gateways = PaymentGateways.of(gateway)
        self._credit_expiry = credit_expiry

    @activity.defn
    def refund_goodwill(self, data: GoodwillStep) -> GoodwillResult:
        key = f"{data.goodwill_id}:refund"
        stored = stored_result(self._session_factory, key, GoodwillResult)
        if stored is not None:
            return stored
        with UnitOfWork(self._session_factory) as uow:
            record = uow.session.get(GoodwillRecord, data.goodwill_id)
            assert record is not None, data.goodwill_id
            amount = Money(record.amount_minor, record.currency)
            order_id = record.order_id
            # Reserved as a refund under the order's lock, within what all its payments hold: spread
            # over them, the newest extra payment first (domain.refund_spread).
            draws = order_payments.plan_refund(uow.session, record.order_id, amount)
        drawn = sum(draw.amount.amount_minor for draw in draws)
        if drawn < amount.amount_minor:  # a return refunded meanwhile: never more than the payments hold
            left = Money(drawn, amount.currency)
            raise rejected(PaymentRejected(f"only {left.format()} is left to refund on the order's payments"))
        refund_draws(self._gateways, draws, key)

        def effect(session: Session) -> GoodwillResult:
            order_payments.take_refunds(session, draws, data.at)
            issuing.credit_refund(session, order_id, key, amount, data.at, description="Goodwill")
            detail = "refunded"
            if len(draws) > 1 or any(draw.extra for draw in draws):
                detail += " (" + ", ".join(f"{d.amount.format()} through {d.payment_id}" for d in draws) + ")"
            record = goodwill_store.close(session, data.goodwill_id, GoodwillStatus.REFUNDED, detail, data.at)
            return _result(record)

        return run_once(self._session_factory, key, effect, GoodwillResult)

    @activity.defn
    def credit_goodwill(self, data: GoodwillStep) -> GoodwillResult:
        def effect(session: Session) -> GoodwillResult:
            record = session.get(GoodwillRecord, data.goodwill_id)
            assert record is not None, data.goodwill_id
            order = session.get(OrderRecord, record.order_id)
            assert order is not None
            amount = Money(record.amount_minor, record.currency)
            try:
                account = account_for(policy_for(session, order.channel).shop, order.customer_email, order.currency)
                credit_store.issue(
                    session,
                    account,
                    entry_id=data.goodwill_id,
                    amount=amount,
                    at=data.at,
                    reason=CreditReason.GOODWILL,
                    note=record.reason,
                    expires_at=data.at + self._credit_expiry if self._credit_expiry else None,
                    order_id=record.order_id,
                    actor=record.given_by,
                )
            except CreditRefused as exc:
                closed = goodwill_store.close(session, data.goodwill_id, GoodwillStatus.REFUSED, str(exc), data.at)
                return _result(closed)
            closed = goodwill_store.close(session, data.goodwill_id, GoodwillStatus.CREDITED, "store credit", data.at)
            return _result(closed)

        return run_once(self._session_factory, f"{data.goodwill_id}:credit", effect, GoodwillResult)

    @activity.defn
    def refuse_goodwill(self, data: GoodwillStep) -> GoodwillResult:
        def effect(session: Session) -> GoodwillResult:
            why = f"refused: {data.why}" if data.why else "refused"
            return _result(goodwill_store.close(session, data.goodwill_id, GoodwillStatus.REFUSED, why, data.at))

        return run_once(self._session_factory, f"{data.goodwill_id}:refuse", effect, GoodwillResult)
