"""Keeping every order payload a channel sent us, redacted, with what we did with it.

Kept once the sender is known (its signature or key checked), before we know whether the body is
any good: a malformed order is exactly the one a person needs to see to replay it by hand. What a
forger sends is not kept, so nobody can fill the table without a secret. Keeping is best effort: a
failed write is logged, never turned into a failed intake (the channel would resend an order we
already started, and the workflow is the record that matters).
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

from config import Settings
from domain.order import InvalidOrder, order_id_for
from integrations.channels.audit import REMOVED, audit_raw
from services.unit_of_work import AbstractUnitOfWork, UnitOfWorkFactory

log = logging.getLogger(__name__)

UNKNOWN_CHANNEL = "unknown"
_SECRET_SETTINGS = (
    "admin_token",
    "shopify_webhook_secret",
    "woocommerce_webhook_secret",
    "pos_api_key",
    "webshop_api_key",
    "shopify_access_token",
    "woocommerce_consumer_secret",
    "bol_client_secret",
    "amazon_client_secret",
    "amazon_refresh_token",
    "stripe_secret_key",
)
# Shorter values are too likely to occur by chance in an honest payload to be masked everywhere.
_MIN_MASKED_SECRET = 8


def configured_secrets(settings: Settings) -> tuple[str, ...]:
    """Our own credentials, longest first: a channel that pastes one into a note must not have us
    store it (the redaction by field name cannot know a note holds one)."""
    values = {str(getattr(settings, name, "") or "") for name in _SECRET_SETTINGS}
    return tuple(sorted((v for v in values if len(v) >= _MIN_MASKED_SECRET), key=len, reverse=True))


def redacted_body(raw: bytes, secrets: tuple[str, ...]) -> str:
    text = audit_raw(raw)
    for secret in secrets:
        text = text.replace(secret, REMOVED)
    return text


@dataclass
class KeptPayload:
    """One payload on its way in; the handler fills in what it learns (whose order, the outcome)."""

    channel: str
    kind: str
    raw: bytes
    external_id: str | None = None
    order_id: str | None = None
    outcome: str = ""
    kept: bool = False
    """Written already, in the transaction that took the order (services.intake): not kept again."""

    def names(self, external_id: object) -> None:
        """The order the payload is about, as far as it says (also when it is otherwise malformed)."""
        if isinstance(external_id, bool) or not isinstance(external_id, int | str):
            return
        self.external_id = str(external_id)[:100]
        try:
            self.order_id = order_id_for(self.channel, self.external_id)
        except InvalidOrder:
            self.order_id = None


class PayloadAudit:
    def __init__(self, settings: Settings, units: UnitOfWorkFactory) -> None:
        self._secrets = configured_secrets(settings)
        self._units = units

    async def keep(self, payload: KeptPayload) -> None:
        """Keep it redacted, with its outcome as it stands; a failure is logged, never raised."""
        try:
            # Off the event loop: redaction parses the whole body, and SQLite may wait for its lock.
            await asyncio.to_thread(self._write, payload)
        except Exception:
            log.exception("could not keep the %s %s payload (%s)", payload.channel, payload.kind, payload.outcome)

    def write_in(self, uow: AbstractUnitOfWork, payload: KeptPayload) -> None:
        """Keep it in the caller's transaction (intake: the order and its payload in one commit);
        once that commits, `payload.kept` is set by the caller."""
        uow.messages.add(
            payload.channel,
            payload.kind,
            redacted_body(payload.raw, self._secrets),
            external_id=payload.external_id,
            order_id=payload.order_id,
            outcome=payload.outcome,
        )

    def _write(self, payload: KeptPayload) -> None:
        with self._units() as uow:
            self.write_in(uow, payload)
            uow.commit()
