"""Authorize, capture and void through the configured gateway, each exactly once per step."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session
from temporalio import activity
from temporalio.exceptions import ApplicationError

from domain.money import Money
from integrations.providers import PaymentDeclined, PaymentGateway
from persistence import orders as order_store
from persistence.db import SessionFactory
from persistence.idempotency import run_once
from persistence.models import PaymentRecord
from workflows.payloads import PAYMENT_DECLINED, AuthorizePaymentInput, PaymentResult, PaymentStepInput


def _result(stored: dict[str, Any]) -> PaymentResult:
    return PaymentResult(stored["payment_id"], stored["status"], Money(stored["amount_minor"], stored["currency"]))


class PaymentActivities:
    def __init__(self, session_factory: SessionFactory, gateway: PaymentGateway) -> None:
        self._session_factory = session_factory
        self._gateway = gateway

    @activity.defn
    def authorize_payment(self, data: AuthorizePaymentInput) -> PaymentResult:
        def effect(session: Session) -> dict[str, Any]:
            payment_id = f"payment-{data.order_id}"
            try:
                paid = self._gateway.authorize(data.idempotency_key, data.amount, data.payment_method, data.order_id)
            except PaymentDeclined as exc:
                order_store.add_event(session, data.order_id, "payment_declined", str(exc), data.at)
                return {
                    "payment_id": payment_id,
                    "status": "declined",
                    "reason": str(exc),
                    "amount_minor": data.amount.amount_minor,
                    "currency": data.amount.currency,
                }
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
            return {
                "payment_id": payment_id,
                "status": "authorized",
                "amount_minor": data.amount.amount_minor,
                "currency": data.amount.currency,
            }

        stored = run_once(self._session_factory, data.idempotency_key, effect)
        if stored["status"] == "declined":
            raise ApplicationError(stored["reason"], type=PAYMENT_DECLINED, non_retryable=True)
        return _result(stored)

    @activity.defn
    def capture_payment(self, data: PaymentStepInput) -> PaymentResult:
        def effect(session: Session) -> dict[str, Any]:
            record = self._payment(session, data.payment_id)
            self._gateway.capture(data.idempotency_key, record.provider_ref, data.amount)
            record.captured_minor += data.amount.amount_minor
            record.status = "CAPTURED"
            record.updated_at = data.at
            order_store.add_event(session, data.order_id, "payment_captured", data.amount.format(), data.at)
            return {
                "payment_id": data.payment_id,
                "status": "captured",
                "amount_minor": data.amount.amount_minor,
                "currency": data.amount.currency,
            }

        return _result(run_once(self._session_factory, data.idempotency_key, effect))

    @activity.defn
    def void_payment(self, data: PaymentStepInput) -> PaymentResult:
        def effect(session: Session) -> dict[str, Any]:
            record = self._payment(session, data.payment_id)
            self._gateway.void(data.idempotency_key, record.provider_ref, data.amount)
            record.voided_minor += data.amount.amount_minor
            record.status = "VOIDED"
            record.updated_at = data.at
            order_store.add_event(session, data.order_id, "payment_voided", data.amount.format(), data.at)
            return {
                "payment_id": data.payment_id,
                "status": "voided",
                "amount_minor": data.amount.amount_minor,
                "currency": data.amount.currency,
            }

        return _result(run_once(self._session_factory, data.idempotency_key, effect))

    @staticmethod
    def _payment(session: Session, payment_id: str) -> PaymentRecord:
        record = session.get(PaymentRecord, payment_id)
        if record is None:
            raise ApplicationError(f"payment {payment_id} is not recorded", type="UnknownPayment", non_retryable=True)
        return record
