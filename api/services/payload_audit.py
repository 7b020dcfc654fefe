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
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from fastapi import HTTPException

from config import Settings
from domain.order import InvalidOrder, order_id_for
from integrations.channels.audit import REMOVED, audit_raw
from persistence.channel_messages import keep_message
from persistence.db import SessionFactory

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


def rejection(exc: HTTPException) -> str:
    detail = exc.detail
    message = detail.get("message", detail) if isinstance(detail, dict) else detail
    return f"rejected: {message}"


@dataclass
class KeptPayload:
    """One payload on its way in; the handler fills in what it learns (whose order, the outcome)."""

    session_factory: SessionFactory
    secrets: tuple[str, ...]
    channel: str
    kind: str
    raw: bytes
    external_id: str | None = None
    order_id: str | None = None
    outcome: str = ""

    def names(self, external_id: object) -> None:
        """The order the payload is about, as far as it says (also when it is otherwise malformed)."""
        if isinstance(external_id, bool) or not isinstance(external_id, int | str):
            return
        self.external_id = str(external_id)[:100]
        try:
            self.order_id = order_id_for(self.channel, self.external_id)
        except InvalidOrder:
            self.order_id = None

    def _write(self) -> None:
        keep_message(
            self.session_factory,
            self.channel,
            self.kind,
            redacted_body(self.raw, self.secrets),
            external_id=self.external_id,
            order_id=self.order_id,
            outcome=self.outcome,
        )

    async def store(self) -> None:
        try:
            # Off the event loop: redaction parses the whole body, and SQLite may wait for its lock.
            await asyncio.to_thread(self._write)
        except Exception:
            log.exception("could not keep the %s %s payload (%s)", self.channel, self.kind, self.outcome)


@asynccontextmanager
async def kept_payload(
    session_factory: SessionFactory, settings: Settings, channel: str, kind: str, raw: bytes
) -> AsyncIterator[KeptPayload]:
    """Keep the payload when the block ends: with `outcome` as the block set it, or as
    "rejected: <message>" when it raised (the exception still propagates)."""
    payload = KeptPayload(session_factory, configured_secrets(settings), channel, kind, raw)
    try:
        yield payload
    except HTTPException as exc:
        payload.outcome = rejection(exc)
        await payload.store()
        raise
    except Exception as exc:
        # The workflow engine down (503) or a fault of ours: the channel will resend, but keep this one.
        payload.outcome = f"rejected: {type(exc).__name__}"
        await payload.store()
        raise
    await payload.store()
