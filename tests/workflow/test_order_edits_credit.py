"""An edit lowering an order paid partly with store credit, on the real dev server and both databases:
the card's part is taken off first, the credit beyond the new total goes back to the customer's account
once, and card and credit together come to the new total to the cent."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

from sqlalchemy import select

from contracts.order_edits import EditChange, EditOrderRequest, EditOrderResult
from contracts.store_credit import IssueCreditInput
from domain.money import Money
from domain.status import OrderStatus
from domain.store_credit import CreditReason
from persistence.models import PaymentRecord, StoreCreditEntry
from persistence.read_model import orders as order_store
from services.gateway import TemporalWorkflows
from services.intake import Intake
from services.store_credit import CreditAccounts
from services.unit_of_work import units_on
from tests.factories import add_location, make_order, stock
from tests.workflow.conftest import running_engine
from tests.workflow.histories import record_history
from tests.workflow.test_order_edits import _reserved, _ship
from workflows.order import OrderWorkflow

EMAIL = "sam@example.org"


def _balance(accounts: CreditAccounts) -> int:
    summary = accounts.statement(EMAIL, "default").summary
    assert summary is not None
    return summary.balance.amount_minor


async def test_an_edit_below_the_credit_spent_releases_the_card_first_and_gives_the_rest_back(
    temporal_client, database
):
    db = database
    async with running_engine(temporal_client, db, auto_confirm=False) as engine:
        add_location(db.session_factory, "AMS")
        stock(db.session_factory, "AMS", {"A": 3, "B": 3})
        accounts = CreditAccounts(units_on(db.session_factory), None)
        gift = IssueCreditInput("test:gift", Money(4000, "EUR"), CreditReason.GOODWILL, datetime.now(UTC))
        accounts.issue(dataclasses.replace(gift, email=EMAIL, shop="default"))
        # 50.00: 25.00 + 20.05 + 4.95 shipping; 30.00 paid with credit, 20.00 by card.
        order = make_order([("A", 1, 2500), ("B", 1, 2005)], paid=False, payment_method="pm_card_visa")
        order = dataclasses.replace(order, store_credit=Money(3000, "EUR"))
        intake = Intake(engine.settings, units_on(db.session_factory), TemporalWorkflows.on(temporal_client))
        await intake.take_canonical(order)
        assert _balance(accounts) == 1000
        first = await _reserved(engine, order.order_id)

        handle = temporal_client.get_workflow_handle(order.order_id)
        request = EditOrderRequest([EditChange("remove_line", line=0)], requested_by="anna@shop.example")
        result: EditOrderResult = await handle.execute_update(OrderWorkflow.edit_order, request)
        # Lowered by 25.00 to 25.00: the card's 20.00 goes first, then 5.00 of credit comes back.
        assert (result.total, result.difference) == (Money(2500, "EUR"), Money(-2500, "EUR"))
        assert (result.void, result.refund, result.credit_back) == (
            Money(2000, "EUR"),
            Money(0, "EUR"),
            Money(500, "EUR"),
        )
        assert _balance(accounts) == 1500

        # A retried reversal with the edit's key gives nothing more.
        again = accounts.reverse_order(order.order_id, f"{order.order_id}:edit-2:credit-back", datetime.now(UTC))
        assert again.given_back == [Money(500, "EUR")] and _balance(accounts) == 1500

        await _ship(temporal_client, f"{first}-2", "AMS", "3SCREDIT1")
        await engine.wait_for_status(order.order_id, "SHIPPED", "COMPLETED")
        with db.session() as session:
            payment = session.scalar(select(PaymentRecord).where(PaymentRecord.order_id == order.order_id))
            assert payment is not None
            entries = session.execute(
                select(StoreCreditEntry.kind, StoreCreditEntry.amount_minor).order_by(StoreCreditEntry.id)
            ).all()
            events = [e.detail for e in order_store.order_events(session, order.order_id) if "store credit" in e.detail]
        # The card held 20.00 and is charged nothing; credit pays the whole new total.
        assert (payment.authorized_minor, payment.captured_minor, payment.voided_minor) == (2000, 0, 2000)
        assert [tuple(e) for e in entries] == [("issue", 4000), ("spend", 3000), ("reverse", 500)]
        spent = 3000 - 500
        assert spent + payment.captured_minor == result.total.amount_minor
        assert any("5.00 EUR store credit given back (edit, version 2)" in e for e in events), events
        assert (await handle.query(OrderWorkflow.state)).status in (OrderStatus.SHIPPED, OrderStatus.COMPLETED)
        await record_history(handle, "order_edited_below_store_credit")


async def test_an_order_paid_all_with_credit_gets_the_whole_decrease_back_as_credit(temporal_client, sqlite_database):
    db = sqlite_database
    async with running_engine(temporal_client, db, auto_confirm=False) as engine:
        add_location(db.session_factory, "AMS")
        stock(db.session_factory, "AMS", {"A": 3, "B": 3})
        accounts = CreditAccounts(units_on(db.session_factory), None)
        gift = IssueCreditInput("test:gift", Money(6000, "EUR"), CreditReason.GOODWILL, datetime.now(UTC))
        accounts.issue(dataclasses.replace(gift, email=EMAIL, shop="default"))
        order = make_order([("A", 2, 1250), ("B", 1, 2005)], paid=False)  # 50.00, all of it credit
        order = dataclasses.replace(order, store_credit=Money(5000, "EUR"))
        intake = Intake(engine.settings, units_on(db.session_factory), TemporalWorkflows.on(temporal_client))
        await intake.take_canonical(order)
        first = await _reserved(engine, order.order_id)

        handle = temporal_client.get_workflow_handle(order.order_id)
        request = EditOrderRequest([EditChange("reduce_line", line=0, quantity=1)], requested_by="anna@shop.example")
        result: EditOrderResult = await handle.execute_update(OrderWorkflow.edit_order, request)
        assert (result.total, result.credit_back) == (Money(3750, "EUR"), Money(1250, "EUR"))
        assert (result.void, result.refund, result.authorize) == (Money(0, "EUR"),) * 3
        assert _balance(accounts) == 1000 + 1250

        await _ship(temporal_client, f"{first}-2", "AMS", "3SCREDIT2")
        await engine.wait_for_status(order.order_id, "SHIPPED", "COMPLETED")
        with db.session() as session:
            payments = session.scalars(select(PaymentRecord).where(PaymentRecord.order_id == order.order_id)).all()
        assert payments == []  # the gateway was never asked
