"""The audit of a payload arriving over HTTP: kept when the handler's block ends, with the outcome the
block set, or with the answer the caller got when it raised (services.payload_audit keeps it)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import HTTPException

from api.errors import http_error
from services.errors import ServiceError
from services.payload_audit import KeptPayload, PayloadAudit


def rejection(exc: Exception) -> str:
    """ "rejected: <the message of the 4xx/5xx answered>", or the exception's name for a fault of ours."""
    if isinstance(exc, ServiceError):
        exc = http_error(exc)
    if not isinstance(exc, HTTPException):
        return f"rejected: {type(exc).__name__}"
    detail = exc.detail
    message = detail.get("message", detail) if isinstance(detail, dict) else detail
    return f"rejected: {message}"


@asynccontextmanager
async def kept_payload(audit: PayloadAudit, channel: str, kind: str, raw: bytes) -> AsyncIterator[KeptPayload]:
    """Keep the payload when the block ends: with `outcome` as the block set it, or as
    "rejected: <message>" when it raised (the exception still propagates). One the block kept
    itself (`kept`: intake writes it with the order, in one transaction) is not kept again."""
    payload = KeptPayload(channel, kind, raw)
    try:
        yield payload
    except Exception as exc:
        # A refusal, the workflow engine down (503) or a fault of ours: the channel will resend,
        # but keep this one.
        if not payload.kept:
            payload.outcome = rejection(exc)
            await audit.keep(payload)
        raise
    if not payload.kept:
        await audit.keep(payload)
