"""The dashboard's pages over the read model, in-process on SQLite and PostgreSQL: who may see them,
what they show, and that what a channel sent cannot run in a staff member's browser. The buttons
(release, cancel) need a running workflow: tests/e2e/test_dashboard_browser.py presses them."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from api.dashboard_session import COOKIE_NAME
from api.main import create_app
from config import load_settings
from contracts.shipments import EscalationInput
from domain.order import price_mismatch
from domain.status import OrderStatus
from ops.temporal_dev import free_port
from persistence.models import ShipmentNoticeOutbox, ShipmentRecord
from persistence.read_model import escalations
from persistence.read_model import orders as order_store
from persistence.unit_of_work import UnitOfWork
from tests.factories import add_location, make_order, stock

TOKEN = "dashboard-token"


@pytest.fixture
def browser(database) -> Iterator[TestClient]:
    """A client that behaves like a browser: keeps cookies, does not follow redirects by itself."""
    settings = load_settings(database_url=database.url, admin_token=TOKEN, temporal_address=f"localhost:{free_port()}")
    with TestClient(create_app(settings), follow_redirects=False) as client:
        yield client


def _sign_in(client: TestClient) -> None:
    response = client.post("/dashboard/login", data={"token": TOKEN, "next": "/dashboard"})
    assert response.status_code == 303 and response.headers["location"] == "/dashboard"


def _form_token(page: str) -> str:
    found = re.search(r'name="form_token" value="([^"]+)"', page)
    assert found is not None
    return found.group(1)


def _record(db, order, status: OrderStatus | None = None, hold_reason: str | None = None) -> str:
    with UnitOfWork(db.session_factory) as uow:
        order_store.record_order(uow.session, order, datetime.now(UTC))
        if status is not None:
            order_store.set_status(uow.session, order.order_id, status, hold_reason=hold_reason, at=datetime.now(UTC))
        uow.commit()
    return order.order_id


def test_pages_need_a_signed_in_staff_member(browser):
    response = browser.get("/dashboard/orders?status=ON_HOLD")
    assert response.status_code == 303
    assert response.headers["location"] == "/dashboard/login?next=/dashboard/orders%3Fstatus%3DON_HOLD"

    wrong = browser.post("/dashboard/login", data={"token": "guess", "next": "/dashboard"})
    assert wrong.status_code == 401 and "not the staff token" in wrong.text
    assert COOKIE_NAME not in browser.cookies

    # A bearer token is not a dashboard session, and a made-up cookie is not either.
    assert browser.get("/dashboard", headers={"Authorization": f"Bearer {TOKEN}"}).status_code == 303
    browser.cookies.set(COOKIE_NAME, "forged.value.here", path="/dashboard")
    assert browser.get("/dashboard").status_code == 303


def test_signing_in_sets_a_strict_http_only_cookie_without_the_token(browser):
    response = browser.post("/dashboard/login", data={"token": TOKEN, "next": "/dashboard/stock"})
    assert response.status_code == 303 and response.headers["location"] == "/dashboard/stock"
    cookie = response.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Path=/dashboard" in cookie
    assert TOKEN not in cookie
    page = browser.get("/dashboard")
    assert page.status_code == 200 and "Overview" in page.text
    assert page.headers["cache-control"] == "no-store" and page.headers["x-frame-options"] == "DENY"

    signed_out = browser.post("/dashboard/logout", data={"form_token": _form_token(page.text)})
    assert signed_out.status_code == 303
    browser.cookies.clear()
    assert browser.get("/dashboard").status_code == 303


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example", "/\\evil.example", "/docs"])
def test_the_login_never_redirects_out_of_the_dashboard(browser, target):
    response = browser.post("/dashboard/login", data={"token": TOKEN, "next": target})
    assert response.headers["location"] == "/dashboard"


def test_the_overview_shows_what_waits_for_a_person_and_where_channels_are_stuck(browser, database):
    held = _record(database, make_order([("GHOST-1", 1, 1000)]), OrderStatus.ON_HOLD, "unknown SKU GHOST-1")
    backordered = _record(database, make_order([("A", 2, 1000)], channel="bol"), OrderStatus.BACKORDERED, "no stock")
    _record(database, make_order([("A", 1, 1000)]), OrderStatus.RESERVED)
    now = datetime.now(UTC)
    with UnitOfWork(database.session_factory) as uow:
        uow.session.add(
            ShipmentNoticeOutbox(
                shipment_id=f"shipment-{backordered}-AMS",
                order_id=backordered,
                channel="bol",
                notice={},
                attempts=3,
                last_error="bol refused: transporter code unknown",
            )
        )
        escalations.raise_once(
            uow.session,
            EscalationInput(held, f"shipment-{held}-AMS", "AMS", "pick", now - timedelta(hours=2), "late-pick", now),
        )
        uow.commit()
    _sign_in(browser)

    page = browser.get("/dashboard").text
    waiting = page.split('id="waiting"')[1].split("<h2")[0]
    assert held in waiting and backordered in waiting and "unknown SKU GHOST-1" in waiting
    assert re.search(r'<div class="figure">1</div>\s*<div class="label">ON_HOLD', page)
    assert re.search(r'<div class="figure">1</div>\s*<div class="label">RESERVED', page)
    assert "bol refused: transporter code unknown" in page
    assert "pick" in page.split("Late shipment steps")[1]


def test_the_orders_list_filters_and_the_order_page_shows_everything_staff_need(browser, database):
    add_location(database.session_factory, "AMS")
    order = make_order([("MUG-1", 2, 1250), ("TEE-1", 1, 2000)], channel="shopify")
    order_id = _record(database, order, OrderStatus.SHIPPED)
    _record(database, make_order([("MUG-1", 1, 1250)], channel="webshop"), OrderStatus.CANCELLED)
    with UnitOfWork(database.session_factory) as uow:
        uow.session.add(
            ShipmentRecord(
                shipment_id=f"shipment-{order_id}-AMS",
                order_id=order_id,
                location_id="AMS",
                status="SHIPPED",
                lines={"MUG-1": 2, "TEE-1": 1},
                carrier="PostNL",
                tracking_number="3SXYZ0012345",
                shipped_at=datetime.now(UTC),
            )
        )
        uow.commit()
    _sign_in(browser)

    shipped = browser.get("/dashboard/orders", params={"status": "SHIPPED"}).text
    assert order_id in shipped and "1 order<" in shipped
    by_channel = browser.get("/dashboard/orders", params={"channel": "webshop"}).text
    assert order_id not in by_channel and "1 order<" in by_channel
    assert order_id in browser.get("/dashboard/orders", params={"sku": "TEE-1"}).text
    assert "2 orders<" in browser.get("/dashboard/orders", params={"status": "NONSENSE"}).text  # ignored, not a 500

    page = browser.get(f"/dashboard/orders/{order_id}").text
    assert "3SXYZ0012345" in page and "PostNL" in page
    assert "25.00 EUR" in page and "2 \u00d7 MUG-1" in page
    assert "Sam Tester" in page and "sam@example.org" in page  # staff see who it goes to
    assert "status:SHIPPED" in page  # the timeline
    assert 'id="cancel"' not in page and 'id="release"' not in page  # shipped: neither button
    assert f"/namespaces/default/workflows/{order_id}" in page
    assert browser.get("/dashboard/orders/order-webshop-nope").status_code == 404

    tracking_link = re.search(r'href="([^"]+)"[^>]*id="tracking-page"', page)
    assert tracking_link is not None
    browser.cookies.clear()  # the customer is not signed in
    customer_view = browser.get(tracking_link.group(1))
    assert customer_view.status_code == 200 and "3SXYZ0012345" in customer_view.text
    assert "Sam Tester" not in customer_view.text


def test_what_a_channel_sent_is_shown_as_text_never_run(browser, database):
    order = make_order([("A", 1, 1000)])
    order = replace(order, shipping_address=replace(order.shipping_address, name="<script>alert(1)</script>"))
    order_id = _record(database, order, OrderStatus.ON_HOLD, "unknown SKU <img src=x onerror=alert(2)>")
    _sign_in(browser)
    for path in ("/dashboard", "/dashboard/orders", f"/dashboard/orders/{order_id}"):
        page = browser.get(path).text
        assert "<script>alert(1)" not in page and "<img src=x" not in page
        assert "&lt;img src=x onerror=alert(2)&gt;" in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in browser.get(f"/dashboard/orders/{order_id}").text
    held = browser.get(f"/dashboard/orders/{order_id}").text
    assert 'id="release"' in held and 'id="cancel"' in held


def test_a_price_mismatch_hold_offers_to_accept_the_channel_total_with_a_reason(browser, database):
    order = replace(make_order([("MUG", 2, 1250)]), total=make_order([("MUG", 1, 2300)]).total)
    reason = price_mismatch(order)
    assert reason is not None
    mismatch = _record(database, order, OrderStatus.ON_HOLD, reason)
    other = _record(database, make_order([("GHOST-8", 1, 1000)]), OrderStatus.ON_HOLD, "unknown SKU GHOST-8")
    _sign_in(browser)
    page = browser.get(f"/dashboard/orders/{mismatch}").text
    assert 'id="accept-total"' in page and 'name="accept_channel_total" value="true"' in page
    assert re.search(r'<input name="note"[^>]*aria-label="why the channel\'s total is accepted"[^>]*required', page)
    assert 'id="accept-total"' not in browser.get(f"/dashboard/orders/{other}").text


def test_actions_need_the_form_token_of_the_signed_in_session(browser, database):
    order_id = _record(database, make_order([("GHOST-9", 1, 1000)]), OrderStatus.ON_HOLD, "unknown SKU GHOST-9")
    _sign_in(browser)
    refused = browser.post(f"/dashboard/orders/{order_id}/release", data={"form_token": "made-up"})
    assert refused.status_code == 403
    assert browser.post(f"/dashboard/orders/{order_id}/cancel", data={}).status_code == 403
    with database.session() as session:
        assert order_store.get_order(session, order_id).status == "ON_HOLD"


def test_the_stock_pages_show_each_location_and_each_channel(browser, database):
    add_location(database.session_factory, "AMS")
    add_location(database.session_factory, "RTM")
    stock(database.session_factory, "AMS", {"LAMP-1": 7, "LAMP-2": 1})
    stock(database.session_factory, "RTM", {"LAMP-1": 3})
    _sign_in(browser)

    listing = browser.get("/dashboard/stock", params={"sku": "LAMP-1"}).text
    assert "2 stock records" in listing and "LAMP-2" not in listing
    page = browser.get("/dashboard/stock/LAMP-1").text
    locations = page.split('id="locations"')[1].split("</table>")[0]
    assert "AMS" in locations and "RTM" in locations
    channels = page.split('id="channels"')[1].split("</table>")[0]
    assert re.search(r"<td>shopify</td><td class=\"num\">10</td>", channels)
    assert browser.get("/dashboard/stock/NOPE").status_code == 404


def test_held_units_and_the_weeks_defects_are_on_the_stock_pages_and_the_overview(browser, database):
    from domain.return_lifecycle import StockEffects, WriteOff
    from persistence.guarded_writes.return_stock import book_dispositions

    add_location(database.session_factory, "AMS")
    stock(database.session_factory, "AMS", {"LAMP-1": 7})
    effects = StockEffects(held={"LAMP-1": 2}, written_off=(WriteOff("LAMP-1", 1, "shade cracked"),))
    with UnitOfWork(database.session_factory) as uow:
        book_dispositions(
            uow.session,
            order_id="order-webshop-9",
            return_id="return-9-1",
            location_id="AMS",
            effects=effects,
            at=datetime.now(UTC),
        )
        uow.commit()
    _sign_in(browser)

    listing = browser.get("/dashboard/stock", params={"sku": "LAMP-1"}).text
    assert re.search(r'<td class="num">7</td><td class="num">2</td></tr>', listing)  # available 7, held 2
    locations = browser.get("/dashboard/stock/LAMP-1").text.split('id="locations"')[1].split("</table>")[0]
    assert re.search(r'<td class="num">7</td><td class="num">2</td></tr>', locations)
    defects = browser.get("/dashboard").text.split('id="defects"')[1].split("</table>")[0]
    assert "LAMP-1" in defects and '<td class="num">1</td>' in defects and "shade cracked (1)" in defects
