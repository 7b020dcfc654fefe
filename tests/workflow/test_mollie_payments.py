"""Orders paid through Mollie (the Mollie sandbox, real HTTP), the web shop's channel routed to Mollie
and every other channel to the default gateway: iDEAL taken at checkout, shipped, returned and
refunded; a held card captured when it ships, or released when the order is cancelled; an iDEAL order
cancelled before it ships refunded, to the cent, on the payment and on the timeline. Both databases."""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import timedelta

from sqlalchemy import select

from contracts.order_workflow import CancelRequest
from contracts.returns import ReturnAccepted, ReturnRequest, ReturnRequestLine
from domain.money import Money
from domain.payments import PaymentStatus
from domain.returns import ReturnStatus
from domain.status import OrderStatus
from integrations.payments.mollie_gateway import MollieGateway
from integrations.payments.routing import PaymentGateways
from integrations.sandbox.payments import SandboxPaymentGateway
from persistence.models import PaymentRecord
from persistence.read_model import orders as order_store
from sandboxes.mollie import API_KEY
from services.cancel import request_cancel
from services.intake import start_order
from tests.factories import add_location, make_order, stock
from tests.mollie_checkout import at_mollie, checkout, listed
from tests.workflow.conftest import running_engine
from tests.workflow.gates import Gate, GatedWarehouse
from tests.workflow.histories import assert_replays
from workflows.order import OrderWorkflow


def _gateways(mollie_url: str) -> PaymentGateways:
    mollie, sandbox = MollieGateway(API_KEY, mollie_url), SandboxPaymentGateway()
    return PaymentGateways(sandbox, channels={"webshop": mollie}, providers={"mollie": mollie, "sandbox": sandbox})


def _order(mollie_url: str, *, method: str = "ideal"):
    """A web shop order of 2 x 12.50 + 4.95 shipping = 29.95, paid (or held) at Mollie's checkout."""
    order = make_order([("A", 2, 1250)], paid=False)
    status = "authorized" if method == "creditcard" else "paid"
    payment_id = checkout(mollie_url, order.total, method=method, status=status)
    return dataclasses.replace(order, payment_method=payment_id), payment_id


def _payment_and_events(db, order_id: str) -> tuple[PaymentRecord, list[tuple[str, str]]]:
    with db.session() as session:
        payment = session.scalar(select(PaymentRecord).where(PaymentRecord.order_id == order_id))
        events = [(e.kind, e.detail) for e in order_store.order_events(session, order_id)]
        session.expunge(payment)
        return payment, events


async def test_an_ideal_order_paid_shipped_returned_and_refunded(temporal_client, database, mollie_url):
    async with running_engine(
        temporal_client, database, gateway=_gateways(mollie_url), return_window=timedelta(seconds=8)
    ) as engine:
        add_location(database.session_factory, "AMS")
        stock(database.session_factory, "AMS", {"A": 5})
        order, payment_id = _order(mollie_url)
        order_id, _ = await start_order(temporal_client, engine.settings, order)
        handle = temporal_client.get_workflow_handle_for(OrderWorkflow.run, order_id)
        await engine.wait_for_live_status(order_id, OrderStatus.SHIPPED)

        accepted = await handle.execute_update(
            OrderWorkflow.request_return, ReturnRequest([ReturnRequestLine("A", 1)], reason="too big", received=True)
        )
        assert isinstance(accepted, ReturnAccepted) and accepted.status == ReturnStatus.REFUNDED
        assert (await asyncio.wait_for(handle.result(), 60)).status is OrderStatus.COMPLETED

    payment, events = _payment_and_events(database, order_id)
    refunded = accepted.refund.amount_minor
    assert refunded == 1250
    assert (payment.provider, payment.provider_ref, payment.status) == ("mollie", payment_id, "CAPTURED")
    assert (payment.authorized_minor, payment.captured_minor, payment.refunded_minor) == (2995, 2995, 1250)
    assert ("payment_authorized", "29.95 EUR (paid at checkout)") in events
    assert ("payment_captured", "29.95 EUR") in events
    assert [kind for kind, _ in events].count("refunded") == 1
    at = at_mollie(mollie_url, payment_id)
    assert (at["amountRefunded"]["value"], at["amountRemaining"]["value"]) == ("12.50", "17.45")
    assert [r["amount"]["value"] for r in listed(mollie_url, payment_id, "refunds")] == ["12.50"]


