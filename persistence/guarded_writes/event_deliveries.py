"""Deliveries of outbound events to subscriptions: the fan-out that makes one delivery per
(subscription, event), the choice of what is due (per subscription and ordering key only the
earliest pending delivery, so a key's events arrive in order), and the record of each attempt.

Each function is one short transaction of the event-delivery activity; none is open while an
endpoint is called."""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, delete, exists, select, update
from sqlalchemy.orm import Session, aliased

from domain.outbound_events import EventType, body, gives_up, retry_delay, wants
from persistence.guarded_writes.stock_outbox import atp_by_sku
from persistence.models import (
    EventDelivery,
    EventDeliveryAttempt,
    EventSubscription,
    OutboundEvent,
)

PENDING = "pending"
DELIVERED = "delivered"
SUPERSEDED = "superseded_by"
"""In a stock.changed event's data: a newer change of the SKU, fanned out with it, carries its ATP."""


@dataclass(frozen=True)
class DueDelivery:
    delivery_id: int
    subscription_id: str
    url: str
    secrets: tuple[str, ...]
    """The subscription's secret, and during a rotation's overlap the one before it."""
    event_id: str
    event_type: str
    body: str
    attempts: int


@dataclass(frozen=True)
class Outcome:
    delivered: bool
    disabled: str | None = None
    """The notice the subscription was disabled with, when this failure ended its retry window."""


def waiting_for_fan_out(session: Session) -> bool:
    """Whether an event waits to be fanned out: one look-up on an index, for the idle poll."""
    first = session.scalar(select(OutboundEvent.seq).where(OutboundEvent.fanned_out_at.is_(None)).limit(1))
    return first is not None


