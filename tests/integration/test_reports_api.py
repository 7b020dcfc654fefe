"""GET /reports/{performance,financials,stock-value} through the real app on SQLite and PostgreSQL,
over the known data set of tests/integration/report_data.py: the JSON figures are the hand-computed
sums, each CSV parses back to the same numbers (exact decimals with a currency column), the
dashboard page draws them with a CSV link per table, and only roles that see KPIs see them (401
without a token, 403 for support, by API token and on the page)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from decimal import Decimal

import pytest
from fastapi.testclient import TestClient

from domain.money import Money
from domain.staff import Role, StaffMember
from tests.integration.report_data import seed
from tests.integration.screens import app_for, as_member, signed_in_browser
from tests.integration.staff_members import ADMIN, ADMIN_TOKEN, staff  # noqa: F401 (a fixture)

WINDOW = {"first": "2026-12-21", "last": "2027-01-03"}


@pytest.fixture
def seeded(database):
    with database.session() as session:
        seed(session)
    return database


@pytest.fixture
def api(seeded) -> Iterator[TestClient]:
    with TestClient(app_for(seeded, ADMIN_TOKEN)) as client:
        yield client


def _csv(response) -> list[dict[str, str]]:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    assert response.headers["content-disposition"].startswith('attachment; filename="')
    return list(csv.DictReader(io.StringIO(response.text)))


def _minor(amount: str, currency: str) -> int:
    return Money.parse(amount, currency).amount_minor


def test_performance_json_has_the_hand_computed_rows_and_totals(api):
    body = api.get("/reports/performance", params=WINDOW, headers=ADMIN).json()
    assert [p["label"] for p in body["periods"]] == ["2026-W52", "2026-W53"]
    bol = [r for r in body["rows"] if r["channel"] == "bol"]
    assert bol == [
        {
            "period": "2026-W53",
            "period_start": "2026-12-28",
            "channel": "bol",
            "sku": "B",
            "units_sold": 3,
            "revenue": {"amount_minor": 1500, "currency": "EUR"},
            "units_returned": 1,
            "refunded": {"amount_minor": 500, "currency": "EUR"},
            "return_rate": 0.3333,
        }
    ]
    assert body["totals"] == [
        {
            "currency": "EUR",
            "units_sold": 2 + 1 + 1 + 3,
            "revenue": {"amount_minor": 2000 + 550 + 0 + 1500, "currency": "EUR"},
            "units_returned": 3,
            "refunded": {"amount_minor": 967 + 533 + 500, "currency": "EUR"},
        },
        {
            "currency": "GBP",
            "units_sold": 1,
            "revenue": {"amount_minor": 900, "currency": "GBP"},
            "units_returned": 0,
            "refunded": {"amount_minor": 0, "currency": "GBP"},
        },
    ]
    monthly = api.get("/reports/performance", params=WINDOW | {"granularity": "month"}, headers=ADMIN).json()
    assert [p["label"] for p in monthly["periods"]] == ["2026-12", "2027-01"]


def test_top_n_keeps_the_best_sellers_of_each_currency(api):
    body = api.get("/reports/performance", params=WINDOW | {"top": 1}, headers=ADMIN).json()
    # EUR: B sold 550 + 1500 = 2050, more than A's 2000; GBP: A, the only one. A's EUR rows stay
    # too: top N chooses SKUs, and A is among GBP's.
    assert {r["sku"] for r in body["rows"]} == {"A", "B"}
    assert {(r["sku"], r["revenue"]["currency"]) for r in body["rows"] if r["units_sold"]} == {
        ("B", "EUR"),
        ("A", "EUR"),
        ("A", "GBP"),
    }


def test_performance_csv_parses_back_to_the_same_numbers(api):
    as_json = api.get("/reports/performance", params=WINDOW, headers=ADMIN).json()["rows"]
    rows = _csv(api.get("/reports/performance", params=WINDOW | {"format": "csv"}, headers=ADMIN))
    assert len(rows) == len(as_json)
    for line, row in zip(rows, as_json, strict=True):
        currency = line["currency"]
        assert currency == row["revenue"]["currency"]
        assert (line["period"], line["channel"], line["sku"]) == (row["period"], row["channel"], row["sku"])
        assert _minor(line["revenue"], currency) == row["revenue"]["amount_minor"]
        assert _minor(line["refunded"], currency) == row["refunded"]["amount_minor"]
        assert int(line["units_sold"]) == row["units_sold"] and int(line["units_returned"]) == row["units_returned"]
    a_eur = next(r for r in rows if r["sku"] == "A" and r["currency"] == "EUR" and r["period"] == "2026-W53")
    assert a_eur["refunded"] == "9.67" and Decimal(a_eur["refunded"]) == Decimal("9.67")
    by_accept = api.get("/reports/performance", params=WINDOW, headers=ADMIN | {"Accept": "text/csv"})
    assert _csv(by_accept) == rows
    assert "performance-week-2026-12-21-2027-01-04.csv" in by_accept.headers["content-disposition"]


def test_financials_json_and_csv_agree_to_the_cent(api):
    body = api.get("/reports/financials", params=WINDOW, headers=ADMIN).json()
    eur = next(f for f in body["now"]["by_currency"] if f["currency"] == "EUR")
    assert eur["captured"]["amount_minor"] == 4695
    assert (eur["authorized_open"]["amount_minor"], eur["authorizations_open"]) == (6000, 2)
    assert eur["store_credit_outstanding"]["amount_minor"] == 800
    assert body["now"]["marketplace_receivables"][0]["outstanding"] == {"amount_minor": 1000, "currency": "EUR"}
    period_eur = next(f for f in body["period"]["by_currency"] if f["currency"] == "EUR")
    assert period_eur["refunded"]["amount_minor"] == 1700 and period_eur["authorized_open"] is None

    rows = _csv(api.get("/reports/financials", params=WINDOW | {"format": "csv"}, headers=ADMIN))
    figure = {(r["scope"], r["figure"], r["channel"], r["currency"]): _minor(r["amount"], r["currency"]) for r in rows}
    assert figure[("now", "captured", "", "EUR")] == 4695
    assert figure[("now", "captured", "", "GBP")] == 900
    assert figure[("now", "refunded", "", "EUR")] == 1700
    assert figure[("now", "refunded_on_channel", "", "EUR")] == 500
    assert figure[("now", "authorized_open", "", "EUR")] == 6000
    assert figure[("now", "store_credit_outstanding", "", "EUR")] == 800
    assert figure[("now", "marketplace_receivable", "bol", "EUR")] == 1000
    assert figure[("period", "captured", "", "GBP")] == 900
    assert figure[("period", "refunded", "", "EUR")] == 1700
    assert ("period", "authorized_open", "", "EUR") not in figure


def test_stock_value_json_and_csv_keep_uncosted_skus_apart(api):
    body = api.get("/reports/stock-value", headers=ADMIN).json()
    assert body["totals"] == [
        {"currency": "EUR", "units": 16, "value": {"amount_minor": 5800, "currency": "EUR"}},
        {"currency": "GBP", "units": 3, "value": {"amount_minor": 900, "currency": "GBP"}},
    ]
    assert body["no_cost_sku_count"] == 2 and [s["sku"] for s in body["no_cost_skus"]] == ["E", "D"]
    rows = _csv(api.get("/reports/stock-value", params={"format": "csv"}, headers=ADMIN))
    valued = {(r["location"], r["currency"]): _minor(r["value"], r["currency"]) for r in rows if r["currency"]}
    assert valued == {
        ("AMS", "EUR"): 5000,
        ("RTM", "EUR"): 800,
        ("RTM", "GBP"): 900,
        ("(all)", "EUR"): 5800,
        ("(all)", "GBP"): 900,
    }
    no_cost = [(r["location"], r["units"], r["value"], r["note"]) for r in rows if not r["currency"]]
    assert no_cost == [("AMS", "5", "", "no cost"), ("RTM", "7", "", "no cost")]


def test_bad_windows_are_422(api):
    backwards = {"first": "2027-01-03", "last": "2026-12-21"}
    assert api.get("/reports/performance", params=backwards, headers=ADMIN).status_code == 422
    assert api.get("/reports/financials", params={"first": "yesterday"}, headers=ADMIN).status_code == 422
    assert api.get("/reports/performance", params={"granularity": "day"}, headers=ADMIN).status_code == 422
    assert api.get("/reports/performance", params={"top": 0}, headers=ADMIN).status_code == 422
    beyond = {"first": "9999-12-30", "last": "9999-12-31", "granularity": "month"}
    assert api.get("/reports/performance", params=beyond, headers=ADMIN).status_code == 422
    assert (
        api.get("/reports/financials", params={"first": "0001-01-01", "last": "0001-01-02"}, headers=ADMIN).status_code
        == 422
    )


@pytest.fixture
def browser(seeded) -> Iterator[TestClient]:
    yield from signed_in_browser(app_for(seeded, ADMIN_TOKEN), ADMIN_TOKEN)


def test_the_dashboard_page_shows_every_table_with_its_csv(browser):
    page = browser.get("/dashboard/reports", params=WINDOW | {"currency": "EUR"})
    assert page.status_code == 200, page.text
    for link in ("performance.csv", "financials.csv", "stock-value.csv"):
        assert f"/dashboard/reports/{link}" in page.text
    assert "2026-W53" in page.text and "<svg" in page.text and "no cost" in page.text
    assert 'name="top" value="20"' in page.text  # the page opens on the top 20 SKUs
    assert "10.00 EUR" in page.text  # owed by bol
    download = browser.get("/dashboard/reports/performance.csv", params=WINDOW)
    assert _csv(download)[0]["period"] == "2026-W52"
    assert _csv(browser.get("/dashboard/reports/stock-value.csv"))
    assert browser.get("/dashboard/reports", params={"first": "nope"}).status_code == 422


def test_reports_need_a_token_and_the_kpi_permission(database, staff):  # noqa: F811 (the fixture)
    with TestClient(app_for(database, ADMIN_TOKEN)) as api:
        for path in ("/reports/performance", "/reports/financials", "/reports/stock-value"):
            assert api.get(path).status_code == 401
            assert api.get(path, headers=staff.support.headers).status_code == 403
            assert api.get(path, headers=staff.warehouse_ams.headers).status_code == 403
            assert api.get(path, headers=staff.admin.headers).status_code == 200


def test_the_page_refuses_a_role_without_the_kpi_permission(database):
    support = StaffMember("u-support", "sam@example.org", Role.SUPPORT)
    app = as_member(app_for(database, ADMIN_TOKEN), support, "session-1", "form-1")
    with TestClient(app, follow_redirects=False) as client:
        assert 'href="/dashboard/reports"' not in client.get("/dashboard/orders").text
        assert client.get("/dashboard/reports").status_code == 403
        assert client.get("/dashboard/reports/financials.csv").status_code == 403
