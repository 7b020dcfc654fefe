"""The business reports as a dashboard page, server-rendered like the KPI charts (api.screens.charts):
product and channel performance per week or month with its charts, the money figures now and for
the window, the stock value per location; each table also as a CSV file
(`/dashboard/reports/{performance,financials,stock-value}.csv`, the same rows as the API's CSV).
Charts draw one currency at a time (chosen on the page); the tables keep every currency."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query, Request, status
from fastapi.responses import HTMLResponse, Response

from api.deps import ReportsDep
from api.report_tables import (
    csv_response,
    financials_table,
    performance_table,
    stock_value_table,
    stock_value_totals,
)
from api.screens.chart_parts import Chart, decimal, major
from api.screens.pages import SignedIn, page, screen
from api.screens.svg import Series, bar_chart, line_chart
from domain import limits
from domain.report_periods import Granularity
from domain.staff import Permission
from services.errors import Unprocessable
from services.reports import MOST_TOP, FinancialReport, PerformanceReport

router = APIRouter(prefix="/dashboard/reports", include_in_schema=False, default_response_class=HTMLResponse)

Viewer = Annotated[SignedIn, Depends(screen(Permission.KPIS))]
TOP_DRAWN = 10
"""SKUs drawn in the top-SKU chart (the table lists every row)."""
DEFAULT_TOP = 20
"""The page opens on the 20 best-selling SKUs (every SKU when the field is emptied)."""
SHOWN_ROWS = 1000
"""Rows of the performance table drawn on the page; its CSV has them all."""


@dataclass(frozen=True)
class Filters:
    first: date | None
    last: date | None
    granularity: Granularity
    channel: str | None
    sku: str | None
    top: int | None
    currency: str | None
    errors: dict[str, str]
    typed: dict[str, str]


def _day(text: str, field: str, errors: dict[str, str]) -> date | None:
    if not text.strip():
        return None
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        errors[field] = "a day as YYYY-MM-DD"
        return None


def read_filters(
    first: Annotated[str, Query(max_length=10)] = "",
    last: Annotated[str, Query(max_length=10)] = "",
    granularity: Annotated[str, Query(max_length=5)] = "week",
    channel: Annotated[str, Query(max_length=limits.CHANNEL)] = "",
    sku: Annotated[str, Query(max_length=limits.SKU)] = "",
    top: Annotated[str | None, Query(max_length=4)] = None,
    currency: Annotated[str, Query(max_length=3)] = "",
) -> Filters:
    errors: dict[str, str] = {}
    top = str(DEFAULT_TOP) if top is None else top  # left empty on purpose: every SKU
    typed = {
        "first": first,
        "last": last,
        "granularity": granularity,
        "channel": channel,
        "sku": sku,
        "top": top,
        "currency": currency,
    }
    try:
        cut = Granularity(granularity.strip() or "week")
    except ValueError:
        errors["granularity"] = "week or month"
        cut = Granularity.WEEK
    most: int | None = None
    if top.strip():
        if top.strip().isdigit() and 1 <= int(top) <= MOST_TOP:
            most = int(top)
        else:
            errors["top"] = f"a number from 1 to {MOST_TOP}"
    return Filters(
        _day(first, "first", errors),
        _day(last, "last", errors),
        cut,
        channel.strip() or None,
        sku.strip() or None,
        most,
        currency.strip().upper() or None,
        errors,
        typed,
    )


FiltersDep = Annotated[Filters, Depends(read_filters)]


def currencies_of(report: PerformanceReport, money: FinancialReport) -> list[str]:
    """The currencies in the window's sales and money, the most revenue first."""
    revenue: dict[str, int] = {}
    for row in report.rows:
        revenue[row.currency] = revenue.get(row.currency, 0) + row.revenue_minor
    for figures in money.now.by_currency:
        revenue.setdefault(figures.currency, 0)
    return sorted(revenue, key=lambda c: (-revenue[c], c))


def performance_charts(report: PerformanceReport, currency: str) -> list[Chart]:
    labels = [label for _, label in report.periods]
    index = {start: n for n, (start, _) in enumerate(report.periods)}
    channels = sorted({r.channel for r in report.rows if r.currency == currency})
    revenue = {ch: [0.0] * len(labels) for ch in channels}
    by_sku: dict[str, int] = {}
    for r in report.rows:
        if r.currency != currency:
            continue
        if r.period in index:
            revenue[r.channel][index[r.period]] += major(r.revenue_minor, currency)
        by_sku[r.sku] = by_sku.get(r.sku, 0) + r.revenue_minor
    top = sorted(by_sku, key=lambda sku: (-by_sku[sku], sku))[:TOP_DRAWN]
    table = performance_table(report)
    title = f"Revenue per channel per {report.granularity.value} ({currency})"
    top_title = f"Top SKUs by revenue ({currency})"
    return [
        Chart(
            "performance",
            title,
            "Order lines (VAT included, before order discounts, without shipping) counted when the order's "
            "last parcel shipped; cancelled orders never. The table has every currency, returns and refunds.",
            line_chart("performance", title, labels, [Series(ch, revenue[ch]) for ch in channels]),
            table,
        ),
        Chart(
            "top-skus",
            top_title,
            f"The {TOP_DRAWN} SKUs with the most revenue in {currency} over the window, every channel.",
            bar_chart("top-skus", top_title, top, [major(by_sku[sku], currency) for sku in top]),
            table,
        ),
    ]


