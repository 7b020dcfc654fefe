"""Goodwill's steps: refund through our gateway (no transaction open during the call; the gateway
dedupes by the step key, the outcome is recorded once) or issue store credit (the ledger entry and
the goodwill's close in one transaction), and close a refused one so its amount is free again."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session
from temporalio import activity

from activities.payments import gateway_failure, rejected
from contracts.goodwill import GoodwillResult, GoodwillStatus, GoodwillStep, GoodwillSteps
from domain.money import Money
from domain.store_credit import CreditReason, CreditRefused, account_for
from integrations.payments.routing import PaymentGateways, UnknownGateway
from integrations.providers import PaymentGateway, PaymentGatewayUnavailable, PaymentRejected
from persistence.db import SessionFactory
from persistence.guarded_writes import goodwill as goodwill_store
from persistence.guarded_writes import store_credit as credit_store
from persistence.guarded_writes.idempotency import run_once, stored_result
from persistence.master_data.channels import policy_for
from persistence.models import GoodwillRecord, OrderRecord, PaymentRecord
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
            payment = goodwill_store.order_payment(uow.session, record.order_id)
            assert payment is not None, record.order_id  # reserved as a refund: there is one
            provider, provider_ref = payment.provider, payment.provider_ref
            amount = Money(record.amount_minor, record.currency)
        try:
            self._gateways.for_provider(provider).refund(key, provider_ref, amount)
        except (PaymentRejected, UnknownGateway) as exc:
            raise rejected(exc) from exc
        except PaymentGatewayUnavailable as exc:
            raise gateway_failure(exc) from exc

        def effect(session: Session) -> GoodwillResult:
            payment = session.scalars(
                select(PaymentRecord).where(PaymentRecord.provider_ref == provider_ref).with_for_update()
            ).one()
            payment.refunded_minor += amount.amount_minor
            payment.updated_at = data.at
            record = goodwill_store.close(session, data.goodwill_id, GoodwillStatus.REFUNDED, "refunded", data.at)
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
