"""The read model's figures behind the metrics endpoint (GET /metrics): what is waiting, read at
scrape time with one aggregate query each, in a read-only session (no write lock on SQLite). Every
query is an aggregate over an indexed filter, or over a table that stays small (open escalations),
so a scrape every 15 seconds costs the database next to nothing."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from domain.order import CHANNELS
from domain.status import OrderStatus
from persistence.models import (
    CancellationNoticeOutbox,
    Escalation,
    OrderIntake,
    OrderRecord,
    ShipmentNoticeOutbox,
    StockOutbox,
)

STOCK_OUTBOX = "stock"
"""The stock outbox holds SKUs, not channels: every channel's figure is computed from one row."""
ALL_CHANNELS = ""
"""The `channel` of the stock outbox's backlog (an empty label value: no channel)."""


@dataclass(frozen=True)
class OutboxBacklog:
    """Undelivered rows of one outbox for one channel, and when the oldest was written (None: none)."""

    outbox: str
    channel: str
    pending: int
    oldest: datetime | None


@dataclass(frozen=True)
class OperationsFigures:
    orders_by_status: dict[str, int] = field(default_factory=dict)
    holds_open: int = 0
    outboxes: list[OutboxBacklog] = field(default_factory=list)
    escalations_open: dict[tuple[str, str], int] = field(default_factory=dict)
    """(location id, step) → steps past their deadline, not done yet."""


def orders_by_status(session: Session) -> dict[str, int]:
    """Every status, those without orders as 0 (a series that vanishes would read as "no data")."""
    rows = session.execute(select(OrderRecord.status, func.count()).group_by(OrderRecord.status)).all()
    counts = dict.fromkeys((status.value for status in OrderStatus), 0)
    counts.update({status: int(count) for status, count in rows})
    return counts


def holds_open(session: Session) -> int:
    held = select(func.count()).select_from(OrderRecord).where(OrderRecord.status == OrderStatus.ON_HOLD.value)
    return int(session.scalar(held) or 0)


INTAKE = "order_intake"
"""Orders taken whose workflow has not started (Temporal away): a backlog like an outbox's."""


def outbox_backlogs(session: Session) -> list[OutboxBacklog]:
    """The stock outbox as one backlog; the notice outboxes and the order intake per channel, every
    channel listed."""
    stock = session.execute(
        select(func.count(), func.min(StockOutbox.created_at)).where(StockOutbox.delivered_at.is_(None))
    ).one()
    backlogs = [OutboxBacklog(STOCK_OUTBOX, ALL_CHANNELS, int(stock[0]), stock[1])]
    waiting = {
        "shipment_notices": select(
            ShipmentNoticeOutbox.channel, func.count(), func.min(ShipmentNoticeOutbox.created_at)
        ).where(ShipmentNoticeOutbox.delivered_at.is_(None)),
        "cancellation_notices": select(
            CancellationNoticeOutbox.channel, func.count(), func.min(CancellationNoticeOutbox.created_at)
        ).where(CancellationNoticeOutbox.delivered_at.is_(None)),
        INTAKE: select(OrderIntake.channel, func.count(), func.min(OrderIntake.received_at)).where(
            OrderIntake.started_at.is_(None)
        ),
    }
    for name, query in waiting.items():
        rows = session.execute(query.group_by(query.selected_columns[0])).all()
        pending = {channel: (int(count), oldest) for channel, count, oldest in rows}
        for channel in sorted(set(CHANNELS) | set(pending)):
            count, oldest = pending.get(channel, (0, None))
            backlogs.append(OutboxBacklog(name, channel, count, oldest))
    return backlogs


def escalations_open(session: Session) -> dict[tuple[str, str], int]:
    rows = session.execute(
        select(Escalation.location_id, Escalation.step, func.count())
        .where(Escalation.resolved_at.is_(None))
        .group_by(Escalation.location_id, Escalation.step)
    ).all()
    return {(location, step): int(count) for location, step, count in rows}


def operations_figures(session: Session) -> OperationsFigures:
    return OperationsFigures(
        orders_by_status=orders_by_status(session),
        holds_open=holds_open(session),
        outboxes=outbox_backlogs(session),
        escalations_open=escalations_open(session),
    )
