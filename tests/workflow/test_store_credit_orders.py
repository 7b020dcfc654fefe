"""Orders paying with store credit, against the real dev server and database: the gateway is asked
only for the rest of the total, and a cancelled order gets its credit back (once)."""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from contracts.order_workflow import CancelRequest
from contracts.store_credit import IssueCreditInput
from domain.money import Money
from domain.status import OrderStatus
from domain.store_credit import CreditReason
from ops.store_credit import EXPIRY_SCHEDULE_ID, ensure_expiry_schedule
from persistence.models import PaymentRecord, StoreCreditEntry
from services.cancel import request_cancel
from services.gateway import TemporalWorkflows
from services.intake import Intake
from services.store_credit import CreditAccounts
from services.unit_of_work import units_on
from tests.factories import add_location, make_order, stock
from tests.workflow.conftest import api_client, running_engine
from tests.workflow.gates import Gate, GatedWarehouse
from tests.workflow.histories import record_history
from workflows.order import OrderWorkflow

EMAIL = "sam@example.org"


def _give(db, minor: int) -> CreditAccounts:
    accounts = CreditAccounts(units_on(db.session_factory), None)
    data = IssueCreditInput(
        "test:gift",
        Money(minor, "EUR"),
        CreditReason.GOODWILL,
        datetime.now(UTC),
        email="sam@example.org",
        shop="default",
    )
    accounts.issue(data)
    return accounts


def _balance(accounts: CreditAccounts) -> int:
    summary = accounts.statement("sam@example.org", "default").summary
    assert summary is not None
    return summary.balance.amount_minor


async def test_a_cancelled_order_gets_its_store_credit_back(temporal_client, sqlite_database):
    gate = Gate()
    db = sqlite_database
    async with running_engine(temporal_client, db, warehouse=GatedWarehouse({"pick": gate})) as engine:
        add_location(db.session_factory, "AMS")
        stock(db.session_factory, "AMS", {"A": 3})
        accounts = _give(db, 2000)
        order = make_order([("A", 2, 1500)], paid=False, payment_method="pm_card_visa")  # 34.95 in all
        order = dataclasses.replace(order, store_credit=Money(1500, "EUR"))
        intake = Intake(engine.settings, units_on(db.session_factory), TemporalWorkflows.on(temporal_client))
        taken = await intake.take_canonical(order)
        assert not taken.repeated and _balance(accounts) == 500
        assert await asyncio.to_thread(gate.reached.wait, 30)
        refusal = await request_cancel(temporal_client, db.session_factory, order.order_id, CancelRequest("changed"))
        assert refusal is None
        gate.open.set()
        handle = temporal_client.get_workflow_handle_for(OrderWorkflow.run, order.order_id)
        assert (await asyncio.wait_for(handle.result(), 30)).status is OrderStatus.CANCELLED
        assert _balance(accounts) == 2000
        with db.session() as session:
            payment = session.scalar(select(PaymentRecord).where(PaymentRecord.order_id == order.order_id))
            kinds = session.scalars(select(StoreCreditEntry.kind).order_by(StoreCreditEntry.id)).all()
        # Only what credit did not pay went to the gateway, and all of it was voided.
        assert (payment.authorized_minor, payment.voided_minor, payment.captured_minor) == (1995, 1995, 0)
        assert kinds == ["issue", "spend", "reverse"]
        await record_history(handle, "paid_with_credit_then_cancelled")


async def test_the_gateway_captures_only_what_credit_did_not_pay(temporal_client, sqlite_database):
    db = sqlite_database
    async with running_engine(temporal_client, db) as engine:
        add_location(db.session_factory, "AMS")
        stock(db.session_factory, "AMS", {"A": 3})
        accounts = _give(db, 1000)
        order = make_order([("A", 1, 1500)], paid=False, payment_method="pm_card_visa")  # 19.95
        order = dataclasses.replace(order, store_credit=Money(1000, "EUR"))
        intake = Intake(engine.settings, units_on(db.session_factory), TemporalWorkflows.on(temporal_client))
        await intake.take_canonical(order)
        await engine.wait_for_status(order.order_id, "SHIPPED", "COMPLETED")
        with db.session() as session:
            payment = session.scalar(select(PaymentRecord).where(PaymentRecord.order_id == order.order_id))
            assert (payment.authorized_minor, payment.captured_minor) == (995, 995)
        assert _balance(accounts) == 0


async def test_the_daily_expiry_schedule_writes_off_expired_credit(temporal_client, sqlite_database):
    db = sqlite_database
    async with running_engine(temporal_client, db) as engine:
        past = datetime.now(UTC) - timedelta(days=400)
        lapsed = CreditAccounts(units_on(db.session_factory), timedelta(days=365), clock=lambda: past)
        lapsed.issue(
            IssueCreditInput("test:old", Money(700, "EUR"), CreditReason.RETURN, past, email=EMAIL, shop="default")
        )
        await ensure_expiry_schedule(temporal_client, engine.settings)
        await ensure_expiry_schedule(temporal_client, engine.settings)  # a second worker starting
        handle = temporal_client.get_schedule_handle(EXPIRY_SCHEDULE_ID)
        try:
            await handle.trigger()
            deadline = asyncio.get_running_loop().time() + 30
            kinds: list[str] = []
            while asyncio.get_running_loop().time() < deadline:
                with db.session() as session:
                    kinds = list(session.scalars(select(StoreCreditEntry.kind).order_by(StoreCreditEntry.id)))
                if "expire" in kinds:
                    break
                await asyncio.sleep(0.2)
            assert kinds == ["issue", "expire"]
        finally:
            await handle.delete()


async def test_post_orders_spends_credit_once_and_refuses_what_it_cannot_cover(temporal_client, sqlite_database):
    db = sqlite_database
    async with running_engine(temporal_client, db) as engine:
        add_location(db.session_factory, "AMS")
        stock(db.session_factory, "AMS", {"A": 5})
        accounts = _give(db, 1000)
        order = {
            "channel": "webshop",
            "external_id": "paid-with-credit",
            "currency": "EUR",
            "lines": [{"sku": "A", "quantity": 1, "unit_price": {"amount_minor": 1500, "currency": "EUR"}}],
            "customer_email": "SAM@example.org",
            "payment_method": "pm_card_visa",
            "store_credit": {"amount_minor": 1200, "currency": "EUR"},
        }
        with api_client(engine, "credit-admin") as api:
            staff = {"Authorization": "Bearer credit-admin"}
            short = api.post("/orders", json=order, headers=staff)
            assert short.status_code == 422, short.text
            assert short.json()["detail"]["available"] == {"amount_minor": 1000, "currency": "EUR"}
            assert api.get("/orders/order-webshop-paid-with-credit", headers=staff).status_code == 404
            order["store_credit"] = {"amount_minor": 800, "currency": "EUR"}
            taken = api.post("/orders", json=order, headers=staff)
            again = api.post("/orders", json=order, headers=staff)
            assert (taken.status_code, again.status_code) == (202, 202)
            assert (taken.json()["duplicate"], again.json()["duplicate"]) == (False, True)
            assert _balance(accounts) == 200
            channel = {**order, "external_id": "fulfilled-elsewhere", "fulfilled_by": "channel"}
            assert api.post("/orders", json=channel, headers=staff).status_code == 422
        await engine.wait_for_status("order-webshop-paid-with-credit", "SHIPPED", "COMPLETED")
        with db.session() as session:
            payment = session.scalar(
                select(PaymentRecord).where(PaymentRecord.order_id == "order-webshop-paid-with-credit")
            )
        assert (payment.authorized_minor, payment.captured_minor) == (700, 700)
