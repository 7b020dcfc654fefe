"""Events for other systems, written in the transaction of the change they tell of: a change that
commits has its event, a rolled-back one has none, and nothing here reads a subscription or calls
out. One insert per event (on PostgreSQL inside an idempotent step it travels with the step's
COMMIT, as the stock outbox does); the event-delivery workflow fans it out to subscribers later."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import insert
from sqlalchemy.orm import Session

from domain.outbound_events import EVENT_TYPES
from persistence.guarded_writes.guarded_commit import batch, json_value
from persistence.models import OutboundEvent

INSERT_EVENT = (
    "INSERT INTO outbound_events (event_id, type, ordering_key, data, occurred_at) VALUES (%s, %s, %s, %s, %s)"
)
_INSERT = insert(OutboundEvent.metadata.tables["outbound_events"])


def new_event_id() -> str:
    """`evt_` and a random UUID's hex: the webhook-id every retry and replay of the event carries."""
    return f"evt_{uuid.uuid4().hex}"


def emit(session: Session, type: str, data: Mapping[str, Any], *, ordering_key: str, at: datetime) -> str:
    """Write the event with the session's transaction; its id. `data`: ids, statuses, amounts in
    minor units with currency, SKUs; never names, e-mails or addresses."""
    if type not in EVENT_TYPES:
        raise ValueError(f"unknown event type {type!r}")
    event_id = new_event_id()
    values = {"event_id": event_id, "type": type, "ordering_key": ordering_key, "data": dict(data), "occurred_at": at}
    pending = batch(session)
    if pending is not None:
        row = (event_id, type, ordering_key, json_value(values["data"]), at)
        pending.inserts.append((INSERT_EVENT, row))
    else:
        # The connection's, not the session's: no autoflush, so the caller's writes keep their order.
        session.connection().execute(_INSERT, values)
    return event_id
