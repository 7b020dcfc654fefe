"""The KPI page's after-sales section: return rate and reasons per SKU and per channel, refunds and
store credit per channel, defects per SKU, each a bar chart with its table (and CSV, as every chart).

The figures come with the page's other series (persistence.read_model.after_sales, .defects); this
module only shapes them. Money bars are drawn in the chosen currency; the tables list every currency,
one per row, never a sum of two.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from api.screens.chart_parts import Chart, Table, decimal, major, percent
from api.screens.svg import bar_chart
from domain.money import Money
from persistence.read_model.after_sales import AfterSalesRows, ChannelReturns, SkuReturns
from services.reports import KpiCharts

AFTER_SALES_KEYS = ("returns-by-sku", "returns-by-channel", "refunds-by-channel", "store-credit-by-channel", "defects")
NO_ORDER = "(no order)"
"""Credit given by hand without an order has no channel."""


def _reasons(reasons: Mapping[str, int]) -> str:
    return "; ".join(f"{reason} ({n})" for reason, n in reasons.items())


def _percent_label(value: float) -> str:
    return f"{value:,.0f}%" if float(value).is_integer() else f"{value:,.1f}%"


@dataclass(frozen=True)
class AfterSalesSummary:
    """The after-sales figures in a line (the overview) or a row of cards (the KPI page)."""

    units_shipped: int
    units_returned: int
    exchanges: int
    refunded: list[Money]
    """Refunds of every kind, per currency."""
    credit_issued: list[Money]

    @property
    def percent_returned(self) -> str:
        return percent(self.units_returned, self.units_shipped)


def summary(rows: AfterSalesRows) -> AfterSalesSummary:
    refunded: dict[str, int] = {}
    for refund in rows.refunds_by_channel:
        refunded[refund.currency] = refunded.get(refund.currency, 0) + refund.total_minor
    credit: dict[str, int] = {}
    for entry in rows.credit_issued:
        credit[entry.currency] = credit.get(entry.currency, 0) + entry.amount_minor
    return AfterSalesSummary(
        units_shipped=sum(r.units_shipped for r in rows.returns_by_channel),
        units_returned=sum(r.units_returned for r in rows.returns_by_channel),
        exchanges=rows.exchanges,
        refunded=[Money(v, c) for c, v in sorted(refunded.items())],
        credit_issued=[Money(v, c) for c, v in sorted(credit.items())],
    )


def after_sales_totals(data: KpiCharts) -> list[tuple[str, str]]:
    """The after-sales cards: units back of units shipped, exchanges, refunds and credit per currency."""
    s = summary(data.series.after_sales)
    cards = [
        (f"{s.percent_returned}%", f"of units shipped came back ({s.units_returned:,} of {s.units_shipped:,})"),
        (f"{s.exchanges:,}", "exchanges asked for"),
    ]
    cards += [(f"{decimal(m.amount_minor, m.currency)} {m.currency}", "refunded") for m in s.refunded]
    cards += [(f"{decimal(m.amount_minor, m.currency)} {m.currency}", "store credit issued") for m in s.credit_issued]
    return cards


def _return_rates(
    key: str, per: str, text: str, column: str, rows: Sequence[tuple[str, SkuReturns | ChannelReturns]]
) -> Chart:
    """A return-rate chart and its table: per SKU and per channel they differ only in what a row is."""
    return Chart(
        key,
        f"Return rate per {per}",
        text,
        bar_chart(
            key,
            f"Return rate per {per} (%)",
            [label for label, _ in rows],
            [100 * (r.rate or 0.0) for _, r in rows],
            _percent_label,
        ),
        Table(
            [column, "units shipped", "units returned", "rate %", "returns", "top reasons"],
            [
                [
                    label,
                    str(r.units_shipped),
                    str(r.units_returned),
                    percent(r.units_returned, r.units_shipped),
                    str(r.returns),
                    _reasons(r.reasons),
                ]
                for label, r in rows
            ],
        ),
        "after-sales",
    )


def after_sales_charts(data: KpiCharts, currency: str) -> list[Chart]:
    a = data.series.after_sales
    charts = [
        _return_rates(
            "returns-by-sku",
            "SKU",
            "Of the orders received in the window that shipped: the units of each SKU sent back so far (a "
            "parcel's shortfall not counted) against the units shipped, for the ten SKUs most returned, and "
            "the reasons given (units per reason, the top three).",
            "sku",
            [(r.sku, r) for r in a.returns_by_sku],
        ),
        _return_rates(
            "returns-by-channel",
            "channel",
            "The same, per channel: units sent back of the units its orders in the window shipped.",
            "channel",
            [(r.channel, r) for r in a.returns_by_channel],
        ),
    ]
    drawn = [r for r in a.refunds_by_channel if r.currency == currency]
    title = f"Refunds per channel ({currency})"
    charts.append(
        Chart(
            "refunds-by-channel",
            title,
            "Refunds made in the window, whenever the order came: for returns through our payment gateway, "
            "for returns by the channel that took the money, and goodwill. Drawn in one currency; the numbers "
            "list every currency.",
            bar_chart(
                "refunds-by-channel", title, [r.channel for r in drawn], [major(r.total_minor, currency) for r in drawn]
            ),
            Table(
                ["channel", "currency", "gateway", "on the channel", "goodwill", "total"],
                [
                    [
                        r.channel,
                        r.currency,
                        decimal(r.gateway_minor, r.currency),
                        decimal(r.on_channel_minor, r.currency),
                        decimal(r.goodwill_minor, r.currency),
                        decimal(r.total_minor, r.currency),
                    ]
                    for r in a.refunds_by_channel
                ],
            ),
            "after-sales",
        )
    )
    credit: dict[str, int] = {}
    for entry in a.credit_issued:
        if entry.currency == currency:
            label = entry.channel or NO_ORDER
            credit[label] = credit.get(label, 0) + entry.amount_minor
    title = f"Store credit issued per channel ({currency})"
    charts.append(
        Chart(
            "store-credit-by-channel",
            title,
            "Credit issued in the window, per channel of the order it was for (by hand without an order: "
            f"{NO_ORDER}), and why: a return, an exchange's difference, goodwill, a refund, an adjustment.",
            bar_chart("store-credit-by-channel", title, list(credit), [major(v, currency) for v in credit.values()]),
            Table(
                ["channel", "currency", "reason", "entries", "issued"],
                [
                    [e.channel or NO_ORDER, e.currency, e.reason, str(e.entries), decimal(e.amount_minor, e.currency)]
                    for e in a.credit_issued
                ],
            ),
            "after-sales",
        )
    )
    defects = data.series.defects
    charts.append(
        Chart(
            "defects",
            "Defects per SKU",
            "Units written off in the window (scrapped at the returns desk, or after refurbishing failed), the "
            "ten SKUs most written off, with their reasons.",
            bar_chart(
                "defects", "Defects per SKU (units)", [d.sku for d in defects], [float(d.units) for d in defects]
            ),
            Table(
                ["sku", "units written off", "reasons"],
                [[d.sku, str(d.units), _reasons(d.reasons)] for d in defects],
            ),
            "after-sales",
        )
    )
    return charts
