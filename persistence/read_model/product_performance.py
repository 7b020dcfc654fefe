"""Product and channel performance per ISO week or calendar month (UTC), computed by SQL.

What counts, and when:
- Sold: the order lines of orders whose last parcel shipped in the window (`orders.shipped_at`),
  in the period they shipped; cancelled orders never count (net of cancellations: an order edit
  that takes a line off changes the lines themselves). Revenue is the lines' totals as the channel
  charged them: gross, VAT included, before order-level discounts, without shipping.
- Returned: the units of returns asked for in the window (`returns.created_at`), in that period,
  less what a received parcel was short of, unless the goods never came back (rejected, cancelled,
  expired). Refunded: the return's refund (through our gateway, or made by the channel that took
  the money) spread over its SKUs by the value of the units asked back at the order's prices, to
  the cent: the shares of one return always add up to its refund.

Rows are (period, channel, SKU, currency): no figure adds two currencies together. A return's
lines are a JSON document ({sku: units}); each database unpacks it with its own table function
(json_each, jsonb_each_text), so nothing is unpacked row by row in Python.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Date,
    case,
    cast,
    func,
    or_,
    select,
    text,
    true,
)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.expression import FunctionElement

from domain.after_sales import NOT_RETURNED
from domain.report_periods import Granularity
from domain.returns import ReturnStatus
from domain.status import OrderStatus
from persistence.models import OrderLineRecord, OrderRecord, ReturnRecord

REFUNDED_STATUSES = (ReturnStatus.REFUNDED.value, ReturnStatus.REFUND_ON_CHANNEL.value)
"""A return's refund counts once it was made: through our gateway, or by the channel."""


class week_start(FunctionElement[date]):
    """The Monday (UTC) of the ISO week of a timestamp, as a DATE (domain.report_periods.period_start)."""

    type = Date()
    inherit_cache = True


class month_start(FunctionElement[date]):
    """The first day (UTC) of the month of a timestamp, as a DATE."""

    type = Date()
    inherit_cache = True


@compiles(week_start)
def _week_sqlite(element: week_start, compiler: SQLCompiler, **kw: Any) -> str:
    # Our timestamps are UTC text on SQLite: 'weekday 0' moves on to the Sunday (or stays on one),
    # six days back is that ISO week's Monday.
    return f"date({compiler.process(element.clauses, **kw)}, 'weekday 0', '-6 days')"


@compiles(week_start, "postgresql")
def _week_postgresql(element: week_start, compiler: SQLCompiler, **kw: Any) -> str:
    return f"CAST(date_trunc('week', ({compiler.process(element.clauses, **kw)}) AT TIME ZONE 'UTC') AS DATE)"


@compiles(month_start)
def _month_sqlite(element: month_start, compiler: SQLCompiler, **kw: Any) -> str:
    return f"date({compiler.process(element.clauses, **kw)}, 'start of month')"


@compiles(month_start, "postgresql")
def _month_postgresql(element: month_start, compiler: SQLCompiler, **kw: Any) -> str:
    return f"CAST(date_trunc('month', ({compiler.process(element.clauses, **kw)}) AT TIME ZONE 'UTC') AS DATE)"


class json_units(FunctionElement[int]):
    """The integer under `key` in a JSON object ({sku: units}), NULL when absent or the object is."""

    type = BigInteger()
    inherit_cache = True


@compiles(json_units)
def _json_units_sqlite(element: json_units, compiler: SQLCompiler, **kw: Any) -> str:
    document, key = (compiler.process(clause, **kw) for clause in element.clauses)
    # Both parts are compiled SQL of our own expressions (columns), never text from a request.
    return f"(SELECT CAST(value AS INTEGER) FROM json_each({document}) WHERE key = {key})"  # noqa: S608


@compiles(json_units, "postgresql")
def _json_units_postgresql(element: json_units, compiler: SQLCompiler, **kw: Any) -> str:
    document, key = (compiler.process(clause, **kw) for clause in element.clauses)
    return f"CAST(({document} ->> {key}) AS BIGINT)"


