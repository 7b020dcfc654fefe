"""A payment provider's word on a payment, when its webhook says something changed: read from the
provider itself (a webhook body proves nothing), then recorded on our payment and the order's
timeline, each change once, however often the webhook repeats.

Mollie's webhook carries only `id=tr_…`. What it can change after our own steps: refunds made in
Mollie's dashboard and chargebacks (counted as refunded, so a return never gives the same money back
twice) and a held authorization that expired or was released outside our steps. An id we have no
payment for (an order not taken yet, someone guessing) is left alone without asking Mollie.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Final

from config import Settings
from integrations.payments.mollie_gateway import PROVIDER as MOLLIE
from integrations.payments.mollie_gateway import MollieGateway, MolliePaymentState
from integrations.providers import PaymentLinkGateway, PaymentLinkState
from persistence.conflicts import ConcurrentWrite
from services.errors import Unavailable
from services.unit_of_work import UnitOfWorkFactory

PAYMENT_ID: Final = re.compile(r"tr_[A-Za-z0-9]{1,60}")
LINK_ID: Final = re.compile(r"pl_[A-Za-z0-9]{1,60}")
LAPSED: Final = {"expired": "expired", "canceled": "was released", "failed": "failed"}
"""A held payment's statuses that leave nothing to capture, as the timeline says them."""


class PaymentUpdates:
    def __init__(
        self,
        units: UnitOfWorkFactory,
        mollie: Callable[[str], MolliePaymentState] | None,
        links: PaymentLinkGateway | None = None,
        tell: Callable[[str], Awaitable[None]] | None = None,
    ) -> None:
        """`mollie`: reads a payment's state from Mollie (MollieGateway.state_of); None while no
        Mollie key is set (every webhook is then left alone). `links`: reads Mollie's payment
        links; `tell`: wakes the workflow waiting for a link (by its id) once it is settled."""
        self._units = units
        self._mollie = mollie
        self._links = links
        self._tell = tell

    async def from_mollie(self, payment_id: str) -> str:
        """What became of the webhook (for the log; the caller answers Mollie the same either way).
        Raises PaymentGatewayUnavailable when Mollie cannot be asked (Mollie retries the webhook)."""
        if self._mollie is None:
            return "ignored"
        if LINK_ID.fullmatch(payment_id):
            return await self._link_changed(payment_id)
        if not PAYMENT_ID.fullmatch(payment_id):
            return "ignored"
        if not await asyncio.to_thread(self._is_ours, payment_id):
            return await self._through_a_link(payment_id)
        state = await asyncio.to_thread(self._mollie, payment_id)
        for _ in range(2):  # a delivery racing another one: the second pass finds what the first wrote
            try:
                return await asyncio.to_thread(self._record, state)
            except ConcurrentWrite:
                continue
        return "recorded by a concurrent delivery"

    async def _through_a_link(self, payment_id: str) -> str:
        """A payment we have no record of: one made through an open link of ours, or nothing to us
        (Mollie is asked only while a link waits)."""
        if self._links is None or self._mollie is None or not await asyncio.to_thread(self._links_waiting):
            return "unknown payment"
        state = await asyncio.to_thread(self._mollie, payment_id)
        if state.status != "paid":
            return f"a payment {state.status}, not paid: nothing to record"
        for link_id in await asyncio.to_thread(self._open_links, state):
            outcome = await self._link_changed(link_id, payment_id)
            if outcome != "not this link":
                return outcome
        return "unknown payment"

    async def _link_changed(self, link_id: str, payment_id: str | None = None) -> str:
        """Read the link from Mollie and record what changed; its return is told when it did."""
        if self._links is None:
            return "ignored"
        links = self._links
        owner = await asyncio.to_thread(self._owner_of, link_id)
        if owner is None:
            return "unknown payment link"
        state = await asyncio.to_thread(links.payment_link, link_id)
        if payment_id is not None and state.payment_id != payment_id:
            return "not this link"
        for _ in range(2):
            try:
                changed = await asyncio.to_thread(self._settle, link_id, state)
                break
            except ConcurrentWrite:
                continue
        else:
            return "recorded by a concurrent delivery"
        if changed and self._tell is not None:
            try:
                await self._tell(owner)
            except Unavailable:  # recorded all the same: the return reads its link on its own schedule
                return f"payment link {state.status.value} (recorded; its return not reached now)"
        return f"payment link {state.status.value}" + (" (recorded)" if changed else "")

    def _links_waiting(self) -> bool:
        with self._units(read_only=True) as uow:
            return bool(uow.payments.open_links(MOLLIE, None))

    def _open_links(self, state: MolliePaymentState) -> list[str]:
        with self._units(read_only=True) as uow:
            return [link.link_id for link in uow.payments.open_links(MOLLIE, state.amount)]

    def _owner_of(self, link_id: str) -> str | None:
        with self._units(read_only=True) as uow:
            link = uow.payments.link(link_id)
            return link.owner if link is not None and link.provider == MOLLIE else None

    def _settle(self, link_id: str, state: PaymentLinkState) -> bool:
        with self._units() as uow:
            link = uow.payments.link(link_id, for_update=True)
            if link is None:
                return False
            changed = uow.payments.settle_link(link, state.status, state.payment_id, datetime.now(UTC))
            uow.commit()
        return changed

    def _is_ours(self, payment_id: str) -> bool:
        with self._units(read_only=True) as uow:
            return uow.payments.by_provider_ref(MOLLIE, payment_id) is not None

    def _record(self, state: MolliePaymentState) -> str:
        at = datetime.now(UTC)
        with self._units() as uow:
            payment = uow.payments.by_provider_ref(MOLLIE, state.payment_id)
            if payment is None:
                return "unknown payment"
            changes = 0
            for given in state.given_back:
                how = "refunded in Mollie's dashboard" if given.kind == "refund" else "charged back by the bank"
                kind = "refunded_at_provider" if given.kind == "refund" else "payment_charged_back"
                detail = f"{given.ref}: {given.amount.format()} {how}"
                changes += uow.payments.note_given_back(payment, given.ref, kind, given.amount.amount_minor, detail, at)
            nothing_taken = payment.captured_minor == 0 and payment.voided_minor == 0
            if state.status in LAPSED and nothing_taken:
                detail = f"Mollie says the payment {LAPSED[state.status]}: nothing can be captured on it"
                changes += uow.payments.note_provider_status(payment, state.status, detail, at)
            uow.commit()
        return f"{changes} change(s) recorded"


def mollie_reader(settings: Settings) -> Callable[[str], MolliePaymentState] | None:
    """How the API reads a payment from Mollie: with the worker's key and address, or not at all."""
    if not settings.mollie_api_key:
        return None
    return MollieGateway(settings.mollie_api_key, settings.mollie_api_url, timeout=5.0).state_of


def mollie_links(settings: Settings) -> PaymentLinkGateway | None:
    """How the API reads Mollie's payment links: with the worker's key and address, or not at all."""
    if not settings.mollie_api_key:
        return None
    return MollieGateway(settings.mollie_api_key, settings.mollie_api_url, timeout=5.0)