def fan_out(session: Session, limit: int, now: datetime) -> int:
    """One delivery per enabled subscription that wants each event not fanned out yet (at most
    `limit` events, oldest first); the events are marked fanned out. stock.changed gets its
    per-channel ATP from committed stock now, and several changes of one SKU waiting together go out
    as the newest one (the others are marked superseded). Returns the events handled."""
    events = list(
        session.scalars(
            select(OutboundEvent)
            .where(OutboundEvent.fanned_out_at.is_(None))
            .order_by(OutboundEvent.seq)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
    )
    if not events:
        return 0
    subscriptions = list(session.scalars(select(EventSubscription).where(EventSubscription.enabled.is_(True))))
    mark = update(OutboundEvent).where(OutboundEvent.seq.in_([event.seq for event in events])).values(fanned_out_at=now)
    if not subscriptions:  # nobody listens: one UPDATE marks the batch, nothing else is written
        session.execute(mark, execution_options={"synchronize_session": False})
        return len(events)
    newest: dict[str, OutboundEvent] = {}
    for event in events:
        if event.type == EventType.STOCK_CHANGED:
            newest[event.ordering_key] = event
    stock_wanted = any(wants(s.event_types, EventType.STOCK_CHANGED) for s in subscriptions)
    atp = atp_by_sku(session, newest) if newest and stock_wanted else {}
    # One UPDATE marks the batch: a busy engine writes a stock.changed per SKU moved.
    session.execute(mark, execution_options={"synchronize_session": False})
    for event in events:
        if event.type == EventType.STOCK_CHANGED:
            latest = newest[event.ordering_key]
            if latest is not event:
                event.data = {"sku": event.ordering_key, SUPERSEDED: latest.event_id}
                continue
            event.data = {"sku": event.ordering_key, "available": atp.get(event.ordering_key, {})}
        for subscription in subscriptions:
            if wants(subscription.event_types, event.type):
                session.add(_delivery(subscription.subscription_id, event, now))
    return len(events)


def _delivery(subscription_id: str, event: OutboundEvent, now: datetime) -> EventDelivery:
    return EventDelivery(
        subscription_id=subscription_id,
        event_seq=event.seq,
        event_id=event.event_id,
        ordering_key=event.ordering_key,
        state=PENDING,
        attempts=0,
        next_attempt_at=now,
        created_at=now,
    )


def enabled_subscriptions(session: Session) -> list[str]:
    return list(session.scalars(select(EventSubscription.subscription_id).where(EventSubscription.enabled.is_(True))))


def due(session: Session, subscription_id: str, now: datetime, limit: int) -> list[DueDelivery]:
    """What to send to the subscription now: per ordering key its earliest pending delivery, when
    its time has come (a key whose head waits for a retry sends nothing behind it)."""
    subscription = session.get(EventSubscription, subscription_id)
    if subscription is None or not subscription.enabled:
        return []
    earlier = aliased(EventDelivery)
    blocked = exists().where(
        and_(
            earlier.subscription_id == EventDelivery.subscription_id,
            earlier.ordering_key == EventDelivery.ordering_key,
            earlier.state == PENDING,
            earlier.event_seq < EventDelivery.event_seq,
        )
    )
    rows = session.execute(
        select(EventDelivery, OutboundEvent)
        .join(OutboundEvent, OutboundEvent.seq == EventDelivery.event_seq)
        .where(
            EventDelivery.subscription_id == subscription_id,
            EventDelivery.state == PENDING,
            EventDelivery.next_attempt_at <= now,
            ~blocked,
        )
        .order_by(EventDelivery.event_seq)
        .limit(limit)
    ).all()
    return [
        DueDelivery(
            delivery_id=delivery.id,
            subscription_id=subscription_id,
            url=subscription.url,
            secrets=signing_secrets(subscription, now),
            event_id=event.event_id,
            event_type=event.type,
            body=body(event.type, event.occurred_at, event.data),
            attempts=delivery.attempts,
        )
        for delivery, event in rows
    ]


def signing_secrets(subscription: EventSubscription, now: datetime) -> tuple[str, ...]:
    until = subscription.previous_secret_until
    if subscription.previous_secret and until is not None and now < until:
        return (subscription.secret, subscription.previous_secret)
    return (subscription.secret,)


@dataclass(frozen=True)
class Attempt:
    status_code: int | None
    error: str | None
    response_ms: int
    at: datetime

    @property
    def succeeded(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def record_attempt(
    session: Session, sent: DueDelivery, attempt: Attempt, *, first_retry: timedelta, window: timedelta
) -> Outcome:
    """The attempt in the log; the delivery done (2xx) or due again after a backoff; past the retry
    window, the subscription disabled with a notice (its pending deliveries stay, for replay)."""
    delivery = session.get(EventDelivery, sent.delivery_id, with_for_update=True)
    if delivery is None or delivery.state != PENDING:
        return Outcome(delivered=False)  # deleted with its subscription, or done by another pass
    delivery.attempts += 1
    session.add(
        EventDeliveryAttempt(
            delivery_id=delivery.id,
            subscription_id=sent.subscription_id,
            event_id=sent.event_id,
            event_type=sent.event_type,
            attempt=delivery.attempts,
            status_code=attempt.status_code,
            error=attempt.error,
            response_ms=attempt.response_ms,
            at=attempt.at,
        )
    )
    delivery.last_status_code, delivery.last_error = attempt.status_code, attempt.error
    if attempt.succeeded:
        delivery.state, delivery.delivered_at, delivery.first_failed_at = DELIVERED, attempt.at, None
        return Outcome(delivered=True)
    failing_since = delivery.first_failed_at or attempt.at
    delivery.first_failed_at = failing_since
    if gives_up(failing_since, attempt.at, window):
        return Outcome(delivered=False, disabled=_disable(session, sent, attempt, failing_since))
    delivery.next_attempt_at = attempt.at + retry_delay(delivery.attempts, first_retry, random.random())
    return Outcome(delivered=False)


def _disable(session: Session, sent: DueDelivery, attempt: Attempt, failing_since: datetime) -> str:
    answer = f"HTTP {attempt.status_code}" if attempt.status_code is not None else (attempt.error or "no answer")
    notice = (
        f"disabled at {attempt.at.isoformat()}: event {sent.event_id} failed since {failing_since.isoformat()} "
        f"(last: {answer}); pending deliveries are kept: enable the subscription or replay to send them"
    )
    subscription = session.get(EventSubscription, sent.subscription_id, with_for_update=True)
    if subscription is not None and subscription.enabled:
        subscription.enabled, subscription.disabled_reason, subscription.disabled_at = False, notice, attempt.at
        subscription.updated_at = attempt.at
    return notice


def resume(session: Session, subscription_id: str, now: datetime) -> None:
    """A subscription enabled again: its pending deliveries are due now, with a fresh retry window."""
    session.execute(
        update(EventDelivery)
        .where(EventDelivery.subscription_id == subscription_id, EventDelivery.state == PENDING)
        .values(next_attempt_at=now, first_failed_at=None),
        execution_options={"synchronize_session": False},
    )


def replay(session: Session, subscription_id: str, events: Sequence[OutboundEvent], now: datetime) -> int:
    """Send these (fanned-out) events to the subscription again, with their own ids, in order per
    key: each delivery is pending again (made when the subscription had none)."""
    if not events:
        return 0
    seqs = [event.seq for event in events]
    existing = {
        delivery.event_seq: delivery
        for delivery in session.scalars(
            select(EventDelivery).where(
                EventDelivery.subscription_id == subscription_id, EventDelivery.event_seq.in_(seqs)
            )
        )
    }
    for event in events:
        delivery = existing.get(event.seq)
        if delivery is None:
            session.add(_delivery(subscription_id, event, now))
        else:
            delivery.state, delivery.next_attempt_at, delivery.first_failed_at = PENDING, now, None
            delivery.delivered_at = None
    return len(events)


def prune(session: Session, before: datetime, limit: int) -> int:
    """Forget up to `limit` events fanned out before `before` that no subscription still waits for,
    with their deliveries and log: the outbox does not grow for ever (a busy engine writes a
    stock.changed per SKU moved). Replay reaches back as far as this keeps. Returns how many."""
    waiting = exists().where(EventDelivery.event_seq == OutboundEvent.seq, EventDelivery.state == PENDING)
    seqs = list(
        session.scalars(
            select(OutboundEvent.seq)
            .where(OutboundEvent.fanned_out_at < before, ~waiting)
            .order_by(OutboundEvent.seq)
            .limit(limit)
        )
    )
    if not seqs:
        return 0
    deliveries = select(EventDelivery.id).where(EventDelivery.event_seq.in_(seqs)).scalar_subquery()
    quiet = {"synchronize_session": False}
    session.execute(
        delete(EventDeliveryAttempt).where(EventDeliveryAttempt.delivery_id.in_(deliveries)), execution_options=quiet
    )
    session.execute(delete(EventDelivery).where(EventDelivery.event_seq.in_(seqs)), execution_options=quiet)
    session.execute(delete(OutboundEvent).where(OutboundEvent.seq.in_(seqs)), execution_options=quiet)
    return len(seqs)
