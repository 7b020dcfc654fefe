"""An exchange whose replacement costs more, on an order paid through Mollie (the Mollie sandbox, real
HTTP, a real worker, both databases): the replacement is reserved and the customer is asked for the
difference with a Mollie payment link, shown on the return and the tracking page. Paid (Mollie's
webhook, `id=tr_…`, posted to the API as Mollie would): the replacement ships and the payments add
up to the cent. Not paid by the deadline: the link is closed at Mollie, the replacement released
and what came back refunded instead."""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta
from typing import Any

import httpx
from fastapi.testclient import TestClient
from sqlalchemy import select

from contracts.returns import ReturnAccepted
from domain.money import Money
from integrations.payments.mollie_gateway import MollieGateway
from integrations.payments.routing import PaymentGateways
from integrations.sandbox.payments import SandboxPaymentGateway
from persistence.guarded_writes import inventory
from persistence.models import PaymentLinkRecord, PaymentRecord, ReturnRecord, ShipmentRecord
from sandboxes.mollie import API_KEY
from services.tracking import tracking_url
from tests.factories import add_location, next_id, stock
from tests.mollie_checkout import AUTH, at_mollie, checkout, pay_link
from tests.workflow.conftest import Engine, api_client, event_kinds, running_engine, until
from tests.workflow.histories import record_history

TOKEN = "mollie-links-admin-token"
STAFF = {"Authorization": f"Bearer {TOKEN}"}
FORM = {"Content-Type": "application/x-www-form-urlencoded"}
TOTAL = 3 * 1000 + 1250 + 495  # 3 tees, a mug, shipping: 47.45


def _gateways(mollie_url: str) -> PaymentGateways:
    mollie, sandbox = MollieGateway(API_KEY, mollie_url), SandboxPaymentGateway()
    return PaymentGateways(sandbox, channels={"webshop": mollie}, providers={"mollie": mollie, "sandbox": sandbox})


def _engine(temporal_client: Any, database: Any, mollie_url: str, expiry: timedelta) -> Any:
    return running_engine(
        temporal_client,
        database,
        gateway=_gateways(mollie_url),
        mollie_api_key=API_KEY,
        mollie_api_url=mollie_url,
        payment_link_expiry=expiry,
    )


def _order(payment_id: str) -> dict[str, Any]:
    return {
        "channel": "webshop",
        "external_id": f"ML-{next_id()}",
        "currency": "EUR",
        "lines": [
            {"sku": "TEE", "quantity": 3, "unit_price": {"amount_minor": 1000, "currency": "EUR"}},
            {"sku": "MUG", "quantity": 1, "unit_price": {"amount_minor": 1250, "currency": "EUR"}},
        ],
        "total": {"amount_minor": TOTAL, "currency": "EUR"},
        "shipping": {"amount_minor": 495, "currency": "EUR"},
        "shipping_address": {"name": "Robin", "city": "Amsterdam", "country": "NL"},
        "customer_email": "robin@example.org",
        "payment_method": payment_id,
    }


async def _post(api: TestClient, path: str, body: dict[str, Any]) -> httpx.Response:
    return await asyncio.to_thread(api.post, path, json=body, headers=STAFF)


async def _exchange_for_a_dearer_mug(engine: Engine, api: TestClient, mollie_url: str) -> tuple[str, str, str]:
    """A shipped iDEAL order; one tee (10.00) back for a mug (12.50): (order id, return id, link id)."""
    add_location(engine.db.session_factory, "AMS")
    stock(engine.db.session_factory, "AMS", {"TEE": 10, "MUG": 5})
    placed = await _post(api, "/orders", _order(checkout(mollie_url, Money(TOTAL, "EUR"))))
    assert placed.status_code == 202, placed.text
    order_id: str = placed.json()["order_id"]
    await engine.wait_for_status(order_id, "SHIPPED")
    asked = await _post(
        api,
        f"/orders/{order_id}/returns",
        {
            "lines": [{"sku": "TEE", "quantity": 1}],
            "reason": "wrong size",
            "resolution": "exchange",
            "replacement": [{"sku": "MUG", "quantity": 1}],
        },
    )
    assert asked.status_code == 202, asked.text
    return_id: str = asked.json()["return_id"]
    received = await _post(
        api, f"/returns/{return_id}/receive", {"location_id": "AMS", "lines": [{"sku": "TEE", "quantity": 1}]}
    )
    assert received.status_code == 200, received.text
    disposed = await _post(
        api, f"/returns/{return_id}/dispose", {"lines": [{"sku": "TEE", "quantity": 1, "disposition": "restock"}]}
    )
    assert disposed.status_code == 200, disposed.text
    link = await until(lambda: _link(engine, return_id), "the payment link", timeout=60)
    return order_id, return_id, link.link_id


