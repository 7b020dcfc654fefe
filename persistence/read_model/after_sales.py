"""Queries behind the after-sales numbers (GET /kpis, the KPI charts, the overview): read model only.

Two kinds of figure, each with the window it can honestly answer for:
- Return rates and reasons are of a cohort: the orders received in [since, until) that shipped,
  the units they shipped (their lines) against the units they sent back, whenever that happened
  (a recent window's rate rises as its returns come in, as the charts' return rate does).
- Money and exchanges are counted when they happened: refunds made, credit issued and exchanges
  asked for in the window, whenever their order was received.
With a channel, only that channel's orders count. Money stays in integer minor units per currency:
no query adds two currencies together.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import ColumnElement, and_, func, or_, select
from sqlalchemy.orm import Session

from domain.after_sales import NOT_RETURNED, ReturnedGoods, Tally, return_rate, tally_returns
from domain.goodwill import GoodwillForm
from domain.return_lifecycle import Resolution
from domain.returns import ReturnStatus
from domain.store_credit import CreditEntryKind
from persistence.models import GoodwillRecord, OrderLineRecord, OrderRecord, ReturnRecord, StoreCreditEntry

TOP_SKUS = 10
"""SKUs shown: the ones with the most units returned."""
GOODWILL_REFUNDED = "REFUNDED"
"""A goodwill refund the gateway made (persistence.models.GoodwillRecord.status)."""


@dataclass(frozen=True)
class SkuReturns:
    sku: str
    units_shipped: int
    units_returned: int
    returns: int
    reasons: dict[str, int] = field(default_factory=dict)
    """Units returned per reason (domain.returns.ReturnReason), most first (the top three)."""

    @property
    def rate(self) -> float | None:
        return return_rate(self.units_returned, self.units_shipped)


@dataclass(frozen=True)
class ChannelReturns:
    channel: str
    units_shipped: int
    units_returned: int
    returns: int
    reasons: dict[str, int] = field(default_factory=dict)
    """Units returned per reason, most first (the top three)."""

    @property
    def rate(self) -> float | None:
        return return_rate(self.units_returned, self.units_shipped)


@dataclass(frozen=True)
class ChannelRefunds:
    channel: str
    currency: str
    gateway_minor: int = 0
    """Refunded through our payment gateway for returns."""
    on_channel_minor: int = 0
    """Refunds for returns the channel made (it took the money)."""
    goodwill_minor: int = 0
    """Goodwill refunded through our gateway."""

    @property
    def total_minor(self) -> int:
        return self.gateway_minor + self.on_channel_minor + self.goodwill_minor


@dataclass(frozen=True)
class ChannelCredit:
    channel: str | None
    """None for credit given without an order (by hand)."""
    currency: str
    reason: str
    """domain.store_credit.CreditReason: return, exchange, goodwill, refund, adjustment."""
    entries: int
    amount_minor: int


@dataclass(frozen=True)
class AfterSalesRows:
    returns_by_sku: list[SkuReturns] = field(default_factory=list)
    returns_by_channel: list[ChannelReturns] = field(default_factory=list)
    refunds_by_channel: list[ChannelRefunds] = field(default_factory=list)
    credit_issued: list[ChannelCredit] = field(default_factory=list)
    exchanges: int = 0


def _cohort(since: datetime, until: datetime, channel: str | None) -> ColumnElement[bool]:
    shipped = and_(
        OrderRecord.received_at >= since, OrderRecord.received_at < until, OrderRecord.shipped_at.is_not(None)
    )
    return and_(shipped, OrderRecord.channel == channel) if channel else shipped


def _still_returned() -> ColumnElement[bool]:
    return or_(ReturnRecord.state.is_(None), ReturnRecord.state.not_in(sorted(NOT_RETURNED)))


def _of_channel(channel: str | None) -> list[ColumnElement[bool]]:
    return [OrderRecord.channel == channel] if channel else []


def _returned(session: Session, cohort: ColumnElement[bool]) -> tuple[dict[str, Tally], dict[str, Tally]]:
    rows = session.execute(
        select(OrderRecord.channel, ReturnRecord.lines, ReturnRecord.short, ReturnRecord.reason)
        .join(OrderRecord, OrderRecord.order_id == ReturnRecord.order_id)
        .where(cohort, _still_returned())
    ).all()
    return tally_returns(ReturnedGoods(ch, lines or {}, reason or "", short) for ch, lines, short, reason in rows)


def _shipped_units(
    session: Session, cohort: ColumnElement[bool], skus: list[str]
) -> tuple[dict[str, int], dict[str, int]]:
    """Units the cohort shipped (its order lines): of the given SKUs, and per channel."""
    units = func.sum(OrderLineRecord.quantity)
    lines = and_(cohort, OrderLineRecord.order_id == OrderRecord.order_id)
    by_sku: dict[str, int] = {}
    if skus:
        statement = (
            select(OrderLineRecord.sku, units).where(lines, OrderLineRecord.sku.in_(skus)).group_by(OrderLineRecord.sku)
        )
        by_sku = {sku: int(n or 0) for sku, n in session.execute(statement).all()}
    statement = select(OrderRecord.channel, units).where(lines).group_by(OrderRecord.channel)
    by_channel = {channel: int(n or 0) for channel, n in session.execute(statement).all()}
    return by_sku, by_channel


def return_rates(
    session: Session, since: datetime, until: datetime, channel: str | None, *, limit: int = TOP_SKUS
) -> tuple[list[SkuReturns], list[ChannelReturns]]:
    """The `limit` SKUs with the most units returned, and every channel, for the window's cohort."""
    cohort = _cohort(since, until, channel)
    by_sku, by_channel = _returned(session, cohort)
    top = sorted(by_sku, key=lambda sku: (-by_sku[sku].units, sku))[:limit]
    shipped_sku, shipped_channel = _shipped_units(session, cohort, top)
    skus = [
        SkuReturns(sku, shipped_sku.get(sku, 0), by_sku[sku].units, by_sku[sku].returns, by_sku[sku].top_reasons())
        for sku in top
    ]
    channels = [
        ChannelReturns(ch, n, tally.units, tally.returns, tally.top_reasons())
        for ch, n, tally in ((ch, shipped_channel[ch], by_channel.get(ch, Tally())) for ch in sorted(shipped_channel))
    ]
    return skus, channels


