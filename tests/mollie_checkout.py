"""What a web shop's checkout does at Mollie before it sends us the order: create the payment (a card
held with `captureMode: manual`, or iDEAL/Bancontact taken at once) and let the customer finish it
(the sandbox's hook plays the customer). Also a plain look at the payment as Mollie has it."""

from __future__ import annotations

from typing import Any

import httpx

from domain.money import Money
from integrations.payments.mollie_gateway import mollie_amount
from sandboxes.mollie import API_KEY

AUTH = {"Authorization": f"Bearer {API_KEY}"}


def checkout(url: str, amount: Money, *, method: str = "ideal", status: str | None = "paid") -> str:
    """A payment for `amount`, finished by the customer with `status` (None: left open); its tr_ id."""
    body: dict[str, Any] = {
        "amount": mollie_amount(amount),
        "description": "Order at the web shop",
        "redirectUrl": "https://shop.example.org/thanks",
        "webhookUrl": "https://oms.example.org/webhooks/mollie",
        "method": method,
    }
    if method == "creditcard":
        body["captureMode"] = "manual"
    created = httpx.post(f"{url}/v2/payments", headers=AUTH, json=body)
    assert created.status_code == 201, created.text
    payment_id = str(created.json()["id"])
    if status is not None:
        customer(url, payment_id, status)
    return payment_id


def customer(url: str, payment_id: str, status: str) -> None:
    """The customer (or Mollie) moves the payment to `status`."""
    answer = httpx.post(f"{url}/_sandbox/payments/{payment_id}/status", json={"status": status})
    assert answer.status_code == 200, answer.text


def at_mollie(url: str, payment_id: str, child: str = "") -> dict[str, Any]:
    answer = httpx.get(f"{url}/v2/payments/{payment_id}{'/' + child if child else ''}", headers=AUTH)
    assert answer.status_code == 200, answer.text
    result: dict[str, Any] = answer.json()
    return result


def listed(url: str, payment_id: str, child: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = at_mollie(url, payment_id, child)["_embedded"][child]
    return items


def dashboard_refund(url: str, payment_id: str, amount: Money) -> str:
    """A refund a person makes in Mollie's dashboard (no step of ours in its metadata)."""
    made = httpx.post(
        f"{url}/v2/payments/{payment_id}/refunds",
        headers=AUTH,
        json={"amount": mollie_amount(amount), "description": "goodwill"},
    )
    assert made.status_code == 201, made.text
    return str(made.json()["id"])


def fail_next(url: str, status: int, *, count: int = 1, retry_after: str | None = None) -> None:
    httpx.post(f"{url}/_sandbox/fail-next", json={"status": status, "count": count, "retry_after": retry_after})


def outage(url: str, on: bool) -> None:
    httpx.post(f"{url}/_sandbox/outage", json={"on": on})


def pay_link(url: str, link_id: str, *, status: str = "paid") -> httpx.Response:
    """The customer opens the payment link and pays (or fails at the bank): the answer names the tr_ payment."""
    return httpx.post(f"{url}/_sandbox/payment-links/{link_id}/pay", json={"method": "ideal", "status": status})


def expire_link(url: str, link_id: str) -> None:
    """Time passes at Mollie: the link's deadline is now."""
    answer = httpx.post(f"{url}/_sandbox/payment-links/{link_id}/expire")
    assert answer.status_code == 200, answer.text
