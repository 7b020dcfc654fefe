"""The after-sales numbers on GET /kpis, from real rows on both databases: return rates and
reasons per SKU and channel, refunds and store credit per channel, exchanges."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.main import create_app
from config import load_settings
from domain.status import OrderStatus
from ops.temporal_dev import free_port
from persistence.models import (
    GoodwillRecord,
    OrderRecord,
    ReturnRecord,
    StockWriteOff,
    StoreCreditAccount,
    StoreCreditEntry,
)
from persistence.read_model import orders as order_store
from persistence.unit_of_work import UnitOfWork
from tests.factories import make_order

STAFF = {"Authorization": "Bearer kpi-token"}
NOW = datetime.now(UTC)


@pytest.fixture
def api(database) -> Iterator[TestClient]:
    settings = load_settings(
        database_url=database.url, admin_token="kpi-token", temporal_address=f"localhost:{free_port()}"
    )
    with TestClient(create_app(settings)) as client:
        yield client


def _order(
    db, lines, received: datetime, *, shipped: bool = True, channel: str = "webshop", currency: str = "EUR"
) -> str:
    order = make_order(lines, channel=channel)
    with UnitOfWork(db.session_factory) as uow:
        order_store.record_order(uow.session, order, received)
        if currency != "EUR":
            record = uow.session.get(OrderRecord, order.order_id)
            assert record is not None
            record.currency = currency
        if shipped:
            order_store.set_status(uow.session, order.order_id, OrderStatus.SHIPPED, at=received + timedelta(hours=1))
        uow.commit()
    return order.order_id


def _add(db, *rows: Any) -> None:
    with UnitOfWork(db.session_factory) as uow:
        for row in rows:
            uow.session.add(row)
            uow.session.flush()
        uow.commit()


def _return(n: int, order_id: str, lines: dict[str, int], reason: str, *, state: str | None, status: str, **kw: Any):
    kw.setdefault("created_at", NOW - timedelta(days=1))
    kw.setdefault("currency", "EUR")
    return ReturnRecord(
        return_id=f"return-{n}", order_id=order_id, lines=lines, reason=reason, state=state, status=status, **kw
    )


@pytest.fixture
def after_sales(database) -> dict[str, str]:
    """Three shipped orders this week (two webshop in EUR, one POS in GBP), one not shipped yet, one
    old; returns in different states and reasons, refunds three ways, goodwill, store credit."""
    w1 = _order(database, [("A", 2, 1000), ("B", 1, 500)], NOW - timedelta(days=2))
    w2 = _order(database, [("A", 2, 1000)], NOW - timedelta(days=1))
    p1 = _order(database, [("A", 1, 1000), ("C", 3, 900)], NOW - timedelta(days=3), channel="pos", currency="GBP")
    w3 = _order(database, [("A", 5, 1000)], NOW - timedelta(days=1), shipped=False)
    old = _order(database, [("A", 4, 1000)], NOW - timedelta(days=20))
    _add(
        database,
        # 2 x A damaged come back; the B announced never came (short)
        _return(
            1,
            w1,
            {"A": 2, "B": 1},
            "damaged: cracked",
            state="RESOLVED",
            status="REFUNDED",
            short={"B": 1},
            refund_minor=2500,
            refunded_at=NOW - timedelta(hours=1),
            resolution="refund",
        ),
        _return(2, w2, {"A": 1}, "Does not fit", state="REQUESTED", status="REQUESTED", resolution="exchange"),
        _return(3, w2, {"A": 1}, "changed mind", state="REJECTED", status="REJECTED", resolution="exchange"),
        _return(
            4,
            p1,
            {"C": 2},
            "changed mind",
            state="RESOLVED",
            status="REFUND_ON_CHANNEL",
            currency="GBP",
            refund_minor=1800,
            resolution="refund",
        ),
        _return(5, p1, {"A": 1}, "wrong item", state=None, status="ACCEPTED", currency="GBP"),  # one step (1.x)
        _return(6, w3, {"A": 1}, "damaged", state="AWAITING_APPROVAL", status="AWAITING_APPROVAL"),  # not shipped
        # an old order: its refund this week counts, its return not in this week's rates
        _return(
            7,
            old,
            {"A": 4},
            "arrived late",
            state="RESOLVED",
            status="REFUNDED",
            refund_minor=4000,
            refunded_at=NOW - timedelta(hours=2),
            created_at=NOW - timedelta(hours=3),
        ),
        _return(
            8,
            old,
            {"A": 1},
            "arrived late",
            state="RESOLVED",
            status="REFUNDED",
            refund_minor=999,
            refunded_at=NOW - timedelta(days=9),
            created_at=NOW - timedelta(days=10),
        ),
        GoodwillRecord(
            goodwill_id="gw-1",
            order_id=w1,
            form="refund",
            amount_minor=500,
            currency="EUR",
            reason="late",
            given_by="x",
            status="REFUNDED",
            done_at=NOW - timedelta(hours=1),
        ),
        GoodwillRecord(
            goodwill_id="gw-2",
            order_id=w2,
            form="refund",
            amount_minor=700,
            currency="EUR",
            reason="late",
            given_by="x",
            status="REFUSED",
            done_at=NOW - timedelta(hours=1),
        ),
        GoodwillRecord(
            goodwill_id="gw-3",
            order_id=p1,
            form="store_credit",
            amount_minor=300,
            currency="GBP",
            reason="late",
            given_by="x",
            status="CREDITED",
            done_at=NOW - timedelta(hours=1),
        ),
        StoreCreditAccount(id=1, shop="webshop", customer_key="k1", currency="EUR"),
        StoreCreditAccount(id=2, shop="pos", customer_key="k2", currency="GBP"),
    )
    hour = NOW - timedelta(hours=1)
    _add(
        database,
        StoreCreditEntry(
            account_id=1,
            entry_id="e1",
            kind="issue",
            amount_minor=1200,
            currency="EUR",
            at=hour,
            reason="return",
            order_id=w2,
        ),
        StoreCreditEntry(
            account_id=1, entry_id="e2", kind="issue", amount_minor=1000, currency="EUR", at=hour, reason="adjustment"
        ),
        StoreCreditEntry(
            account_id=1, entry_id="e3", kind="spend", amount_minor=-500, currency="EUR", at=hour, order_id=w3
        ),
        StoreCreditEntry(
            account_id=1,
            entry_id="e4",
            kind="issue",
            amount_minor=100,
            currency="EUR",
            at=NOW - timedelta(days=10),
            reason="return",
            order_id=old,
        ),
        StoreCreditEntry(
            account_id=2,
            entry_id="e5",
            kind="issue",
            amount_minor=300,
            currency="GBP",
            at=hour,
            reason="goodwill",
            order_id=p1,
        ),
    )
    _add(
        database,
        StockWriteOff(
            location_id="AMS",
            sku="A",
            quantity=2,
            reason="returned damaged",
            source="return",
            order_id=w1,
            return_id="return-1",
            written_off_at=hour,
        ),
    )
    return {"w1": w1, "w2": w2, "p1": p1}


def _money(amount: int, currency: str) -> dict[str, Any]:
    return {"amount_minor": amount, "currency": currency}


def test_return_rates_and_reasons_per_sku_and_channel(api, after_sales):
    body = api.get("/kpis", headers=STAFF).json()
    assert body["returns_by_sku"] == [
        {
            "sku": "A",
            "units_shipped": 5,
            "units_returned": 4,
            "return_rate": 0.8,
            "returns": 3,
            "top_reasons": {"damaged": 2, "does not fit": 1, "wrong item": 1},
        },
        {
            "sku": "C",
            "units_shipped": 3,
            "units_returned": 2,
            "return_rate": 0.6667,
            "returns": 1,
            "top_reasons": {"changed mind": 2},
        },
    ]  # B: announced, never came; the rejected return and the unshipped order's count nowhere
    assert list(body["returns_by_sku"][0]["top_reasons"]) == ["damaged", "does not fit", "wrong item"]
    assert body["returns_by_channel"] == [
        {
            "channel": "pos",
            "units_shipped": 4,
            "units_returned": 3,
            "return_rate": 0.75,
            "returns": 2,
            "top_reasons": {"changed mind": 2, "wrong item": 1},
        },
        {
            "channel": "webshop",
            "units_shipped": 5,
            "units_returned": 3,
            "return_rate": 0.6,
            "returns": 2,
            "top_reasons": {"damaged": 2, "does not fit": 1},
        },
    ]
    assert body["exchanges"] == 1  # the rejected exchange does not count
    assert body["returns"]["count"] == 7  # the existing figure is untouched: every return asked for this week


def test_refunds_and_store_credit_per_channel_in_each_currency(api, after_sales):
    body = api.get("/kpis", headers=STAFF).json()
    assert body["refunds_by_channel"] == [
        {
            "channel": "pos",
            "currency": "GBP",
            "gateway": _money(0, "GBP"),
            "on_channel": _money(1800, "GBP"),
            "goodwill": _money(0, "GBP"),
            "total": _money(1800, "GBP"),
        },
        {
            "channel": "webshop",
            "currency": "EUR",
            "gateway": _money(6500, "EUR"),
            "on_channel": _money(0, "EUR"),
            "goodwill": _money(500, "EUR"),
            "total": _money(7000, "EUR"),
        },
    ]
    credit = sorted(body["store_credit_issued_by_channel"], key=lambda c: (c["channel"] or "", c["currency"]))
    assert credit == [
        {
            "channel": None,
            "currency": "EUR",
            "issued": _money(1000, "EUR"),
            "entries": 1,
            "by_reason": {"adjustment": _money(1000, "EUR")},
        },
        {
            "channel": "pos",
            "currency": "GBP",
            "issued": _money(300, "GBP"),
            "entries": 1,
            "by_reason": {"goodwill": _money(300, "GBP")},
        },
        {
            "channel": "webshop",
            "currency": "EUR",
            "issued": _money(1200, "EUR"),
            "entries": 1,
            "by_reason": {"return": _money(1200, "EUR")},
        },
    ]


def test_a_channel_sees_only_its_own_after_sales(api, after_sales):
    pos = api.get("/kpis", params={"channel": "pos"}, headers=STAFF).json()
    assert [(r["sku"], r["units_shipped"], r["units_returned"], r["return_rate"]) for r in pos["returns_by_sku"]] == [
        ("C", 3, 2, 0.6667),
        ("A", 1, 1, 1.0),
    ]
    assert [r["channel"] for r in pos["returns_by_channel"]] == ["pos"]
    assert [r["channel"] for r in pos["refunds_by_channel"]] == ["pos"]
    assert [c["channel"] for c in pos["store_credit_issued_by_channel"]] == ["pos"]
    assert pos["exchanges"] == 0
    webshop = api.get("/kpis", params={"channel": "webshop"}, headers=STAFF).json()
    assert webshop["exchanges"] == 1 and [r["sku"] for r in webshop["returns_by_sku"]] == ["A"]


def test_a_window_before_anything_happened_is_all_zero(api, after_sales):
    window = {"since": (NOW - timedelta(days=60)).isoformat(), "until": (NOW - timedelta(days=40)).isoformat()}
    body = api.get("/kpis", params=window, headers=STAFF).json()
    assert body["returns_by_sku"] == body["returns_by_channel"] == body["refunds_by_channel"] == []
    assert body["store_credit_issued_by_channel"] == [] and body["exchanges"] == 0


@pytest.fixture
def browser(database, after_sales) -> Iterator[TestClient]:
    from tests.integration.screens import app_for, signed_in_browser

    yield from signed_in_browser(app_for(database, "kpi-token"), "kpi-token")


WEEK = f"first={(NOW - timedelta(days=7)).date()}&last={NOW.date()}"


def _rows(text: str) -> list[list[str]]:
    import csv
    import io

    return list(csv.reader(io.StringIO(text)))


def test_the_charts_page_has_an_after_sales_section_with_bars_tables_and_csv(browser):
    page = browser.get(f"/dashboard/kpis?{WEEK}").text
    after = page.split('id="after-sales"')[1]
    assert "66.7%" in after.split("</section>")[0]  # 6 of the 9 units shipped came back (cards)
    for key in ("returns-by-sku", "returns-by-channel", "refunds-by-channel", "store-credit-by-channel", "defects"):
        section = after.split(f'id="chart-{key}"')[1].split("</section>")[0]
        assert '<svg xmlns="http://www.w3.org/2000/svg"' in section and "<table>" in section
        assert f'href="/dashboard/kpis/{key}.csv?' in section
    skus = _rows(browser.get(f"/dashboard/kpis/returns-by-sku.csv?{WEEK}").text)
    assert skus == [
        ["sku", "units shipped", "units returned", "rate %", "returns", "top reasons"],
        ["A", "5", "4", "80.0", "3", "damaged (2); does not fit (1); wrong item (1)"],
        ["C", "3", "2", "66.7", "1", "changed mind (2)"],
    ]
    refunds = _rows(browser.get(f"/dashboard/kpis/refunds-by-channel.csv?{WEEK}").text)
    assert refunds[1:] == [
        ["pos", "GBP", "0.00", "18.00", "0.00", "18.00"],
        ["webshop", "EUR", "65.00", "0.00", "5.00", "70.00"],
    ]
    credit = _rows(browser.get(f"/dashboard/kpis/store-credit-by-channel.csv?{WEEK}").text)
    assert sorted(credit[1:]) == [
        ["(no order)", "EUR", "adjustment", "1", "10.00"],
        ["pos", "GBP", "goodwill", "1", "3.00"],
        ["webshop", "EUR", "return", "1", "12.00"],
    ]
    defects = _rows(browser.get(f"/dashboard/kpis/defects.csv?{WEEK}").text)
    assert defects[1:] == [["A", "2", "returned damaged (2)"]]
    pos = _rows(browser.get(f"/dashboard/kpis/returns-by-channel.csv?{WEEK}&channel=pos").text)
    assert pos[1:] == [["pos", "4", "3", "75.0", "2", "changed mind (2); wrong item (1)"]]


def test_the_overview_shows_the_weeks_after_sales_line(browser):
    page = browser.get("/dashboard").text
    line = page.split('id="after-sales"')[1].split("</p>")[0]
    assert "6 of 9 units shipped came back (66.7%)" in line and "1 exchange" in line
    assert "70.00 EUR" in line and "18.00 GBP" in line


def test_the_benchmark_seed_adds_up_after_the_sale(database):
    """bench/kpis.py's after-sales rows (small), on both databases: shares within their totals,
    marketplaces' refunds made on the channel, credit and exchanges counted."""
    from bench.kpis import MARKETPLACES, seed
    from persistence.read_model.after_sales import after_sales as after_sales_rows

    now = datetime.now(UTC).replace(microsecond=0)
    counts, _ = seed(database.engine, 2000, 60, now)
    assert counts["returns"] > 50 and counts["credit"] > 0 and counts["goodwill"] > 0
    with database.session() as session:
        rows = after_sales_rows(session, now - timedelta(days=61), now, None)
    assert rows.returns_by_channel and all(0 < r.units_returned <= r.units_shipped for r in rows.returns_by_channel)
    assert all(0 < r.units_returned <= r.units_shipped for r in rows.returns_by_sku)
    assert all((r.on_channel_minor > 0) == (r.channel in MARKETPLACES) for r in rows.refunds_by_channel)
    assert all(r.gateway_minor == 0 for r in rows.refunds_by_channel if r.channel in MARKETPLACES)
    assert {c.reason for c in rows.credit_issued} == {"return"} and rows.exchanges > 0