def money_cards(money: FinancialReport) -> list[tuple[str, str]]:
    cards: list[tuple[str, str]] = []
    for f in money.now.by_currency:
        c = f.currency
        cards += [
            (f"{decimal(f.captured_minor, c)} {c}", "captured"),
            (f"{decimal(f.refunded_minor, c)} {c}", "refunded through us"),
            (f"{decimal(f.authorized_open_minor, c)} {c}", f"held on cards ({f.authorizations_open} open orders)"),
            (f"{decimal(f.store_credit_outstanding_minor, c)} {c}", "store credit outstanding"),
        ]
    cards += [
        (f"{decimal(r.outstanding_minor, r.currency)} {r.currency}", f"owed by {r.channel}")
        for r in money.now.receivables
    ]
    return cards


def _load(reports: ReportsDep, filters: Filters) -> tuple[PerformanceReport, FinancialReport]:
    performance = reports.performance(
        filters.first, filters.last, filters.granularity, channel=filters.channel, sku=filters.sku, top=filters.top
    )
    return performance, reports.financials(filters.first, filters.last)


@router.get("")
def reports_page(request: Request, user: Viewer, reports: ReportsDep, filters: FiltersDep) -> Response:
    errors = dict(filters.errors)
    loaded = None
    if not errors:
        try:
            loaded = _load(reports, filters)
        except Unprocessable as problem:
            errors["first"] = str(problem)
    if loaded is None:
        loaded = (reports.performance(None, None, filters.granularity), reports.financials(None, None))
    performance, money = loaded
    currencies = currencies_of(performance, money) or ["EUR"]
    currency = filters.currency if filters.currency in currencies else currencies[0]
    stock = reports.stock_value()
    totals = stock_value_totals(stock)
    value_chart = bar_chart(
        "stock-value",
        f"Stock value per location ({currency})",
        [r.location_id for r in stock.valued if r.currency == currency],
        [major(r.value_minor, currency) for r in stock.valued if r.currency == currency],
    )
    query = request.url.query
    return page(
        request,
        "charts/reports.html",
        user,
        code=status.HTTP_422_UNPROCESSABLE_CONTENT if errors else 200,
        performance=performance,
        charts=performance_charts(performance, currency),
        money=money,
        money_cards=money_cards(money),
        money_table=financials_table(money),
        stock=stock,
        stock_totals=[(f"{decimal(v, c)} {c}", f"{u:,} units valued") for c, (u, v) in sorted(totals.items())],
        stock_table=stock_value_table(stock),
        value_chart=value_chart,
        currencies=currencies,
        currency=currency,
        errors=errors,
        typed=filters.typed,
        granularities=[g.value for g in Granularity],
        shown_rows=SHOWN_ROWS,
        query=f"?{query}" if query else "",
    )


def _refuse(filters: Filters) -> None:
    if filters.errors:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT, "; ".join(f"{k}: {v}" for k, v in filters.errors.items())
        )


def _csv(name: str) -> Callable[..., Response]:
    def download(user: Viewer, reports: ReportsDep, filters: FiltersDep) -> Response:
        _refuse(filters)
        if name == "stock-value":
            return csv_response(stock_value_table(reports.stock_value()), "stock-value-all.csv")
        try:
            if name == "financials":
                money = reports.financials(filters.first, filters.last)
                window = f"{money.since.date()}-{money.until.date()}"
                return csv_response(financials_table(money), f"financials-{window}.csv")
            performance = reports.performance(
                filters.first,
                filters.last,
                filters.granularity,
                channel=filters.channel,
                sku=filters.sku,
                top=filters.top,
            )
        except Unprocessable as problem:
            raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(problem)) from None
        window = f"{performance.since.date()}-{performance.until.date()}"
        return csv_response(performance_table(performance), f"performance-{performance.granularity.value}-{window}.csv")

    download.__name__ = f"report_csv_{name.replace('-', '_')}"
    return download


for _name in ("performance", "financials", "stock-value"):
    router.add_api_route(f"/{_name}.csv", _csv(_name), methods=["GET"], response_class=Response)
