"""The warehouse and counter screens against the real engine (worker and API as processes, staff
confirming every step): a picker scans a delivery's EAN once of two units, confirms the short pick,
packs and ships it through the pages, and the order's own record shows what the page promised (the
missing unit written off, the order waiting for it); a store hands over a click & collect order at
its counter and the money is taken. Signed in with the admin token (the bootstrap admin)."""

from __future__ import annotations

import json
import re
import time
import uuid
from urllib.parse import parse_qs, urlparse

import httpx

from tests.e2e.conftest import TOKEN, System


def _ean() -> str:
    """A random EAN-13 with its check digit right (the catalogue verifies it)."""
    body = f"20{uuid.uuid4().int % 10**10:010d}"
    total = sum(int(digit) * (3 if i % 2 else 1) for i, digit in enumerate(body))
    return body + str((10 - total % 10) % 10)


def _order(system: System, sku: str, quantity: int, pickup: str | None = None) -> str:
    body: dict[str, object] = {
        "channel": "webshop",
        "external_id": uuid.uuid4().hex[:12],
        "currency": "EUR",
        "lines": [{"sku": sku, "quantity": quantity, "unit_price": {"amount_minor": 1250, "currency": "EUR"}}],
        "shipping_address": {"name": "Noor Jansen", "line1": "Damrak 1", "city": "Amsterdam", "country": "NL"},
        "payment_method": "pm_card_visa",
    }
    if pickup:
        body["pickup_location_id"] = pickup
    response = system.client.post("/orders", json=body)
    assert response.status_code == 202, response.text
    return str(response.json()["order_id"])


def _signed_in(system: System) -> httpx.Client:
    browser = httpx.Client(base_url=system.api, follow_redirects=False, timeout=30)
    response = browser.post("/dashboard/login", data={"token": TOKEN, "next": "/dashboard"})
    assert response.status_code == 303, response.text
    return browser


def _on_pick_list(browser: httpx.Client, location_id: str, shipment_id: str) -> None:
    deadline = time.monotonic() + 30
    while shipment_id not in browser.get(f"/dashboard/warehouse/{location_id}").text:
        assert time.monotonic() < deadline, f"{shipment_id} never reached the pick list of {location_id}"
        time.sleep(0.3)


def _token(page: str) -> str:
    found = re.search(r'name="form_token" value="([^"]+)"', page)
    assert found is not None
    return found.group(1)


def _followed(browser: httpx.Client, response: httpx.Response) -> str:
    assert response.status_code == 303, response.text
    return browser.get(response.headers["location"]).text


def test_pick_by_scanning_short_pick_pack_ship_and_hand_over_at_the_counter(staff_system: System):
    system = staff_system
    browser = _signed_in(system)
    sku, ean = f"LAMP-{uuid.uuid4().hex[:6].upper()}", _ean()
    system.stock(sku, 2, "AMS")
    assert system.client.put(f"/catalogue/{sku}", json={"name": "Desk lamp", "ean": ean}).status_code == 200
    order_id = _order(system, sku, 2)
    shipment_id = f"shipment-{order_id}-AMS"
    here = f"/dashboard/warehouse/shipments/{shipment_id}"

    _on_pick_list(browser, "AMS", shipment_id)
    token = _token(browser.get(here).text)
    scanned = browser.post(f"{here}/scan", data={"form_token": token, "code": ean, "counts": "{}"})
    assert scanned.status_code == 303
    counts = parse_qs(urlparse(scanned.headers["location"]).query)["counts"][0]
    assert json.loads(counts) == {sku: 1}
    page = browser.get(scanned.headers["location"]).text
    assert f"Counted {sku}: 1 of 2" in page and "Confirm short pick (1 missing)" in page

    picked = _followed(browser, browser.post(f"{here}/pick", data={"form_token": token, "counts": counts}))
    assert "Short pick confirmed" in picked and 'id="step">pack<' in picked
    pack = {"form_token": token, "parcels": "1", "weight": "900"}
    packed = _followed(browser, browser.post(f"{here}/pack", data=pack))
    assert "Packed in 1 parcel." in packed and 'id="step">ship<' in packed
    shipped = browser.post(
        f"{here}/ship", data={"form_token": token, "carrier": "postnl", "tracking_number": "3STEST0001"}
    )
    assert "Handed to the carrier" in _followed(browser, shipped)

    # What the page said happens next, in the order's own record: the unit not found is written
    # off at AMS, the rest shipped, and the order waits for the missing unit (no location has one).
    order = system.wait_for_status(order_id, "BACKORDERED")
    assert [(s["status"], s["lines"], s["short_lines"]) for s in order["shipments"]] == [
        ("SHIPPED", {sku: 1}, {sku: 1})
    ]
    assert any(e["kind"] == "short_pick" and f"{sku} x1" in e["detail"] for e in order["events"])
    shipment = system.client.get(f"/shipments/{shipment_id}").json()
    assert (shipment["carrier"], shipment["tracking_number"], shipment["parcels"]) == ("postnl", "3STEST0001", 1)

    # Click & collect at a store: picked on its pick list, put on the shelf and handed over at its counter.
    store, bag = f"UTR-{uuid.uuid4().hex[:6].upper()}", f"BAG-{uuid.uuid4().hex[:6].upper()}"
    system.stock(bag, 1, store, store=True)
    collect_order = _order(system, bag, 1, pickup=store)
    pickup_id = f"shipment-{collect_order}-{store}"
    _on_pick_list(browser, store, pickup_id)
    at = f"/dashboard/warehouse/shipments/{pickup_id}"
    scanned = browser.post(f"{at}/scan", data={"form_token": token, "code": bag.lower(), "counts": "{}"})
    counts = parse_qs(urlparse(scanned.headers["location"]).query)["counts"][0]
    pick = browser.post(f"{at}/pick", data={"form_token": token, "counts": counts})
    assert "Picked in full." in _followed(browser, pick)

    counter = f"/dashboard/counter/{store}"
    assert pickup_id in browser.get(counter).text.split('id="to-shelve"')[1]
    shelved = _followed(browser, browser.post(f"{counter}/ready/{pickup_id}", data={"form_token": token}))
    assert pickup_id in shelved.split('id="ready"')[1].split('id="to-shelve"')[0] and "Noor Jansen" in shelved
    assert "I checked the order number" in browser.get(f"{counter}/handover/{pickup_id}").text
    handed = browser.post(f"{counter}/handover/{pickup_id}", data={"form_token": token, "checked": "yes"})
    assert "Handed over" in _followed(browser, handed)

    collected = system.wait_for_status(collect_order, "SHIPPED")
    assert [s["status"] for s in collected["shipments"]] == ["COLLECTED"]
    assert collected["payments"][0]["status"] == "CAPTURED"
    browser.close()
