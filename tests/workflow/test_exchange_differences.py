"""An exchange whose replacement costs more than the returned units were worth, on the real dev
server and database: the replacement is reserved first, the difference authorized as a payment of
its own on the order's card and captured when the replacement leaves, so the order's captures add
up to the cent (sandbox gateway on both databases, and Stripe through localstripe); a declined
difference (or one Mollie cannot take without the customer) releases the reservation and refunds
what came instead; later refunds and goodwill spread over both payments and never give back more
than was captured."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select

from contracts.return_lifecycle import ExchangeDifference
from domain.money import Money
from domain.status import OrderStatus
from integrations.payments import StripeGateway
from persistence.models import GoodwillRecord, OrderEvent, PaymentRecord, ReturnRecord
from services.intake import start_order
from tests.conftest import TestDatabase
from tests.factories import add_location, make_order, stock
from tests.workflow.conftest import (
    api_client,
    ask_exchange,
    event_kinds,
    received_and_restocked,
    running_engine,
    stock_of,
    until,
)
from tests.workflow.histories import record_history
from tests.workflow.test_mollie_payments import _gateways as mollie_gateways
from tests.workflow.test_mollie_payments import _order as mollie_order
from tests.workflow.test_order_edit_increases import _card, _confirmed_at_checkout, _stripe
from tests.workflow.test_return_resolutions import (
    STAFF,
    TOKEN,
    _order,
    _post,
    _resolved,
    _shipped,
    _stocked,
)
from workflows.returns import ReturnWorkflow

SECRET = "sk_test_oms_edit_increase"  # the key _confirmed_at_checkout speaks to localstripe with


def _payments(db: TestDatabase, order_id: str) -> dict[str, PaymentRecord]:
    with db.session() as session:
        rows = list(session.scalars(select(PaymentRecord).where(PaymentRecord.order_id == order_id)))
        for row in rows:
            session.expunge(row)
        return {row.payment_id: row for row in rows}


def _events(db: TestDatabase, order_id: str, kind: str) -> list[str]:
    with db.session() as session:
        return list(
            session.scalars(
                select(OrderEvent.detail)
                .where(OrderEvent.order_id == order_id, OrderEvent.kind == kind)
                .order_by(OrderEvent.id)
            )
        )


def _goodwill_done(db: TestDatabase, order_id: str) -> bool:
    with db.session() as session:
        rows = session.scalars(select(GoodwillRecord.status).where(GoodwillRecord.order_id == order_id)).all()
        return bool(rows) and all(status != "RESERVED" for status in rows)


async def _get(api: TestClient, path: str) -> Any:
    answer = await asyncio.to_thread(api.get, path, headers=STAFF)
    assert answer.status_code == 200, answer.text
    return answer.json()


async def test_a_dearer_replacement_is_charged_the_difference_and_later_refunds_spread_over_both_payments(
    temporal_client, database
):
    async with running_engine(temporal_client, database) as engine:
        _stocked(database)  # TEE 10, MUG 5 at AMS
        with api_client(engine, TOKEN) as api:
            order_id = await _shipped(engine, api, _order())  # 3 x TEE 10.00, 1 x MUG 12.50, 4.95: 47.45
            own, extra = f"payment-{order_id}", f"payment-{order_id}-x1"
            return_id = await ask_exchange(api, STAFF, order_id, {"TEE": 1}, [{"sku": "MUG", "quantity": 1}])
            await received_and_restocked(api, STAFF, return_id, {"TEE": 1})
            record = await _resolved(engine, return_id)
            assert (record.state, record.resolution, record.refund_minor) == ("RESOLVED", "exchange", 0)
            assert record.replacement_shipment_id == f"shipment-{order_id}-AMS-x1"

            # 12.50 for a 10.00 tee: 2.50 held on the order's card as a payment of its own, taken
            # when the replacement left. Everything captured adds up to the cent.
            payments = _payments(database, order_id)
            assert set(payments) == {own, extra}
            difference = payments[extra]
            assert (difference.purpose, difference.return_id, difference.provider) == (
                "exchange_difference",
                return_id,
                "sandbox",
            )
            assert (difference.authorized_minor, difference.captured_minor, difference.status) == (250, 250, "CAPTURED")
            assert payments[own].captured_minor == 4745 and payments[own].purpose == "order"
            assert sum(p.captured_minor for p in payments.values()) == 4745 + 250
            assert stock_of(engine, "AMS", "MUG") == (3, 0)  # 5 - 1 shipped - 1 replacement, none held

            seen = await _get(api, f"/returns/{return_id}")
            assert seen["difference"] == {
                "amount": {"amount_minor": 250, "currency": "EUR"},
                "status": "CAPTURED",
                "payment_id": extra,
                "link": None,  # charged on the card: no payment link asked of the customer
                "link_expires_at": None,
            }, seen
            live = await engine.client.get_workflow_handle(return_id).query(ReturnWorkflow.view)
            assert live.difference == ExchangeDifference(Money(250, "EUR"), "CAPTURED", extra)
            order = await _get(api, f"/orders/{order_id}")
            listed = {
                p["payment_id"]: (p["purpose"], p["return_id"], p["captured"]["amount_minor"])
                for p in order["payments"]
            }
            assert listed == {own: ("order", None, 4745), extra: ("exchange_difference", return_id, 250)}
            assert any(extra in detail for detail in _events(database, order_id, "payment_authorized"))
            assert _events(database, order_id, "payment_captured")[-1] == f"2.50 EUR ({extra})"
            login = {"token": TOKEN, "next": "/dashboard"}
            await asyncio.to_thread(api.post, "/dashboard/login", data=login, follow_redirects=False)
            page = await asyncio.to_thread(api.get, f"/dashboard/returns/{return_id}")
            assert page.status_code == 200 and 'id="difference"' in page.text and extra in page.text, page.text[:500]
            shown = await asyncio.to_thread(api.get, f"/dashboard/orders/{order_id}")
            assert shown.status_code == 200 and f"exchange difference ({return_id})" in shown.text

            # Goodwill of 3.00: the newest payment gives back first (its 2.50), the order's the rest.
            body = {"amount": {"amount_minor": 300, "currency": "EUR"}, "reason": "late parcel"}
            given = await _post(api, f"/orders/{order_id}/goodwill", body)
            assert given.status_code == 202, given.text
            await until(lambda: _goodwill_done(database, order_id), "the goodwill refunded")
            payments = _payments(database, order_id)
            assert (payments[extra].refunded_minor, payments[own].refunded_minor) == (250, 50)

            # Never more than was captured and not given back, over both payments: 49.95 - 3.00.
            too_much = {"amount": {"amount_minor": 4696, "currency": "EUR"}, "reason": "sorry"}
            refused = await _post(api, f"/orders/{order_id}/goodwill", too_much)
            assert refused.status_code == 422, refused.text
            assert refused.json()["detail"]["most"] == {"amount_minor": 4695, "currency": "EUR"}

            # A return of another tee: the difference payment is empty, the order's gives back.
            asked = await _post(api, f"/orders/{order_id}/returns", {"lines": [{"sku": "TEE", "quantity": 1}]})
            assert asked.status_code == 202, asked.text
            await received_and_restocked(api, STAFF, asked.json()["return_id"], {"TEE": 1})
            refunded = await _resolved(engine, asked.json()["return_id"])
            assert (refunded.status, refunded.refund_minor) == ("REFUNDED", 1000)

        payments = _payments(database, order_id)
        assert (payments[extra].refunded_minor, payments[own].refunded_minor) == (250, 1050)
        assert all(p.refunded_minor <= p.captured_minor for p in payments.values())
        kinds = event_kinds(engine, order_id)
        for kind in ("exchange_reserved", "exchange_shipped", "return_resolved"):
            assert kind in kinds, (kind, kinds)
        assert "exchange_refunded_instead" not in kinds
        if database.kind == "sqlite":
            handle = engine.client.get_workflow_handle(return_id)
            await record_history(handle, "return_exchange_difference_charged")


async def test_a_short_parcel_whose_replacement_now_costs_more_is_refunded_instead(temporal_client, sqlite_database):
    """Two tees announced for two mugs (25.00 for 20.00: 5.00 to charge), one tee came: no
    replacement goes out for goods that did not come; the tee that came is refunded."""
    db = sqlite_database
    async with running_engine(temporal_client, db) as engine:
        _stocked(db)
        with api_client(engine, TOKEN) as api:
            order_id = await _shipped(engine, api, _order())
            return_id = await ask_exchange(api, STAFF, order_id, {"TEE": 2}, [{"sku": "MUG", "quantity": 2}])
            await received_and_restocked(api, STAFF, return_id, {"TEE": 1})
            record = await _resolved(engine, return_id)

    assert (record.status, record.refund_minor, record.replacement_shipment_id) == ("REFUNDED", 1000, None)
    assert record.difference_minor is None and set(_payments(db, order_id)) == {f"payment-{order_id}"}
    assert stock_of(engine, "AMS", "MUG") == (4, 0)
    instead = _events(db, order_id, "exchange_refunded_instead")
    assert len(instead) == 1 and "less than the replacement" in instead[0], instead


async def test_a_dearer_exchange_on_an_order_the_channel_took_the_money_for_is_refused(
    temporal_client, sqlite_database
):
    db = sqlite_database
    async with running_engine(temporal_client, db) as engine:
        add_location(db.session_factory, "AMS")
        stock(db.session_factory, "AMS", {"A": 5, "B": 5})
        order = make_order([("A", 2, 1000), ("B", 1, 1500)], paid=True)
        order_id, _ = await start_order(temporal_client, engine.settings, order)
        await engine.wait_for_live_status(order_id, OrderStatus.SHIPPED)
        with api_client(engine, TOKEN) as api:
            dearer = await _post(
                api,
                f"/orders/{order_id}/returns",
                {
                    "lines": [{"sku": "A", "quantity": 1}],
                    "resolution": "exchange",
                    "replacement": [{"sku": "B", "quantity": 1}],
                },
            )
        assert dearer.status_code == 422 and dearer.json()["detail"]["refusal"] == "invalid", dearer.text
        assert "no card" in dearer.json()["detail"]["message"]


# --- Stripe, through localstripe -------------------------------------------------------------------


def _charged(intent: Any) -> int:
    return sum(charge["amount"] - charge["amount_refunded"] for charge in intent.to_dict()["charges"]["data"])


async def _exchange_one_a(engine: Any, api: TestClient, order_id: str, replacement: dict[str, Any]) -> ReturnRecord:
    return_id = await ask_exchange(api, STAFF, order_id, {"A": 1}, [replacement])
    await received_and_restocked(api, STAFF, return_id, {"A": 1})
    return await _resolved(engine, return_id)


async def test_a_dearer_exchange_is_charged_the_difference_on_a_new_stripe_payment_intent(
    temporal_client, sqlite_database, localstripe_url
):
    db = sqlite_database
    async with running_engine(temporal_client, db, gateway=StripeGateway(SECRET, localstripe_url)) as engine:
        add_location(db.session_factory, "AMS")
        stock(db.session_factory, "AMS", {"A": 5, "D": 2})
        order = make_order([("A", 2, 1000)], paid=False, payment_method=_card(localstripe_url))  # 24.95
        order_id, _ = await start_order(temporal_client, engine.settings, order)
        await engine.wait_for_live_status(order_id, OrderStatus.SHIPPED)
        with api_client(engine, TOKEN) as api:
            dearer = {"sku": "D", "quantity": 1, "unit_price": {"amount_minor": 1350, "currency": "EUR"}}
            record = await _exchange_one_a(engine, api, order_id, dearer)
            seen = await _get(api, f"/returns/{record.return_id}")
            # Then the other tee comes back: its 10.00 go back through the newest payment first.
            asked = await _post(api, f"/orders/{order_id}/returns", {"lines": [{"sku": "A", "quantity": 1}]})
            assert asked.status_code == 202, asked.text
            later = asked.json()["return_id"]
            await received_and_restocked(api, STAFF, later, {"A": 1})
            refunded = await _resolved(engine, later)

        own, extra = f"payment-{order_id}", f"payment-{order_id}-x1"
        assert (refunded.status, refunded.refund_minor) == ("REFUNDED", 1000)
        assert record.state == "RESOLVED" and record.difference_minor == 350
        assert seen["difference"]["status"] == "CAPTURED" and seen["difference"]["payment_id"] == extra
        payments = _payments(db, order_id)
        assert (payments[own].captured_minor, payments[extra].captured_minor) == (2495, 350)
        assert payments[extra].provider == "stripe" and payments[extra].provider_ref != payments[own].provider_ref
        client = _stripe(localstripe_url)
        first = client.v1.payment_intents.retrieve(payments[own].provider_ref)
        second = client.v1.payment_intents.retrieve(payments[extra].provider_ref)
        assert (first.status, second.status, second.amount) == ("succeeded", "succeeded", 350)
        assert second.payment_method == order.payment_method  # the order's card, without the customer
        assert first.amount + second.amount == 2495 + 350  # captured: the order and the difference
        assert stock_of(engine, "AMS", "D") == (1, 0)
        # 3.50 refunded on the difference's intent, 6.50 on the order's; each under its own key.
        assert (payments[extra].refunded_minor, payments[own].refunded_minor) == (350, 650)
        assert (_charged(first), _charged(second)) == (2495 - 650, 0)
        refunds = {
            intent.id: [
                (r.amount, r.metadata.to_dict().get("oms_step"))
                for r in client.v1.refunds.list({"payment_intent": intent.id, "limit": 10}).auto_paging_iter()
            ]
            for intent in (first, second)
        }
        assert refunds == {first.id: [(650, f"{later}:refund")], second.id: [(350, f"{later}:refund:{extra}")]}
        refund_events = _events(db, order_id, "refunded")
        assert (
            refund_events[-1]
            == f"{later}: 10.00 EUR refunded to the customer (3.50 EUR through {extra}, 6.50 EUR through {own})"
        )


async def test_a_declined_difference_releases_the_replacement_and_refunds_what_came_instead(
    temporal_client, sqlite_database, localstripe_url
):
    """The card passed 3-D Secure at checkout; charging it again without the customer is declined."""
    db = sqlite_database
    async with running_engine(temporal_client, db, gateway=StripeGateway(SECRET, localstripe_url)) as engine:
        add_location(db.session_factory, "AMS")
        stock(db.session_factory, "AMS", {"A": 5, "D": 2})
        checkout = _confirmed_at_checkout(localstripe_url, 2495, _card(localstripe_url, "4000002500003155"))
        order = make_order([("A", 2, 1000)], paid=False, payment_method=checkout)
        order_id, _ = await start_order(temporal_client, engine.settings, order)
        await engine.wait_for_live_status(order_id, OrderStatus.SHIPPED)
        with api_client(engine, TOKEN) as api:
            dearer = {"sku": "D", "quantity": 1, "unit_price": {"amount_minor": 1350, "currency": "EUR"}}
            record = await _exchange_one_a(engine, api, order_id, dearer)
            seen = await _get(api, f"/returns/{record.return_id}")

        # Nothing charged, the replacement's stock free again, the tee's 10.00 back on the card.
        assert (record.state, record.status, record.refund_minor) == ("RESOLVED", "REFUNDED", 1000)
        assert record.replacement_shipment_id is None
        assert (record.difference_minor, record.difference_status) == (350, "DECLINED")
        assert seen["difference"] == {
            "amount": {"amount_minor": 350, "currency": "EUR"},
            "status": "DECLINED",
            "payment_id": None,
            "link": None,
            "link_expires_at": None,
        }
        live = await engine.client.get_workflow_handle(record.return_id).query(ReturnWorkflow.view)
        assert live.difference == ExchangeDifference(Money(350, "EUR"), "DECLINED")
        assert set(_payments(db, order_id)) == {f"payment-{order_id}"}
        assert stock_of(engine, "AMS", "D") == (2, 0)
        kinds = event_kinds(engine, order_id)
        assert "exchange_difference_declined" in kinds and "stock_released" in kinds
        instead = _events(db, order_id, "exchange_refunded_instead")
        assert len(instead) == 1 and "declined" in instead[0] and "10.00 EUR refunded instead" in instead[0]
        intent = _stripe(localstripe_url).v1.payment_intents.retrieve(checkout)
        assert _charged(intent) == 2495 - 1000


# --- Mollie: its payments are made by the customer ------------------------------------------------


async def test_a_difference_mollie_cannot_take_without_the_customer_falls_back_to_a_refund(
    temporal_client, sqlite_database, mollie_url
):
    """Mollie charges nobody again without them (no reauthorize): the customer is asked with a
    payment link (tests/workflow/test_mollie_exchange_links.py); not paid by its deadline, the
    exchange is given up the way a declined one is (workflows.returns._collect_difference_from_customer)."""
    db = sqlite_database
    async with running_engine(
        temporal_client, db, gateway=mollie_gateways(mollie_url), payment_link_expiry=timedelta(seconds=2)
    ) as engine:
        add_location(db.session_factory, "AMS")
        stock(db.session_factory, "AMS", {"A": 5, "B": 2})
        order, _ = mollie_order(mollie_url)  # 2 x A 12.50 + 4.95, paid by iDEAL at checkout
        order_id, _ = await start_order(temporal_client, engine.settings, order)
        await engine.wait_for_live_status(order_id, OrderStatus.SHIPPED)
        with api_client(engine, TOKEN) as api:
            dearer = {"sku": "B", "quantity": 1, "unit_price": {"amount_minor": 1500, "currency": "EUR"}}
            record = await _exchange_one_a(engine, api, order_id, dearer)

    assert (record.status, record.refund_minor, record.replacement_shipment_id) == ("REFUNDED", 1250, None)
    assert (record.difference_minor, record.difference_status) == (250, "EXPIRED")
    assert set(_payments(db, order_id)) == {f"payment-{order_id}"}
    assert stock_of(engine, "AMS", "B") == (2, 0)
    instead = _events(db, order_id, "exchange_refunded_instead")
    assert len(instead) == 1 and "cannot be charged without the customer" in instead[0], instead
