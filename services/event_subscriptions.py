"""Event subscriptions for other systems (admin API and settings screen): an endpoint, the event
types it wants and the secret its deliveries are signed with (Standard Webhooks). The secret is
made here and shown twice only: when the subscription is created and when it is rotated.

Replay sends events again with their own webhook-id, so a consumer that dedupes on it takes each
once; the event-delivery workflow sends them, in order per order id."""

from __future__ import annotations

import base64
import logging
import secrets
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

from sqlalchemy.orm import Session

from domain import limits
from domain.outbound_events import UnknownEventType, check_types
from persistence.db import SessionFactory
from persistence.guarded_writes import event_deliveries
from persistence.models import EventDeliveryAttempt, EventSubscription
from persistence.read_model import event_subscriptions as store
from services.errors import Conflict, NotFound, Unprocessable

log = logging.getLogger("oms.events")

ROTATION_OVERLAP = timedelta(hours=24)
"""How long after a rotation deliveries are signed with the old secret as well as the new one."""


@dataclass(frozen=True)
class SubscriptionView:
    subscription_id: str
    url: str
    event_types: list[str] | None
    """None: every type."""
    enabled: bool
    disabled_reason: str | None
    disabled_at: datetime | None
    created_at: datetime
    pending: int
    """Deliveries waiting to be sent (or retried, or kept while disabled)."""


@dataclass(frozen=True)
class WithSecret:
    subscription: SubscriptionView
    secret: str


@dataclass(frozen=True)
class AttemptView:
    event_id: str
    event_type: str
    attempt: int
    status_code: int | None
    error: str | None
    response_ms: int
    at: datetime


