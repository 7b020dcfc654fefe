"""Authorize, capture and void through the configured gateway, each exactly once per step."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Final, Literal

from sqlalchemy import select
from sqlalchemy.orm import Session
from temporalio import activity
from temporalio.exceptions import ApplicationError

from contracts.errors import ErrorType
from contracts.payments import (
    AuthorizePaymentInput,
    ChargeDifferenceInput,
    PaymentResult,
    Payments,
    PaymentStepInput,
    Reauthorization,
    ReauthorizePaymentInput,
    VoidReplacedInput,
)
from domain.money import Money
from domain.payments import PaymentPurpose, PaymentStatus, order_payment_id
from integrations.payments.routing import PaymentGateways, UnknownGateway
from integrations.providers import (
    GatewayPayment,
    PaymentDeclined,
    PaymentGateway,
    PaymentGatewayUnavailable,
    PaymentRejected,
    ReauthorizingGateway,
)
from persistence.db import SessionFactory
from persistence.guarded_writes.idempotency import Done, run_once, stored_result
from persistence.guarded_writes.order_payments import RefundDraw
from persistence.models import OrderRecord, PaymentRecord
from persistence.read_model import issuing
from persistence.read_model import orders as order_store
from persistence.read_model import returns as return_store
from persistence.unit_of_work import UnitOfWork

MAX_GATEWAY_WAIT: Final = 600.0
"""The longest a gateway's Retry-After is followed (seconds)."""


def payment_status(record: PaymentRecord) -> PaymentStatus:
    """AUTHORIZED, PARTIALLY_CAPTURED, CAPTURED (the rest, if any, voided), VOIDED, or REFUNDED
    (money taken at checkout, all given back because nothing of the order left)."""
    if record.captured_minor and record.refunded_minor >= record.captured_minor:
        return PaymentStatus.REFUNDED
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


@dataclass
class Charged:
    """What charging an exchange's difference recorded: the new payment, or why it was not taken
    (`refused`: DECLINED by the card, REJECTED by a provider that needs the customer)."""

    payment: PaymentResult
    refused: str = ""
    why: str = ""


@dataclass
class Reauthorized:
    """What a re-authorization step recorded: the new authorization, or why the card declined it."""

    reauthorization: Reauthorization | None = None
    declined: str | None = None


def gateway_failure(exc: PaymentGatewayUnavailable) -> ApplicationError:
    """A gateway that could not be asked: retried, after the wait it asked for when it said one."""
    delay = None if exc.retry_after is None else timedelta(seconds=min(max(exc.retry_after, 1.0), MAX_GATEWAY_WAIT))
    return ApplicationError(str(exc), type=ErrorType.PAYMENT_GATEWAY_UNAVAILABLE, next_retry_delay=delay)


def rejected(exc: PaymentRejected | UnknownGateway) -> ApplicationError:
    return ApplicationError(str(exc), type=ErrorType.PAYMENT_REJECTED, non_retryable=True)


def refund_draws(gateways: PaymentGateways, draws: Sequence[RefundDraw], key: str) -> None:
    """Give each drawn part back at its provider (no transaction open; the gateway dedupes by the
    part's step key), the newest extra payment first as domain.refund_spread ordered them."""
    for draw in draws:
        try:
            gateways.for_provider(draw.provider).refund(draw.step_key(key), draw.provider_ref, draw.amount)
        except (PaymentRejected, UnknownGateway) as exc:
            raise rejected(exc) from exc
        except PaymentGatewayUnavailable as exc:
            raise gateway_failure(exc) from exc


