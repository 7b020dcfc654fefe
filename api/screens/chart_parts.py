"""What every KPI chart is made of (a chart, its table) and how its money and shares are written:
shared by the charts page's sections (api.screens.charts, api.screens.after_sales_charts)."""

from __future__ import annotations

from dataclasses import dataclass

from markupsafe import Markup

from domain.money import Money, MoneyError


@dataclass(frozen=True)
class Table:
    headers: list[str]
    rows: list[list[str]]


@dataclass(frozen=True)
class Chart:
    key: str
    """Its CSV's name: /dashboard/kpis/{key}.csv."""
    title: str
    note: str
    svg: Markup
    table: Table
    section: str = "orders"
    """Where on the page: "orders" (the window's orders) or "after-sales"."""


def decimal(amount_minor: int, currency: str) -> str:
    """Minor units as the decimal amount people read ("12.50" for 1250 EUR), without the code."""
    try:
        return Money(amount_minor, currency).format().rsplit(" ", 1)[0]
    except MoneyError:  # a currency the table does not know: its minor units, unscaled
        return str(amount_minor)


def major(amount_minor: int, currency: str) -> float:
    """For drawing only (a chart's y position): the amount in major units."""
    return float(decimal(amount_minor, currency))


def per(total_minor: int, count: int) -> int:
    """An average in whole minor units, half rounded up (money stays integer)."""
    return (2 * total_minor + count) // (2 * count) if count else 0


def percent(part: int, whole: int) -> str:
    return f"{100 * part / whole:.1f}" if whole else "0.0"
