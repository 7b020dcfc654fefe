"""Goodwill without a return against the real dev server, database and a Stripe-compatible server
(localstripe): refunded once through the gateway, never more than was captured when two requests
race, given as store credit, and refused with a clear 4xx where it cannot be given."""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import timedelta

import pytest
import stripe
from sqlalchemy import select

from contracts.goodwill import GoodwillResult
from domain.goodwill import GoodwillForm
from domain.money import Money
from domain.status import OrderStatus
from integrations.payments import StripeGateway
from persistence.models import GoodwillRecord, OrderEvent, PaymentRecord
from services.errors import Conflict, Unprocessable
from services.gateway import TemporalWorkflows
from services.goodwill import GoodwillDesk
from services.intake import start_order
from services.store_credit import CreditAccounts
from services.unit_of_work import units_on
from tests.factories import add_location, make_order, stock
from tests.workflow.conftest import api_client, running_engine
from tests.workflow.histories import record_history
from workflows.goodwill import GoodwillWorkflow

SECRET = "sk_test_oms_goodwill"
TOKEN = "goodwill-admin-token"
STAFF = {"Authorization": f"Bearer {TOKEN}"}


def _card(localstripe_url: str) -> str:
    client = stripe.StripeClient(SECRET, base_addresses={"api": localstripe_url}, max_network_retries=0)
    method = client.v1.payment_methods.create(
        {"type": "card", "card": {"number": "4242424242424242", "exp_month": 12, "exp_year": 2034, "cvc": "123"}}
    )
    return method.id


def _refunds(localstripe_url: str, intent_id: str) -> list[int]:
    client = stripe.StripeClient(SECRET, base_addresses={"api": localstripe_url}, max_network_retries=0)
    return [refund.amount for refund in client.v1.refunds.list({"payment_intent": intent_id}).data]


def _desk(engine, client) -> GoodwillDesk:
    return GoodwillDesk(units_on(engine.db.session_factory), TemporalWorkflows.on(client), engine.settings.task_queue)


async def _outcome(client, goodwill_id: str) -> GoodwillResult:
    return await client.get_workflow_handle_for(GoodwillWorkflow.run, goodwill_id).result()


async def _shipped(engine, temporal_client, order) -> str:
    order_id, _ = await start_order(temporal_client, engine.settings, order)
    await engine.wait_for_status(order_id, OrderStatus.SHIPPED.value, OrderStatus.COMPLETED.value, timeout=60)
    return order_id


@pytest.mark.parametrize("database", ["sqlite", "postgresql"], indirect=True)
async def test_two_goodwill_refunds_at_once_never_give_back_more_than_was_captured(
    temporal_client, database, localstripe_url
):
    db = database
    gateway = StripeGateway(SECRET, localstripe_url)
    async with running_engine(temporal_client, db, gateway=gateway) as engine:
        add_location(db.session_factory, "AMS")
        stock(db.session_factory, "AMS", {"A": 3})
        order = make_order([("A", 1, 3000)], paid=False, payment_method=_card(localstripe_url))  # 34.95
        order_id = await _shipped(engine, temporal_client, order)
        desk = _desk(engine, temporal_client)
        eur = Money(2000, "EUR")

        async def ask(key: str) -> object:
            try:
                return await desk.give(order_id, GoodwillForm.REFUND, eur, "late parcel", "support@shop", key)
            except Unprocessable as refused:
                return refused

        answers = await asyncio.gather(ask("first"), ask("second"))
        refused = [a for a in answers if isinstance(a, Unprocessable)]
        given = [a for a in answers if not isinstance(a, Unprocessable)]
        assert len(given) == 1 and len(refused) == 1
        assert refused[0].facts["refusal"] == "too_much"
        assert refused[0].facts["most"] == {"amount_minor": 1495, "currency": "EUR"}
        goodwill_id = given[0].goodwill_id  # type: ignore[attr-defined]
        result = await asyncio.wait_for(_outcome(temporal_client, goodwill_id), 30)
        assert result.status == "REFUNDED"
        # Resent with the same key: the first goodwill again, nothing more refunded.
        key = goodwill_id.removeprefix(f"goodwill-{order_id}-")
        again = await desk.give(order_id, GoodwillForm.REFUND, eur, "late parcel", "support@shop", key)
        assert again.duplicate and again.goodwill_id == goodwill_id
        with db.session() as session:
            payment = session.scalar(select(PaymentRecord).where(PaymentRecord.order_id == order_id))
            events = session.scalars(
                select(OrderEvent.detail).where(OrderEvent.order_id == order_id, OrderEvent.kind == "goodwill")
            ).all()
        assert payment.refunded_minor == 2000
        assert _refunds(localstripe_url, payment.provider_ref) == [2000]
        assert len(events) == 1 and "late parcel" in events[0] and "support@shop" in events[0]
        if db.kind == "sqlite":
            await record_history(temporal_client.get_workflow_handle(goodwill_id), "goodwill_refunded")


