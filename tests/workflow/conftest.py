"""An in-process worker with the real activities on a fresh task queue per test."""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest_asyncio
from fastapi.testclient import TestClient
from sqlalchemy import select
from temporalio.client import Client

from activities.channel_returns import ReturnOpener
from api.main import create_app
from config import Settings, load_settings
from contracts.order_workflow import OrderState
from domain.status import OrderStatus
from integrations.payments.routing import PaymentGateways
from integrations.providers import PaymentGateway, Warehouse
from persistence.guarded_writes import inventory
from persistence.models import PaymentRecord, ReturnRecord
from persistence.read_model import orders as order_store
from tests.conftest import TestDatabase
from worker import (
    build_worker,
    event_delivery_workflow_id,
    location_worker,
    start_event_delivery,
    start_stock_feed,
    stock_feed_workflow_id,
)
from workflows.order import OrderWorkflow


async def until(check: Callable[..., Any], what: str = "", timeout: float = 30) -> Any:
    """Poll a blocking `check` (a query, the in-process API) off the event loop the worker runs on
    until it answers something true; its last answer when time is up, or, given `what` it waits
    for, an assertion naming it."""
    deadline = time.monotonic() + timeout
    while True:
        value = await asyncio.to_thread(check)
        if value or time.monotonic() > deadline:
            assert value or not what, what
            return value
        await asyncio.sleep(0.1)


def on_hand(engine: Engine, location: str, sku: str) -> int:
    """Units on hand of `sku` at `location` as the database has them (0 when never stocked)."""
    with engine.db.session() as session:
        row = inventory.stock_row(session, location, sku)
        return row.on_hand if row else 0


def refunded(engine: Engine, order_id: str) -> int:
    """Minor units refunded on the order's payment so far (0 without a payment)."""
    with engine.db.session() as session:
        payment = session.scalar(select(PaymentRecord).where(PaymentRecord.order_id == order_id))
        return payment.refunded_minor if payment else 0


def stock_of(engine: Engine, location: str, sku: str) -> tuple[int, int]:
    """(on hand, reserved) of `sku` at `location` as the database has them ((0, 0) when never stocked)."""
    with engine.db.session() as session:
        row = inventory.stock_row(session, location, sku)
        return (row.on_hand, row.reserved) if row else (0, 0)


def return_record(engine: Engine, return_id: str) -> ReturnRecord:
    """The return's row as the database has it now (detached: read it after the session)."""
    with engine.db.session() as session:
        record = session.get(ReturnRecord, return_id)
        assert record is not None, return_id
        session.expunge(record)
        return record


async def ask_exchange(
    api: TestClient, headers: dict[str, str], order_id: str, lines: dict[str, int], replacement: list[dict[str, Any]]
) -> str:
    """Support asks for an exchange of `lines` for `replacement`: the return's id (202)."""
    body = {
        "lines": [{"sku": sku, "quantity": n} for sku, n in lines.items()],
        "reason": "wrong size",
        "resolution": "exchange",
        "replacement": replacement,
    }
    asked = await asyncio.to_thread(api.post, f"/orders/{order_id}/returns", json=body, headers=headers)
    assert asked.status_code == 202, asked.text
    return_id: str = asked.json()["return_id"]
    return return_id


async def received_and_restocked(
    api: TestClient, headers: dict[str, str], return_id: str, lines: dict[str, int]
) -> dict[str, Any]:
    """The parcel received in full at AMS and every unit restocked: the dispose step's answer."""
    units = [{"sku": sku, "quantity": n} for sku, n in lines.items()]
    received = await asyncio.to_thread(
        api.post, f"/returns/{return_id}/receive", json={"location_id": "AMS", "lines": units}, headers=headers
    )
    assert received.status_code == 200, received.text
    dispositions = {"lines": [{**unit, "disposition": "restock"} for unit in units]}
    disposed = await asyncio.to_thread(api.post, f"/returns/{return_id}/dispose", json=dispositions, headers=headers)
    assert disposed.status_code == 200, disposed.text
    done: dict[str, Any] = disposed.json()
    return done