def _link_at_mollie(mollie_url: str, link_id: str) -> dict[str, Any]:
    answer: dict[str, Any] = httpx.get(f"{mollie_url}/v2/payment-links/{link_id}", headers=AUTH).json()
    return answer


def _link(engine: Engine, return_id: str) -> PaymentLinkRecord | None:
    with engine.db.session() as session:
        link = session.scalar(select(PaymentLinkRecord).where(PaymentLinkRecord.owner == return_id))
        if link is not None:
            session.expunge(link)
        return link


def _payments(engine: Engine, order_id: str) -> list[tuple[str, str, int, int]]:
    with engine.db.session() as session:
        rows = session.scalars(
            select(PaymentRecord).where(PaymentRecord.order_id == order_id).order_by(PaymentRecord.created_at)
        )
        return [(p.provider, p.provider_ref, p.captured_minor, p.refunded_minor) for p in rows]


def _return(engine: Engine, return_id: str) -> ReturnRecord:
    with engine.db.session() as session:
        record = session.get(ReturnRecord, return_id)
        assert record is not None
        session.expunge(record)
        return record


def _shipment_status(engine: Engine, shipment_id: str) -> str | None:
    with engine.db.session() as session:
        record = session.get(ShipmentRecord, shipment_id)
        return record.status if record is not None else None


def _stock_of(engine: Engine, sku: str) -> tuple[int, int]:
    with engine.db.session() as session:
        row = inventory.stock_row(session, "AMS", sku)
        return (row.on_hand, row.reserved) if row else (0, 0)


async def _resolved(engine: Engine, return_id: str, timeout: float = 90) -> ReturnRecord:
    deadline = time.monotonic() + timeout
    while True:
        record = await asyncio.to_thread(_return, engine, return_id)
        if record.state == "RESOLVED" or time.monotonic() > deadline:
            return record
        await asyncio.sleep(0.2)