def new_secret() -> str:
    """`whsec_` and the base64 of 32 random bytes, as Standard Webhooks libraries expect."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


class EventSubscriptions:
    def __init__(
        self,
        writers: SessionFactory,
        readers: SessionFactory,
        *,
        allow_http: bool,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._writers = writers
        self._readers = readers
        self._allow_http = allow_http
        self._clock = clock

    def create(self, url: str, event_types: Sequence[str] | None) -> WithSecret:
        url, types = self._url(url), self._types(event_types)
        now, secret = self._clock(), new_secret()
        with self._writers() as session:
            record = EventSubscription(
                subscription_id=f"sub_{uuid.uuid4().hex}",
                url=url,
                secret=secret,
                event_types=types,
                enabled=True,
                created_at=now,
                updated_at=now,
            )
            session.add(record)
            session.commit()
            log.info("event subscription %s created", record.subscription_id)
            return WithSecret(self._view(session, record), secret)

    def all(self) -> list[SubscriptionView]:
        with self._readers() as session:
            return [self._view(session, record) for record in store.all_subscriptions(session)]

    def get(self, subscription_id: str) -> SubscriptionView:
        with self._readers() as session:
            return self._view(session, self._found(session, subscription_id))

    def update(
        self,
        subscription_id: str,
        *,
        url: str | None = None,
        event_types: Sequence[str] | None = None,
        all_types: bool = False,
    ) -> SubscriptionView:
        """A new URL and/or event types (`all_types`: every type); deliveries already made stay."""
        new_url = self._url(url) if url is not None else None
        types = self._types(event_types) if event_types is not None else None
        with self._writers() as session:
            record = self._found(session, subscription_id, lock=True)
            if new_url is not None:
                record.url = new_url
            if all_types:
                record.event_types = None
            elif event_types is not None:
                record.event_types = types
            record.updated_at = self._clock()
            session.commit()
            return self._view(session, record)

    def set_enabled(self, subscription_id: str, enabled: bool) -> SubscriptionView:
        """Enabled again, its kept deliveries are due at once with a fresh retry window."""
        now = self._clock()
        with self._writers() as session:
            record = self._found(session, subscription_id, lock=True)
            if enabled and not record.enabled:
                event_deliveries.resume(session, subscription_id, now)
                record.disabled_reason = record.disabled_at = None
            elif not enabled and record.enabled:
                record.disabled_reason, record.disabled_at = "disabled by staff", now
            record.enabled, record.updated_at = enabled, now
            session.commit()
            log.info("event subscription %s %s", subscription_id, "enabled" if enabled else "disabled")
            return self._view(session, record)

    def rotate_secret(self, subscription_id: str) -> WithSecret:
        """A new secret from now on, shown this once; for ROTATION_OVERLAP deliveries carry the old
        one's signature too, so the consumer switches over without refusing a delivery."""
        secret, now = new_secret(), self._clock()
        with self._writers() as session:
            record = self._found(session, subscription_id, lock=True)
            record.previous_secret, record.previous_secret_until = record.secret, now + ROTATION_OVERLAP
            record.secret, record.updated_at = secret, now
            session.commit()
            log.info("event subscription %s: secret rotated", subscription_id)
            return WithSecret(self._view(session, record), secret)

    def delete(self, subscription_id: str) -> None:
        with self._writers() as session:
            self._found(session, subscription_id, lock=True)
            store.remove(session, subscription_id)
            session.commit()
            log.info("event subscription %s deleted", subscription_id)

    def deliveries(self, subscription_id: str, limit: int, offset: int) -> tuple[list[AttemptView], int]:
        """The delivery log, newest attempt first, and its length."""
        with self._readers() as session:
            self._found(session, subscription_id)
            rows, total = store.attempts_page(session, subscription_id, limit, offset)
            return [_attempt(row) for row in rows], total

    def replay_event(self, subscription_id: str, event_id: str) -> int:
        with self._writers() as session:
            self._found(session, subscription_id)
            event = store.event(session, event_id)
            if event is None:
                raise NotFound(f"no event {event_id}")
            if event.fanned_out_at is None:
                raise Conflict(f"event {event_id} has not gone out yet: it will be delivered without a replay")
            replayed = event_deliveries.replay(session, subscription_id, [event], self._clock())
            session.commit()
            return replayed

    def replay_range(self, subscription_id: str, start: datetime, end: datetime) -> int:
        """Every event the subscription wants that occurred in [start, end), sent again in order."""
        if start.tzinfo is None or end.tzinfo is None:
            raise Unprocessable("from and to need a time zone (e.g. 2026-01-31T00:00:00Z)")
        if end <= start:
            raise Unprocessable("to must be after from")
        with self._writers() as session:
            subscription = self._found(session, subscription_id)
            events = store.events_between(session, subscription, start, end)
            replayed = event_deliveries.replay(session, subscription_id, events, self._clock())
            session.commit()
            log.info("event subscription %s: %d event(s) replayed", subscription_id, replayed)
            return replayed

    def _url(self, url: str) -> str:
        url = url.strip()
        parts = urlsplit(url)
        schemes = ("https", "http") if self._allow_http else ("https",)
        if parts.scheme not in schemes or not parts.netloc:
            allowed = " or ".join(f"{scheme}://" for scheme in schemes)
            raise Unprocessable(f"the endpoint URL must be an absolute {allowed} address", field="url")
        if len(url) > limits.SUBSCRIPTION_URL:
            raise Unprocessable(f"the endpoint URL is longer than {limits.SUBSCRIPTION_URL} characters", field="url")
        return url

    @staticmethod
    def _types(event_types: Sequence[str] | None) -> list[str] | None:
        try:
            types = check_types(event_types)
        except UnknownEventType as exc:
            raise Unprocessable(str(exc), field="event_types") from None
        return list(types) if types is not None else None

    @staticmethod
    def _found(session: Session, subscription_id: str, *, lock: bool = False) -> EventSubscription:
        record = store.get(session, subscription_id, lock=lock)
        if record is None:
            raise NotFound(f"no event subscription {subscription_id}")
        return record

    @staticmethod
    def _view(session: Session, record: EventSubscription) -> SubscriptionView:
        return SubscriptionView(
            subscription_id=record.subscription_id,
            url=record.url,
            event_types=list(record.event_types) if record.event_types is not None else None,
            enabled=record.enabled,
            disabled_reason=record.disabled_reason,
            disabled_at=record.disabled_at,
            created_at=record.created_at,
            pending=store.pending_count(session, record.subscription_id),
        )


def _attempt(row: EventDeliveryAttempt) -> AttemptView:
    return AttemptView(row.event_id, row.event_type, row.attempt, row.status_code, row.error, row.response_ms, row.at)