def period_of(moment: Any, granularity: Granularity) -> ColumnElement[date]:
    return week_start(moment) if granularity is Granularity.WEEK else month_start(moment)


def without_jit(session: Session) -> None:
    """PostgreSQL compiles a statement it estimates as costly to machine code first (JIT); for these
    grouped reports that took seconds, far more than running them (bench/reports.py). Off for the
    rest of this read-only transaction only."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SET LOCAL jit = off"))


def _day(value: date | str) -> date:
    return value if isinstance(value, date) else date.fromisoformat(value)


@dataclass(frozen=True)
class PerformanceRow:
    period: date
    """The period's first day (domain.report_periods.period_start)."""
    channel: str
    sku: str
    currency: str
    units_sold: int = 0
    revenue_minor: int = 0
    units_returned: int = 0
    refunded_minor: int = 0


@dataclass(frozen=True)
class PerformanceFilter:
    since: datetime
    until: datetime
    granularity: Granularity
    channel: str | None = None
    sku: str | None = None
    top: int | None = None
    """Only the SKUs among the `top` by revenue (sold in the window) in at least one currency."""


def _sold_where(f: PerformanceFilter, skus: list[str] | None) -> list[ColumnElement[bool]]:
    where = [
        OrderRecord.shipped_at >= f.since,
        OrderRecord.shipped_at < f.until,
        OrderRecord.status != OrderStatus.CANCELLED.value,
        OrderLineRecord.order_id == OrderRecord.order_id,
    ]
    if f.channel:
        where.append(OrderRecord.channel == f.channel)
    if f.sku:
        where.append(OrderLineRecord.sku == f.sku)
    if skus is not None:
        where.append(OrderLineRecord.sku.in_(skus))
    return where


def top_skus(session: Session, f: PerformanceFilter, top: int) -> list[str]:
    """The SKUs among the `top` by revenue in at least one currency (never two currencies added),
    ranked in SQL over the window's sold lines."""
    revenue = func.sum(OrderLineRecord.total_minor)
    ranked = (
        select(
            OrderLineRecord.sku.label("sku"),
            func.row_number()
            .over(partition_by=OrderRecord.currency, order_by=(revenue.desc(), OrderLineRecord.sku))
            .label("rank"),
        )
        .where(*_sold_where(f, None))
        .group_by(OrderRecord.currency, OrderLineRecord.sku)
        .subquery()
    )
    return sorted(set(session.scalars(select(ranked.c.sku).where(ranked.c.rank <= top))))


def _sold(session: Session, f: PerformanceFilter, skus: list[str] | None) -> list[Any]:
    period = period_of(OrderRecord.shipped_at, f.granularity)
    statement = (
        select(
            period,
            OrderRecord.channel,
            OrderLineRecord.sku,
            OrderRecord.currency,
            func.sum(OrderLineRecord.quantity),
            func.sum(OrderLineRecord.total_minor),
        )
        .where(*_sold_where(f, skus))
        .group_by(period, OrderRecord.channel, OrderLineRecord.sku, OrderRecord.currency)
    )
    return list(session.execute(statement).all())


def _return_lines(session: Session) -> Any:
    """The table function that turns a return's {sku: units} into (key, value) rows."""
    if session.get_bind().dialect.name == "postgresql":
        return func.jsonb_each_text(ReturnRecord.lines).table_valued("key", "value")
    return func.json_each(ReturnRecord.lines).table_valued("key", "value")


