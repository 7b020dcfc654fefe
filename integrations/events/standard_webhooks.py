"""One POST of an event to a subscriber, signed as Standard Webhooks says (the `standardwebhooks`
package signs): `webhook-id` (the event's id, the same on every retry and replay, so the consumer
dedupes on it), `webhook-timestamp` (this attempt's time, which the consumer checks is recent) and
`webhook-signature` ("v1,<base64 HMAC-SHA256>" of id, timestamp and body)."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from math import floor

import httpx
from standardwebhooks import Webhook

USER_AGENT = "oms-events/1 (Standard Webhooks)"


@dataclass(frozen=True)
class Answer:
    status_code: int | None
    """None when no answer came (refused, timed out)."""
    error: str | None
    response_ms: int


def signed_headers(secrets: Sequence[str], event_id: str, at: datetime, body: str) -> dict[str, str]:
    """One signature per secret, space-separated (a rotation's overlap: the consumer accepts either)."""
    return {
        "webhook-id": event_id,
        "webhook-timestamp": str(floor(at.timestamp())),
        "webhook-signature": " ".join(Webhook(secret).sign(event_id, at, body) for secret in secrets),
        "content-type": "application/json",
        "user-agent": USER_AGENT,
    }


async def post_event(
    http: httpx.AsyncClient, url: str, secrets: Sequence[str], event_id: str, body: str, at: datetime
) -> Answer:
    """POST the body; whatever happens, an Answer (the client's timeout bounds the wait). Only the
    status is kept of the answer: what a subscriber sends back is none of our business."""
    started = time.monotonic()
    try:
        response = await http.post(url, content=body.encode(), headers=signed_headers(secrets, event_id, at, body))
    except httpx.TimeoutException:
        return Answer(None, "timed out", _ms(started))
    except httpx.HTTPError as exc:
        return Answer(None, f"{type(exc).__name__}: {exc}"[:500], _ms(started))
    return Answer(response.status_code, None, _ms(started))


def _ms(started: float) -> int:
    return int((time.monotonic() - started) * 1000)
