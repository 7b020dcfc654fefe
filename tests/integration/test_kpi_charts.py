"""The KPI charts over a small hand-built read model, on SQLite and PostgreSQL: the SQL series
(exact counts, sums in minor units per currency, nearest-rank percentiles, UTC days), the date and
channel filters, the CSV files (money as decimals with their currency, formula cells defused), the
page with every chart, and a 403 for a role without the KPI permission.

The support user of the 403 test is put in place by overriding the `signed_in` dependency (what
`screen(...)` asks; `current_session` is a plain function it calls, so it cannot be overridden)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from markupsafe import escape

from api.screens.charts import CHART_KEYS, safe_cell
from domain.staff import Role, StaffMember
from persistence.models import Escalation, Location, OrderEvent, OrderRecord, ReturnRecord, ShipmentRecord
from persistence.read_model import kpi_series as ks
from tests.integration.screens import app_for, as_member, signed_in_browser

TOKEN = "kpi-token"
FIRST = datetime(2026, 3, 1, tzinfo=UTC)
SINCE, UNTIL = FIRST, FIRST + timedelta(days=2)  # 2026-03-01 and 2026-03-02
INJECTION = '=HYPERLINK("http://evil.example","click")'


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 3, day, hour, minute, tzinfo=UTC) if day > 0 else datetime(2026, 2, 28, 23, 59, tzinfo=UTC)


def _order(order_id, channel, currency, total, status, placed, received, shipped=None):
    return OrderRecord(
        order_id=order_id,
        channel=channel,
        external_id=order_id,
        status=status,
        currency=currency,
        total_minor=total,
        placed_at=placed,
        received_at=received,
        shipped_at=shipped,
        updated_at=received,
    )


def _shipment(shipment_id, order_id, location, cost, status="SHIPPED"):
    return ShipmentRecord(
        shipment_id=shipment_id, order_id=order_id, location_id=location, status=status, fulfilment_cost_minor=cost
    )


def _return(return_id, order_id, reason, created, currency="EUR"):
    return ReturnRecord(
        return_id=return_id,
        order_id=order_id,
        status="ACCEPTED",
        lines={"A": 1},
        reason=reason,
        currency=currency,
        created_at=created,
    )


def _late(order_id, location, step, raised, resolved=None):
    return Escalation(
        order_id=order_id,
        shipment_id=f"s-{order_id}",
        location_id=location,
        step=step,
        due_at=raised,
        raised_at=raised,
        resolved_at=resolved,
    )


@pytest.fixture
def seeded(database):
    """Four orders on 1 March (one cancelled, one in GBP received 23:30 and shipped after midnight),
    two on 2 March (both backordered once), one just before and one just after the window."""
    with database.session() as session:
        session.add_all([Location(location_id=loc, name=loc, kind="warehouse", country="NL") for loc in ("AMS", "RTM")])
        session.add_all(
            [
                _order("o0", "shopify", "EUR", 5000, "SHIPPED", at(0, 0), at(0, 0), at(1, 8)),
                _order("o1", "shopify", "EUR", 1000, "SHIPPED", at(1, 9), at(1, 9, 5), at(1, 10)),
                _order("o2", "shopify", "EUR", 2000, "SHIPPED", at(1, 8), at(1, 8), at(1, 11)),
                _order("o3", "bol", "EUR", 500, "CANCELLED", at(1, 12), at(1, 12)),
                _order("o4", "bol", "GBP", 700, "SHIPPED", at(1, 23), at(1, 23, 30), at(2, 1)),
                _order("o5", "shopify", "EUR", 1500, "SHIPPED", at(2, 0, 30), at(2, 0, 30), at(2, 2, 30)),
                _order("o6", "shopify", "EUR", 100, "BACKORDERED", at(2, 10), at(2, 10)),
                _order("o7", "shopify", "EUR", 999, "RECEIVED", at(3, 0), at(3, 0)),
            ]
        )
        session.flush()
        session.add_all(
            [
                _shipment("s-o0", "o0", "AMS", 9999),
                _shipment("s-o1", "o1", "AMS", 450),
                _shipment("s-o2a", "o2", "AMS", 450),
                _shipment("s-o2b", "o2", "RTM", 300),
                _shipment("s-o3", "o3", "AMS", 999, status="CANCELLED"),
                _shipment("s-o4", "o4", "AMS", 500),
                _shipment("s-o5", "o5", "RTM", 200),
                _return("r1", "o1", "Too small", at(2, 9)),
                _return("r1b", "o1", "  Too small ", at(2, 10)),
                _return("r2", "o2", INJECTION, at(2, 11)),
                _return("r7", "o7", "Damaged", at(3, 9)),
                _return("r0", "o0", "Damaged", at(0, 0)),
                OrderEvent(order_id="o5", kind=ks.BACKORDERED_EVENT, detail="no stock", at=at(2, 0, 31)),
                OrderEvent(order_id="o5", kind="status:RESERVED", detail="", at=at(2, 1)),
                OrderEvent(order_id="o6", kind=ks.BACKORDERED_EVENT, detail="no stock", at=at(2, 10, 1)),
                OrderEvent(order_id="o6", kind=ks.BACKORDERED_EVENT, detail="again", at=at(2, 11)),
                OrderEvent(order_id="o1", kind="status:RESERVED", detail="", at=at(1, 9, 6)),
                _late("o1", "AMS", "pick", at(1, 10), resolved=at(1, 11)),
                _late("o2", "AMS", "pack", at(2, 9)),
                _late("o5", "RTM", "pick", at(2, 9)),
                _late("o4", "AMS", "ship", at(2, 3)),
                _late("o7", "AMS", "pick", at(3, 3)),
            ]
        )
        session.commit()
    return database


def _series(db, channel=None) -> ks.KpiSeriesRows:
    with db.session() as session:
        return ks.kpi_series(session, SINCE, UNTIL, channel)


def test_orders_and_revenue_per_channel_day_keep_currencies_apart(seeded):
    rows = _series(seeded).orders
    assert rows == [
        ks.ChannelDay("2026-03-01", "bol", "EUR", 1, 0),  # cancelled: counted, no revenue
        ks.ChannelDay("2026-03-01", "bol", "GBP", 1, 700),
        ks.ChannelDay("2026-03-01", "shopify", "EUR", 2, 3000),
        ks.ChannelDay("2026-03-02", "shopify", "EUR", 2, 1600),
    ]


def test_processing_time_is_the_nearest_rank_percentile_of_placed_to_shipped(seeded):
    rows = _series(seeded).processing
    # 1 March: 1 h, 3 h, 1.5 h (o4: 23:00 → 01:00 next day, counted on the day it was received).
    assert rows == [
        ks.ProcessingDay("2026-03-01", 3, 7200.0, 10800.0),
        ks.ProcessingDay("2026-03-02", 1, 7200.0, 7200.0),
    ]


def test_fulfilment_cost_per_day_and_location_in_minor_units(seeded):
    series = _series(seeded)
    assert series.cost_per_day == [
        ks.CostDay("2026-03-01", "EUR", 2, 1200),
        ks.CostDay("2026-03-01", "GBP", 1, 500),
        ks.CostDay("2026-03-02", "EUR", 1, 200),
    ]
    assert series.cost_per_location == [
        ks.CostLocation("AMS", "EUR", 2, 2, 900),
        ks.CostLocation("AMS", "GBP", 1, 1, 500),
        ks.CostLocation("RTM", "EUR", 2, 2, 500),
    ]


def test_return_and_backorder_rates_and_reasons(seeded):
    series = _series(seeded)
    assert series.return_rate == [ks.RateDay("2026-03-01", 3, 2), ks.RateDay("2026-03-02", 1, 0)]
    assert series.backorder_rate == [ks.RateDay("2026-03-01", 4, 0), ks.RateDay("2026-03-02", 2, 2)]
    assert series.return_reasons == [ks.Reason("Too small", 2), ks.Reason(INJECTION, 1)]


def test_late_steps_per_day_and_location(seeded):
    series = _series(seeded)
    assert series.late_per_day == [
        ks.LateDay("2026-03-01", "pick", 1),
        ks.LateDay("2026-03-02", "pack", 1),
        ks.LateDay("2026-03-02", "pick", 1),
        ks.LateDay("2026-03-02", "ship", 1),
    ]
    assert series.late_per_location == [ks.LateLocation("AMS", 3, 2), ks.LateLocation("RTM", 1, 1)]


def test_the_channel_filter_narrows_every_series(seeded):
    bol = _series(seeded, "bol")
    assert [(r.channel, r.currency) for r in bol.orders] == [("bol", "EUR"), ("bol", "GBP")]
    assert bol.processing == [ks.ProcessingDay("2026-03-01", 1, 7200.0, 7200.0)]
    assert bol.cost_per_location == [ks.CostLocation("AMS", "GBP", 1, 1, 500)]
    assert bol.return_reasons == [] and bol.backorder_rate == [ks.RateDay("2026-03-01", 2, 0)]
    assert bol.late_per_day == [ks.LateDay("2026-03-02", "ship", 1)]
    assert bol.channels == ["bol", "shopify"]  # the filter's choices stay whole


@pytest.fixture
def browser(seeded) -> Iterator[TestClient]:
    yield from signed_in_browser(app_for(seeded, TOKEN), TOKEN)


def _csv(response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(response.text)))


def test_the_page_draws_every_chart_with_its_numbers_and_csv_link(browser):
    response = browser.get("/dashboard/kpis?first=2026-03-01&last=2026-03-02")
    assert response.status_code == 200
    page = response.text
    for key in CHART_KEYS:
        section = page.split(f'id="chart-{key}"')[1].split("</section>")[0]
        assert '<svg xmlns="http://www.w3.org/2000/svg"' in section and 'role="img"' in section
        assert f'<title id="{key}-title">' in section and f'aria-labelledby="{key}-title {key}-desc"' in section
        assert "<details>" in section and "<table>" in section
        assert f'href="/dashboard/kpis/{key}.csv?first=2026-03-01&amp;last=2026-03-02"' in section
    # A reason typed by a person is text on the page (escaped in the SVG and the table), never markup.
    assert "<script" not in page and INJECTION not in page and str(escape(INJECTION)) in page
    assert "Revenue per channel per day (EUR)" in page  # the currency with the most orders
    gbp = browser.get("/dashboard/kpis?first=2026-03-01&last=2026-03-02&currency=GBP").text
    assert "Revenue per channel per day (GBP)" in gbp


def test_the_default_window_is_the_last_30_utc_days(browser):
    page = browser.get("/dashboard/kpis").text
    today = datetime.now(UTC).date()
    assert f'value="{(today - timedelta(days=29)).isoformat()}"' in page and f'value="{today.isoformat()}"' in page


def test_bad_filters_are_shown_next_to_the_field(browser):
    response = browser.get("/dashboard/kpis?first=yesterday&last=2026-03-02")
    assert response.status_code == 422
    assert 'id="first-error"' in response.text and 'aria-describedby="first-error"' in response.text
    backwards = browser.get("/dashboard/kpis?first=2026-03-05&last=2026-03-02")
    assert backwards.status_code == 422 and "must not be after" in backwards.text
    assert browser.get("/dashboard/kpis/orders.csv?first=2026-03-05&last=2026-03-02").status_code == 422
    too_long = browser.get("/dashboard/kpis?first=2024-01-01&last=2026-03-02")
    assert too_long.status_code == 422 and "at most 400 days" in too_long.text


def test_csv_files_carry_money_as_decimals_with_the_currency(browser):
    response = browser.get("/dashboard/kpis/revenue.csv?first=2026-03-01&last=2026-03-02")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    assert response.headers["content-disposition"] == 'attachment; filename="kpi-revenue-2026-03-01-2026-03-02.csv"'
    assert _csv(response) == [
        ["day", "channel", "currency", "orders", "revenue"],
        ["2026-03-01", "bol", "EUR", "1", "0.00"],
        ["2026-03-01", "bol", "GBP", "1", "7.00"],
        ["2026-03-01", "shopify", "EUR", "2", "30.00"],
        ["2026-03-02", "shopify", "EUR", "2", "16.00"],
    ]
    cost = _csv(browser.get("/dashboard/kpis/cost-per-location.csv?first=2026-03-01&last=2026-03-02"))
    assert cost[1:] == [
        ["AMS", "EUR", "2", "2", "9.00", "4.50"],
        ["AMS", "GBP", "1", "1", "5.00", "5.00"],
        ["RTM", "EUR", "2", "2", "5.00", "2.50"],
    ]
    bol = _csv(browser.get("/dashboard/kpis/orders.csv?first=2026-03-01&last=2026-03-02&channel=bol"))
    assert bol == [["day", "channel", "orders"], ["2026-03-01", "bol", "2"]]
    processing = _csv(browser.get("/dashboard/kpis/processing.csv?first=2026-03-02&last=2026-03-02"))
    assert processing == [["day", "shipped orders", "p50 seconds", "p90 seconds"], ["2026-03-02", "1", "7200", "7200"]]


def test_a_reason_typed_as_a_formula_is_not_run_by_a_spreadsheet(browser):
    rows = _csv(browser.get("/dashboard/kpis/return-reasons.csv?first=2026-03-01&last=2026-03-02"))
    assert rows == [["reason", "returns"], ["Too small", "2"], ["'" + INJECTION, "1"]]
    assert [safe_cell(c) for c in ("-12.50", "-3", "+31 6", "@x", "-x", "\tx", "ok")] == [
        "-12.50",
        "-3",
        "'+31 6",
        "'@x",
        "'-x",
        "'\tx",
        "ok",
    ]


def test_an_unknown_chart_is_not_found(browser):
    assert browser.get("/dashboard/kpis/everything.csv").status_code == 404


def test_a_role_without_the_kpi_permission_gets_403(seeded):
    support = StaffMember("u-support", "sam@example.org", Role.SUPPORT)
    app = as_member(app_for(seeded, TOKEN), support, "session-1", "form-1")
    with TestClient(app, follow_redirects=False) as client:
        page = client.get("/dashboard/orders")
        assert page.status_code == 200 and 'href="/dashboard/kpis"' not in page.text  # not offered
        assert client.get("/dashboard/kpis").status_code == 403
        assert client.get("/dashboard/kpis/revenue.csv").status_code == 403


def test_the_benchmark_seed_adds_up_in_every_series(database):
    """bench/kpis.py's data and runner on both databases (small): every order of the window is in
    the per-channel series once, and the shares stay within their totals."""
    from bench.kpis import seed, time_queries

    now = datetime.now(UTC).replace(microsecond=0)
    counts, _ = seed(database.engine, 400, 30, now)
    since = datetime.combine(now.date() - timedelta(days=30), datetime.min.time(), UTC)
    until = datetime.combine(now.date() + timedelta(days=1), datetime.min.time(), UTC)
    series = _series_between(database, since, until)
    assert sum(r.orders for r in series.orders) == counts["orders"] == 400
    assert all(0 <= r.hits <= r.orders for r in series.return_rate + series.backorder_rate)
    assert all(r.p50_seconds <= r.p90_seconds for r in series.processing)
    assert sum(r.raised for r in series.late_per_location) == counts["escalations"]
    figures = time_queries(database.engine, {"all": (since, until)}, runs=1)
    assert all(ms["all"] >= 0 for ms in figures.values())


def _series_between(db, since, until) -> ks.KpiSeriesRows:
    with db.session() as session:
        return ks.kpi_series(session, since, until, None)