def _returned(session: Session, f: PerformanceFilter, skus: list[str] | None) -> list[Any]:
    lines = _return_lines(session)
    units = cast(lines.c.value, BigInteger)
    price = (
        select(func.max(OrderLineRecord.unit_price_minor))
        .where(OrderLineRecord.order_id == ReturnRecord.order_id, OrderLineRecord.sku == lines.c.key)
        .scalar_subquery()
    )
    refund = case((ReturnRecord.status.in_(REFUNDED_STATUSES), ReturnRecord.refund_minor), else_=0)
    where = [
        ReturnRecord.created_at >= f.since,
        ReturnRecord.created_at < f.until,
        or_(ReturnRecord.state.is_(None), ReturnRecord.state.not_in(sorted(NOT_RETURNED))),
    ]
    if f.channel:
        where.append(OrderRecord.channel == f.channel)
    each = (
        select(
            ReturnRecord.return_id.label("return_id"),
            period_of(ReturnRecord.created_at, f.granularity).label("period"),
            OrderRecord.channel.label("channel"),
            ReturnRecord.currency.label("currency"),
            lines.c.key.label("sku"),
            # What came back: announced less what the parcel was short of (as the KPIs count).
            (units - func.coalesce(json_units(ReturnRecord.short, lines.c.key), 0)).label("came"),
            units.label("units"),
            (units * func.coalesce(price, 0)).label("worth"),
            cast(refund, BigInteger).label("refund"),
        )
        .select_from(ReturnRecord)
        .join(OrderRecord, OrderRecord.order_id == ReturnRecord.order_id)
        .join(lines, true())
        .where(*where)
        # A fence (OFFSET 0): PostgreSQL would otherwise pull this up and run the price look-up once
        # for every place the outer expressions name `worth`.
        .offset(0)
        .subquery()
    )
    # Each SKU's share of its return's refund: refund * (running worth) / (whole worth), rounded
    # down, less the same for the SKUs before it. The shares add up to the refund exactly. A return
    # of goods worth nothing at the order's prices is spread by units instead.
    # PostgreSQL sums integers as NUMERIC: cast back, so every division below is an integer one.
    running_worth = cast(func.sum(each.c.worth).over(partition_by=each.c.return_id, order_by=each.c.sku), BigInteger)
    running_units = cast(func.sum(each.c.units).over(partition_by=each.c.return_id, order_by=each.c.sku), BigInteger)
    whole_worth = cast(func.sum(each.c.worth).over(partition_by=each.c.return_id), BigInteger)
    whole_units = cast(func.sum(each.c.units).over(partition_by=each.c.return_id), BigInteger)
    share = case(
        (
            whole_worth > 0,
            each.c.refund * running_worth // whole_worth
            - each.c.refund * (running_worth - each.c.worth) // whole_worth,
        ),
        else_=each.c.refund * running_units // whole_units
        - each.c.refund * (running_units - each.c.units) // whole_units,
    )
    shared = select(
        each.c.period, each.c.channel, each.c.sku, each.c.currency, each.c.came, share.label("refunded")
    ).subquery()
    statement = select(
        shared.c.period,
        shared.c.channel,
        shared.c.sku,
        shared.c.currency,
        func.sum(shared.c.came),
        func.sum(shared.c.refunded),
    )
    if f.sku:
        statement = statement.where(shared.c.sku == f.sku)
    if skus is not None:
        statement = statement.where(shared.c.sku.in_(skus))
    statement = statement.group_by(shared.c.period, shared.c.channel, shared.c.sku, shared.c.currency)
    return list(session.execute(statement).all())


def performance(session: Session, f: PerformanceFilter) -> list[PerformanceRow]:
    """Every (period, channel, SKU, currency) that sold or had returns in the window (of the top SKUs
    when `top` is given), by period, channel, SKU, currency."""
    without_jit(session)
    skus = None if f.top is None else top_skus(session, f, f.top)
    figures: dict[tuple[date, str, str, str], dict[str, int]] = {}
    for period, channel, sku, currency, units, revenue in _sold(session, f, skus):
        row = figures.setdefault((_day(period), channel, sku, currency), {})
        row["units_sold"], row["revenue_minor"] = int(units or 0), int(revenue or 0)
    for period, channel, sku, currency, units, refunded in _returned(session, f, skus):
        row = figures.setdefault((_day(period), channel, sku, currency), {})
        row["units_returned"], row["refunded_minor"] = int(units or 0), int(refunded or 0)
    return [
        PerformanceRow(period, channel, sku, currency, **values)
        for (period, channel, sku, currency), values in sorted(figures.items())
    ]
