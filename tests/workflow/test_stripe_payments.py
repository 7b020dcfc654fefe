"""Orders paid through a real Stripe-compatible server (localstripe): authorized at intake,
captured once when the last parcel leaves, declined cards cancelled, refused requests held, an
exchange's difference refunded."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import stripe
from sqlalchemy import select

from contracts.order_workflow import CancelRequest
from contracts.return_lifecycle import (
    DisposeReturnRequest,
    DispositionLineInput,
    ReceivedLineInput,
    ReceiveReturnRequest,
)
from contracts.returns import ReplacementLine, ReturnRequest, ReturnRequestLine
from domain.money import Money
from domain.status import OrderStatus
from integrations.payments import StripeGateway
from persistence.guarded_writes import inventory
from persistence.models import PaymentRecord
from persistence.read_model import orders as order_store
from services.intake import start_order
from tests.factories import add_location, make_order, stock
from tests.workflow.conftest import running_engine
from tests.workflow.histories import assert_replays
from workflows.order import OrderWorkflow
from workflows.returns import ReturnWorkflow

SECRET = "sk_test_oms_workflow"


def _card(localstripe_url: str, number: str = "4242424242424242") -> str:
    client = stripe.StripeClient(SECRET, base_addresses={"api": localstripe_url}, max_network_retries=0)
    method = client.v1.payment_methods.create(
        {"type": "card", "card": {"number": number, "exp_month": 12, "exp_year": 2034, "cvc": "123"}}
    )
    return method.id


def _intent(localstripe_url: str, intent_id: str) -> stripe.PaymentIntent:
    client = stripe.StripeClient(SECRET, base_addresses={"api": localstripe_url}, max_network_retries=0)
    return client.v1.payment_intents.retrieve(intent_id)


async def test_a_split_order_is_captured_once_for_everything_that_shipped(
    temporal_client, sqlite_database, localstripe_url
):
    db = sqlite_database
    gateway = StripeGateway(SECRET, localstripe_url)
    async with running_engine(temporal_client, db, gateway=gateway, return_window=timedelta(seconds=1)) as engine:
        add_location(db.session_factory, "AMS")
        add_location(db.session_factory, "UTR", latitude=52.09, longitude=5.12)
        stock(db.session_factory, "AMS", {"A": 5})
        stock(db.session_factory, "UTR", {"B": 5})
        order = make_order([("A", 2, 1000), ("B", 1, 3000)], paid=False, payment_method=_card(localstripe_url))
        order_id, _ = await start_order(temporal_client, engine.settings, order)
        handle = temporal_client.get_workflow_handle_for(OrderWorkflow.run, order_id)
        assert (await asyncio.wait_for(handle.result(), 60)).status is OrderStatus.COMPLETED

        with db.session() as session:
            payment = session.scalar(select(PaymentRecord).where(PaymentRecord.order_id == order_id))
            kinds = [e.kind for e in order_store.order_events(session, order_id)]
        assert (payment.provider, payment.status, payment.captured_minor) == ("stripe", "CAPTURED", 5495)
        assert kinds.count("payment_captured") == 1 and kinds.count("shipped") == 2
        intent = _intent(localstripe_url, payment.provider_ref)
        assert (intent.status, intent.amount) == ("succeeded", 5495)
        await assert_replays(handle)


async def test_a_declined_card_cancels_with_nothing_reserved(temporal_client, sqlite_database, localstripe_url):
    db = sqlite_database
    async with running_engine(temporal_client, db, gateway=StripeGateway(SECRET, localstripe_url)) as engine:
        add_location(db.session_factory, "AMS")
        stock(db.session_factory, "AMS", {"A": 5})
        declining = _card(localstripe_url, "4000000000000341")
        order = make_order([("A", 1, 1000)], paid=False, payment_method=declining)
        order_id, _ = await start_order(temporal_client, engine.settings, order)
        result = await asyncio.wait_for(
            temporal_client.get_workflow_handle_for(OrderWorkflow.run, order_id).result(), 30
        )
        assert result.status is OrderStatus.CANCELLED
        with db.session() as session:
            assert inventory.stock_row(session, "AMS", "A").reserved == 0
            assert "payment_declined" in [e.kind for e in order_store.order_events(session, order_id)]


async def test_a_payment_the_gateway_refuses_outright_is_held_for_a_person(
    temporal_client, sqlite_database, localstripe_url
):
    db = sqlite_database
    async with running_engine(temporal_client, db, gateway=StripeGateway(SECRET, localstripe_url)) as engine:
        add_location(db.session_factory, "AMS")
        stock(db.session_factory, "AMS", {"A": 5})
        order = make_order([("A", 1, 1000)], paid=False, payment_method="pm_does_not_exist")
        order_id, _ = await start_order(temporal_client, engine.settings, order)
        await engine.wait_for_status(order_id, "ON_HOLD")
        with db.session() as session:
            assert "payment rejected" in order_store.get_order(session, order_id).hold_reason
        handle = temporal_client.get_workflow_handle_for(OrderWorkflow.run, order_id)
        await handle.signal(OrderWorkflow.cancel, CancelRequest(reason="no valid payment"))
        assert (await asyncio.wait_for(handle.result(), 30)).status is OrderStatus.CANCELLED


async def test_an_exchange_for_a_cheaper_item_refunds_the_difference_on_stripe(
    temporal_client, sqlite_database, localstripe_url
):
    db = sqlite_database
    async with running_engine(temporal_client, db, gateway=StripeGateway(SECRET, localstripe_url)) as engine:
        add_location(db.session_factory, "AMS")
        stock(db.session_factory, "AMS", {"A": 5, "C": 2})
        order = make_order([("A", 2, 1000)], paid=False, payment_method=_card(localstripe_url))
        order_id, _ = await start_order(temporal_client, engine.settings, order)
        await engine.wait_for_live_status(order_id, OrderStatus.SHIPPED)
        handle = temporal_client.get_workflow_handle_for(OrderWorkflow.run, order_id)
        cheaper = ReplacementLine("C", 1, Money(650, order.currency))
        request = ReturnRequest([ReturnRequestLine("A", 1)], resolution="exchange", replacement=[cheaper])
        opened = await handle.execute_update(OrderWorkflow.request_return, request)
        returned = temporal_client.get_workflow_handle_for(ReturnWorkflow.run, opened.return_id)
        await returned.execute_update(ReturnWorkflow.receive, ReceiveReturnRequest("AMS", [ReceivedLineInput("A", 1)]))
        await returned.execute_update(
            ReturnWorkflow.dispose, DisposeReturnRequest([DispositionLineInput("A", 1, "restock")])
        )
        await asyncio.wait_for(returned.result(), 60)

        with db.session() as session:
            payment = session.scalar(select(PaymentRecord).where(PaymentRecord.order_id == order_id))
            kinds = [e.kind for e in order_store.order_events(session, order_id)]
        assert (payment.captured_minor, payment.refunded_minor) == (2495, 350)  # 10.00 back, 6.50 sent
        assert kinds.count("exchange_shipped") == 1
        client = stripe.StripeClient(SECRET, base_addresses={"api": localstripe_url}, max_network_retries=0)
        refunds = client.v1.refunds.list({"payment_intent": payment.provider_ref, "limit": 10}).auto_paging_iter()
        assert [(refund.amount, refund.metadata.to_dict().get("oms_step")) for refund in refunds] == [
            (350, f"{opened.return_id}:refund")
        ]
        await assert_replays(returned)
