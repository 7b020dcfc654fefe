"""Event subscriptions as staff keep them (services.event_subscriptions), their delivery logs, and
the events a replay picks."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from domain.outbound_events import wants
from persistence.guarded_writes.event_deliveries import PENDING, SUPERSEDED
from persistence.models import EventDelivery, EventDeliveryAttempt, EventSubscription, OutboundEvent


def all_subscriptions(session: Session) -> list[EventSubscription]:
    return list(session.scalars(select(EventSubscription).order_by(EventSubscription.created_at)))


def get(session: Session, subscription_id: str, *, lock: bool = False) -> EventSubscription | None:
    return session.get(EventSubscription, subscription_id, with_for_update=lock)


def remove(session: Session, subscription_id: str) -> None:
    """The subscription, its deliveries and their log."""
    for table in (EventDeliveryAttempt, EventDelivery, EventSubscription):
        session.execute(
            delete(table).where(table.subscription_id == subscription_id),
            execution_options={"synchronize_session": False},
        )


def pending_count(session: Session, subscription_id: str) -> int:
    return int(
        session.scalar(
            select(func.count())
            .select_from(EventDelivery)
            .where(EventDelivery.subscription_id == subscription_id, EventDelivery.state == PENDING)
        )
        or 0
    )


def attempts_page(
    session: Session, subscription_id: str, limit: int, offset: int
) -> tuple[list[EventDeliveryAttempt], int]:
    """The subscription's delivery log, newest attempt first, and how many attempts it holds."""
    where = EventDeliveryAttempt.subscription_id == subscription_id
    total = int(session.scalar(select(func.count()).select_from(EventDeliveryAttempt).where(where)) or 0)
    rows = session.scalars(
        select(EventDeliveryAttempt).where(where).order_by(EventDeliveryAttempt.id.desc()).limit(limit).offset(offset)
    )
    return list(rows), total


def event(session: Session, event_id: str) -> OutboundEvent | None:
    return session.scalar(select(OutboundEvent).where(OutboundEvent.event_id == event_id))


def events_between(
    session: Session, subscription: EventSubscription, start: datetime, end: datetime
) -> Sequence[OutboundEvent]:
    """The fanned-out events the subscription wants that occurred in [start, end), in order (a
    stock.changed superseded by a newer one of its SKU is not sent again: the newer one is)."""
    rows = session.scalars(
        select(OutboundEvent)
        .where(
            OutboundEvent.occurred_at >= start,
            OutboundEvent.occurred_at < end,
            OutboundEvent.fanned_out_at.is_not(None),
        )
        .order_by(OutboundEvent.seq)
    )
    return [e for e in rows if wants(subscription.event_types, e.type) and SUPERSEDED not in e.data]
