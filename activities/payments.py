"""Authorize, capture and void through the configured gateway, each exactly once per step."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from sqlalchemy.orm import Session
from temporalio import activity
from temporalio.exceptions import ApplicationError

from contracts.errors import ErrorType
from contracts.payments import AuthorizePaymentInput, PaymentResult, Payments, PaymentStepInput
from domain.payments import PaymentStatus
from integrations.providers import GatewayPayment, PaymentDeclined, PaymentGateway, PaymentRejected
from persistence.db import SessionFactory
from persistence.guarded_writes.idempotency import run_once, stored_result
from persistence.models import PaymentRecord
from persistence.read_model import orders as order_store
from persistence.unit_of_work import UnitOfWork


def payment_status(record: PaymentRecord) -> PaymentStatus:
    """AUTHORIZED, PARTIALLY_CAPTURED, CAPTURED (the rest, if any, voided) or VOIDED."""
    if record.captured_minor == 0:
        return PaymentStatus.VOIDED if record.voided_minor else PaymentStatus.AUTHORIZED
    if record.captured_minor + record.voided_minor >= record.authorized_minor:
        return PaymentStatus.CAPTURED
    return PaymentStatus.PARTIALLY_CAPTURED


@dataclass
class Authorization:
    """What an authorization step recorded: the payment, or why the provider declined it."""

    payment: PaymentResult
    declined: str | None = None


class PaymentActivities(Payments):
    def __init__(self, session_factory: SessionFactory, gateway: PaymentGateway) -> None:
        self._session_factory = session_factory
        self._gateway = gateway

    @activity.defn
    def authorize_payment(self, data: AuthorizePaymentInput) -> PaymentResult:
        """Ask the gateway with no transaction open (it dedupes by the step's key), then record the
        outcome once; a retry of a recorded step does not call the gateway again."""
        stored = stored_result(self._session_factory, data.idempotency_key, Authorization)
        if stored is None:
            payment_id = f"payment-{data.order_id}"
            try:
                paid: GatewayPayment | PaymentDeclined = self._gateway.authorize(
                    data.idempotency_key, data.amount, data.payment_method, data.order_id
                )
            except PaymentRejected as exc:
                raise ApplicationError(str(exc), type=ErrorType.PAYMENT_REJECTED, non_retryable=True) from exc
            except PaymentDeclined as exc:
                paid = exc

            def effect(session: Session) -> Authorization:
                if isinstance(paid, PaymentDeclined):
                    order_store.add_event(session, data.order_id, "payment_declined", str(paid), data.at)
                    declined = PaymentResult(payment_id, PaymentStatus.DECLINED, data.amount)
                    return Authorization(declined, declined=str(paid))
                session.add(
                    PaymentRecord(
                        payment_id=payment_id,
                        order_id=data.order_id,
                        provider=paid.provider,
                        provider_ref=paid.provider_ref,
                        status=PaymentStatus.AUTHORIZED,
                        currency=data.amount.currency,
                        authorized_minor=data.amount.amount_minor,
                        created_at=data.at,
                        updated_at=data.at,
                    )
                )
                order_store.add_event(session, data.order_id, "payment_authorized", data.amount.format(), data.at)
                authorized = PaymentResult(payment_id, PaymentStatus.AUTHORIZED, data.amount, paid.multicapture)
                return Authorization(authorized)

            stored = run_once(self._session_factory, data.idempotency_key, effect, Authorization)
        if stored.declined is not None:
            raise ApplicationError(stored.declined, type=ErrorType.PAYMENT_DECLINED, non_retryable=True)
        return stored.payment

    @activity.defn
    def capture_payment(self, data: PaymentStepInput) -> PaymentResult:
        return self._settle(data, "captured")

    @activity.defn
    def void_payment(self, data: PaymentStepInput) -> PaymentResult:
        return self._settle(data, "voided")

    def _settle(self, data: PaymentStepInput, outcome: Literal["captured", "voided"]) -> PaymentResult:
        """Capture or void part of an authorization at the gateway (no transaction open during the
        call; the gateway dedupes by key), then record it once per idempotency key."""
        stored = stored_result(self._session_factory, data.idempotency_key, PaymentResult)
        if stored is not None:
            return stored
        with UnitOfWork(self._session_factory) as uow:
            provider_ref = self._payment(uow.session, data.payment_id).provider_ref
        try:
            if outcome == "captured":
                self._gateway.capture(data.idempotency_key, provider_ref, data.amount, final=data.final)
            else:
                self._gateway.void(data.idempotency_key, provider_ref, data.amount)
        except PaymentRejected as exc:
            raise ApplicationError(str(exc), type=ErrorType.PAYMENT_REJECTED, non_retryable=True) from exc

        def effect(session: Session) -> PaymentResult:
            record = self._payment(session, data.payment_id)
            if outcome == "captured":
                record.captured_minor += data.amount.amount_minor
            else:
                record.voided_minor += data.amount.amount_minor
            status = payment_status(record)
            record.status, record.updated_at = status, data.at
            order_store.add_event(session, data.order_id, f"payment_{outcome}", data.amount.format(), data.at)
            return PaymentResult(data.payment_id, status, data.amount)

        return run_once(self._session_factory, data.idempotency_key, effect, PaymentResult)

    @staticmethod
    def _payment(session: Session, payment_id: str) -> PaymentRecord:
        record = session.get(PaymentRecord, payment_id)
        if record is None:
            raise ApplicationError(
                f"payment {payment_id} is not recorded", type=ErrorType.UNKNOWN_PAYMENT, non_retryable=True
            )
        return record