class PaymentActivities(Payments):
    def __init__(self, session_factory: SessionFactory, gateway: PaymentGateway | PaymentGateways) -> None:
        """`gateway`: one for everything, or the gateways per channel and provider (worker.py)."""
        self._session_factory = session_factory
        self._gateways = PaymentGateways.of(gateway)

    def _channel_and_owner(self, data: AuthorizePaymentInput) -> tuple[str, str | None]:
        """The order's channel (whose gateway authorizes) and, when the payment the order names
        is already recorded for another order, that order: one payment never pays for two."""
        with UnitOfWork(self._session_factory) as uow:
            order = uow.session.get(OrderRecord, data.order_id)
            channel = order.channel if order is not None else data.order_id.split("-")[1]
            owner = uow.session.scalar(
                select(PaymentRecord.order_id).where(
                    PaymentRecord.provider_ref == data.payment_method, PaymentRecord.order_id != data.order_id
                )
            )
        return channel, owner

    def _authorize(self, data: AuthorizePaymentInput) -> GatewayPayment | PaymentDeclined:
        channel, owner = self._channel_and_owner(data)
        if owner is not None:
            raise rejected(PaymentRejected(f"payment {data.payment_method} pays for order {owner} already"))
        try:
            return self._gateways.for_channel(channel).authorize(
                data.idempotency_key, data.amount, data.payment_method, data.order_id
            )
        except PaymentRejected as exc:
            raise rejected(exc) from exc
        except PaymentGatewayUnavailable as exc:
            raise gateway_failure(exc) from exc
        except PaymentDeclined as exc:
            return exc

    @activity.defn
    def authorize_payment(self, data: AuthorizePaymentInput) -> PaymentResult:
        """Ask the gateway with no transaction open (it dedupes by the step's key), then record the
        outcome once; a retry of a recorded step does not call the gateway again."""
        stored = stored_result(self._session_factory, data.idempotency_key, Authorization)
        if stored is None:
            payment_id = f"payment-{data.order_id}"
            paid = self._authorize(data)

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
                taken = " (paid at checkout)" if paid.status == "paid" else ""
                order_store.add_event(
                    session, data.order_id, "payment_authorized", f"{data.amount.format()}{taken}", data.at
                )
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

    @activity.defn
    def reauthorize_payment(self, data: ReauthorizePaymentInput) -> Reauthorization:
        """An edited order costs more than the card holds: hold its new amount on the same card
        (no transaction open during the call; the gateway dedupes by the step's key), then make it
        the order's payment: the one record takes the new reference and amount, so captures,
        refunds and returns go to it. The old authorization is still held: the workflow voids it
        next (void_replaced_authorization). Declined: nothing changes but the timeline
        (PAYMENT_DECLINED); a provider that cannot do it without the customer (Mollie, a card
        not saved for it): PAYMENT_REJECTED; only an authorization nothing was taken from yet."""
        stored = stored_result(self._session_factory, data.idempotency_key, Reauthorized)
        if stored is None:
            with UnitOfWork(self._session_factory) as uow:
                record = self._payment(uow.session, data.payment_id)
                provider, held_ref, held = record.provider, record.provider_ref, record.authorized_minor
                taken = record.captured_minor + record.voided_minor + record.refunded_minor
            if taken:
                raise rejected(PaymentRejected(f"payment {data.payment_id} was partly settled already: it stays"))
            paid = self._reauthorize(provider, held_ref, data)

            def effect(session: Session) -> Reauthorized:
                if isinstance(paid, PaymentDeclined):
                    detail = f"{data.amount.format()} for an edit of the order declined ({paid}): the order stays"
                    order_store.add_event(session, data.order_id, "edit_payment_declined", detail, data.at)
                    return Reauthorized(declined=str(paid))
                record = self._payment(session, data.payment_id)
                if record.provider_ref != held_ref or record.captured_minor or record.voided_minor:
                    raise rejected(PaymentRejected(f"payment {data.payment_id} changed while it was authorized anew"))
                record.provider_ref, record.authorized_minor = paid.provider_ref, data.amount.amount_minor
                record.status, record.updated_at = PaymentStatus.AUTHORIZED, data.at
                replaced = Money(held, data.amount.currency)
                detail = f"{data.amount.format()} for the edited order, in place of {replaced.format()}"
                order_store.add_event(session, data.order_id, "payment_reauthorized", detail, data.at)
                payment = PaymentResult(data.payment_id, PaymentStatus.AUTHORIZED, data.amount, paid.multicapture)
                return Reauthorized(Reauthorization(payment, held_ref, replaced))

            stored = run_once(self._session_factory, data.idempotency_key, effect, Reauthorized)
        if stored.reauthorization is None:
            raise ApplicationError(stored.declined or "declined", type=ErrorType.PAYMENT_DECLINED, non_retryable=True)
        return stored.reauthorization

    def _reauthorize(
        self, provider: str, held_ref: str, data: ReauthorizePaymentInput
    ) -> GatewayPayment | PaymentDeclined:
        try:
            gateway = self._gateways.for_provider(provider)
            if not isinstance(gateway, ReauthorizingGateway):
                raise PaymentRejected(f"{provider} cannot authorize a payment anew without the customer")
            return gateway.reauthorize(data.idempotency_key, held_ref, data.amount, data.order_id)
        except (PaymentRejected, UnknownGateway) as exc:
            raise rejected(exc) from exc
        except PaymentGatewayUnavailable as exc:
            raise gateway_failure(exc) from exc
        except PaymentDeclined as exc:
            return exc

    @activity.defn
    def void_replaced_authorization(self, data: VoidReplacedInput) -> None:
        """Release the authorization a re-authorization replaced (the record names the new one
        already, so its amounts do not change): at the gateway by the step's key, then once on
        the timeline."""
        if stored_result(self._session_factory, data.idempotency_key, Done) is not None:
            return
        with UnitOfWork(self._session_factory) as uow:
            provider = self._payment(uow.session, data.payment_id).provider
        try:
            self._gateways.for_provider(provider).void(data.idempotency_key, data.provider_ref, data.amount)
        except (PaymentRejected, UnknownGateway) as exc:
            raise rejected(exc) from exc
        except PaymentGatewayUnavailable as exc:
            raise gateway_failure(exc) from exc

        def effect(session: Session) -> Done:
            detail = f"{data.amount.format()}: the authorization the edit replaced"
            order_store.add_event(session, data.order_id, "payment_voided", detail, data.at)
            return Done()

        run_once(self._session_factory, data.idempotency_key, effect, Done)

    def _settle(self, data: PaymentStepInput, outcome: Literal["captured", "voided"]) -> PaymentResult:
        """Capture or void part of an authorization at the gateway (no transaction open during the
        call; the gateway dedupes by key), then record it once per idempotency key."""
        stored = stored_result(self._session_factory, data.idempotency_key, PaymentResult)
        if stored is not None:
            return stored
        with UnitOfWork(self._session_factory) as uow:
            record = self._payment(uow.session, data.payment_id)
            provider, provider_ref = record.provider, record.provider_ref
        try:
            gateway = self._gateways.for_provider(provider)
            if outcome == "captured":
                done = gateway.capture(data.idempotency_key, provider_ref, data.amount, final=data.final)
            else:
                done = gateway.void(data.idempotency_key, provider_ref, data.amount)
        except (PaymentRejected, UnknownGateway) as exc:
            raise rejected(exc) from exc
        except PaymentGatewayUnavailable as exc:
            raise gateway_failure(exc) from exc
        # Voiding money the customer already paid (iDEAL, Bancontact) gives it back: a refund.
        refunded = done.status == "refunded"

        def effect(session: Session) -> PaymentResult:
            record = self._payment(session, data.payment_id)
            if outcome == "captured" or refunded:
                record.captured_minor += data.amount.amount_minor
            if refunded:
                record.refunded_minor += data.amount.amount_minor
            elif outcome == "voided":
                record.voided_minor += data.amount.amount_minor
            status = payment_status(record)
            record.status, record.updated_at = status, data.at
            kind, detail = f"payment_{outcome}", data.amount.format()
            if data.payment_id != order_payment_id(data.order_id):
                detail = f"{detail} ({data.payment_id})"
            if refunded:
                kind, detail = "payment_refunded", f"{detail} paid at checkout, given back: it will not ship"
            order_store.add_event(session, data.order_id, kind, detail, data.at)
            if outcome == "captured":  # the money of what left is ours: its shipments are invoiced
                issuing.invoice_shipments(session, data.order_id, data.at, captured=data.amount)
            return PaymentResult(data.payment_id, status, data.amount)

        return run_once(self._session_factory, data.idempotency_key, effect, PaymentResult)

    @activity.defn
    def charge_difference(self, data: ChargeDifferenceInput) -> PaymentResult:
        """Authorize an exchange's difference as a new payment of the order on the card that paid
        for it (the gateway's reauthorize: a new hold on the same saved card, the old payment left
        as it is), with no transaction open during the call; the gateway dedupes by the step's key.
        Then record it once: the payment's row (purpose exchange_difference, its return), the
        difference on the return, a line on the timeline. Declined: PAYMENT_DECLINED; a provider
        that cannot charge without the customer (Mollie) or an order we took no payment for:
        PAYMENT_REJECTED. Either is recorded on the return and the timeline first."""
        stored = stored_result(self._session_factory, data.idempotency_key, Charged)
        if stored is None:
            with UnitOfWork(self._session_factory) as uow:
                own = uow.session.get(PaymentRecord, order_payment_id(data.order_id))
                paid_by = None if own is None else (own.provider, own.provider_ref)
            outcome = self._charge(paid_by, data)

            def effect(session: Session) -> Charged:
                if isinstance(outcome, (PaymentDeclined, PaymentRejected)):
                    status = "DECLINED" if isinstance(outcome, PaymentDeclined) else "REJECTED"
                    return_store.note_difference(session, data.return_id, data.amount, status)
                    detail = (
                        f"{data.return_id}: the exchange's difference of {data.amount.format()} not charged ({outcome})"
                    )
                    order_store.add_event(session, data.order_id, "exchange_difference_declined", detail, data.at)
                    return Charged(
                        PaymentResult(data.payment_id, PaymentStatus.DECLINED, data.amount), status, str(outcome)
                    )
                session.add(
                    PaymentRecord(
                        payment_id=data.payment_id,
                        order_id=data.order_id,
                        provider=outcome.provider,
                        provider_ref=outcome.provider_ref,
                        status=PaymentStatus.AUTHORIZED,
                        currency=data.amount.currency,
                        authorized_minor=data.amount.amount_minor,
                        purpose=PaymentPurpose.EXCHANGE_DIFFERENCE.value,
                        return_id=data.return_id,
                        created_at=data.at,
                        updated_at=data.at,
                    )
                )
                return_store.note_difference(session, data.return_id, data.amount, PaymentStatus.AUTHORIZED.value)
                detail = f"{data.amount.format()} as {data.payment_id}: the difference of the exchange {data.return_id}"
                order_store.add_event(session, data.order_id, "payment_authorized", detail, data.at)
                return Charged(PaymentResult(data.payment_id, PaymentStatus.AUTHORIZED, data.amount))

            stored = run_once(self._session_factory, data.idempotency_key, effect, Charged)
        if stored.refused == "DECLINED":
            raise ApplicationError(stored.why, type=ErrorType.PAYMENT_DECLINED, non_retryable=True)
        if stored.refused:
            raise ApplicationError(stored.why, type=ErrorType.PAYMENT_REJECTED, non_retryable=True)
        return stored.payment

    def _charge(
        self, paid_by: tuple[str, str] | None, data: ChargeDifferenceInput
    ) -> GatewayPayment | PaymentDeclined | PaymentRejected:
        if paid_by is None:
            return PaymentRejected(f"order {data.order_id} was not paid through our gateway: nothing to charge")
        provider, provider_ref = paid_by
        try:
            gateway = self._gateways.for_provider(provider)
            if not isinstance(gateway, ReauthorizingGateway):
                return PaymentRejected(f"{provider} cannot charge the card again without the customer")
            return gateway.reauthorize(data.idempotency_key, provider_ref, data.amount, data.order_id)
        except UnknownGateway as exc:
            return PaymentRejected(str(exc))
        except PaymentRejected as exc:
            return exc
        except PaymentGatewayUnavailable as exc:
            raise gateway_failure(exc) from exc
        except PaymentDeclined as exc:
            return exc

    @staticmethod
    def _payment(session: Session, payment_id: str) -> PaymentRecord:
        record = session.get(PaymentRecord, payment_id)
        if record is None:
            raise ApplicationError(
                f"payment {payment_id} is not recorded", type=ErrorType.UNKNOWN_PAYMENT, non_retryable=True
            )
        return record