async def test_a_dearer_exchange_paid_through_the_link_ships_and_the_payments_add_up(
    temporal_client, database, mollie_url
):
    async with _engine(temporal_client, database, mollie_url, timedelta(days=3)) as engine:
        with api_client(engine, TOKEN) as api:
            order_id, return_id, link_id = await _exchange_for_a_dearer_mug(engine, api, mollie_url)
            shown = (await asyncio.to_thread(api.get, f"/returns/{return_id}", headers=STAFF)).json()
            asked = shown["difference"]
            assert asked["amount"] == {"amount_minor": 250, "currency": "EUR"}, shown
            assert (asked["status"], asked["payment_id"]) == ("AWAITING_PAYMENT", None), shown
            link = {"url": asked["link"]}
            assert link["url"].startswith("https://payment-links.mollie.com/payment/") and asked["link_expires_at"]
            assert shown["state"] == "DISPOSED" and shown["replacement_shipment_id"] is None
            at = _link_at_mollie(mollie_url, link_id)
            assert at["amount"] == {"currency": "EUR", "value": "2.50"} and at["archived"] is False
            assert _stock_of(engine, "MUG") == (4, 1)  # the replacement waits reserved
            page = await asyncio.to_thread(api.get, tracking_url(engine.settings, order_id, ""))
            assert page.status_code == 200 and link["url"] in page.text and "2.50 EUR" in page.text
            assert "robin" not in page.text.lower()

            paid = pay_link(mollie_url, link_id)
            assert paid.status_code == 200, paid.text
            payment_id = paid.json()["payment_id"]
            for _ in range(2):  # Mollie repeats its webhook: recorded once
                hooked = await asyncio.to_thread(api.post, "/webhooks/mollie", content=f"id={payment_id}", headers=FORM)
                assert hooked.status_code == 200, hooked.text
            record = await _resolved(engine, return_id)
            shown = (await asyncio.to_thread(api.get, f"/returns/{return_id}", headers=STAFF)).json()

        assert record.state == "RESOLVED" and record.refund_minor == 0
        assert shown["difference"]["status"] == "CAPTURED", shown  # taken when the replacement left
        assert shown["difference"]["payment_id"] == f"payment-{order_id}-x1"
        shipment_id = record.replacement_shipment_id
        assert shipment_id == f"shipment-{order_id}-AMS-x1"
        assert await until(lambda: _shipment_status(engine, shipment_id) == "SHIPPED", "the replacement shipped")
        [first, difference] = _payments(engine, order_id)
        assert first[2:] == (TOTAL, 0) and difference == ("mollie", payment_id, 250, 0)
        # What the customer paid in all = the order + the difference = what they have (the order,
        # the mug instead of one tee): 47.45 + 2.50 = 49.95.
        assert first[2] + difference[2] == TOTAL - 1000 + 1250
        assert at_mollie(mollie_url, payment_id)["amount"] == {"currency": "EUR", "value": "2.50"}
        assert _stock_of(engine, "MUG") == (3, 0) and _stock_of(engine, "TEE") == (8, 0)
        kinds = event_kinds(engine, order_id)
        for kind in ("payment_link_opened", "payment_link_paid", "exchange_reserved", "exchange_shipped"):
            assert kinds.count(kind) == 1, (kind, kinds)
        assert kinds.count("payment_captured") == 2  # the order's own when it shipped, the difference's now
        assert "exchange_refunded_instead" not in kinds and "refunded" not in kinds
        handle = engine.client.get_workflow_handle(return_id, result_type=ReturnAccepted)
        await handle.result()
        await record_history(handle, "return_exchange_paid_by_link")


async def test_an_unpaid_link_is_closed_at_its_deadline_and_what_came_back_is_refunded(
    temporal_client, database, mollie_url
):
    async with _engine(temporal_client, database, mollie_url, timedelta(seconds=6)) as engine:
        with api_client(engine, TOKEN) as api:
            order_id, return_id, link_id = await _exchange_for_a_dearer_mug(engine, api, mollie_url)
            record = await _resolved(engine, return_id)
            shown = (await asyncio.to_thread(api.get, f"/returns/{return_id}", headers=STAFF)).json()

        assert (record.state, record.status, record.refund_minor) == ("RESOLVED", "REFUNDED", 1000)
        assert record.replacement_shipment_id is None
        assert (shown["difference"]["status"], shown["difference"]["payment_id"]) == ("EXPIRED", None), shown
        at = _link_at_mollie(mollie_url, link_id)
        assert at["archived"] is True and at["paidAt"] is None
        assert pay_link(mollie_url, link_id).status_code == 409  # too late: nobody pays for what is not sent
        assert _payments(engine, order_id) == [("mollie", _payments(engine, order_id)[0][1], TOTAL, 1000)]
        assert _stock_of(engine, "MUG") == (4, 0)  # the replacement's reservation given back
        kinds = event_kinds(engine, order_id)
        for kind in ("payment_link_opened", "payment_link_expired", "stock_released", "exchange_refunded_instead"):
            assert kinds.count(kind) == 1, (kind, kinds)
        assert "payment_link_paid" not in kinds and "exchange_shipped" not in kinds
        handle = engine.client.get_workflow_handle(return_id, result_type=ReturnAccepted)
        await handle.result()
        await record_history(handle, "return_exchange_link_expired")
