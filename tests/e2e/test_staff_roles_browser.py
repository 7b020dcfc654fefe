"""The people who run the shop, each in their own Chromium (Playwright, Debian's package) against the
real processes, staff confirming every step:

- the first admin is created on the first-run screen and adds a warehouse user for store A, a store
  user for store B and a support agent;
- the store A user, on a phone-sized screen, picks by typing the EAN, short-picks one unit, packs and
  ships, and is refused store B's pages (403);
- store B sends the missing unit (confirmed over the API with the admin token);
- the support agent finds the order by the customer's e-mail, takes a unit handed in back, sees the
  refund and the return's own page;
- the store B user hands a click & collect order over at the counter;
- the admin finds all of it, by person, in the audit list.

With OMS_SCREENSHOTS=<dir> the main screens are saved there (the README's docs/screenshots/ are made
this way)."""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, ViewportSize, expect
from playwright.sync_api import Error as PlaywrightError

from tests.e2e.conftest import TOKEN, System

pytestmark = pytest.mark.browser

SHOTS = os.environ.get("OMS_SCREENSHOTS", "")
PHONE: ViewportSize = {"width": 360, "height": 740}
PASSWORD = "Quiet-Harbour-Lantern-42"  # a throwaway test account's


def _shot(page: Page, name: str, *, full_page: bool = True) -> None:
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(SHOTS) / f"{name}.png"), full_page=full_page)


def _ean() -> str:
    """A random EAN-13 with its check digit right (the catalogue verifies it)."""
    body = f"20{uuid.uuid4().int % 10**10:010d}"
    total = sum(int(digit) * (3 if i % 2 else 1) for i, digit in enumerate(body))
    return body + str((10 - total % 10) % 10)


def _store(system: System, location_id: str, name: str, latitude: float, priority: int) -> None:
    body = {
        "location_id": location_id,
        "name": name,
        "kind": "store",
        "country": "NL",
        "postcode": "3511 AB",
        "latitude": latitude,
        "longitude": 5.12,
        "priority": priority,
        "ship_from_store": True,
    }
    response = system.client.post("/locations", json=body)
    assert response.status_code in (200, 201), response.text


def _stock(system: System, location_id: str, sku: str, quantity: int) -> None:
    move = {"location_id": location_id, "sku": sku, "delta": quantity, "reason": "receipt"}
    response = system.client.post("/inventory/adjustments", json=move)
    assert response.status_code == 201, response.text


def _order(system: System, sku: str, quantity: int, email: str, name: str, pickup: str | None = None) -> str:
    body: dict[str, object] = {
        "channel": "webshop",
        "external_id": f"WEB-{uuid.uuid4().hex[:10]}",
        "currency": "EUR",
        "lines": [{"sku": sku, "quantity": quantity, "unit_price": {"amount_minor": 2495, "currency": "EUR"}}],
        "shipping_address": {"name": name, "line1": "Oudegracht 1", "city": "Utrecht", "postcode": "3511 AB"}
        | {"country": "NL"},
        "customer_email": email,
        "payment_method": "pm_card_visa",
    }
    if pickup:
        body["pickup_location_id"] = pickup
    response = system.client.post("/orders", json=body)
    assert response.status_code == 202, response.text
    return str(response.json()["order_id"])


def _until(check: Callable[[], bool], what: str, timeout: float = 45) -> None:
    """Until `check` holds. A page caught between two navigations (a post's redirect still landing
    when it is reloaded) is asked again, not taken for an answer."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            if check():
                return
        except PlaywrightError as exc:
            if "Not attached" not in exc.message and "interrupted" not in exc.message:
                raise
        if time.monotonic() > deadline:
            raise AssertionError(f"waited {timeout} s for {what}")
        time.sleep(0.4)


def _shows(page: Page, text: str, where: str = "body") -> bool:
    """Reload the page and say whether `where` on it now holds `text`."""
    page.wait_for_load_state()
    page.reload()
    return text in page.locator(where).inner_text()


def _lists(page: Page, shipment_id: str) -> bool:
    """Reload the pick list and say whether it holds the shipment."""
    page.wait_for_load_state()
    page.reload()
    return page.locator(f'[data-shipment="{shipment_id}"]').count() > 0


def _sign_in(context: BrowserContext, email: str) -> Page:
    page = context.new_page()
    page.goto("/dashboard/login")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()
    return page


def _add_person(page: Page, email: str, role: str, location: str | None) -> None:
    page.goto("/dashboard/admin/users")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Role").select_option(role)
    if location:
        page.get_by_label(location, exact=True).check()
    page.get_by_label("Initial password").fill(PASSWORD)
    page.get_by_role("button", name="Add").click()
    expect(page.locator("table").first).to_contain_text(email)


def _step_is(system: System, shipment_id: str, *statuses: str) -> bool:
    response = system.client.get(f"/shipments/{shipment_id}")
    return response.status_code == 200 and response.json()["status"] in statuses


def _confirm_over_the_api(system: System, shipment_id: str, location_id: str) -> None:
    """Store B's staff, through the JSON API with the admin token: pick, pack, ship."""
    for step, body in (
        ("picked", {}),
        ("packed", {"parcels": 1}),
        ("shipped", {"carrier": "postnl", "tracking_number": f"3S{uuid.uuid4().hex[:10].upper()}"}),
    ):
        deadline = time.monotonic() + 30
        while True:
            response = system.client.post(f"/shipments/{shipment_id}/{step}", json={"location_id": location_id, **body})
            if response.status_code == 200 or time.monotonic() > deadline:
                break
            time.sleep(0.4)
        assert response.status_code == 200, response.text