async def test_goodwill_as_store_credit_and_the_refusals(temporal_client, sqlite_database, localstripe_url):
    db = sqlite_database
    gateway = StripeGateway(SECRET, localstripe_url)
    async with running_engine(temporal_client, db, gateway=gateway, return_window=timedelta(days=30)) as engine:
        add_location(db.session_factory, "AMS")
        stock(db.session_factory, "AMS", {"A": 3})
        order = make_order([("A", 1, 1500)], paid=False, payment_method=_card(localstripe_url))  # 19.95
        order_id = await _shipped(engine, temporal_client, order)
        with api_client(engine, TOKEN) as api:
            body = {
                "amount": {"amount_minor": 1500, "currency": "EUR"},
                "reason": "scratched box",
                "form": "store_credit",
            }
            taken = api.post(f"/orders/{order_id}/goodwill", json=body, headers={**STAFF, "Idempotency-Key": "k1"})
            assert taken.status_code == 202, taken.text
            resent = api.post(f"/orders/{order_id}/goodwill", json=body, headers={**STAFF, "Idempotency-Key": "k1"})
            assert resent.status_code == 202 and resent.json()["duplicate"] is True
            goodwill_id = taken.json()["goodwill_id"]
            result = await asyncio.wait_for(_outcome(temporal_client, goodwill_id), 30)
            assert result.status == "CREDITED"
            balance = api.get("/store-credit", params={"email": "sam@example.org"}, headers=STAFF).json()["balance"]
            assert balance == {"amount_minor": 1500, "currency": "EUR"}

            # Credit given counts as given back: only 4.95 is left on this order.
            more = {**body, "form": "refund", "amount": {"amount_minor": 600, "currency": "EUR"}}
            too_much = api.post(f"/orders/{order_id}/goodwill", json=more, headers=STAFF)
            assert too_much.status_code == 422
            assert too_much.json()["detail"]["most"] == {"amount_minor": 495, "currency": "EUR"}
            no_reason = api.post(f"/orders/{order_id}/goodwill", json={**more, "reason": ""}, headers=STAFF)
            assert no_reason.status_code == 422
            dollars = {**more, "amount": {"amount_minor": 100, "currency": "USD"}}
            assert api.post(f"/orders/{order_id}/goodwill", json=dollars, headers=STAFF).status_code == 422
            unknown = api.post("/orders/order-webshop-nope/goodwill", json=more, headers=STAFF)
            assert unknown.status_code == 404
            bad_key = api.post(
                f"/orders/{order_id}/goodwill", json=more, headers={**STAFF, "Idempotency-Key": "no spaces"}
            )
            assert bad_key.status_code == 422
        with db.session() as session:
            record = session.get(GoodwillRecord, goodwill_id)
            assert record.status == "CREDITED" and record.given_by


