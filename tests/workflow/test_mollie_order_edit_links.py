"""An order edit that costs more on an order paid at Mollie's checkout (the Mollie sandbox, real HTTP,
a real worker and dev server, both databases): Mollie cannot be asked for more without the customer,
so the edit answers `awaiting_payment` with a payment link for the increase and nothing of it is
applied meanwhile. Paid (Mollie's webhook, posted to the API as Mollie would): the edit applies, the
added line ships, and the order's payments add up to the edited total to the cent. Unpaid by its
deadline: the link is closed at Mollie, the edit lapses and the order ships as it was. Cancelled
while the link is open: the link is closed at Mollie."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select

from contracts.order_workflow import OrderWorkflowResult
from domain.money import Money
from persistence.models import PaymentLinkRecord, PaymentRecord
from persistence.read_model import order_versions
from sandboxes.mollie import API_KEY
from tests.factories import add_location, next_id, stock
from tests.mollie_checkout import at_mollie, checkout, pay_link
from tests.workflow.conftest import Engine, api_client, event_kinds, running_engine, until
from tests.workflow.histories import record_history
from tests.workflow.test_mollie_exchange_links import FORM, _gateways, _link_at_mollie, _stock_of
from tests.workflow.test_order_edits import _running, _ship, _shipments

TOKEN = "mollie-edit-links-admin-token"
STAFF = {"Authorization": f"Bearer {TOKEN}"}
TOTAL = 2 * 1000 + 495  # 2 tees, shipping: 24.95
CAP = 1333


def _engine(temporal_client: Any, database: Any, mollie_url: str, expiry: timedelta) -> Any:
    """Staff confirm each step on the floor (auto_confirm off): nothing ships until the test says so."""
    return running_engine(
        temporal_client,
        database,
        gateway=_gateways(mollie_url),
        mollie_api_key=API_KEY,
        mollie_api_url=mollie_url,
        payment_link_expiry=expiry,
        auto_confirm=False,
    )


def _order(payment_id: str) -> dict[str, Any]:
    return {
        "channel": "webshop",
        "external_id": f"ME-{next_id()}",
        "currency": "EUR",
        "lines": [{"sku": "TEE", "quantity": 2, "unit_price": {"amount_minor": 1000, "currency": "EUR"}}],
        "total": {"amount_minor": TOTAL, "currency": "EUR"},
        "shipping": {"amount_minor": 495, "currency": "EUR"},
        "shipping_address": {"name": "Robin", "city": "Amsterdam", "country": "NL"},
        "customer_email": "robin@example.org",
        "payment_method": payment_id,
    }


ADD_A_CAP = {
    "changes": [
        {"kind": "add_line", "sku": "CAP", "quantity": 1, "unit_price": {"amount_minor": CAP, "currency": "EUR"}}
    ],
    "reason": "customer called",
}


async def _placed(engine: Engine, api: TestClient, mollie_url: str, method: str = "ideal") -> tuple[str, str]:
    """An iDEAL order (paid at Mollie's checkout; `creditcard`: held there, captured when it ships)
    reserved at AMS, its shipment waiting for the floor."""
    add_location(engine.db.session_factory, "AMS")
    stock(engine.db.session_factory, "AMS", {"TEE": 10, "CAP": 5})
    status = "authorized" if method == "creditcard" else "paid"
    paid_at_checkout = checkout(mollie_url, Money(TOTAL, "EUR"), method=method, status=status)
    placed = await asyncio.to_thread(api.post, "/orders", json=_order(paid_at_checkout), headers=STAFF)
    assert placed.status_code == 202, placed.text
    order_id: str = placed.json()["order_id"]
    first = f"shipment-{order_id}-AMS"
    await _running(engine.client, first, timeout=60)
    return order_id, first


async def _ask_for_a_cap(api: TestClient, order_id: str) -> dict[str, Any]:
    answer = await asyncio.to_thread(api.post, f"/orders/{order_id}/edits", json=ADD_A_CAP, headers=STAFF)
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


def _link(engine: Engine, order_id: str) -> PaymentLinkRecord:
    with engine.db.session() as session:
        link = session.scalar(select(PaymentLinkRecord).where(PaymentLinkRecord.owner == order_id))
        assert link is not None
        session.expunge(link)
        return link


def _payments(engine: Engine, order_id: str) -> list[tuple[str, str, int, int, int]]:
    with engine.db.session() as session:
        rows = session.scalars(
            select(PaymentRecord).where(PaymentRecord.order_id == order_id).order_by(PaymentRecord.created_at)
        )
        return [(p.payment_id, p.purpose, p.authorized_minor, p.captured_minor, p.refunded_minor) for p in rows]


def _versions(engine: Engine, order_id: str) -> list[int]:
    with engine.db.session() as session:
        return [record.number for record in order_versions.versions(session, order_id)]


async def test_an_edit_paid_through_the_link_applies_ships_and_the_payments_add_up(
    temporal_client, database, mollie_url
):
    async with _engine(temporal_client, database, mollie_url, timedelta(days=3)) as engine:
        with api_client(engine, TOKEN) as api:
            order_id, first = await _placed(engine, api, mollie_url)
            asked = await _ask_for_a_cap(api, order_id)
            assert asked["status"] == "awaiting_payment", asked
            assert asked["authorize"] == {"amount_minor": CAP, "currency": "EUR"}
            assert asked["total"] == {"amount_minor": TOTAL + CAP, "currency": "EUR"} and asked["version"] == 2
            assert asked["payment_link"].startswith("https://payment-links.mollie.com/") and asked["pay_by"]
            link = _link(engine, order_id)
            assert (link.purpose, link.amount_minor, link.status) == ("edit_increase", CAP, "open")
            assert _link_at_mollie(mollie_url, link.link_id)["amount"] == {"currency": "EUR", "value": "13.33"}
            shown = (await asyncio.to_thread(api.get, f"/orders/{order_id}", headers=STAFF)).json()
            assert shown["edit_payment_link"] == {
                "url": asked["payment_link"],
                "amount": {"amount_minor": CAP, "currency": "EUR"},
                "expires_at": asked["pay_by"],
            }, shown
            # Nothing of the edit applied while the link waits; no other edit is taken meanwhile.
            assert _stock_of(engine, "CAP") == (5, 0) and _versions(engine, order_id) == []
            again = await asyncio.to_thread(api.post, f"/orders/{order_id}/edits", json=ADD_A_CAP, headers=STAFF)
            assert again.status_code == 409 and again.json()["detail"]["refusal"] == "not_editable", again.text

            paid = pay_link(mollie_url, link.link_id)
            assert paid.status_code == 200, paid.text
            payment_ref = paid.json()["payment_id"]
            for _ in range(2):  # Mollie repeats its webhook: recorded once
                hooked = await asyncio.to_thread(
                    api.post, "/webhooks/mollie", content=f"id={payment_ref}", headers=FORM
                )
                assert hooked.status_code == 200, hooked.text

            await until(lambda: _versions(engine, order_id) == [1, 2], "the edit applied", timeout=60)
            shown = (await asyncio.to_thread(api.get, f"/orders/{order_id}", headers=STAFF)).json()
            assert shown["edit_payment_link"] is None and [v["number"] for v in shown["versions"]] == [1, 2]
            second = f"{first}-2"
            await _running(engine.client, second, timeout=30)
            assert _shipments(engine.db, order_id)[second] == ("RESERVED", {"CAP": 1})
            await _ship(engine.client, first, "AMS", "3SLINK1")
            await _ship(engine.client, second, "AMS", "3SLINK2")
            await engine.wait_for_status(order_id, "SHIPPED", timeout=60)
            await record_history(engine.client.get_workflow_handle(order_id), "order_edit_paid_by_link")

        [own, extra] = _payments(engine, order_id)
        assert own == (f"payment-{order_id}", "order", TOTAL, TOTAL, 0)
        assert extra == (f"payment-{order_id}-e2", "edit_increase", CAP, CAP, 0)
        assert own[3] + extra[3] == TOTAL + CAP  # the edited total, to the cent
        assert _stock_of(engine, "CAP") == (4, 0)
        kinds = event_kinds(engine, order_id)
        for kind in ("payment_link_opened", "payment_link_paid", "order_edit_awaiting_payment", "order_edited"):
            assert kinds.count(kind) == 1, (kind, kinds)
        assert "order_edit_lapsed" not in kinds and "payment_refunded" not in kinds


async def test_an_unpaid_link_lapses_and_the_order_ships_as_it_was(temporal_client, database, mollie_url):
    async with _engine(temporal_client, database, mollie_url, timedelta(seconds=6)) as engine:
        with api_client(engine, TOKEN) as api:
            order_id, first = await _placed(engine, api, mollie_url)
            asked = await _ask_for_a_cap(api, order_id)
            assert asked["status"] == "awaiting_payment", asked
            link_id = _link(engine, order_id).link_id
            await until(lambda: _link(engine, order_id).status == "expired", "the link expired", timeout=60)
            assert pay_link(mollie_url, link_id).status_code == 409  # archived at Mollie: too late
            await until(lambda: "order_edit_lapsed" in event_kinds(engine, order_id), "the edit lapsed")
            await _ship(engine.client, first, "AMS", "3SLAPSE1")
            await engine.wait_for_status(order_id, "SHIPPED", timeout=60)
            await record_history(engine.client.get_workflow_handle(order_id), "order_edit_link_lapsed")

        assert _link_at_mollie(mollie_url, link_id)["archived"] is True
        assert _payments(engine, order_id) == [(f"payment-{order_id}", "order", TOTAL, TOTAL, 0)]
        assert _versions(engine, order_id) == [] and _stock_of(engine, "CAP") == (5, 0)
        assert set(_shipments(engine.db, order_id)) == {first}
        kinds = event_kinds(engine, order_id)
        assert kinds.count("payment_link_expired") == 1 and "order_edited" not in kinds


async def test_a_cancel_with_the_link_open_closes_it(temporal_client, database, mollie_url):
    async with _engine(temporal_client, database, mollie_url, timedelta(days=3)) as engine:
        with api_client(engine, TOKEN) as api:
            order_id, _ = await _placed(engine, api, mollie_url)
            assert (await _ask_for_a_cap(api, order_id))["status"] == "awaiting_payment"
            link_id = _link(engine, order_id).link_id
            cancelled = await asyncio.to_thread(
                api.post, f"/orders/{order_id}/cancel", json={"reason": "customer changed their mind"}, headers=STAFF
            )
            assert cancelled.status_code in (200, 202), cancelled.text
            handle = engine.client.get_workflow_handle(order_id, result_type=OrderWorkflowResult)
            assert (await asyncio.wait_for(handle.result(), 60)).status.value == "CANCELLED"

        assert _link(engine, order_id).status == "cancelled"
        assert _link_at_mollie(mollie_url, link_id)["archived"] is True
        assert pay_link(mollie_url, link_id).status_code == 409
        kinds = event_kinds(engine, order_id)
        assert kinds.count("payment_link_cancelled") == 1 and kinds.count("order_edit_lapsed") == 1


async def test_a_link_paid_after_everything_left_is_refunded(temporal_client, database, mollie_url):
    """The customer paid, but the order's parcel left before it knew (no webhook reached it): the
    edit can no longer be made, so the link's payment goes back to the customer."""
    async with _engine(temporal_client, database, mollie_url, timedelta(days=3)) as engine:
        with api_client(engine, TOKEN) as api:
            order_id, first = await _placed(engine, api, mollie_url)
            assert (await _ask_for_a_cap(api, order_id))["status"] == "awaiting_payment"
            link_id = _link(engine, order_id).link_id
            paid = pay_link(mollie_url, link_id)
            assert paid.status_code == 200, paid.text
            payment_ref = paid.json()["payment_id"]
            await _ship(engine.client, first, "AMS", "3SLATE1")
            await engine.wait_for_status(order_id, "SHIPPED", timeout=60)
            await until(lambda: "payment_refunded" in event_kinds(engine, order_id), "the link's payment refunded")

        assert _link(engine, order_id).status == "paid"
        [own, extra] = _payments(engine, order_id)
        assert own == (f"payment-{order_id}", "order", TOTAL, TOTAL, 0)
        assert extra == (f"payment-{order_id}-e2", "edit_increase", CAP, CAP, CAP)  # all given back
        refunds = at_mollie(mollie_url, payment_ref, "refunds")["_embedded"]["refunds"]
        assert [refund["amount"] for refund in refunds] == [{"currency": "EUR", "value": "13.33"}]
        assert _versions(engine, order_id) == [] and _stock_of(engine, "CAP") == (5, 0)
        kinds = event_kinds(engine, order_id)
        assert kinds.count("order_edit_lapsed") == 1 and "order_edited" not in kinds


async def test_after_a_lapsed_link_the_same_edit_asked_again_is_paid_with_its_own_payment(
    temporal_client, database, mollie_url
):
    async with _engine(temporal_client, database, mollie_url, timedelta(seconds=8)) as engine:
        with api_client(engine, TOKEN) as api:
            order_id, first = await _placed(engine, api, mollie_url)
            assert (await _ask_for_a_cap(api, order_id))["status"] == "awaiting_payment"
            await until(lambda: "order_edit_lapsed" in event_kinds(engine, order_id), "the first link lapsed", 60)
            asked = await _ask_for_a_cap(api, order_id)
            assert (asked["status"], asked["version"]) == ("awaiting_payment", 2)
            with engine.db.session() as session:
                links = session.scalars(
                    select(PaymentLinkRecord)
                    .where(PaymentLinkRecord.owner == order_id)
                    .order_by(PaymentLinkRecord.created_at)
                ).all()
                assert [(link.status, link.payment_id) for link in links] == [
                    ("expired", f"payment-{order_id}-e2"),
                    ("open", f"payment-{order_id}-e2-2"),
                ]
                second_link = links[1].link_id
            paid = pay_link(mollie_url, second_link)
            assert paid.status_code == 200, paid.text
            hooked = await asyncio.to_thread(
                api.post, "/webhooks/mollie", content=f"id={paid.json()['payment_id']}", headers=FORM
            )
            assert hooked.status_code == 200, hooked.text
            await until(lambda: _versions(engine, order_id) == [1, 2], "the edit applied", timeout=60)
            await _ship(engine.client, first, "AMS", "3SAGAIN1")
            await _ship(engine.client, f"{first}-2", "AMS", "3SAGAIN2")
            await engine.wait_for_status(order_id, "SHIPPED", timeout=60)

        [own, extra] = _payments(engine, order_id)
        assert own[3] == TOTAL and extra == (f"payment-{order_id}-e2-2", "edit_increase", CAP, CAP, 0)


async def test_a_card_held_at_mollie_captures_its_hold_and_the_link_pays_the_rest(
    temporal_client, database, mollie_url
):
    async with _engine(temporal_client, database, mollie_url, timedelta(days=3)) as engine:
        with api_client(engine, TOKEN) as api:
            order_id, first = await _placed(engine, api, mollie_url, method="creditcard")
            held_at = _payments(engine, order_id)[0]
            assert (await _ask_for_a_cap(api, order_id))["status"] == "awaiting_payment"
            paid = pay_link(mollie_url, _link(engine, order_id).link_id)
            assert paid.status_code == 200, paid.text
            hooked = await asyncio.to_thread(
                api.post, "/webhooks/mollie", content=f"id={paid.json()['payment_id']}", headers=FORM
            )
            assert hooked.status_code == 200, hooked.text
            await until(lambda: _versions(engine, order_id) == [1, 2], "the edit applied", timeout=60)
            await _ship(engine.client, first, "AMS", "3SCARD1")
            await _ship(engine.client, f"{first}-2", "AMS", "3SCARD2")
            await engine.wait_for_status(order_id, "SHIPPED", timeout=60)

        [own, extra] = _payments(engine, order_id)
        assert own == (held_at[0], "order", TOTAL, TOTAL, 0) and extra[1:] == ("edit_increase", CAP, CAP, 0)
        with engine.db.session() as session:
            card = session.get(PaymentRecord, own[0])
            assert card is not None
            captured = at_mollie(mollie_url, card.provider_ref)["amountCaptured"]
        assert captured == {"currency": "EUR", "value": "24.95"}  # the hold, captured whole; the cap by link