async def test_a_card_order_is_authorized_and_captured_when_it_ships(temporal_client, database, mollie_url):
    async with running_engine(temporal_client, database, gateway=_gateways(mollie_url)) as engine:
        add_location(database.session_factory, "AMS")
        stock(database.session_factory, "AMS", {"A": 5})
        order, payment_id = _order(mollie_url, method="creditcard")
        order_id, _ = await start_order(temporal_client, engine.settings, order)
        state = await engine.wait_for_live_status(order_id, OrderStatus.SHIPPED)
        assert state.payment_status is PaymentStatus.CAPTURED
        await temporal_client.get_workflow_handle(order_id).terminate("test done")

    payment, events = _payment_and_events(database, order_id)
    assert (payment.status, payment.captured_minor, payment.voided_minor) == ("CAPTURED", 2995, 0)
    assert ("payment_authorized", "29.95 EUR") in events and ("payment_captured", "29.95 EUR") in events
    [capture] = listed(mollie_url, payment_id, "captures")
    assert capture["amount"] == {"currency": "EUR", "value": "29.95"}
    assert at_mollie(mollie_url, payment_id)["status"] == "paid"


async def _cancelled_before_it_ships(temporal_client, database, mollie_url, method: str) -> tuple[str, str]:
    gate = Gate()
    async with running_engine(
        temporal_client, database, gateway=_gateways(mollie_url), warehouse=GatedWarehouse({"pick": gate})
    ) as engine:
        add_location(database.session_factory, "AMS")
        stock(database.session_factory, "AMS", {"A": 5})
        order, payment_id = _order(mollie_url, method=method)
        order_id, _ = await start_order(temporal_client, engine.settings, order)
        handle = temporal_client.get_workflow_handle_for(OrderWorkflow.run, order_id)
        assert await asyncio.to_thread(gate.reached.wait, 30)
        refusal = await request_cancel(
            temporal_client, database.session_factory, order_id, CancelRequest("customer asked")
        )
        assert refusal is None
        gate.open.set()
        assert (await asyncio.wait_for(handle.result(), 30)).status is OrderStatus.CANCELLED
        state = await handle.query(OrderWorkflow.state)
        await assert_replays(handle)
    assert state.payment_status is (PaymentStatus.VOIDED if method == "creditcard" else PaymentStatus.REFUNDED)
    return order_id, payment_id


async def test_a_cancelled_card_order_releases_the_authorization(temporal_client, database, mollie_url):
    order_id, payment_id = await _cancelled_before_it_ships(temporal_client, database, mollie_url, "creditcard")

    payment, events = _payment_and_events(database, order_id)
    assert (payment.status, payment.voided_minor, payment.captured_minor) == ("VOIDED", 2995, 0)
    assert ("payment_voided", "29.95 EUR") in events
    assert at_mollie(mollie_url, payment_id)["status"] == "canceled"
    assert listed(mollie_url, payment_id, "captures") == [] and listed(mollie_url, payment_id, "refunds") == []


async def test_a_cancelled_ideal_order_is_refunded_instead_of_voided(temporal_client, database, mollie_url):
    order_id, payment_id = await _cancelled_before_it_ships(temporal_client, database, mollie_url, "ideal")

    payment, events = _payment_and_events(database, order_id)
    assert (payment.status, payment.captured_minor, payment.refunded_minor, payment.voided_minor) == (
        "REFUNDED",
        2995,
        2995,
        0,
    )
    kinds = [kind for kind, _ in events]
    assert kinds.count("payment_refunded") == 1 and "payment_voided" not in kinds
    assert any(kind == "payment_refunded" and detail.startswith("29.95 EUR") for kind, detail in events)
    [refund] = listed(mollie_url, payment_id, "refunds")
    assert refund["amount"] == {"currency": "EUR", "value": "29.95"}
    assert at_mollie(mollie_url, payment_id)["amountRemaining"] == {"currency": "EUR", "value": "0.00"}
    assert Money(payment.refunded_minor, payment.currency).format() == "29.95 EUR"
