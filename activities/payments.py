"""Authorize, capture and void through the configured gateway, each exactly once per step."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session
from temporalio import activity
from temporalio.exceptions import ApplicationError

from contracts.errors import ErrorType
from contracts.payments import AuthorizePaymentInput, PaymentResult, Payments, PaymentStepInput
from domain.money import Money
from integrations.providers import GatewayPayment, PaymentDeclined, PaymentGateway, PaymentRejected
from persistence import orders as order_store
from persistence.db import SessionFactory
from persistence.idempotency import run_once, stored_result
from persistence.models import PaymentRecord
from persistence.unit_of_work import UnitOfWork


def payment_status(record: PaymentRecord) -> str:
    """AUTHORIZED, PARTIALLY_CAPTURED, CAPTURED (the rest, if any, voided) or VOIDED."""
    if record.captured_minor == 0:
        return "VOIDED" if record.voided_minor else "AUTHORIZED"
    if record.captured_minor + record.voided_minor >= record.authorized_minor:
        return "CAPTURED"
    return "PARTIALLY_CAPTURED"


def _result(stored: dict[str, Any]) -> PaymentResult:
    return PaymentResult(
        stored["payment_id"],
        stored["status"],
        Money(stored["amount_minor"], stored["currency"]),
        multicapture=bool(stored.get("multicapture", False)),
    )


class PaymentActivities(Payments):
    def __init__(self, session_factory: SessionFactory, gateway: PaymentGateway) -> None:
        self._session_factory = session_factory
        self._gateway = gateway

    @activity.defn
    def authorize_payment(self, data: AuthorizePaymentInput) -> PaymentResult:
        """Ask the gateway with no transaction open (it dedupes by the step's key), then record the
        outcome once; a retry of a recorded step does not call the gateway again."""
        stored = stored_result(self._session_factory, data.idempotency_key)
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

            def effect(session: Session) -> dict[str, Any]:
                money = {"amount_minor": data.amount.amount_minor, "currency": data.amount.currency}
                if isinstance(paid, PaymentDeclined):
                    order_store.add_event(session, data.order_id, "payment_declined", str(paid), data.at)
                    return {"payment_id": payment_id, "status": "declined", "reason": str(paid), **money}
                session.add(
                    PaymentRecord(
                        payment_id=payment_id,
                        order_id=data.order_id,
                        provider=paid.provider,
                        provider_ref=paid.provider_ref,
                        status="AUTHORIZED",
                        currency=data.amount.currency,
                        authorized_minor=data.amount.amount_minor,
                        created_at=data.at,
                        updated_at=data.at,
                    )
                )
                order_store.add_event(session, data.order_id, "payment_authorized", data.amount.format(), data.at)
                return {"payment_id": payment_id, "status": "authorized", "multicapture": paid.multicapture, **money}

            stored = run_once(self._session_factory, data.idempotency_key, effect)
        if stored["status"] == "declined":
            raise ApplicationError(stored["reason"], type=ErrorType.PAYMENT_DECLINED, non_retryable=True)
        return _result(stored)

    @activity.defn
    def capture_payment(self, data: PaymentStepInput) -> PaymentResult:
        return self._settle(data, "captured")

    @activity.defn
    def void_payment(self, data: PaymentStepInput) -> PaymentResult:
        return self._settle(data, "voided")

    def _settle(self, data: PaymentStepInput, outcome: str) -> PaymentResult:
        """Capture or void part of an authorization at the gateway (no transaction open during the
        call; the gateway dedupes by key), then record it once per idempotency key."""
        stored = stored_result(self._session_factory, data.idempotency_key)
        if stored is not None:
            return _result(stored)
        with UnitOfWork(self._session_factory) as uow:
            provider_ref = self._payment(uow.session, data.payment_id).provider_ref
        try:
            if outcome == "captured":
                self._gateway.capture(data.idempotency_key, provider_ref, data.amount, final=data.final)
            else:
                self._gateway.void(data.idempotency_key, provider_ref, data.amount)
        except PaymentRejected as exc:
            raise ApplicationError(str(exc), type=ErrorType.PAYMENT_REJECTED, non_retryable=True) from exc

        def effect(session: Session) -> dict[str, Any]:
            record = self._payment(session, data.payment_id)
            if outcome == "captured":
                record.captured_minor += data.amount.amount_minor
            else:
                record.voided_minor += data.amount.amount_minor
            record.status, record.updated_at = payment_status(record), data.at
            order_store.add_event(session, data.order_id, f"payment_{outcome}", data.amount.format(), data.at)
            return {
                "payment_id": data.payment_id,
                "status": outcome,
                "amount_minor": data.amount.amount_minor,
                "currency": data.amount.currency,
            }

        return _result(run_once(self._session_factory, data.idempotency_key, effect))

    @staticmethod
    def _payment(session: Session, payment_id: str) -> PaymentRecord:
        record = session.get(PaymentRecord, payment_id)
        if record is None:
            raise ApplicationError(
                f"payment {payment_id} is not recorded", type=ErrorType.UNKNOWN_PAYMENT, non_retryable=True
            )
        return record