def test_each_role_does_its_work_in_its_own_browser(chromium: Browser, postgres_staff_system: System):
    system = postgres_staff_system
    tag = uuid.uuid4().hex[:6]
    store_a, store_b = f"STORE-A-{tag}", f"STORE-B-{tag}"
    lamp, ean, bag = f"LAMP-{tag}", _ean(), f"BAG-{tag}"
    _store(system, store_a, "Utrecht Oudegracht", 52.09, 1)
    _store(system, store_b, "Utrecht Centraal", 52.10, 50)
    _stock(system, store_a, lamp, 2)
    _stock(system, store_b, lamp, 1)
    _stock(system, store_b, bag, 1)
    assert system.client.put(f"/catalogue/{lamp}", json={"name": "Desk lamp", "ean": ean}).status_code == 200
    assert system.client.put(f"/catalogue/{bag}", json={"name": "Canvas bag"}).status_code == 200
    email = f"Kim.{tag}@Example.org"
    order_id = _order(system, lamp, 2, email, "Kim de Vries")
    at_a = f"shipment-{order_id}-{store_a}"

    # The first admin, on the first-run screen (only while nobody has an account).
    admin_context = chromium.new_context(base_url=system.api, viewport={"width": 1280, "height": 900})
    admin_context.set_default_timeout(20_000)
    admin = admin_context.new_page()
    admin.goto("/dashboard/setup")
    admin.get_by_label("Staff token").fill(TOKEN)
    admin.get_by_label("E-mail").fill(f"admin.{tag}@shop.example")
    admin.get_by_label("Password", exact=True).fill(PASSWORD)
    admin.get_by_label("Password again").fill(PASSWORD)
    admin.get_by_role("button", name="Create the admin and sign in").click()
    expect(admin.get_by_role("heading", name="Overview")).to_be_visible()
    picker, counter, agent = f"picker.{tag}@shop.example", f"counter.{tag}@shop.example", f"agent.{tag}@shop.example"
    _add_person(admin, picker, "warehouse", store_a)
    _add_person(admin, counter, "warehouse", store_b)
    _add_person(admin, agent, "support", None)
    _shot(admin, "people")

    # Store A's picker on a phone: scans (types) the EAN once of two, confirms the short pick, packs, ships.
    phone = chromium.new_context(base_url=system.api, viewport=PHONE, is_mobile=True, has_touch=True)
    phone.set_default_timeout(20_000)
    floor = _sign_in(phone, picker)
    expect(floor).to_have_url(f"{system.api}/dashboard/warehouse/{store_a}")
    expect(floor.get_by_role("link", name="People")).to_have_count(0)  # nothing a role may not do is shown
    expect(floor.get_by_role("link", name="Settings")).to_have_count(0)
    _until(lambda: _lists(floor, at_a), f"{at_a} on store A's pick list")
    _shot(floor, "pick-list-phone")
    floor.goto(f"/dashboard/warehouse/shipments/{at_a}")
    floor.get_by_label("Scan or type EAN / SKU").fill("NOT-ON-THE-LIST")
    floor.get_by_label("Scan or type EAN / SKU").press("Enter")
    expect(floor.locator("#scan-error")).to_contain_text("NOT-ON-THE-LIST")
    floor.get_by_label("Scan or type EAN / SKU").fill(ean)
    floor.get_by_label("Scan or type EAN / SKU").press("Enter")
    expect(floor.locator("#last-scan")).to_have_text(f"Counted {lamp}: 1 of 2")
    expect(floor.locator("#short-note")).to_be_visible()
    _shot(floor, "pick-phone")
    floor.get_by_role("button", name="Confirm short pick (1 missing)").click()
    expect(floor.locator("#step")).to_have_text("pack")
    floor.get_by_label("Parcel 1 weight (grams)").fill("1200")
    floor.get_by_role("button", name="Confirm packed (1 parcel)").click()
    expect(floor.locator("#step")).to_have_text("ship")
    floor.get_by_label("Carrier").fill("postnl")
    floor.get_by_label("Tracking number").fill(f"3SA{tag.upper()}")
    floor.get_by_role("button", name="Handed to the carrier").click()
    floor.wait_for_load_state()
    _until(lambda: _step_is(system, at_a, "SHIPPED", "DELIVERED"), f"{at_a} shipped")

    # Store B's pages are not store A's picker's.
    refused = floor.goto(f"/dashboard/warehouse/{store_b}")
    assert refused is not None and refused.status == 403
    expect(floor.get_by_role("heading")).to_have_text("Not for your role")

    # The missing unit is sourced again: store B sends it (its staff over the API).
    at_b: list[str] = []

    def resourced() -> bool:
        order = system.client.get(f"/orders/{order_id}").json()
        at_b[:] = [s["shipment_id"] for s in order["shipments"] if s["location_id"] == store_b]
        return bool(at_b)

    _until(resourced, "the missing unit sourced from store B")
    refused = floor.goto(f"/dashboard/warehouse/shipments/{at_b[0]}")
    assert refused is not None and refused.status == 403
    _confirm_over_the_api(system, at_b[0], store_b)
    system.wait_for_status(order_id, "SHIPPED", "DELIVERED", timeout=45)

    # Support finds the order by the customer's e-mail (any case), returns one lamp, sees the refund.
    desk = chromium.new_context(base_url=system.api)
    desk.set_default_timeout(20_000)
    support = _sign_in(desk, agent)
    expect(support.get_by_role("link", name="Pick & pack")).to_have_count(0)
    support.get_by_role("link", name="Find").click()
    support.get_by_label("Order number, channel order id, e-mail or postcode").fill(email.lower())
    support.get_by_role("button", name="Find").click()
    expect(support).to_have_url(f"{system.api}/dashboard/orders/{order_id}")
    expect(support.locator("#shipments")).to_contain_text(f"pick: {picker}")  # who confirmed each step
    expect(support.locator("#timeline")).to_contain_text(f"picked at {store_a} by {picker}")
    _shot(support, "order")
    support.get_by_role("link", name="Create a return").click()
    support.get_by_label(f"Units of {lamp} to return").fill("1")
    support.get_by_label("Reason").select_option(index=1)
    support.get_by_label("Yes: they are at the desk").check()
    support.get_by_label("Yes: fit to sell again").check()
    support.get_by_role("button", name="Preview refund").click()
    expect(support.locator("#refund")).to_have_text("24.95 EUR")
    _shot(support, "return")

    def return_created() -> bool:
        support.get_by_role("button", name="Create return").click()
        support.wait_for_load_state()  # the post and its redirect have landed before the URL is read
        return support.url.startswith(f"{system.api}/dashboard/orders/{order_id}?")

    _until(return_created, "the return taken (the returns window opens just after SHIPPED)")
    _until(lambda: _shows(support, "REFUNDED", "#returns"), "the refund")
    expect(support.locator("#returns")).to_contain_text("24.95 EUR")
    support.locator("#returns").get_by_role("link", name="RMA-").click()  # the return's own page
    expect(support.locator("#state")).to_have_text("RESOLVED")
    expect(support.locator("#history")).to_contain_text(f"by {agent}")

    # Store B's counter: a click & collect order picked, put on the shelf, handed over.
    collect_id = _order(system, bag, 1, f"sam.{tag}@example.org", "Sam Bakker", pickup=store_b)
    pickup = f"shipment-{collect_id}-{store_b}"
    till = chromium.new_context(base_url=system.api, viewport=PHONE, is_mobile=True, has_touch=True)
    till.set_default_timeout(20_000)
    shop = _sign_in(till, counter)
    _until(lambda: _lists(shop, pickup), f"{pickup} on store B's pick list")
    shop.goto(f"/dashboard/warehouse/shipments/{pickup}")
    shop.get_by_label("Scan or type EAN / SKU").fill(bag.lower())
    shop.get_by_label("Scan or type EAN / SKU").press("Enter")
    shop.get_by_role("button", name="Confirm pick (1 units)").click()
    shop.get_by_role("button", name="Put on the pickup shelf").click()
    shop.wait_for_load_state()
    shop.goto(f"/dashboard/counter/{store_b}")
    shop.get_by_label("Order number or customer name").fill("sam bakker")
    shop.get_by_role("button", name="Find").click()
    _shot(shop, "counter-phone")
    shop.locator("#ready").get_by_role("link", name="Hand over").click()
    checked = shop.get_by_label("I checked the order number and the customer's name")
    expect(checked).to_have_attribute("required", "")  # the browser asks for the tick (the server checks too)
    checked.check()
    shop.get_by_role("button", name="Hand over to the customer").click()
    expect(shop.locator("#flash")).to_contain_text("Handed over")
    assert system.wait_for_status(collect_id, "SHIPPED", "COMPLETED")["shipments"][0]["status"] == "COLLECTED"

    # The admin's KPIs: today's orders are on the charts.
    admin.goto("/dashboard/kpis")
    expect(admin.locator("svg[role=img]").first).to_be_visible()
    _shot(admin, "kpis", full_page=False)
    admin.goto("/dashboard/admin/channels/webshop")
    _shot(admin, "channel-settings", full_page=False)

    # Who did what: the admin filters the audit list by the picker and sees their steps on store A's shipment.
    admin.goto("/dashboard/admin/audit")
    admin.get_by_label("Person").select_option(picker)
    admin.get_by_role("button", name="Show").click()
    audit = admin.locator("table").first
    expect(audit).to_contain_text(at_a)
    expect(audit).not_to_contain_text(agent)
    _shot(admin, "audit")

    for context in (admin_context, phone, desk, till):
        context.close()
