"""Support takes goods back through the dashboard: a shipped order found by the customer's e-mail, a
return created in the form, and the order's page showing the refund the workflow made. The form's
checks and the preview are covered in-process (tests/integration/test_support_screens.py); here the
return really goes through the order's workflow."""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Iterator

import httpx
import pytest

from tests.e2e.conftest import SHOPIFY_SECRET, TOKEN, System
from tests.factories import shopify_payload, signed


@pytest.fixture
def dashboard(postgres_system: System) -> Iterator[httpx.Client]:
    """A browser-like client signed in to the dashboard with the staff token."""
    with httpx.Client(base_url=postgres_system.api, timeout=15, follow_redirects=False) as client:
        response = client.post("/dashboard/login", data={"token": TOKEN, "next": "/dashboard"})
        assert response.status_code == 303, response.text
        yield client


def _form_token(page: str) -> str:
    found = re.search(r'name="form_token" value="([^"]+)"', page)
    assert found is not None
    return found.group(1)


def test_support_finds_a_shipped_order_by_e_mail_returns_a_unit_and_sees_the_refund(
    postgres_system: System, dashboard: httpx.Client
):
    sku = f"E2E-{uuid.uuid4().hex[:8].upper()}"
    postgres_system.stock(sku, 5)
    payload = shopify_payload([(sku, 2, "19.95")])
    email = f"Kim.{uuid.uuid4().hex[:6]}@Example.NL"
    payload["email"] = payload["contact_email"] = email
    body, headers = signed(payload, SHOPIFY_SECRET)
    response = postgres_system.client.post("/webhooks/shopify", content=body, headers=headers)
    assert response.status_code == 202, response.text
    order_id = response.json()["order_id"]
    postgres_system.wait_for_status(order_id, "SHIPPED")

    search = dashboard.get("/dashboard/support")
    found = dashboard.post("/dashboard/support", data={"form_token": _form_token(search.text), "q": email.lower()})
    assert found.status_code == 303 and found.headers["location"] == f"/dashboard/orders/{order_id}"
    order_page = dashboard.get(found.headers["location"]).text
    form_path = f"/dashboard/orders/{order_id}/return"
    assert f'href="{form_path}"' in order_page

    token = _form_token(dashboard.get(form_path).text)
    typed = {"form_token": token, "sku": sku, "quantity": "1", "reason": "does not fit", "note": "too small"}
    preview = dashboard.post(form_path, data={**typed, "restock": "yes", "action": "preview"})
    assert '<output class="refund" id="refund">19.95 EUR</output>' in preview.text

    # The order's workflow opens its returns window just after it recorded SHIPPED: a refusal as
    # "not shipped" in that moment is answered 409 with the form; asking again then succeeds.
    deadline = time.monotonic() + 30
    while True:
        created = dashboard.post(form_path, data={**typed, "restock": "yes", "here": "yes", "action": "create"})
        if created.status_code != 409 or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert created.status_code == 303, created.text
    assert created.headers["location"].startswith(f"/dashboard/orders/{order_id}?flash=")
    assert "refund 19.95 EUR" in dashboard.get(created.headers["location"]).text

    deadline = time.monotonic() + 30
    while True:  # the refund step follows the return: the page shows where it stands
        page = dashboard.get(f"/dashboard/orders/{order_id}").text
        returns = page.split('id="returns"')[1].split("</table>")[0]
        if "ACCEPTED" not in returns or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert "REFUND_ON_CHANNEL" in returns  # Shopify took the money: the refund is the channel's to make
    assert re.search(r'class="num return-refund">19.95 EUR<', returns)
    assert f"1 \u00d7 {sku}" in returns and "does not fit: too small" in returns and "admin token" in returns
    assert "return_resolved" in page.split('id="timeline"')[1]
    assert postgres_system.client.get(f"/inventory/{sku}").json()["locations"][0]["on_hand"] == 4  # back on the shelf
