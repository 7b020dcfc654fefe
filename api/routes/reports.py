"""The business reports (services.reports): product and channel performance per week or month, the
money figures now and for a period, the stock value per location. JSON, or CSV with `?format=csv`
or `Accept: text/csv` (the same rows as the dashboard's tables, api.report_tables). Staff with the
KPI permission only: these are the shop's money."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel

from api.deps import ReportsDep, require
from api.report_tables import (
    csv_response,
    financials_table,
    performance_table,
    rate,
    stock_value_table,
    stock_value_totals,
)
from api.schemas import Money
from domain import limits
from domain.report_periods import Granularity
from domain.staff import Permission, StaffMember
from persistence.read_model.financials import Financials
from services.reports import MOST_TOP

router = APIRouter(prefix="/reports", tags=["reports"])

Viewer = Annotated[StaffMember, Depends(require(Permission.KPIS))]
Format = Annotated[Literal["json", "csv"] | None, Query(description="csv: the same rows as a CSV file")]
First = Annotated[date | None, Query(description="The first UTC day (YYYY-MM-DD)")]
Last = Annotated[date | None, Query(description="The last UTC day, included (default: today)")]
CSV_RESPONSE: dict[int | str, dict[str, Any]] = {
    200: {"content": {"text/csv": {}}, "description": "JSON, or CSV with ?format=csv or Accept: text/csv"},
    422: {"description": "a backwards or too long window, a bad day or granularity"},
}


def wants_csv(request: Request, format: str | None) -> bool:
    if format is not None:
        return format == "csv"
    return "text/csv" in request.headers.get("accept", "")


def _money(amount_minor: int, currency: str) -> Money:
    return Money(amount_minor=amount_minor, currency=currency)


class PeriodPublic(BaseModel):
    start: date
    label: str
    """"2026-W53" (ISO week) or "2026-12"."""


class PerformanceRowPublic(BaseModel):
    period: str
    period_start: date
    channel: str
    sku: str
    units_sold: int
    revenue: Money
    units_returned: int
    refunded: Money
    return_rate: float | None
    """units_returned / units_sold of the row; null when none sold in it."""


class PerformanceTotal(BaseModel):
    currency: str
    units_sold: int
    revenue: Money
    units_returned: int
    refunded: Money


class PerformancePublic(BaseModel):
    since: str
    until: str
    granularity: Granularity
    channel: str | None
    sku: str | None
    top: int | None
    basis: dict[str, str]
    periods: list[PeriodPublic]
    rows: list[PerformanceRowPublic]
    totals: list[PerformanceTotal]
    """Per currency over every row (never two currencies added)."""


BASIS = {
    "revenue": "gross, VAT included: the order lines as the channel charged them, before order-level "
    "discounts and without shipping; counted when the order's last parcel shipped, cancelled orders never",
    "units_sold": "units on those lines, in the period they shipped",
    "units_returned": "units of returns asked for in the period, less what a received parcel was short of, "
    "unless rejected, cancelled or expired",
    "refunded": "refunds made for those returns (through our gateway or by the channel), spread over "
    "their SKUs by value at the order's prices, to the cent",
    "return_rate": "units returned in the period per unit sold in the same period and row",
    "periods": "ISO weeks (Monday to Sunday) or calendar months, UTC",
}


@router.get("/performance", response_model=PerformancePublic, responses=CSV_RESPONSE)
def performance(
    request: Request,
    _: Viewer,
    reports: ReportsDep,
    first: First = None,
    last: Last = None,
    granularity: Granularity = Granularity.WEEK,
    channel: Annotated[str | None, Query(max_length=limits.CHANNEL)] = None,
    sku: Annotated[str | None, Query(max_length=limits.SKU)] = None,
    top: Annotated[int | None, Query(ge=1, le=MOST_TOP, description="Only the top N SKUs by revenue")] = None,
    format: Format = None,
) -> Any:
    """Units, revenue, returns and refunds per period, channel, SKU and currency (default: the last
    13 weeks)."""
    report = reports.performance(first, last, granularity, channel=channel or None, sku=sku or None, top=top)
    if wants_csv(request, format):
        name = f"performance-{granularity.value}-{report.since.date()}-{report.until.date()}.csv"
        return csv_response(performance_table(report), name)
    totals: dict[str, list[int]] = {}
    for r in report.rows:
        t = totals.setdefault(r.currency, [0, 0, 0, 0])
        t[0], t[1], t[2], t[3] = (
            t[0] + r.units_sold,
            t[1] + r.revenue_minor,
            t[2] + r.units_returned,
            t[3] + r.refunded_minor,
        )
    return PerformancePublic(
        since=report.since.isoformat(),
        until=report.until.isoformat(),
        granularity=granularity,
        channel=report.channel,
        sku=report.sku,
        top=report.top,
        basis=BASIS,
        periods=[PeriodPublic(start=start, label=label) for start, label in report.periods],
        rows=[
            PerformanceRowPublic(
                period=report.label(r.period),
                period_start=r.period,
                channel=r.channel,
                sku=r.sku,
                units_sold=r.units_sold,
                revenue=_money(r.revenue_minor, r.currency),
                units_returned=r.units_returned,
                refunded=_money(r.refunded_minor, r.currency),
                return_rate=float(rate(r.units_returned, r.units_sold)) if r.units_sold else None,
            )
            for r in report.rows
        ],
        totals=[
            PerformanceTotal(
                currency=c,
                units_sold=t[0],
                revenue=_money(t[1], c),
                units_returned=t[2],
                refunded=_money(t[3], c),
            )
            for c, t in sorted(totals.items())
        ],
    )


class CurrencyFiguresPublic(BaseModel):
    currency: str
    captured: Money
    refunded: Money
    """Through our gateway."""
    refunded_on_channel: Money
    """By the channel that took the money."""
    authorized_open: Money | None
    """Now only: held on cards (authorized, not captured or voided) for orders still open."""
    authorizations_open: int | None
    store_credit_issued: Money
    store_credit_spent: Money
    """Spent less given back."""
    store_credit_outstanding: Money | None
    """Now only: what customers may still spend."""


class ReceivablePublic(BaseModel):
    channel: str
    currency: str
    orders: int
    collected: Money
    refunded: Money
    outstanding: Money


class FinancialsScope(BaseModel):
    by_currency: list[CurrencyFiguresPublic]
    marketplace_receivables: list[ReceivablePublic]


class FinancialsPublic(BaseModel):
    at: str
    since: str
    until: str
    basis: dict[str, str]
    now: FinancialsScope
    period: FinancialsScope


FINANCIAL_BASIS = {
    "captured": "now: taken by our gateway on every payment; period: on the orders whose last parcel "
    "shipped in it (a capture follows its shipment)",
    "refunded": "through our gateway: now, on every payment; period, returns refunded and goodwill refunded in it",
    "refunded_on_channel": "returns a marketplace refunded (period: asked for in it)",
    "authorized_open": "authorized, not yet captured or voided, on orders not completed or cancelled",
    "marketplace_receivables": "order totals a marketplace (bol, amazon) collected for orders we shipped, "
    "less what it refunded on them; no payout is recorded, so before its fees",
    "store_credit": "the ledger: issued, spent less given back, outstanding = issued + given back - spent - expired",
}


def _scope(figures: Financials, now: bool) -> FinancialsScope:
    return FinancialsScope(
        by_currency=[
            CurrencyFiguresPublic(
                currency=f.currency,
                captured=_money(f.captured_minor, f.currency),
                refunded=_money(f.refunded_minor, f.currency),
                refunded_on_channel=_money(f.refunded_on_channel_minor, f.currency),
                authorized_open=_money(f.authorized_open_minor, f.currency) if now else None,
                authorizations_open=f.authorizations_open if now else None,
                store_credit_issued=_money(f.store_credit_issued_minor, f.currency),
                store_credit_spent=_money(f.store_credit_spent_minor, f.currency),
                store_credit_outstanding=_money(f.store_credit_outstanding_minor, f.currency) if now else None,
            )
            for f in figures.by_currency
        ],
        marketplace_receivables=[
            ReceivablePublic(
                channel=r.channel,
                currency=r.currency,
                orders=r.orders,
                collected=_money(r.collected_minor, r.currency),
                refunded=_money(r.refunded_minor, r.currency),
                outstanding=_money(r.outstanding_minor, r.currency),
            )
            for r in figures.receivables
        ],
    )


@router.get("/financials", response_model=FinancialsPublic, responses=CSV_RESPONSE)
def financials(
    request: Request, _: Viewer, reports: ReportsDep, first: First = None, last: Last = None, format: Format = None
) -> Any:
    """Captured, refunded, open authorizations, marketplace receivables and store credit, per
    currency: now, and for whole UTC days from `first` to `last` (default: the last 30)."""
    report = reports.financials(first, last)
    if wants_csv(request, format):
        return csv_response(financials_table(report), f"financials-{report.since.date()}-{report.until.date()}.csv")
    return FinancialsPublic(
        at=report.at.isoformat(),
        since=report.since.isoformat(),
        until=report.until.isoformat(),
        basis=FINANCIAL_BASIS,
        now=_scope(report.now, True),
        period=_scope(report.period, False),
    )


class LocationValuePublic(BaseModel):
    location_id: str
    currency: str
    skus: int
    units: int
    value: Money


class ValueTotal(BaseModel):
    currency: str
    units: int
    value: Money


class UncostedPublic(BaseModel):
    location_id: str
    skus: int
    units: int


class UncostedSkuPublic(BaseModel):
    sku: str
    units: int
    locations: int


class StockValuePublic(BaseModel):
    location_id: str | None
    basis: str
    by_location: list[LocationValuePublic]
    totals: list[ValueTotal]
    no_cost_by_location: list[UncostedPublic]
    """Units of SKUs without a unit cost: counted here, never valued at zero."""
    no_cost_skus: list[UncostedSkuPublic]
    """The SKUs without a cost with the most units (the first 200)."""
    no_cost_sku_count: int


@router.get("/stock-value", response_model=StockValuePublic, responses=CSV_RESPONSE)
def stock_value(
    request: Request,
    _: Viewer,
    reports: ReportsDep,
    location: Annotated[str | None, Query(max_length=limits.LOCATION_ID)] = None,
    format: Format = None,
) -> Any:
    """Units on hand times the catalogue's unit cost, per location and currency."""
    rows = reports.stock_value(location or None)
    if wants_csv(request, format):
        return csv_response(stock_value_table(rows), f"stock-value-{location or 'all'}.csv")
    return StockValuePublic(
        location_id=location or None,
        basis="on hand (reserved included, held returns not) x the SKU's unit cost in the catalogue, now",
        by_location=[
            LocationValuePublic(
                location_id=r.location_id,
                currency=r.currency,
                skus=r.skus,
                units=r.units,
                value=_money(r.value_minor, r.currency),
            )
            for r in rows.valued
        ],
        totals=[
            ValueTotal(currency=c, units=units, value=_money(value, c))
            for c, (units, value) in sorted(stock_value_totals(rows).items())
        ],
        no_cost_by_location=[
            UncostedPublic(location_id=r.location_id, skus=r.skus, units=r.units) for r in rows.uncosted
        ],
        no_cost_skus=[UncostedSkuPublic(sku=r.sku, units=r.units, locations=r.locations) for r in rows.uncosted_skus],
        no_cost_sku_count=rows.uncosted_sku_count,
    )
