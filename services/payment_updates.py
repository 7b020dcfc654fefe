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
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Final

from config import Settings
from integrations.payments.mollie_gateway import PROVIDER as MOLLIE
from integrations.payments.mollie_gateway import MollieGateway, MolliePaymentState
from persistence.conflicts import ConcurrentWrite
from services.unit_of_work import UnitOfWorkFactory

PAYMENT_ID: Final = re.compile(r"tr_[A-Za-z0-9]{1,60}")
LAPSED: Final = {"expired": "expired", "canceled": "was released", "failed": "failed"}
"""A held payment's statuses that leave nothing to capture, as the timeline says them."""


class PaymentUpdates:
    def __init__(self, units: UnitOfWorkFactory, mollie: Callable[[str], MolliePaymentState] | None) -> None:
        """`mollie`: reads a payment's state from Mollie (MollieGateway.state_of); None while no
        Mollie key is set (every webhook is then left alone)."""
        self._units = units
        self._mollie = mollie

    async def from_mollie(self, payment_id: str) -> str:
        """What became of the webhook (for the log; the caller answers Mollie the same either way).
        Raises PaymentGatewayUnavailable when Mollie cannot be asked (Mollie retries the webhook)."""
        if self._mollie is None or not PAYMENT_ID.fullmatch(payment_id):
            return "ignored"
        if not await asyncio.to_thread(self._is_ours, payment_id):
            return "unknown payment"
        state = await asyncio.to_thread(self._mollie, payment_id)
        for _ in range(2):  # a delivery racing another one: the second pass finds what the first wrote
            try:
                return await asyncio.to_thread(self._record, state)
            except ConcurrentWrite:
                continue
        return "recorded by a concurrent delivery"

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