def event_kinds(engine: Engine, order_id: str) -> list[str]:
    """The kinds of the order's recorded events, oldest first."""
    with engine.db.session() as session:
        return [event.kind for event in order_store.order_events(session, order_id)]


@dataclass
class Engine:
    client: Client
    settings: Settings
    db: TestDatabase

    def status(self, order_id: str) -> str | None:
        with self.db.session() as session:
            record = order_store.get_order(session, order_id)
            return record.status if record else None

    async def wait_for_status(self, order_id: str, *statuses: str, timeout: float = 30) -> str:
        deadline = time.monotonic() + timeout
        current = None
        while time.monotonic() < deadline:
            current = self.status(order_id)
            if current in statuses:
                return current
            await asyncio.sleep(0.1)
        raise AssertionError(f"{order_id} stayed {current}, expected one of {statuses}")

    async def wait_for_live_status(self, order_id: str, status: OrderStatus, timeout: float = 15) -> OrderState:
        """The workflow's own view: it learns a status when the activity that wrote it has
        completed, a moment after the read model shows it."""
        handle = self.client.get_workflow_handle(order_id)
        deadline = time.monotonic() + timeout
        while True:
            state = await handle.query(OrderWorkflow.state)
            if state.status is status or time.monotonic() > deadline:
                return state
            await asyncio.sleep(0.1)


@asynccontextmanager
async def running_engine(
    client: Client,
    db: TestDatabase,
    *,
    return_window: timedelta = timedelta(days=30),
    gateway: PaymentGateway | PaymentGateways | None = None,
    warehouse: Warehouse | None = None,
    backorder_deadline: timedelta | None = timedelta(days=14),
    stock_feed: bool = False,
    event_delivery: bool = False,
    activities: Sequence[Callable[..., Any]] = (),
    return_opener: ReturnOpener | None = None,
    **overrides: Any,
) -> AsyncIterator[Engine]:
    """`overrides`: more settings, e.g. auto_confirm=False (staff confirm), pickup_expiry, sla_overrides,
    location_task_queues (each gets a location worker too)."""
    settings = load_settings(
        **{
            "task_queue": f"test-{uuid.uuid4()}",
            "return_window": return_window,
            "backorder_deadline": backorder_deadline,
            "database_url": db.url,
            "worker_activity_threads": 16,
            **overrides,
        }
    )
    with ThreadPoolExecutor(max_workers=16) as executor:
        worker = build_worker(
            client,
            settings,
            db.session_factory,
            executor=executor,
            gateway=gateway,
            warehouse=warehouse,
            activities=activities,
            return_opener=return_opener,
        )
        locations = [
            location_worker(client, settings, db.session_factory, queue, executor=executor)
            for queue in settings.location_queues
        ]
        async with contextlib.AsyncExitStack() as running:
            for each in (worker, *locations):
                await running.enter_async_context(each)
            if stock_feed:
                await start_stock_feed(client, settings.task_queue, settings.stock_feed_window)
            if event_delivery:
                await start_event_delivery(client, settings.task_queue, settings.event_delivery_window)
            try:
                yield Engine(client, settings, db)
            finally:
                if stock_feed:
                    await client.get_workflow_handle(stock_feed_workflow_id(settings.task_queue)).terminate("test done")
                if event_delivery:
                    handle = client.get_workflow_handle(event_delivery_workflow_id(settings.task_queue))
                    await handle.terminate("test done")


@pytest_asyncio.fixture
async def engine(temporal_client: Client, sqlite_database: TestDatabase) -> AsyncIterator[Engine]:
    async with running_engine(temporal_client, sqlite_database) as running:
        yield running


@contextlib.contextmanager
def api_client(engine: Engine, admin_token: str) -> Iterator[TestClient]:
    """The API in-process on the worker's own settings (task queue, database) and Temporal server."""
    address = engine.client.service_client.config.target_host
    settings = engine.settings.model_copy(update={"admin_token": admin_token, "temporal_address": address})
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        yield client
