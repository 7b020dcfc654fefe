"""Payment links at Mollie (the sandbox in Mollie's documented shapes, real HTTP): created with a
deadline, paid by the customer (the payment found in the link's payments), archived so nobody pays
later, Mollie's refusals (422 naming the field, 404), and a retried creation answering the same link."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest

from domain.money import Money
from domain.payment_links import LinkStatus
from integrations.payments.mollie_gateway import MollieGateway
from integrations.providers import PaymentRejected
from sandboxes.mollie import API_KEY
from tests.mollie_checkout import AUTH, at_mollie, expire_link, pay_link


@pytest.fixture
def gateway(mollie_url: str) -> MollieGateway:
    return MollieGateway(API_KEY, mollie_url)


def _soon(days: int = 3) -> datetime:
    return datetime.now(UTC) + timedelta(days=days)


def test_a_link_is_paid_by_the_customer_and_its_payment_found(gateway, mollie_url):
    deadline = _soon()
    link = gateway.create_payment_link(
        "return-1:pay-link",
        Money(1_234_567, "EUR"),
        "Exchange RMA-1",
        deadline,
        "https://oms.example.org/webhooks/mollie",
    )
    assert link.link_id.startswith("pl_") and link.url.startswith("https://payment-links.mollie.com/payment/")
    assert (link.status, link.amount, link.payment_id) == (LinkStatus.OPEN, Money(1_234_567, "EUR"), None)
    assert link.expires_at == deadline.replace(microsecond=0)
    raw = httpx.get(f"{mollie_url}/v2/payment-links/{link.link_id}", headers=AUTH).json()
    assert raw["resource"] == "payment-link" and raw["amount"] == {"currency": "EUR", "value": "12345.67"}
    assert raw["paidAt"] is None and raw["archived"] is False and raw["reusable"] is False

    paid = pay_link(mollie_url, link.link_id)
    assert paid.status_code == 200, paid.text
    payment_id = paid.json()["payment_id"]
    again = gateway.payment_link(link.link_id)
    assert (again.status, again.payment_id) == (LinkStatus.PAID, payment_id)
    assert at_mollie(mollie_url, payment_id)["amount"] == {"currency": "EUR", "value": "12345.67"}
    assert pay_link(mollie_url, link.link_id).status_code == 409  # one-off: paid once
    deleted = httpx.delete(f"{mollie_url}/v2/payment-links/{link.link_id}", headers=AUTH)
    assert deleted.status_code == 422 and deleted.json()["title"] == "Unprocessable Entity"


def test_a_retried_creation_answers_the_same_link(gateway):
    first = gateway.create_payment_link("return-2:pay-link", Money(500, "EUR"), "Exchange RMA-2", _soon())
    second = gateway.create_payment_link("return-2:pay-link", Money(500, "EUR"), "Exchange RMA-2", first.expires_at)
    assert second.link_id == first.link_id


def test_an_archived_link_cannot_be_paid_and_a_payment_first_still_counts(gateway, mollie_url):
    closed = gateway.create_payment_link("r3:pay-link", Money(700, "EUR"), "Exchange", _soon())
    assert gateway.archive_payment_link("r3:close", closed.link_id).status is LinkStatus.CANCELLED
    assert pay_link(mollie_url, closed.link_id).status_code == 409

    raced = gateway.create_payment_link("r4:pay-link", Money(700, "EUR"), "Exchange", _soon())
    assert pay_link(mollie_url, raced.link_id).status_code == 200  # the customer was quicker
    assert gateway.archive_payment_link("r4:close", raced.link_id).status is LinkStatus.PAID


def test_an_expired_link_reads_expired_and_cannot_be_paid(gateway, mollie_url):
    link = gateway.create_payment_link("r5:pay-link", Money(700, "EUR"), "Exchange", _soon())
    expire_link(mollie_url, link.link_id)
    assert gateway.payment_link(link.link_id).status is LinkStatus.EXPIRED
    assert pay_link(mollie_url, link.link_id).status_code == 409


def test_a_failed_payment_leaves_the_link_open(gateway, mollie_url):
    link = gateway.create_payment_link("r6:pay-link", Money(700, "EUR"), "Exchange", _soon())
    assert pay_link(mollie_url, link.link_id, status="failed").status_code == 200
    assert gateway.payment_link(link.link_id).status is LinkStatus.OPEN
    assert pay_link(mollie_url, link.link_id).status_code == 200
    assert gateway.payment_link(link.link_id).status is LinkStatus.PAID


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"description": "x", "amount": {"currency": "EUR", "value": "5"}}, "amount.value"),
        ({"description": "", "amount": {"currency": "EUR", "value": "5.00"}}, "description"),
        (
            {
                "description": "x",
                "amount": {"currency": "EUR", "value": "5.00"},
                "expiresAt": "2001-01-01T00:00:00+00:00",
            },
            "expiresAt",
        ),
        (
            {
                "description": "x",
                "amount": {"currency": "EUR", "value": "5.00"},
                "webhookUrl": "http://localhost:8000/webhooks/mollie",
            },
            "webhookUrl",
        ),
    ],
)
def test_mollie_refuses_a_bad_link_naming_the_field(mollie_url, body, field):
    answer = httpx.post(f"{mollie_url}/v2/payment-links", headers=AUTH, json=body)
    assert answer.status_code == 422 and answer.headers["content-type"].startswith("application/hal+json")
    assert answer.json()["field"] == field and answer.json()["status"] == 422


def test_an_unknown_link_is_refused(gateway, mollie_url):
    assert httpx.get(f"{mollie_url}/v2/payment-links/pl_nothing", headers=AUTH).json()["status"] == 404
    with pytest.raises(PaymentRejected):
        gateway.payment_link("pl_nothing")
    with pytest.raises(PaymentRejected):
        gateway.payment_link("tr_notalink")