async def test_a_marketplace_order_gets_credit_not_a_refund_and_an_unshipped_one_nothing(
    temporal_client, sqlite_database
):
    db = sqlite_database
    async with running_engine(temporal_client, db, auto_confirm=False) as engine:
        add_location(db.session_factory, "AMS")
        stock(db.session_factory, "AMS", {"A": 3, "B": 3})
        desk = _desk(engine, temporal_client)
        held = dataclasses.replace(make_order([("B", 1, 1000)], channel="bol", paid=True))
        held_id, _ = await start_order(temporal_client, engine.settings, held)
        await engine.wait_for_status(held_id, "IN_FULFILMENT", "RESERVED")
        with pytest.raises(Conflict) as not_shipped:
            await desk.give(held_id, GoodwillForm.STORE_CREDIT, Money(100, "EUR"), "sorry", "support@shop")
        assert not_shipped.value.facts["refusal"] == "not_shipped"

    async with running_engine(temporal_client, db) as engine:
        order = make_order([("A", 1, 1000)], channel="bol", paid=True)  # 14.95, paid on bol.com
        order_id = await _shipped(engine, temporal_client, order)
        desk = _desk(engine, temporal_client)
        with pytest.raises(Conflict) as on_channel:
            await desk.give(order_id, GoodwillForm.REFUND, Money(500, "EUR"), "late", "support@shop")
        assert on_channel.value.facts["refusal"] == "refund_on_channel"
        given = await desk.give(order_id, GoodwillForm.STORE_CREDIT, Money(500, "EUR"), "late", "support@shop")
        result = await asyncio.wait_for(_outcome(temporal_client, given.goodwill_id), 30)
        assert result.status == "CREDITED"
        statement = CreditAccounts(units_on(db.session_factory), None).statement("sam@example.org", "default")
        assert statement.summary is not None and statement.summary.balance == Money(500, "EUR")


@pytest.mark.parametrize("database", ["sqlite", "postgresql"], indirect=True)
async def test_a_return_after_goodwill_gives_back_only_what_the_customer_has_not_had_back(
    temporal_client, database, localstripe_url
):
    """15.00 of goodwill as credit on a 19.95 order, then the unit (15.00) comes back: 4.95 is all the
    payment still owes the customer; the rest is named on the timeline, never refunded twice."""
    db = database
    gateway = StripeGateway(SECRET, localstripe_url)
    async with running_engine(temporal_client, db, gateway=gateway, return_window=timedelta(days=30)) as engine:
        add_location(db.session_factory, "AMS")
        stock(db.session_factory, "AMS", {"A": 3})
        order = make_order([("A", 1, 1500)], paid=False, payment_method=_card(localstripe_url))  # 19.95
        order_id = await _shipped(engine, temporal_client, order)
        await engine.wait_for_live_status(order_id, OrderStatus.SHIPPED)  # the returns window is open
        with api_client(engine, TOKEN) as api:
            body = {"amount": {"amount_minor": 1500, "currency": "EUR"}, "reason": "late", "form": "store_credit"}
            taken = api.post(f"/orders/{order_id}/goodwill", json=body, headers=STAFF)
            assert taken.status_code == 202, taken.text
            assert (await asyncio.wait_for(_outcome(temporal_client, taken.json()["goodwill_id"]), 30)).status == (
                "CREDITED"
            )
            back = await asyncio.to_thread(
                api.post,
                f"/orders/{order_id}/returns",
                json={"lines": [{"sku": "A", "quantity": 1}], "received": True},
                headers=STAFF,
            )
            assert back.status_code == 201, back.text
            assert back.json()["status"] == "REFUNDED"
            assert back.json()["refund"] == {"amount_minor": 495, "currency": "EUR"}
        with db.session() as session:
            payment = session.scalar(select(PaymentRecord).where(PaymentRecord.order_id == order_id))
            assert (payment.captured_minor, payment.refunded_minor) == (1995, 495)
            short = session.scalars(
                select(OrderEvent.detail).where(OrderEvent.order_id == order_id, OrderEvent.kind == "refund_short")
            ).all()
        assert short == [
            "10.05 EUR of 15.00 EUR not given back: the order's payments and credit hold no more "
            "(goodwill or earlier refunds took it)"
        ]
        assert _refunds(localstripe_url, payment.provider_ref) == [495]
