"""The business reports' SQL over a small known data set (tests/integration/report_data.py), on
SQLite and PostgreSQL: every figure equals the sum worked out by hand, to the cent; ISO week 53
and the turn of the month in UTC; SKUs without a cost counted apart."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, or_, select

from domain.after_sales import NOT_RETURNED
from domain.report_periods import Granularity, period_start
from persistence.models import OrderLineRecord, OrderRecord, ReturnRecord, StockLevel
from persistence.read_model.financials import CurrencyFigures, Receivable, financials
from persistence.read_model.product_performance import (
    REFUNDED_STATUSES,
    PerformanceFilter,
    PerformanceRow,
    performance,
)
from persistence.read_model.stock_value import LocationValue, Uncosted, UncostedSku, stock_value
from tests.integration.report_data import at, seed

SINCE = at(2026, 12, 21, 0)
UNTIL = at(2027, 1, 4, 0)
W52, W53 = date(2026, 12, 21), date(2026, 12, 28)


@pytest.fixture
def seeded(database):
    with database.session() as session:
        seed(session)
    return database


def _performance(db, granularity: Granularity, **wanted) -> list[PerformanceRow]:
    with db.session() as session:
        return performance(session, PerformanceFilter(SINCE, UNTIL, granularity, **wanted))


def test_weekly_performance_equals_the_hand_computed_sums(seeded):
    assert _performance(seeded, Granularity.WEEK) == [
        PerformanceRow(W52, "webshop", "A", "EUR", units_sold=2, revenue_minor=2000),
        PerformanceRow(W52, "webshop", "B", "EUR", units_sold=1, revenue_minor=550),
        PerformanceRow(W52, "webshop", "Z", "EUR", units_sold=1, revenue_minor=0),
        # o3 shipped 1 January 00:00 UTC: still 2026-W53; its return the marketplace refunded.
        PerformanceRow(W53, "bol", "B", "EUR", units_sold=3, revenue_minor=1500, units_returned=1, refunded_minor=500),
        # r1's 1500 spread over A (1000 a unit) and B (550): 967 + 533, exactly the refund.
        PerformanceRow(W53, "webshop", "A", "EUR", units_returned=1, refunded_minor=967),
        PerformanceRow(W53, "webshop", "A", "GBP", units_sold=1, revenue_minor=900),
        PerformanceRow(W53, "webshop", "B", "EUR", units_returned=1, refunded_minor=533),
    ]


def test_monthly_performance_cuts_at_midnight_utc_on_new_year(seeded):
    december, january = date(2026, 12, 1), date(2027, 1, 1)
    rows = _performance(seeded, Granularity.MONTH)
    assert rows == [
        PerformanceRow(december, "webshop", "A", "EUR", 2, 2000, 1, 967),
        PerformanceRow(december, "webshop", "A", "GBP", 1, 900),  # 31 December 23:59:59
        PerformanceRow(december, "webshop", "B", "EUR", 1, 550, 1, 533),
        PerformanceRow(december, "webshop", "Z", "EUR", 1, 0),
        PerformanceRow(january, "bol", "B", "EUR", 3, 1500, 1, 500),  # 1 January 00:00:00
    ]


def test_channel_and_sku_filters(seeded):
    assert {(r.channel, r.sku) for r in _performance(seeded, Granularity.WEEK, channel="bol")} == {("bol", "B")}
    only_a = _performance(seeded, Granularity.MONTH, sku="A")
    assert {r.sku for r in only_a} == {"A"}
    assert sum(r.refunded_minor for r in only_a) == 967  # the share is of the whole return, filtered after


def test_top_n_ranks_the_skus_by_revenue_in_each_currency(seeded):
    # EUR: B sold 550 + 1500 = 2050, A 2000; GBP: A alone. A's EUR rows stay: top N chooses SKUs.
    assert {r.sku for r in _performance(seeded, Granularity.MONTH, top=1)} == {"A", "B"}
    assert {r.sku for r in _performance(seeded, Granularity.MONTH, top=1, channel="bol")} == {"B"}
    assert {r.sku for r in _performance(seeded, Granularity.MONTH, top=3)} == {"A", "B", "Z"}


def test_units_a_parcel_was_short_of_are_not_returned_but_the_refund_is_still_shared_out(seeded):
    with seeded.session() as session:
        session.add(
            ReturnRecord(
                return_id="r9",
                order_id="o2",
                status="REFUNDED",
                lines={"A": 1, "Q": 2},
                short={"Q": 2, "X": 1},
                currency="GBP",
                refund_minor=901,
                created_at=at(2026, 12, 30),
                refunded_at=at(2026, 12, 30),
            )
        )
        session.commit()
    gbp = {r.sku: r for r in _performance(seeded, Granularity.WEEK) if r.currency == "GBP"}
    # Q is not on the order (no price): A carries all the worth, so all of the refund.
    assert (gbp["A"].units_returned, gbp["A"].refunded_minor) == (1, 901)
    assert (gbp["Q"].units_returned, gbp["Q"].refunded_minor) == (0, 0)


def test_the_sql_week_is_the_domain_week_at_every_boundary(database):
    """An order shipped at each awkward moment lands in the period domain.report_periods gives it."""
    moments = [
        at(2026, 12, 27, 23, 59, 59),  # Sunday night: W52
        at(2026, 12, 28, 0),  # Monday: W53
        at(2027, 1, 3, 23, 59, 59),  # the last second of 2026-W53
        at(2027, 1, 4, 0),  # 2027-W01
        at(2020, 12, 31, 12),  # 2020-W53 too
        at(2024, 2, 29, 12),
        at(2021, 1, 1, 0),
    ]
    with database.session() as session:
        for n, moment in enumerate(moments):
            oid = f"b{n}"
            session.add(
                OrderRecord(
                    order_id=oid,
                    channel="webshop",
                    external_id=oid,
                    status="SHIPPED",
                    currency="EUR",
                    total_minor=100,
                    placed_at=moment,
                    received_at=moment,
                    updated_at=moment,
                    shipped_at=moment,
                )
            )
            session.flush()
            session.add(
                OrderLineRecord(order_id=oid, line_no=1, sku=f"S{n}", quantity=1, unit_price_minor=100, total_minor=100)
            )
        session.commit()
    for granularity in Granularity:
        with database.session() as session:
            rows = performance(session, PerformanceFilter(at(2020, 1, 1, 0), at(2028, 1, 1, 0), granularity))
        got = {row.sku: row.period for row in rows}
        assert got == {f"S{n}": period_start(m.date(), granularity) for n, m in enumerate(moments)}, granularity


def test_financial_figures_now(seeded):
    with seeded.session() as session:
        now = financials(session, None, None)
    assert now.by_currency == [
        CurrencyFigures(
            "EUR",
            captured_minor=2995 + 1000 + 700,
            refunded_minor=1700,
            refunded_on_channel_minor=500,
            authorized_open_minor=4000 + 2000,  # o4, and o6's uncaptured rest; not o5 (voided), not o8 (done)
            authorizations_open=2,
            store_credit_issued_minor=1000,
            store_credit_spent_minor=300 - 100,
            store_credit_outstanding_minor=1000 + 100 - 300,
        ),
        CurrencyFigures("GBP", captured_minor=900),
    ]
    assert now.receivables == [Receivable("bol", "EUR", 1, 1500, 500)]
    assert now.receivables[0].outstanding_minor == 1000


def test_financial_figures_for_a_period(seeded):
    with seeded.session() as session:
        week = financials(session, at(2026, 12, 28, 0), at(2027, 1, 4, 0))
    assert week.by_currency == [
        CurrencyFigures(
            "EUR",
            refunded_minor=1500 + 200,  # r1 refunded on the 30th, goodwill on the 29th
            refunded_on_channel_minor=500,
            store_credit_spent_minor=300 - 100,
        ),
        CurrencyFigures("GBP", captured_minor=900),  # o2 shipped in the week
    ]
    assert week.receivables == [Receivable("bol", "EUR", 1, 1500, 500)]


def test_stock_value_per_location_and_currency_with_uncosted_skus_apart(seeded):
    with seeded.session() as session:
        rows = stock_value(session)
    assert rows.valued == [
        LocationValue("AMS", "EUR", 2, 14, 10 * 400 + 4 * 250),
        LocationValue("RTM", "EUR", 1, 2, 2 * 400),
        LocationValue("RTM", "GBP", 1, 3, 3 * 300),
    ]
    assert rows.uncosted == [Uncosted("AMS", 1, 5), Uncosted("RTM", 1, 7)]
    assert rows.uncosted_skus == [UncostedSku("E", 7, 1), UncostedSku("D", 5, 1)]
    assert rows.uncosted_sku_count == 2
    with seeded.session() as session:
        assert stock_value(session, "RTM").uncosted == [Uncosted("RTM", 1, 7)]


def test_the_benchmark_seed_adds_up_in_every_report(database):
    """bench/reports.py's data (bench/kpis.py's orders, plus costs and stock) on both databases,
    small: every unit sold is in one row, a return's refund is shared out to the cent over its SKUs,
    every unit on hand is valued or counted as "no cost", and the runner runs."""
    from bench.kpis import seed as bench_seed
    from bench.reports import stock_and_costs, time_reports

    now = datetime.now(UTC).replace(microsecond=0)
    bench_seed(database.engine, 400, 30, now)
    stock_and_costs(database.engine)
    since, until = now - timedelta(days=60), now + timedelta(days=60)
    kept = or_(ReturnRecord.state.is_(None), ReturnRecord.state.not_in(sorted(NOT_RETURNED)))
    with database.session() as session:
        rows = performance(session, PerformanceFilter(since, until, Granularity.WEEK))
        sold = session.scalar(
            select(func.sum(OrderLineRecord.quantity))
            .join(OrderRecord, OrderRecord.order_id == OrderLineRecord.order_id)
            .where(OrderRecord.shipped_at.is_not(None), OrderRecord.status != "CANCELLED")
        )
        refunds = session.scalar(
            select(func.sum(ReturnRecord.refund_minor)).where(ReturnRecord.status.in_(REFUNDED_STATUSES), kept)
        )
        on_hand = session.scalar(select(func.sum(StockLevel.on_hand)))
        value = stock_value(session)
    assert sum(r.units_sold for r in rows) == sold > 0
    assert sum(r.refunded_minor for r in rows) == refunds > 0
    assert sum(r.units for r in value.valued) + sum(r.units for r in value.uncosted) == on_hand
    assert value.uncosted_sku_count > 0
    figures = time_reports(database.engine, now, 30, runs=1)
    assert all(ms["p95"] >= ms["p50"] >= 0 for ms in figures.values())
