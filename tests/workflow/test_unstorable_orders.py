"""An order the database cannot hold as sent lands ON_HOLD with a readable reason and waits for a
person (cancel, or release to try again); an activity write the database refuses for its data is
not retried at all (the worker's PermanentFailures interceptor). Real worker, Temporal, database."""

from __future__ import annotations

import asyncio
import dataclasses
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta

import pytest
from temporalio import activity, workflow
from temporalio.client import WorkflowFailureError
from temporalio.exceptions import ActivityError, ApplicationError
from temporalio.worker import Worker

from activities.permanent_failures import PermanentFailures
from contracts.errors import ErrorType
from contracts.order_workflow import ReleaseRequest
from domain.order import Order
from domain.status import OrderStatus
from integrations.sandbox.payments import SandboxPaymentGateway
from persistence.models import StockMovement
from persistence.read_model import orders as order_store
from persistence.unit_of_work import UnitOfWork
from services.intake import start_order
from tests.factories import add_location, make_order, stock
from tests.workflow.conftest import api_client, running_engine
from workflows.order import OrderWorkflow
from workflows.policies import STEP_RETRY

TOKEN = "unstorable-admin-token"
STAFF = {"Authorization": f"Bearer {TOKEN}"}


def _too_long() -> Order:
    # Past every edge (which refuses it with a 422), as an order in flight from before would be.
    return dataclasses.replace(make_order([("MUG", 1, 1250)]), reference="#" + "9" * 100)


def _timeline(db, order_id: str) -> list[str]:
    with db.session() as session:
        return [event.kind for event in order_store.order_events(session, order_id)]


async def test_an_unstorable_order_lands_on_hold_and_a_cancel_ends_it(temporal_client, database):
    async with running_engine(temporal_client, database) as engine:
        order_id, _ = await start_order(temporal_client, engine.settings, _too_long())
        await engine.wait_for_status(order_id, OrderStatus.ON_HOLD.value)
        state = await engine.wait_for_live_status(order_id, OrderStatus.ON_HOLD)
        assert state.status is OrderStatus.ON_HOLD
        assert state.hold_reason is not None
        assert state.hold_reason.startswith("cannot be stored as sent (reference: at most 100 characters, got 101)")
        with api_client(engine, TOKEN) as api:
            listed = (await asyncio.to_thread(api.get, "/orders?status=ON_HOLD", headers=STAFF)).json()
            assert [o["order_id"] for o in listed["data"]] == [order_id]
            assert listed["data"][0]["hold_reason"] == state.hold_reason
            cancel = await asyncio.to_thread(api.post, f"/orders/{order_id}/cancel", json={}, headers=STAFF)
            assert cancel.status_code == 202, cancel.text
        await engine.wait_for_status(order_id, OrderStatus.CANCELLED.value)
        result = await temporal_client.get_workflow_handle(order_id).result()
        assert result["status"] == OrderStatus.CANCELLED.value
        assert _timeline(database, order_id)[-1] == "status:CANCELLED"


async def test_a_release_tries_to_record_it_again(temporal_client, sqlite_database):
    db = sqlite_database
    async with running_engine(temporal_client, db) as engine:
        order_id, _ = await start_order(temporal_client, engine.settings, _too_long())
        await engine.wait_for_live_status(order_id, OrderStatus.ON_HOLD)
        handle = temporal_client.get_workflow_handle(order_id)
        await handle.signal(OrderWorkflow.release, ReleaseRequest(note="try again", released_by="ops"))
        for _ in range(100):  # recorded again, and held again: nothing about the order changed
            if _timeline(db, order_id).count("status:ON_HOLD") == 2:
                break
            await asyncio.sleep(0.1)
        assert _timeline(db, order_id) == ["received", "status:ON_HOLD", "status:ON_HOLD"]
        assert (await handle.query(OrderWorkflow.state)).status is OrderStatus.ON_HOLD
        history = await handle.fetch_history()
        attempts = [
            e.activity_task_started_event_attributes.attempt
            for e in history.events
            if e.HasField("activity_task_started_event_attributes")
        ]
        assert attempts == [1, 1]  # never a retry: each record step returned at once


# -- the interceptor, on a write of its own ----------------------------------------------------------


