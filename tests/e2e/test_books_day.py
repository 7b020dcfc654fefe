"""A day of real orders into the books: HTTP → Temporal → database → Moneybird and Exact Online
(their sandboxes over real HTTP). Orders paid through our gateway and on the channel, a return
refunded at the desk and goodwill issue their invoices and credit notes; Moneybird gets each
document once, however often the push runs; Exact gets one sales entry per channel once; and the
reconciliation of what the engine captured, refunded and invoiced against what both systems hold
is zero to the cent."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest

from ops.temporal_dev import DevServer
from sandboxes import exact as exact_sandbox
from sandboxes import moneybird as moneybird_sandbox
from sandboxes.server import serve
from tests.e2e.conftest import System, _running_system

REFRESH = "e2e-exact-refresh-token"


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def books_system(
    request: pytest.FixtureRequest, temporal_server: DevServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[System, str, str]]:
    """The engine with Moneybird and Exact connected, each a sandbox of its own for this database."""
    with ExitStack() as stack:
        exact = stack.enter_context(serve(exact_sandbox.create_app(refresh_token=REFRESH)))
        moneybird = stack.enter_context(serve(moneybird_sandbox.create_app()))
        env = {
            "OMS_BOOKS_TIMEZONE": "UTC",
            "OMS_EXACT_ENABLED": "true",
            "OMS_EXACT_BASE_URL": exact,
            "OMS_EXACT_CLIENT_ID": exact_sandbox.CLIENT_ID,
            "OMS_EXACT_CLIENT_SECRET": exact_sandbox.CLIENT_SECRET,
            "OMS_EXACT_REFRESH_TOKEN": REFRESH,
            "OMS_MONEYBIRD_ENABLED": "true",
            "OMS_MONEYBIRD_API_URL": f"{moneybird}/api/v2",
            "OMS_MONEYBIRD_API_TOKEN": moneybird_sandbox.TOKEN,
            "OMS_MONEYBIRD_ADMINISTRATION_ID": moneybird_sandbox.ADMINISTRATION_ID,
        }
        for system in _running_system(request, temporal_server, tmp_path_factory, env):
            yield system, exact, moneybird


def _eur(minor: int) -> dict[str, object]:
    return {"amount_minor": minor, "currency": "EUR"}


def _order(system: System, lines: list[tuple[str, int, int]], **extra: object) -> str:
    body = {
        "channel": "webshop",
        "external_id": f"BOOKS-{uuid.uuid4().hex[:10]}",
        "currency": "EUR",
        "lines": [{"sku": sku, "quantity": quantity, "unit_price": _eur(price)} for sku, quantity, price in lines],
        "shipping": _eur(495),
        "shipping_address": {"name": "Sam Tester", "line1": "Damrak 1", "city": "Amsterdam", "country": "NL"},
        "customer_email": "sam@example.org",
        **extra,
    }
    response = system.client.post("/orders", json=body)
    assert response.status_code == 202, response.text
    return str(response.json()["order_id"])


def _until(check: Callable[[], Any], what: str, timeout: float = 60) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if found := check():
            return found
        time.sleep(0.25)
    raise AssertionError(f"waited {timeout} s for {what}")


def _having(documents: list[dict[str, Any]], count: int) -> list[dict[str, Any]] | None:
    return documents if len(documents) == count else None


def _holding(held: dict[str, dict[str, Any]], number: str) -> dict[str, dict[str, Any]] | None:
    return held if number in held else None


def _documents(system: System, order_id: str) -> list[dict[str, Any]]:
    return list(system.client.get(f"/orders/{order_id}/invoices").json()["documents"])


def _held_at_moneybird(url: str) -> dict[str, dict[str, Any]]:
    return {invoice["reference"]: invoice for invoice in httpx.get(f"{url}/_sandbox/invoices").json()}


def _moneybird_posts(url: str) -> int:
    calls = httpx.get(f"{url}/_sandbox/calls").json()
    return sum(1 for c in calls if c["method"] == "POST" and c["path"].endswith("/external_sales_invoices.json"))


def _cents(amount: str) -> int:
    return int(Decimal(amount) * 100)


def test_a_day_of_orders_and_refunds_is_booked_once_and_reconciles_to_the_cent(books_system):
    system, exact, moneybird = books_system
    mug, lamp = f"MUG-{uuid.uuid4().hex[:6]}", f"LAMP-{uuid.uuid4().hex[:6]}"
    system.stock(mug, 10, "AMS")
    system.stock(lamp, 10, "AMS")
    paid_here = _order(system, [(mug, 2, 1250), (lamp, 1, 3999)], payment_method="pm_card_visa")
    paid_on_channel = _order(system, [(mug, 1, 1250)], payment_collected=True)
    for order_id in (paid_here, paid_on_channel):
        system.wait_for_status(order_id, "SHIPPED", "COMPLETED", timeout=60)

    # A lamp back at the desk, refunded through our gateway; then goodwill on the same order.
    returned = system.client.post(
        f"/orders/{paid_here}/returns",
        json={"lines": [{"sku": lamp, "quantity": 1}], "reason": "too dark", "received": True, "location_id": "AMS"},
    )
    assert returned.status_code == 201 and returned.json()["status"] == "REFUNDED", returned.text
    goodwill = system.client.post(
        f"/orders/{paid_here}/goodwill", json={"amount": _eur(300), "reason": "late", "form": "refund"}
    )
    assert goodwill.status_code == 202, goodwill.text
    documents = _until(lambda: _having(_documents(system, paid_here), 3), "3 documents")
    kinds = sorted(doc["kind"] for doc in documents)
    assert kinds == ["credit_note", "credit_note", "invoice"]
    [channel_invoice] = _until(lambda: _documents(system, paid_on_channel), "the channel order's invoice")
    numbers = {doc["number"] for doc in [*documents, channel_invoice]}

    # Moneybird: the worker's push books the four documents; a second push after one more order
    # books only that order's invoice: nothing twice.
    assert system.client.post("/books/moneybird/push").status_code == 202
    _until(lambda: numbers <= set(_held_at_moneybird(moneybird)), "Moneybird to hold the day's documents")
    one_more = _order(system, [(mug, 1, 1250)], payment_method="pm_card_visa")
    system.wait_for_status(one_more, "SHIPPED", "COMPLETED", timeout=60)
    [late_invoice] = _until(lambda: _documents(system, one_more), "the last order's invoice")
    assert system.client.post("/books/moneybird/push").status_code == 202
    held = _until(lambda: _holding(_held_at_moneybird(moneybird), late_invoice["number"]), "the last invoice")
    assert set(held) == numbers | {late_invoice["number"]} and _moneybird_posts(moneybird) == 5
    for doc in [*documents, channel_invoice, late_invoice]:
        signed = doc["gross_minor"] if doc["kind"] == "invoice" else -doc["gross_minor"]
        assert _cents(held[doc["number"]]["total_price_incl_tax"]) == signed

    # Exact: one sales entry per channel and day, booked once however often it is pushed.
    today = datetime.now(UTC).date()
    days = [today - timedelta(days=1), today]  # a run that crossed midnight books both
    for _ in range(2):
        for day in days:
            pushed = system.client.post("/books/exact/push", params={"day": day.isoformat()})
            assert pushed.status_code == 200, pushed.text
    entries = httpx.get(f"{exact}/_sandbox/entries").json()
    references = [entry["YourRef"] for entry in entries["entries"]]
    assert len(references) == len(set(references)) == entries["posts"] > 0

    # The reconciliation: per day and channel, what both systems hold equals what the engine's
    # documents came to, and every cent our gateway captured or refunded is on a document.
    report = system.client.get(
        "/books/reconciliation", params={"from": days[0].isoformat(), "to": days[1].isoformat()}
    ).json()
    rows = report["rows"]
    assert {row["channel"] for row in rows} == {"webshop"}
    assert sum(_cents(row["sales"]) for row in rows) == sum(
        doc["gross_minor"] if doc["kind"] == "invoice" else -doc["gross_minor"]
        for doc in [*documents, channel_invoice, late_invoice]
    )
    for row in rows:
        assert row["unexplained"] == "0.00", row
        assert _cents(row["captured"]) - _cents(row["refunded"]) == _cents(row["gateway"])
        assert {system["system"] for system in row["systems"]} == {"exact", "moneybird"}
        for booked in row["systems"]:
            assert booked["difference"] == "0.00" and booked["at_system"] == row["sales"], (row, booked)
    captured = sum(_cents(row["captured"]) for row in rows)
    assert captured == 2 * 1250 + 3999 + 495 + 1250 + 495  # the two orders paid through our gateway
