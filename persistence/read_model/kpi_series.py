"""Per-day KPI series for the charts, computed by SQL over the read model (GROUP BY the UTC day).

Every query takes orders received in [since, until) (optionally of one channel), except the ones
about events with their own time: top return reasons (returns accepted in the window) and late steps
(escalations raised in the window). The same statements run on SQLite and PostgreSQL: the few
things the two spell differently (the UTC day of a timestamp, seconds between two timestamps, a
percentile) are SQL constructs compiled per dialect below, so no query drags rows into Python to
do what the database can.

Money stays in integer minor units per currency: no query adds two currencies together.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Date,
    Executable,
    Float,
    Integer,
    and_,
    case,
    distinct,
    func,
    literal_column,
    select,
)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.expression import FunctionElement

from domain.fulfilment import ShipmentStatus
from domain.status import OrderStatus
from persistence.models import Escalation, OrderEvent, OrderRecord, ReturnRecord, ShipmentRecord
from persistence.read_model.after_sales import AfterSalesRows, after_sales
from persistence.read_model.defects import SkuDefects, defects_per_sku

BACKORDERED_EVENT = f"status:{OrderStatus.BACKORDERED.value}"
"""The timeline event every order that ever waited for stock has (set_status writes it)."""
TOP_REASONS = 10
TOP_DEFECTS = 10
NO_REASON = "(no reason given)"


class utc_day(FunctionElement[date]):
    """The UTC calendar day of a timestamp, as a DATE, on either database: cheap to sort and group
    by (a formatted text would be compared by the collation's rules, row by row)."""

    type = Date()
    inherit_cache = True


@compiles(utc_day)
def _utc_day_sqlite(element: utc_day, compiler: SQLCompiler, **kw: Any) -> str:
    # SQLite keeps our timestamps as UTC text ('2026-01-31 23:59:59.000000'): date() is its day.
    return f"date({compiler.process(element.clauses, **kw)})"


@compiles(utc_day, "postgresql")
def _utc_day_postgresql(element: utc_day, compiler: SQLCompiler, **kw: Any) -> str:
    # timestamptz at the UTC zone, whatever the session's TimeZone says.
    return f"CAST(({compiler.process(element.clauses, **kw)}) AT TIME ZONE 'UTC' AS DATE)"


class seconds_between(FunctionElement[float]):
    """`end - start` in seconds (a float), on either database."""

    type = Float()
    inherit_cache = True


@compiles(seconds_between)
def _seconds_sqlite(element: seconds_between, compiler: SQLCompiler, **kw: Any) -> str:
    start, end = (compiler.process(clause, **kw) for clause in element.clauses)
    # julianday is a float of days: exact to well under a millisecond, so rounded to the millisecond.
    return f"round((julianday({end}) - julianday({start})) * 86400.0, 3)"


@compiles(seconds_between, "postgresql")
def _seconds_postgresql(element: seconds_between, compiler: SQLCompiler, **kw: Any) -> str:
    start, end = (compiler.process(clause, **kw) for clause in element.clauses)
    return f"EXTRACT(EPOCH FROM ({end} - {start}))"


def _iso(day: date | str) -> str:
    """'YYYY-MM-DD' (the series' key), from the DATE either database answers."""
    return day if isinstance(day, str) else day.isoformat()


def _all(session: Session, statement: Executable) -> list[Any]:
    return list(session.execute(statement).all())


def _received(since: datetime, until: datetime, channel: str | None) -> ColumnElement[bool]:
    received = and_(OrderRecord.received_at >= since, OrderRecord.received_at < until)
    if channel:
        received = and_(received, OrderRecord.channel == channel)
    return received


@dataclass(frozen=True)
class ChannelDay:
    day: str
    channel: str
    currency: str
    orders: int
    revenue_minor: int
    """Order totals (lines, shipping, less discounts) of the orders not cancelled."""


def orders_per_channel_day(session: Session, since: datetime, until: datetime, channel: str | None) -> list[ChannelDay]:
    day = utc_day(OrderRecord.received_at)
    kept = case((OrderRecord.status != OrderStatus.CANCELLED.value, OrderRecord.total_minor), else_=0)
    rows = _all(
        session,
        select(day, OrderRecord.channel, OrderRecord.currency, func.count(), func.coalesce(func.sum(kept), 0))
        .where(_received(since, until, channel))
        .group_by(day, OrderRecord.channel, OrderRecord.currency)
        .order_by(day, OrderRecord.channel, OrderRecord.currency),
    )
    return [ChannelDay(_iso(d), ch, cur, int(n), int(revenue)) for d, ch, cur, n, revenue in rows]


@dataclass(frozen=True)
class ProcessingDay:
    day: str
    shipped: int
    p50_seconds: float
    p90_seconds: float


def _percentiles_postgresql(session: Session, seconds: Any, day: Any, received: ColumnElement[bool]) -> list[Any]:
    # percentile_disc is the nearest-rank percentile domain.kpis.percentile computes: the same
    # figure on both databases (percentile_cont would interpolate between two orders).
    p50 = func.percentile_disc(0.5).within_group(seconds)
    p90 = func.percentile_disc(0.9).within_group(seconds)
    statement = (
        select(day, func.count(), p50, p90)
        .where(received, OrderRecord.shipped_at.is_not(None))
        .group_by(day)
        .order_by(day)
    )
    return list(session.execute(statement).all())


def _percentiles_sqlite(session: Session, seconds: Any, day: Any, received: ColumnElement[bool]) -> list[Any]:
    # SQLite has no percentile function: number each day's durations in order (a window function)
    # and keep the rows at the nearest ranks ceil(n * p / 100), still in SQL.
    ranked = (
        select(
            day.label("day"),
            seconds.label("seconds"),
            func.row_number().over(partition_by=day, order_by=seconds).label("rank"),
            func.count().over(partition_by=day).label("n"),
        )
        .where(received, OrderRecord.shipped_at.is_not(None))
        .subquery()
    )

    def nearest(percent: int) -> ColumnElement[Any]:
        wanted = (ranked.c.n * percent + 99) / 100  # integer division: ceil(n * percent / 100)
        return func.max(case((ranked.c.rank == wanted.cast(Integer), ranked.c.seconds)))

    statement = (
        select(ranked.c.day, func.count(), nearest(50), nearest(90)).group_by(ranked.c.day).order_by(ranked.c.day)
    )
    return list(session.execute(statement).all())


def processing_per_day(session: Session, since: datetime, until: datetime, channel: str | None) -> list[ProcessingDay]:
    """Placed (at the channel) → shipped (the last parcel), median and p90, per day received."""
    seconds = seconds_between(OrderRecord.placed_at, OrderRecord.shipped_at)
    day = utc_day(OrderRecord.received_at)
    received = _received(since, until, channel)
    if session.get_bind().dialect.name == "postgresql":
        rows = _percentiles_postgresql(session, seconds, day, received)
    else:
        rows = _percentiles_sqlite(session, seconds, day, received)
    return [ProcessingDay(_iso(d), int(n), float(p50), float(p90)) for d, n, p50, p90 in rows]


@dataclass(frozen=True)
class CostDay:
    day: str
    currency: str
    orders: int
    """Orders received that day with a parcel that was not cancelled."""
    cost_minor: int


def _live_shipments() -> ColumnElement[bool]:
    # As the KPI report counts them (persistence.read_model.kpis): every parcel not cancelled.
    return ShipmentRecord.status != ShipmentStatus.CANCELLED.value


def cost_per_day(session: Session, since: datetime, until: datetime, channel: str | None) -> list[CostDay]:
    day = utc_day(OrderRecord.received_at)
    rows = _all(
        session,
        select(
            day,
            OrderRecord.currency,
            func.count(distinct(OrderRecord.order_id)),
            func.coalesce(func.sum(ShipmentRecord.fulfilment_cost_minor), 0),
        )
        .join(ShipmentRecord, ShipmentRecord.order_id == OrderRecord.order_id)
        .where(_received(since, until, channel), _live_shipments())
        .group_by(day, OrderRecord.currency)
        .order_by(day, OrderRecord.currency),
    )
    return [CostDay(_iso(d), cur, int(n), int(cost)) for d, cur, n, cost in rows]


@dataclass(frozen=True)
class CostLocation:
    location_id: str
    currency: str
    shipments: int
    orders: int
    cost_minor: int


def cost_per_location(session: Session, since: datetime, until: datetime, channel: str | None) -> list[CostLocation]:
    rows = _all(
        session,
        select(
            ShipmentRecord.location_id,
            OrderRecord.currency,
            func.count(),
            func.count(distinct(OrderRecord.order_id)),
            func.coalesce(func.sum(ShipmentRecord.fulfilment_cost_minor), 0),
        )
        .join(ShipmentRecord, ShipmentRecord.order_id == OrderRecord.order_id)
        .where(_received(since, until, channel), _live_shipments())
        .group_by(ShipmentRecord.location_id, OrderRecord.currency)
        .order_by(ShipmentRecord.location_id, OrderRecord.currency),
    )
    return [CostLocation(loc, cur, int(s), int(n), int(cost)) for loc, cur, s, n, cost in rows]


@dataclass(frozen=True)
class RateDay:
    day: str
    orders: int
    """The orders the rate is out of (returns: those shipped; backorders: all received)."""
    hits: int
    """Of those, the ones with a return / that ever waited for stock."""


def return_rate_per_day(session: Session, since: datetime, until: datetime, channel: str | None) -> list[RateDay]:
    """Of the orders received that day that shipped, how many have a return (so far)."""
    day = utc_day(OrderRecord.received_at)
    returned = select(ReturnRecord.order_id).where(ReturnRecord.order_id == OrderRecord.order_id).exists()
    rows = _all(
        session,
        select(day, func.count(), func.count(case((returned, literal_column("1")))))
        .where(_received(since, until, channel), OrderRecord.shipped_at.is_not(None))
        .group_by(day)
        .order_by(day),
    )
    return [RateDay(_iso(d), int(n), int(hits)) for d, n, hits in rows]


def backorder_rate_per_day(session: Session, since: datetime, until: datetime, channel: str | None) -> list[RateDay]:
    """Of the orders received that day, how many ever waited for stock (BACKORDERED on their timeline)."""
    day = utc_day(OrderRecord.received_at)
    waited = (
        select(OrderEvent.id)
        .where(OrderEvent.order_id == OrderRecord.order_id, OrderEvent.kind == BACKORDERED_EVENT)
        .exists()
    )
    rows = _all(
        session,
        select(day, func.count(), func.count(case((waited, literal_column("1")))))
        .where(_received(since, until, channel))
        .group_by(day)
        .order_by(day),
    )
    return [RateDay(_iso(d), int(n), int(hits)) for d, n, hits in rows]


@dataclass(frozen=True)
class Reason:
    reason: str
    returns: int


def top_return_reasons(session: Session, since: datetime, until: datetime, channel: str | None) -> list[Reason]:
    """Returns accepted in the window, by reason (as typed, trimmed), the most frequent first."""
    reason = func.trim(ReturnRecord.reason)
    query = select(reason, func.count()).where(ReturnRecord.created_at >= since, ReturnRecord.created_at < until)
    if channel:
        query = query.join(OrderRecord, OrderRecord.order_id == ReturnRecord.order_id).where(
            OrderRecord.channel == channel
        )
    rows = _all(session, query.group_by(reason).order_by(func.count().desc(), reason).limit(TOP_REASONS))
    return [Reason(text or NO_REASON, int(n)) for text, n in rows]


@dataclass(frozen=True)
class LateDay:
    day: str
    step: str
    raised: int


@dataclass(frozen=True)
class LateLocation:
    location_id: str
    raised: int
    still_open: int


def _escalations_in(since: datetime, until: datetime, channel: str | None) -> ColumnElement[bool]:
    raised = and_(Escalation.raised_at >= since, Escalation.raised_at < until)
    if channel:
        of_channel = select(OrderRecord.order_id).where(
            OrderRecord.order_id == Escalation.order_id, OrderRecord.channel == channel
        )
        raised = and_(raised, of_channel.exists())
    return raised


def late_steps_per_day(session: Session, since: datetime, until: datetime, channel: str | None) -> list[LateDay]:
    """Shipment steps that went past their deadline, per day raised and step."""
    day = utc_day(Escalation.raised_at)
    rows = _all(
        session,
        select(day, Escalation.step, func.count())
        .where(_escalations_in(since, until, channel))
        .group_by(day, Escalation.step)
        .order_by(day, Escalation.step),
    )
    return [LateDay(_iso(d), step, int(n)) for d, step, n in rows]


def late_steps_per_location(
    session: Session, since: datetime, until: datetime, channel: str | None
) -> list[LateLocation]:
    rows = _all(
        session,
        select(Escalation.location_id, func.count(), func.count(case((Escalation.resolved_at.is_(None), 1))))
        .where(_escalations_in(since, until, channel))
        .group_by(Escalation.location_id)
        .order_by(func.count().desc(), Escalation.location_id),
    )
    return [LateLocation(loc, int(n), int(still_open)) for loc, n, still_open in rows]


def channels_seen(session: Session) -> list[str]:
    """Every channel an order came from (for the filter's choices)."""
    return list(session.scalars(select(OrderRecord.channel).distinct().order_by(OrderRecord.channel)))


@dataclass(frozen=True)
class KpiSeriesRows:
    """Every chart's rows for one window and channel, read in one transaction."""

    channels: list[str]
    orders: list[ChannelDay]
    processing: list[ProcessingDay]
    cost_per_day: list[CostDay]
    cost_per_location: list[CostLocation]
    return_rate: list[RateDay]
    return_reasons: list[Reason]
    backorder_rate: list[RateDay]
    late_per_day: list[LateDay]
    late_per_location: list[LateLocation]
    after_sales: AfterSalesRows = field(default_factory=AfterSalesRows)
    """Return rates and reasons per SKU and channel, refunds, credit issued, exchanges (after_sales)."""
    defects: list[SkuDefects] = field(default_factory=list)
    """The SKUs most written off in the window (persistence.read_model.defects)."""


def kpi_series(session: Session, since: datetime, until: datetime, channel: str | None) -> KpiSeriesRows:
    return KpiSeriesRows(
        channels=channels_seen(session),
        orders=orders_per_channel_day(session, since, until, channel),
        processing=processing_per_day(session, since, until, channel),
        cost_per_day=cost_per_day(session, since, until, channel),
        cost_per_location=cost_per_location(session, since, until, channel),
        return_rate=return_rate_per_day(session, since, until, channel),
        return_reasons=top_return_reasons(session, since, until, channel),
        backorder_rate=backorder_rate_per_day(session, since, until, channel),
        late_per_day=late_steps_per_day(session, since, until, channel),
        late_per_location=late_steps_per_location(session, since, until, channel),
        after_sales=after_sales(session, since, until, channel),
        defects=defects_per_sku(session, since, until, channel=channel, limit=TOP_DEFECTS),
    )
