"""Payment links through the order's payment provider (Mollie's Payment Links API): opened once per
step, read and closed with no transaction open during the provider's call, each outcome recorded
once (persistence.read_model.payment_links)."""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from datetime import timedelta
from urllib.parse import urlsplit

from sqlalchemy.orm import Session
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.payments import gateway_failure, rejected
from contracts.errors import ErrorType
from contracts.payment_links import (
    OpenPaymentLinkInput,
    PaymentLinkChecked,
    PaymentLinkOpened,
    PaymentLinks,
    PaymentLinkStepInput,
)
from domain.payment_links import LinkStatus
from integrations.payments.routing import PaymentGateways, UnknownGateway
from integrations.providers import (
    PaymentGateway,
    PaymentGatewayUnavailable,
    PaymentLinkGateway,
    PaymentLinkState,
    PaymentRejected,
)
from persistence.db import SessionFactory
from persistence.guarded_writes.idempotency import run_once, stored_result
from persistence.guarded_writes.order_payments import payments_of
from persistence.read_model import payment_links as link_store
from persistence.unit_of_work import UnitOfWork

WEBHOOK_PATH = "/webhooks/mollie"


def reachable_webhook(url: str) -> str | None:
    """`url`, or None when the provider could not reach it (Mollie refuses a webhook on localhost or
    a loopback address with 422): the return then reads its link on its own schedule."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if parts.scheme not in ("http", "https") or not host or host == "localhost" or host.endswith(".localhost"):
        return None
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return url
    return None if address.is_loopback or address.is_unspecified or address.is_link_local else url


class PaymentLinkActivities(PaymentLinks):
    def __init__(
        self,
        session_factory: SessionFactory,
        gateway: PaymentGateway | PaymentGateways,
        expiry: timedelta,
        public_url: str = "",
    ) -> None:
        """`expiry`: OMS_PAYMENT_LINK_EXPIRY; `public_url`: OMS_PUBLIC_URL, where the provider's
        webhook reaches us (left out when empty: the workflow reads the link on its schedule)."""
        self._session_factory = session_factory
        self._gateways = PaymentGateways.of(gateway)
        self._expiry = expiry
        self._webhook = reachable_webhook(f"{public_url.rstrip('/')}{WEBHOOK_PATH}") if public_url else None

    def _provider(self, order_id: str) -> str | None:
        with UnitOfWork(self._session_factory) as uow:
            payments = payments_of(uow.session, order_id)
            return payments[0].provider if payments else None

    def _link_gateway(self, provider: str) -> PaymentLinkGateway | None:
        try:
            gateway = self._gateways.for_provider(provider)
        except UnknownGateway as exc:
            raise rejected(exc) from exc
        return gateway if isinstance(gateway, PaymentLinkGateway) else None

    @activity.defn
    def open_payment_link(self, data: OpenPaymentLinkInput) -> PaymentLinkOpened:
        """A link for `amount` until now + OMS_PAYMENT_LINK_EXPIRY, recorded with the order's
        payment provider; `link_id` None when that provider cannot ask by link (the caller falls
        back). The provider dedupes the creation by the step's key."""
        stored = stored_result(self._session_factory, data.idempotency_key, PaymentLinkOpened)
        if stored is not None:
            return stored
        provider = self._provider(data.order_id)
        gateway = self._link_gateway(provider) if provider else None
        if provider is None or gateway is None:
            return PaymentLinkOpened(None, refusal=f"the order's payment ({provider or 'none'}) takes no payment link")
        expires_at = (data.at + self._expiry).replace(microsecond=0)
        made = self._call(
            lambda: gateway.create_payment_link(
                data.idempotency_key, data.amount, data.description, expires_at, self._webhook
            )
        )

        def effect(session: Session) -> PaymentLinkOpened:
            link_store.add_link(
                session,
                link_id=made.link_id,
                order_id=data.order_id,
                owner=data.owner,
                purpose=data.purpose,
                provider=provider,
                url=made.url,
                amount=data.amount,
                expires_at=made.expires_at or expires_at,
                at=data.at,
                payment_id=data.payment_id or None,
            )
            return PaymentLinkOpened(made.link_id, made.url, made.expires_at or expires_at)

        return run_once(self._session_factory, data.idempotency_key, effect, PaymentLinkOpened)

    @activity.defn
    def check_payment_link(self, data: PaymentLinkStepInput) -> PaymentLinkChecked:
        """What the provider shows now, recorded (a settled link stays as it was recorded). A link
        the provider no longer knows (deleted in its dashboard) can be paid by nobody: CANCELLED."""
        gateway = self._gateway_of(data.link_id)
        state = self._read(gateway, data.link_id)
        if state is None:
            return self._gone(data)
        return self._record(data, state, None)

    @activity.defn
    def close_payment_link(self, data: PaymentLinkStepInput) -> PaymentLinkChecked:
        """Close the link at the provider (archived: nobody can pay it any more), then record it as
        `close_as`, or PAID when the customer paid first. The provider refusing to archive a link
        that is paid, expired or gone already is no fault: it is recorded as it reads."""
        gateway = self._gateway_of(data.link_id)
        try:
            state: PaymentLinkState | None = self._call(
                lambda: gateway.archive_payment_link(data.idempotency_key, data.link_id)
            )
        except ApplicationError as refused:
            if refused.type != ErrorType.PAYMENT_REJECTED:
                raise
            state = self._read(gateway, data.link_id)
            if state is not None and state.status is LinkStatus.OPEN:
                raise  # open and not closable: nothing to record, a person must look
        if state is None:
            return self._gone(data)
        return self._record(data, state, LinkStatus(data.close_as))

    def _read(self, gateway: PaymentLinkGateway, link_id: str) -> PaymentLinkState | None:
        """The link as the provider shows it; None when the provider refuses to show it (unknown)."""
        try:
            return gateway.payment_link(link_id)
        except PaymentRejected:
            return None
        except PaymentGatewayUnavailable as exc:
            raise gateway_failure(exc) from exc

    def _gone(self, data: PaymentLinkStepInput) -> PaymentLinkChecked:
        with UnitOfWork(self._session_factory) as uow:
            record = link_store.link(uow.session, data.link_id, for_update=True)
            assert record is not None, data.link_id
            status, changed = link_store.settle_link(uow.session, record, LinkStatus.CANCELLED, None, data.at)
            if changed:
                uow.commit()
        return PaymentLinkChecked(status.value)

    def _gateway_of(self, link_id: str) -> PaymentLinkGateway:
        with UnitOfWork(self._session_factory) as uow:
            record = link_store.link(uow.session, link_id)
            provider = record.provider if record is not None else None
        gateway = self._link_gateway(provider) if provider else None
        if gateway is None:
            raise rejected(PaymentRejected(f"no payment link {link_id} is recorded with a provider that has links"))
        return gateway

    def _record(
        self, data: PaymentLinkStepInput, state: PaymentLinkState, closed_as: LinkStatus | None
    ) -> PaymentLinkChecked:
        seen = state.status
        if closed_as is not None and seen is not LinkStatus.PAID:
            seen = closed_as
        with UnitOfWork(self._session_factory) as uow:
            record = link_store.link(uow.session, data.link_id, for_update=True)
            assert record is not None, data.link_id
            status, changed = link_store.settle_link(uow.session, record, seen, state.payment_id, data.at)
            if changed:
                uow.commit()
        return PaymentLinkChecked(status.value)

    @staticmethod
    def _call(call: Callable[[], PaymentLinkState]) -> PaymentLinkState:
        try:
            return call()
        except PaymentRejected as exc:
            raise rejected(exc) from exc
        except PaymentGatewayUnavailable as exc:
            raise gateway_failure(exc) from exc