def refunds_by_channel(session: Session, since: datetime, until: datetime, channel: str | None) -> list[ChannelRefunds]:
    """Refunds made in the window: through our gateway (when `refunded_at`), by the channel (a return's
    refund the channel makes has no time of its own here: counted when the return was asked for), and
    goodwill refunded through the gateway (when done)."""
    through_us = and_(
        ReturnRecord.status == ReturnStatus.REFUNDED.value,
        ReturnRecord.refunded_at >= since,
        ReturnRecord.refunded_at < until,
    )
    on_channel = and_(
        ReturnRecord.status == ReturnStatus.REFUND_ON_CHANNEL.value,
        ReturnRecord.created_at >= since,
        ReturnRecord.created_at < until,
    )
    returned = session.execute(
        select(OrderRecord.channel, ReturnRecord.currency, ReturnRecord.status, func.sum(ReturnRecord.refund_minor))
        .join(OrderRecord, OrderRecord.order_id == ReturnRecord.order_id)
        .where(or_(through_us, on_channel), *_of_channel(channel))
        .group_by(OrderRecord.channel, ReturnRecord.currency, ReturnRecord.status)
    ).all()
    goodwill = session.execute(
        select(OrderRecord.channel, GoodwillRecord.currency, func.sum(GoodwillRecord.amount_minor))
        .join(OrderRecord, OrderRecord.order_id == GoodwillRecord.order_id)
        .where(
            GoodwillRecord.form == GoodwillForm.REFUND.value,
            GoodwillRecord.status == GOODWILL_REFUNDED,
            GoodwillRecord.done_at >= since,
            GoodwillRecord.done_at < until,
            *_of_channel(channel),
        )
        .group_by(OrderRecord.channel, GoodwillRecord.currency)
    ).all()
    sums: dict[tuple[str, str], dict[str, int]] = {}
    for ch, currency, status, total in returned:
        kind = "gateway_minor" if status == ReturnStatus.REFUNDED.value else "on_channel_minor"
        sums.setdefault((ch, currency), {})[kind] = int(total or 0)
    for ch, currency, total in goodwill:
        sums.setdefault((ch, currency), {})["goodwill_minor"] = int(total or 0)
    return [ChannelRefunds(ch, currency, **figures) for (ch, currency), figures in sorted(sums.items())]


def credit_issued(session: Session, since: datetime, until: datetime, channel: str | None) -> list[ChannelCredit]:
    """Store credit issued in the window, per channel of the order it was for, currency and reason."""
    query = (
        select(
            OrderRecord.channel,
            StoreCreditEntry.currency,
            StoreCreditEntry.reason,
            func.count(),
            func.sum(StoreCreditEntry.amount_minor),
        )
        .select_from(StoreCreditEntry)
        .outerjoin(OrderRecord, OrderRecord.order_id == StoreCreditEntry.order_id)
        .where(
            StoreCreditEntry.kind == CreditEntryKind.ISSUE.value,
            StoreCreditEntry.at >= since,
            StoreCreditEntry.at < until,
            *_of_channel(channel),
        )
        .group_by(OrderRecord.channel, StoreCreditEntry.currency, StoreCreditEntry.reason)
    )
    rows = [
        ChannelCredit(ch, currency, reason or "", int(n), int(total or 0))
        for ch, currency, reason, n, total in session.execute(query).all()
    ]
    return sorted(rows, key=lambda r: (r.channel or "", r.currency, -r.amount_minor, r.reason))


def exchanges(session: Session, since: datetime, until: datetime, channel: str | None) -> int:
    """Returns resolved by exchange asked for in the window (not rejected, cancelled or expired)."""
    query = select(func.count()).select_from(ReturnRecord)
    if channel:
        query = query.join(OrderRecord, OrderRecord.order_id == ReturnRecord.order_id).where(
            OrderRecord.channel == channel
        )
    query = query.where(
        ReturnRecord.resolution == Resolution.EXCHANGE.value,
        ReturnRecord.created_at >= since,
        ReturnRecord.created_at < until,
        _still_returned(),
    )
    return int(session.scalar(query) or 0)


def after_sales(session: Session, since: datetime, until: datetime, channel: str | None) -> AfterSalesRows:
    by_sku, by_channel = return_rates(session, since, until, channel)
    return AfterSalesRows(
        returns_by_sku=by_sku,
        returns_by_channel=by_channel,
        refunds_by_channel=refunds_by_channel(session, since, until, channel),
        credit_issued=credit_issued(session, since, until, channel),
        exchanges=exchanges(session, since, until, channel),
    )