@dataclass
class WriteInput:
    database_url: str
    delta: int


@activity.defn(name="write_a_ledger_row")
def write_a_ledger_row(data: WriteInput) -> None:
    from persistence.db import create_db_engine, create_session_factory

    engine = create_db_engine(data.database_url)
    try:
        with UnitOfWork(create_session_factory(engine)) as uow:
            uow.session.add(StockMovement(location_id="AMS", sku="MUG", kind="receipt", on_hand_delta=data.delta))
            uow.commit()
    finally:
        engine.dispose()


@workflow.defn(sandboxed=False)
class WriteOnce:
    @workflow.run
    async def run(self, data: WriteInput) -> None:
        await workflow.execute_activity(
            write_a_ledger_row, data, start_to_close_timeout=timedelta(seconds=30), retry_policy=STEP_RETRY
        )


async def test_a_write_the_database_refuses_fails_at_once_naming_the_column(temporal_client, database):
    # PostgreSQL refuses past 32 bits in an integer column; SQLite only past 64.
    delta, refusal = {
        "postgresql": (2**40, "stock_movements.on_hand_delta: 1099511627776 does not fit a 32-bit integer column"),
        "sqlite": (2**63, "the database refused a value: Python int too large to convert to SQLite INTEGER"),
    }[database.kind]
    queue = f"permanent-{uuid.uuid4()}"
    with ThreadPoolExecutor(max_workers=2) as pool:
        async with Worker(
            temporal_client,
            task_queue=queue,
            workflows=[WriteOnce],
            activities=[write_a_ledger_row],
            activity_executor=pool,
            interceptors=[PermanentFailures()],
        ):
            with pytest.raises(WorkflowFailureError) as failed:
                await asyncio.wait_for(
                    temporal_client.execute_workflow(
                        WriteOnce.run, WriteInput(database.url, delta), id=queue, task_queue=queue
                    ),
                    timeout=20,  # the retry policy retries for ever: only a non-retryable error ends it
                )
    error = failed.value.cause
    assert isinstance(error, ActivityError) and isinstance(error.cause, ApplicationError)
    assert (error.cause.type, error.cause.non_retryable) == (ErrorType.STORAGE_REFUSED, True)
    assert error.cause.message == f"write_a_ledger_row: the database cannot store this: {refusal}"
    assert error.cause.cause is None  # the statement and its values are not carried along


class _LongReferenceGateway(SandboxPaymentGateway):
    """A gateway whose payment references do not fit our column, until someone fixes it."""

    def __init__(self) -> None:
        self.too_long = True

    def authorize(self, idempotency_key, amount, payment_method, order_id):
        payment = super().authorize(idempotency_key, amount, payment_method, order_id)
        return dataclasses.replace(payment, provider_ref="pi_" + "x" * 300) if self.too_long else payment


async def test_a_later_step_the_database_refuses_holds_the_order_until_a_release(temporal_client, database):
    """PostgreSQL enforces the column's length: the authorization's record is refused for its data,
    and the order waits ON_HOLD naming the column until a release runs the step again. SQLite
    stores the long reference whole, and the order simply goes on."""
    db = database
    gateway = _LongReferenceGateway()
    async with running_engine(temporal_client, db, gateway=gateway) as engine:
        add_location(db.session_factory, "AMS")
        stock(db.session_factory, "AMS", {"MUG": 3})
        order = make_order([("MUG", 1, 1250)], paid=False, payment_method="pm_card_visa")
        order_id, _ = await start_order(temporal_client, engine.settings, order)
        if db.kind == "sqlite":
            await engine.wait_for_status(order_id, "SHIPPED")
            return
        state = await engine.wait_for_live_status(order_id, OrderStatus.ON_HOLD)
        assert state.status is OrderStatus.ON_HOLD
        assert "payments.provider_ref" in (state.hold_reason or "")
        assert "release to try again, or cancel" in (state.hold_reason or "")
        assert "x" * 20 not in (state.hold_reason or "")  # the column, never the value

        gateway.too_long = False  # someone fixed it
        await temporal_client.get_workflow_handle(order_id).signal(OrderWorkflow.release, ReleaseRequest())
        await engine.wait_for_status(order_id, "SHIPPED")
