"""The dashboard in a real browser (Chromium, driven by Playwright) against the real processes: a
person signs in, finds the held order, fixes the record, presses Release and watches it ship; and
cancels another from its page."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.e2e.conftest import TOKEN, System

pytestmark = pytest.mark.browser


@pytest.fixture
def page(chromium: Browser, postgres_system: System) -> Iterator[Page]:
    context = chromium.new_context(base_url=postgres_system.api)
    context.set_default_timeout(15_000)
    yield context.new_page()
    context.close()


def _order(system: System, lines: list[tuple[str, int]]) -> str:
    def eur(minor: int) -> dict[str, object]:
        return {"amount_minor": minor, "currency": "EUR"}

    body = {
        "channel": "webshop",
        "external_id": f"WEB-{uuid.uuid4().hex[:10]}",
        "currency": "EUR",
        "lines": [{"sku": sku, "quantity": quantity, "unit_price": eur(1250)} for sku, quantity in lines],
        "shipping": eur(495),
        "shipping_address": {"name": "Sam Tester", "line1": "Damrak 1", "city": "Amsterdam", "country": "NL"},
        "customer_email": "sam@example.org",
        "payment_collected": True,
    }
    response = system.client.post("/orders", json=body)
    assert response.status_code == 202, response.text
    return str(response.json()["order_id"])


def _reload_until(page: Page, status: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while page.locator("#order-status").inner_text() != status:
        if time.monotonic() > deadline:
            raise AssertionError(f"the page still says {page.locator('#order-status').inner_text()}, not {status}")
        time.sleep(0.3)
        page.reload()


def test_a_person_releases_a_held_order_from_the_dashboard_and_watches_it_ship(page: Page, postgres_system: System):
    known, missing = f"LAMP-{uuid.uuid4().hex[:6]}", f"NEW-{uuid.uuid4().hex[:6]}"
    postgres_system.stock(known, 5)
    order_id = _order(postgres_system, [(known, 1), (missing, 2)])
    postgres_system.wait_for_status(order_id, "ON_HOLD")

    page.goto("/dashboard")
    expect(page).to_have_url(f"{postgres_system.api}/dashboard/login?next=/dashboard")
    page.get_by_label("Staff token").fill("not-it")
    page.get_by_role("button", name="Sign in with the staff token").click()
    expect(page.get_by_role("alert")).to_have_text("That is not the staff token.")
    page.get_by_label("Staff token").fill(TOKEN)
    page.get_by_role("button", name="Sign in with the staff token").click()
    expect(page.get_by_role("heading", name="Overview")).to_be_visible()

    waiting = page.locator("#waiting + table")
    expect(waiting).to_contain_text(order_id)
    waiting.get_by_role("link", name=order_id).click()
    expect(page.locator("#hold-reason")).to_contain_text(missing)

    # The person books the goods in, then presses Release.
    postgres_system.stock(missing, 2)
    page.get_by_label("release note").fill("received the new lamp")
    page.locator("#release").click()
    expect(page.locator("#flash")).to_contain_text("release requested")
    _reload_until(page, "SHIPPED")
    expect(page.locator("#shipments .tracking")).not_to_have_text("")
    expect(page.locator("#timeline")).to_contain_text("received the new lamp")
    expect(page.locator("#cancel")).to_have_count(0)  # shipped: a return is the way now


def test_a_person_cancels_an_order_from_its_page(page: Page, postgres_system: System):
    order_id = _order(postgres_system, [(f"GONE-{uuid.uuid4().hex[:6]}", 1)])
    postgres_system.wait_for_status(order_id, "ON_HOLD")
    page.goto("/dashboard/login")
    page.get_by_label("Staff token").fill(TOKEN)
    page.get_by_role("button", name="Sign in with the staff token").click()
    page.goto(f"/dashboard/orders/{order_id}")
    page.get_by_label("cancel reason").fill("customer called")
    page.once("dialog", lambda dialog: dialog.accept())
    page.locator("#cancel").click()
    expect(page.locator("#flash")).to_contain_text("cancel requested")
    _reload_until(page, "CANCELLED")
    assert postgres_system.wait_for_status(order_id, "CANCELLED")["status"] == "CANCELLED"
