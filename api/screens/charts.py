"""KPIs as server-rendered SVG charts, each with its numbers as a table and as CSV.

`GET /dashboard/kpis` draws every chart for a window of whole UTC days (default: the last 30) and
optionally one channel; `GET /dashboard/kpis/{chart}.csv` gives the same rows as a file. The figures
come from `Reports.charts` (SQL over the read model, per UTC day); this module only shapes them:
zero-filled days, one currency per money chart (the tables and CSV carry every currency, each row
one currency, never a sum of two), money as decimal strings with its currency.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query, Request, status
from fastapi.responses import HTMLResponse, Response

from api.deps import ReportsDep
from api.screens.after_sales_charts import AFTER_SALES_KEYS, after_sales_charts, after_sales_totals
from api.screens.chart_parts import Chart, Table, decimal, major, per, percent
from api.screens.pages import SignedIn, page, screen
from api.screens.svg import Series, bar_chart, line_chart, plain
from domain.limits import CHANNEL
from domain.staff import Permission
from persistence.read_model.kpi_series import RateDay
from services.errors import Unprocessable
from services.reports import KpiCharts

router = APIRouter(prefix="/dashboard/kpis", include_in_schema=False, default_response_class=HTMLResponse)

Viewer = Annotated[SignedIn, Depends(screen(Permission.KPIS))]
_NUMBER = re.compile(r"-?\d+(\.\d+)?")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _hours(seconds: float) -> float:
    return seconds / 3600


def _hours_label(value: float) -> str:
    return f"{value:,.1f} h" if not float(value).is_integer() else f"{value:,.0f} h"


def _percent_label(value: float) -> str:
    return f"{value:,.0f}%" if float(value).is_integer() else f"{value:,.1f}%"


def currencies_of(data: KpiCharts) -> list[str]:
    """The currencies orders came in, the most orders first."""
    counts: dict[str, int] = {}
    for row in data.series.orders:
        counts[row.currency] = counts.get(row.currency, 0) + row.orders
    return sorted(counts, key=lambda c: (-counts[c], c))


def totals(data: KpiCharts) -> list[tuple[str, str]]:
    """The window's totals, from the charts' own series: (figure, what it counts)."""
    s = data.series
    cards = [
        (f"{sum(r.orders for r in s.orders):,}", "orders received"),
        (f"{sum(r.shipped for r in s.processing):,}", "of them shipped"),
    ]
    revenue: dict[str, int] = {}
    for row in s.orders:
        revenue[row.currency] = revenue.get(row.currency, 0) + row.revenue_minor
    cards += [(f"{decimal(v, c)} {c}", "revenue") for c, v in sorted(revenue.items())]
    cost: dict[str, int] = {}
    for cost_row in s.cost_per_day:
        cost[cost_row.currency] = cost.get(cost_row.currency, 0) + cost_row.cost_minor
    cards += [(f"{decimal(v, c)} {c}", "fulfilment cost") for c, v in sorted(cost.items())]
    cards.append((f"{sum(r.hits for r in s.return_rate):,}", "shipped orders with a return"))
    cards.append((f"{sum(r.hits for r in s.backorder_rate):,}", "orders backordered"))
    cards.append((f"{sum(r.raised for r in s.late_per_location):,}", "late steps"))
    return cards


def build_charts(data: KpiCharts, currency: str) -> list[Chart]:
    """Every chart, its money drawn in `currency` (the tables keep every currency)."""
    s, days = data.series, data.days

    def by_day(points: dict[str, float], gaps: bool = False) -> list[float | None]:
        return [points.get(day, None if gaps else 0.0) for day in days]

    def rate_chart(
        key: str, title: str, note: str, rows: list[RateDay], *, series: str, out_of: str, hits: str
    ) -> Chart:
        """A daily share (returns, backorders): one line, no point on a day without orders, and its
        table of what the share is of (`out_of`) and how many it counts (`hits`)."""
        return Chart(
            key,
            title,
            note,
            line_chart(
                key,
                f"{title} (%)",
                days,
                [Series(series, by_day({r.day: 100 * r.hits / r.orders for r in rows}, gaps=True))],
                _percent_label,
            ),
            Table(
                ["day", out_of, hits, "rate %"],
                [[r.day, str(r.orders), str(r.hits), percent(r.hits, r.orders)] for r in rows],
            ),
        )

    charts: list[Chart] = []

    channels = sorted({row.channel for row in s.orders})
    counts: dict[str, dict[str, float]] = {ch: {} for ch in channels}
    revenue: dict[str, dict[str, float]] = {ch: {} for ch in channels}
    for row in s.orders:
        counts[row.channel][row.day] = counts[row.channel].get(row.day, 0) + row.orders
        if row.currency == currency:
            revenue[row.channel][row.day] = major(row.revenue_minor, currency)
    count_rows: dict[tuple[str, str], int] = {}
    for row in s.orders:
        count_rows[(row.day, row.channel)] = count_rows.get((row.day, row.channel), 0) + row.orders
    charts.append(
        Chart(
            "orders",
            "Orders per channel per day",
            "Orders received each day (UTC), per channel, whatever became of them.",
            line_chart("orders", "Orders per channel per day", days, [Series(c, by_day(counts[c])) for c in channels]),
            Table(["day", "channel", "orders"], [[d, c, str(n)] for (d, c), n in sorted(count_rows.items())]),
        )
    )
    title = f"Revenue per channel per day ({currency})"
    charts.append(
        Chart(
            "revenue",
            title,
            "Order totals (lines and shipping, less discounts) of the orders received each day that were not "
            "cancelled. Drawn in one currency; the numbers list every currency.",
            line_chart("revenue", title, days, [Series(c, by_day(revenue[c])) for c in channels]),
            Table(
                ["day", "channel", "currency", "orders", "revenue"],
                [[r.day, r.channel, r.currency, str(r.orders), decimal(r.revenue_minor, r.currency)] for r in s.orders],
            ),
        )
    )
    p50 = {r.day: _hours(r.p50_seconds) for r in s.processing}
    p90 = {r.day: _hours(r.p90_seconds) for r in s.processing}
    charts.append(
        Chart(
            "processing",
            "Processing time, placed → shipped",
            "From the moment the customer placed the order to the moment its last parcel shipped, for the "
            "orders received each day that shipped: median (p50) and p90, in hours.",
            line_chart(
                "processing",
                "Processing time, placed → shipped (hours)",
                days,
                [Series("p50", by_day(p50, gaps=True)), Series("p90", by_day(p90, gaps=True))],
                _hours_label,
            ),
            Table(
                ["day", "shipped orders", "p50 seconds", "p90 seconds"],
                [[r.day, str(r.shipped), f"{r.p50_seconds:.0f}", f"{r.p90_seconds:.0f}"] for r in s.processing],
            ),
        )
    )
    per_order = {r.day: major(per(r.cost_minor, r.orders), currency) for r in s.cost_per_day if r.currency == currency}
    title = f"Fulfilment cost per order ({currency})"
    charts.append(
        Chart(
            "cost-per-order",
            title,
            "Expected cost of the parcels (the locations' cost profiles) of the orders received each day, "
            "divided by those orders (rounded to the minor unit). Cancelled parcels do not count.",
            line_chart("cost-per-order", title, days, [Series(currency, by_day(per_order, gaps=True))], plain),
            Table(
                ["day", "currency", "orders", "cost", "cost per order"],
                [
                    [
                        r.day,
                        r.currency,
                        str(r.orders),
                        decimal(r.cost_minor, r.currency),
                        decimal(per(r.cost_minor, r.orders), r.currency),
                    ]
                    for r in s.cost_per_day
                ],
            ),
        )
    )
    located = [r for r in s.cost_per_location if r.currency == currency]
    title = f"Fulfilment cost per order by location ({currency})"
    charts.append(
        Chart(
            "cost-per-location",
            title,
            "Per shipping location: its parcels' expected cost divided by the orders it sent parcels for.",
            bar_chart(
                "cost-per-location",
                title,
                [r.location_id for r in located],
                [major(per(r.cost_minor, r.orders), currency) for r in located],
            ),
            Table(
                ["location", "currency", "shipments", "orders", "cost", "cost per order"],
                [
                    [
                        r.location_id,
                        r.currency,
                        str(r.shipments),
                        str(r.orders),
                        decimal(r.cost_minor, r.currency),
                        decimal(per(r.cost_minor, r.orders), r.currency),
                    ]
                    for r in s.cost_per_location
                ],
            ),
        )
    )
    charts.append(
        rate_chart(
            "return-rate",
            "Return rate",
            "Of the orders received each day that shipped, the share with a return so far (recent days "
            "rise as their returns come in).",
            s.return_rate,
            series="returned",
            out_of="shipped orders",
            hits="with a return",
        )
    )
    charts.append(
        Chart(
            "return-reasons",
            "Top return reasons",
            "Returns accepted in the window by the reason given (the ten most frequent).",
            bar_chart(
                "return-reasons",
                "Top return reasons",
                [r.reason for r in s.return_reasons],
                [float(r.returns) for r in s.return_reasons],
            ),
            Table(["reason", "returns"], [[r.reason, str(r.returns)] for r in s.return_reasons]),
        )
    )
    charts.append(
        rate_chart(
            "backorder-rate",
            "Backorder rate",
            "Of the orders received each day, the share that waited for stock (backordered) at some point.",
            s.backorder_rate,
            series="backordered",
            out_of="orders",
            hits="backordered",
        )
    )
    steps = sorted({r.step for r in s.late_per_day})
    late: dict[str, dict[str, float]] = {step: {} for step in steps}
    for r in s.late_per_day:
        late[r.step][r.day] = r.raised
    charts.append(
        Chart(
            "late-steps",
            "Late steps per day",
            "Shipment steps (pick, pack, ship, …) that went past their deadline, per day raised and step.",
            line_chart("late-steps", "Late steps per day", days, [Series(st, by_day(late[st])) for st in steps]),
            Table(["day", "step", "late steps"], [[r.day, r.step, str(r.raised)] for r in s.late_per_day]),
        )
    )
    charts.append(
        Chart(
            "late-by-location",
            "Late steps per location",
            "Late steps raised in the window per location, and how many of them are still open.",
            bar_chart(
                "late-by-location",
                "Late steps per location",
                [r.location_id for r in s.late_per_location],
                [float(r.raised) for r in s.late_per_location],
            ),
            Table(
                ["location", "late steps", "still open"],
                [[r.location_id, str(r.raised), str(r.still_open)] for r in s.late_per_location],
            ),
        )
    )
    return charts + after_sales_charts(data, currency)


CHART_KEYS = (
    "orders",
    "revenue",
    "processing",
    "cost-per-order",
    "cost-per-location",
    "return-rate",
    "return-reasons",
    "backorder-rate",
    "late-steps",
    "late-by-location",
    *AFTER_SALES_KEYS,
)


def safe_cell(cell: str) -> str:
    """A text cell a spreadsheet would run as a formula (=, +, -, @, tab, CR first) gets a leading
    apostrophe; numbers (a negative amount too) stay numbers."""
    if cell.startswith(_FORMULA_START) and not _NUMBER.fullmatch(cell):
        return "'" + cell
    return cell


def to_csv(table: Table) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(table.headers)
    writer.writerows([safe_cell(cell) for cell in row] for row in table.rows)
    return out.getvalue()


@dataclass(frozen=True)
class Filters:
    first: date | None
    last: date | None
    channel: str | None
    currency: str | None
    errors: dict[str, str]
    typed: dict[str, str]


def _day(text: str, field: str, errors: dict[str, str]) -> date | None:
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        errors[field] = "a day as YYYY-MM-DD"
        return None


def read_filters(
    first: Annotated[str, Query(max_length=10)] = "",
    last: Annotated[str, Query(max_length=10)] = "",
    channel: Annotated[str, Query(max_length=CHANNEL)] = "",
    currency: Annotated[str, Query(max_length=3)] = "",
) -> Filters:
    errors: dict[str, str] = {}
    typed = {"first": first, "last": last, "channel": channel, "currency": currency}
    return Filters(
        _day(first.strip(), "first", errors),
        _day(last.strip(), "last", errors),
        channel.strip() or None,
        currency.strip().upper() or None,
        errors,
        typed,
    )


FiltersDep = Annotated[Filters, Depends(read_filters)]


def _load(reports: ReportsDep, filters: Filters) -> KpiCharts:
    return reports.charts(filters.first, filters.last, filters.channel)


def _choose(data: KpiCharts, wanted: str | None) -> tuple[list[str], str]:
    currencies = currencies_of(data)
    if wanted and wanted in currencies:
        return currencies, wanted
    return currencies, currencies[0] if currencies else "EUR"


@router.get("")
def kpi_page(request: Request, user: Viewer, reports: ReportsDep, filters: FiltersDep) -> Response:
    errors = dict(filters.errors)
    data: KpiCharts | None = None
    if not errors:
        try:
            data = _load(reports, filters)
        except Unprocessable as problem:
            errors["first"] = str(problem)
    if data is None:
        data = reports.charts(None, None, filters.channel)
    currencies, currency = _choose(data, filters.currency)
    query = request.url.query
    return page(
        request,
        "charts/kpis.html",
        user,
        code=status.HTTP_422_UNPROCESSABLE_ENTITY if errors else 200,
        data=data,
        charts=build_charts(data, currency),
        totals=totals(data),
        after_sales_totals=after_sales_totals(data),
        currencies=currencies,
        currency=currency,
        errors=errors,
        typed=filters.typed,
        query=f"?{query}" if query else "",
        last_day=data.days[-1],
    )


def _csv_route(key: str) -> Callable[..., Response]:
    def download(user: Viewer, reports: ReportsDep, filters: FiltersDep) -> Response:
        if filters.errors:
            raise HTTPException(
                status.HTTP_422_UNPROCESSABLE_ENTITY, "; ".join(f"{k}: {v}" for k, v in filters.errors.items())
            )
        try:
            data = _load(reports, filters)
        except Unprocessable as problem:
            raise HTTPException(status.HTTP_422_UNPROCESSABLE_ENTITY, str(problem)) from None
        _, currency = _choose(data, filters.currency)
        chart = next(c for c in build_charts(data, currency) if c.key == key)
        name = f"kpi-{key}-{data.days[0]}-{data.days[-1]}.csv"
        return Response(
            to_csv(chart.table),
            media_type="text/csv; charset=utf-8",
            headers={
                "Content-Disposition": f'attachment; filename="{name}"',
                "Cache-Control": "no-store",
                "X-Content-Type-Options": "nosniff",
            },
        )

    download.__name__ = f"kpi_csv_{key.replace('-', '_')}"
    return download


for _key in CHART_KEYS:
    router.add_api_route(f"/{_key}.csv", _csv_route(_key), methods=["GET"], response_class=Response)
