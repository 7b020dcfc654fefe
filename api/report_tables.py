"""The business reports as tables of text cells: what a CSV download carries and what the dashboard
shows, the same rows both ways. Money is a decimal string in its currency's minor-unit precision
("12.50") next to a currency column, never a float and never two currencies in one cell or sum.

A CSV carries a spreadsheet-safe cell (api.screens.charts.safe_cell) and a file name with the
window, so a download keeps saying what it covers.
"""

from __future__ import annotations

import csv
import io
import re

from fastapi.responses import Response

from api.screens.chart_parts import Table, decimal
from api.screens.charts import safe_cell
from persistence.read_model.financials import Financials
from persistence.read_model.stock_value import StockValueRows
from services.reports import FinancialReport, PerformanceReport

NO_COST = "no cost"


def rate(returned: int, sold: int) -> str:
    """Units returned per unit sold in the same row, four decimals ("0.2500"); blank when none sold."""
    return f"{returned / sold:.4f}" if sold else ""


def performance_table(report: PerformanceReport) -> Table:
    return Table(
        [
            "period",
            "period_start",
            "channel",
            "sku",
            "currency",
            "units_sold",
            "revenue",
            "units_returned",
            "refunded",
            "return_rate",
        ],
        [
            [
                report.label(r.period),
                r.period.isoformat(),
                r.channel,
                r.sku,
                r.currency,
                str(r.units_sold),
                decimal(r.revenue_minor, r.currency),
                str(r.units_returned),
                decimal(r.refunded_minor, r.currency),
                rate(r.units_returned, r.units_sold),
            ]
            for r in report.rows
        ],
    )


FIGURES = (
    ("captured", "captured_minor"),
    ("refunded", "refunded_minor"),
    ("refunded_on_channel", "refunded_on_channel_minor"),
    ("authorized_open", "authorized_open_minor"),
    ("store_credit_issued", "store_credit_issued_minor"),
    ("store_credit_spent", "store_credit_spent_minor"),
    ("store_credit_outstanding", "store_credit_outstanding_minor"),
)
"""(figure, field of persistence.read_model.financials.CurrencyFigures), in the order shown."""
NOW_ONLY = frozenset({"authorized_open", "store_credit_outstanding"})


def _financial_rows(scope: str, figures: Financials) -> list[list[str]]:
    rows: list[list[str]] = []
    for money in figures.by_currency:
        for name, field in FIGURES:
            if scope != "now" and name in NOW_ONLY:
                continue
            rows.append([scope, name, "", money.currency, decimal(getattr(money, field), money.currency)])
    for r in figures.receivables:
        rows += [
            [scope, "marketplace_collected", r.channel, r.currency, decimal(r.collected_minor, r.currency)],
            [scope, "marketplace_refunded", r.channel, r.currency, decimal(r.refunded_minor, r.currency)],
            [scope, "marketplace_receivable", r.channel, r.currency, decimal(r.outstanding_minor, r.currency)],
        ]
    return rows


def financials_table(report: FinancialReport) -> Table:
    """One figure per row (scope "now" or "period"), so every amount has its own currency cell."""
    return Table(
        ["scope", "figure", "channel", "currency", "amount"],
        _financial_rows("now", report.now) + _financial_rows("period", report.period),
    )


def stock_value_totals(rows: StockValueRows) -> dict[str, tuple[int, int]]:
    """Per currency: (units, value in minor units) over every location."""
    totals: dict[str, tuple[int, int]] = {}
    for r in rows.valued:
        units, value = totals.get(r.currency, (0, 0))
        totals[r.currency] = (units + r.units, value + r.value_minor)
    return totals


def stock_value_table(rows: StockValueRows) -> Table:
    """Per location and currency; "(all)" rows total each currency; units without a cost on rows of
    their own ("no cost": no currency, no value), never as a zero value."""
    body = [
        [r.location_id, r.currency, str(r.skus), str(r.units), decimal(r.value_minor, r.currency), ""]
        for r in rows.valued
    ]
    body += [
        ["(all)", currency, "", str(units), decimal(value, currency), ""]
        for currency, (units, value) in sorted(stock_value_totals(rows).items())
    ]
    body += [[r.location_id, "", str(r.skus), str(r.units), "", NO_COST] for r in rows.uncosted]
    return Table(["location", "currency", "skus", "units", "value", "note"], body)


_UNSAFE_IN_NAME = re.compile(r"[^A-Za-z0-9._-]")


def attachment(name: str) -> str:
    """A Content-Disposition for a download named `name`: only letters, digits, '.', '_' and '-'
    survive (a header is Latin-1, and a location id from the query may be anything)."""
    return f'attachment; filename="{_UNSAFE_IN_NAME.sub("_", name)}"'


def csv_response(table: Table, name: str) -> Response:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(table.headers)
    writer.writerows([safe_cell(cell) for cell in row] for row in table.rows)
    return Response(
        out.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": attachment(name),
            "Cache-Control": "no-store",
            "X-Content-Type-Options": "nosniff",
        },
    )
