"""Pulled channels end to end: the bol.com and Amazon sandboxes over HTTP, ChannelPullWorkflow on the
real dev server, order workflows started (or cancelled) here, the cursor and the audit in the database,
and the Temporal Schedules that run it all."""

from __future__ import annotations

import asyncio
import contextlib
import copy
import json
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import pytest
from sqlalchemy import delete, select
from temporalio.api.enums.v1 import EventType
from temporalio.client import (
    Client,
    ScheduleActionStartWorkflow,
    ScheduleHandle,
    ScheduleOverlapPolicy,
    WorkflowFailureError,
)
from temporalio.exceptions import ActivityError, ApplicationError
from temporalio.service import RPCError

from contracts.channels import PullChannelInput, PullChannelResult
from contracts.order_workflow import OrderWorkflowInput
from domain.order import FULFILLED_BY_CHANNEL, FULFILLED_BY_US
from ops.channel_schedules import ensure_pull_schedules, pull_schedule_id
from persistence.guarded_writes import cancellation_notices
from persistence.master_data.catalogue import save_product
from persistence.models import ChannelCursor, ChannelMessage, OrderLineRecord, OrderRecord
from persistence.read_model import orders as order_store
from persistence.unit_of_work import UnitOfWork
from sandboxes import bol as bol_sandbox
from sandboxes.server import serve
from tests.channels import factories as channel_factories
from tests.channels.factories import seed_bol_orders
from tests.factories import add_location, next_id, stock
from tests.workflow.conftest import Engine, running_engine
from tests.workflow.histories import record_history
from workflows.channel_pull import ChannelPullWorkflow

if TYPE_CHECKING:  # imported at run time, pytest would try to collect it as a test class
    from tests.conftest import TestDatabase

DATA = Path(__file__).resolve().parents[1] / "unit" / "data"
BOL_ORDER = json.loads((DATA / "bol" / "order_fbr.json").read_text())
AMAZON_MFN = json.loads((DATA / "amazon" / "order_eu_mfn.json").read_text())
AMAZON_AFN = json.loads((DATA / "amazon" / "order_uk_afn.json").read_text())
DE, UK = "A1PA6795UKMFR9", "A1F83G8C2ARO7P"
QUIET = timedelta(hours=1)  # schedules never fire by themselves during a test


# --- the sandboxes --------------------------------------------------------------------------------------------------


@pytest.fixture
def bol_url() -> Iterator[str]:
    with serve(bol_sandbox.create_app(page_size=2)) as url:
        yield url


def bol_settings(url: str, secret: str = bol_sandbox.CLIENT_SECRET) -> dict[str, Any]:
    """Connected to the bol sandbox, its schedule quiet."""
    return {**channel_factories.bol_settings(url, secret), "channel_poll_interval": QUIET}


def amazon_settings(url: str) -> dict[str, Any]:
    """Connected to the Amazon sandbox in two marketplaces, its schedule quiet."""
    return {**channel_factories.amazon_settings(url, f"{DE},{UK}"), "channel_poll_interval": QUIET}


def bol_order(placed: datetime | None = None) -> dict[str, Any]:
    """The documented multi-line FBR order (one item fully, one partly cancelled) under a fresh id."""
    order = copy.deepcopy(BOL_ORDER)
    order_id = str(next_id())
    stamp = (placed or datetime.now(UTC) - timedelta(minutes=1)).isoformat(timespec="seconds")
    order["orderId"], order["orderPlacedDateTime"] = order_id, stamp
    for index, item in enumerate(order["orderItems"]):
        item["orderItemId"], item["latestChangedDateTime"] = f"{order_id}{index}", stamp
    return order


def cancel_on_bol(url: str, order_id: str) -> None:
    httpx.post(f"{url}/_sandbox/orders/{order_id}/cancel").raise_for_status()


def fail_bol(url: str, status: int, retry_after: str | None = None) -> None:
    body = {"status": status, "count": 1, "retry_after": retry_after, "path_prefix": "/retailer/orders"}
    httpx.post(f"{url}/_sandbox/fail-next", json=body).raise_for_status()


def amazon_order(template: dict[str, Any], order_id: str, marketplace: str) -> dict[str, Any]:
    payload = copy.deepcopy(template)
    updated = (datetime.now(UTC) - timedelta(minutes=30)).strftime("%Y-%m-%dT%H:%M:%SZ")
    payload["order"].update(AmazonOrderId=order_id, LastUpdateDate=updated, MarketplaceId=marketplace)
    return payload


def seed_amazon(url: str, payload: dict[str, Any]) -> None:
    httpx.post(f"{url}/_sandbox/orders", json=payload).raise_for_status()


# --- the engine side ------------------------------------------------------------------------------------------------


async def pull(engine: Engine, channel: str) -> PullChannelResult:
    """One run, as the schedule would start it."""
    return await engine.client.execute_workflow(
        ChannelPullWorkflow.run,
        PullChannelInput(channel=channel),
        id=f"channel-pull-{channel}-test-{uuid.uuid4()}",
        task_queue=engine.settings.task_queue,
    )


def audit(db: TestDatabase, channel: str) -> list[tuple[str | None, str | None, str]]:
    with db.session() as session:
        rows = session.scalars(
            select(ChannelMessage).where(ChannelMessage.channel == channel, ChannelMessage.kind == "pull")
        )
        return [(row.external_id, row.order_id, row.outcome) for row in rows]


def cursor_row(db: TestDatabase, channel: str) -> ChannelCursor | None:
    with db.session() as session:
        return session.get(ChannelCursor, channel)


async def workflow_running(client: Client, workflow_id: str) -> bool:
    description = await client.get_workflow_handle(workflow_id).describe()
    return description.status is not None and description.status.name == "RUNNING"


async def running_runs(handle: ScheduleHandle, *, expected: int, timeout: float = 10) -> int:
    """How many runs the schedule has going, once it is `expected` (or the timeout passed)."""
    deadline = time.monotonic() + timeout
    while True:
        running = len((await handle.describe()).info.running_actions)
        if running == expected or time.monotonic() > deadline:
            return running
        await asyncio.sleep(0.1)


async def start_input(client: Client, order_id: str) -> OrderWorkflowInput:
    history = await client.get_workflow_handle(order_id).fetch_history()
    started = history.events[0].workflow_execution_started_event_attributes
    [data] = await client.data_converter.decode(started.input.payloads, [OrderWorkflowInput])
    assert isinstance(data, OrderWorkflowInput)
    return data


# --- bol.com --------------------------------------------------------------------------------------------------------


async def test_a_bol_order_is_started_audited_and_pulled_only_once(temporal_client, database, bol_url):
    order = bol_order()
    seed_bol_orders(bol_url, order)
    async with running_engine(temporal_client, database, **bol_settings(bol_url)) as engine:
        result = await pull(engine, "bol")
        order_id = f"order-bol-{order['orderId']}"
        assert (result.pulled, result.started, result.rejected, result.more) == (1, 1, 0, False)
        assert await workflow_running(temporal_client, order_id)
        await engine.wait_for_status(order_id, "ON_HOLD")  # its EANs are not in the catalogue
        with database.session() as session:
            lines = session.scalars(select(OrderLineRecord).where(OrderLineRecord.order_id == order_id)).all()
        # The fully cancelled item is left out, the partly cancelled one keeps its open units.
        assert sorted((line.sku, line.quantity) for line in lines) == [
            ("ean:8712345678906", 3),
            ("ean:8712345678913", 2),
            ("ean:8712345678937", 3),
        ]
        assert audit(database, "bol") == [(order["orderId"], order_id, "started")]
        saved = cursor_row(database, "bol")
        assert saved is not None and saved.cursor and saved.orders_seen == 1

        again = await pull(engine, "bol")
        assert (again.pulled, again.started, again.duplicates) == (0, 0, 0)
        assert len(audit(database, "bol")) == 1


async def test_a_restart_neither_misses_nor_repeats_an_order(temporal_client, database, bol_url):
    first, second = bol_order(), bol_order()
    seed_bol_orders(bol_url, first, second)
    async with running_engine(temporal_client, database, **bol_settings(bol_url)) as engine:
        assert (await pull(engine, "bol")).started == 2

    later = bol_order()  # arrives while no worker runs
    seed_bol_orders(bol_url, later)
    async with running_engine(temporal_client, database, **bol_settings(bol_url)) as engine:
        result = await pull(engine, "bol")
        assert (result.pulled, result.started, result.duplicates) == (1, 1, 0)
    by_order = sorted(external_id or "" for external_id, _, _ in audit(database, "bol"))
    assert by_order == sorted([first["orderId"], second["orderId"], later["orderId"]])
    for order in (first, second, later):
        assert await workflow_running(temporal_client, f"order-bol-{order['orderId']}")

    # A worker that died after starting a page's orders but before saving the cursor: the page
    # comes again and starts nothing twice.
    with UnitOfWork(database.session_factory) as uow:
        uow.session.execute(delete(ChannelCursor).where(ChannelCursor.channel == "bol"))
        uow.commit()
    async with running_engine(temporal_client, database, **bol_settings(bol_url)) as engine:
        repeated = await pull(engine, "bol")
    assert (repeated.pulled, repeated.started, repeated.duplicates) == (3, 0, 3)


async def test_rate_limits_and_outages_are_retried_with_backoff(temporal_client, sqlite_database, bol_url):
    limited, down = bol_order(), bol_order()
    async with running_engine(temporal_client, sqlite_database, **bol_settings(bol_url)) as engine:
        seed_bol_orders(bol_url, limited)
        fail_bol(bol_url, 429, retry_after="1")
        began = time.monotonic()
        assert (await pull(engine, "bol")).started == 1
        assert time.monotonic() - began >= 1.0  # waited as long as bol asked

        seed_bol_orders(bol_url, down)
        fail_bol(bol_url, 503)
        workflow_id = f"channel-pull-bol-test-{uuid.uuid4()}"
        result = await temporal_client.execute_workflow(
            ChannelPullWorkflow.run, PullChannelInput("bol"), id=workflow_id, task_queue=engine.settings.task_queue
        )
        assert result.started == 1
    history = await temporal_client.get_workflow_handle(workflow_id).fetch_history()
    # The orders pull's (the returns pull follows it in the same run).
    started = next(e for e in history.events if e.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED)
    attributes = started.activity_task_started_event_attributes
    assert attributes.attempt == 2
    assert attributes.last_failure.application_failure_info.type == "ChannelUnavailable"
    await record_history(temporal_client.get_workflow_handle(workflow_id), "bol_pull_retried_after_an_outage")


async def test_refused_credentials_fail_the_run_without_retrying(temporal_client, sqlite_database, bol_url):
    async with running_engine(temporal_client, sqlite_database, **bol_settings(bol_url, secret="wrong")) as engine:
        with pytest.raises(WorkflowFailureError) as failed:
            await pull(engine, "bol")
    activity_error = failed.value.cause
    assert isinstance(activity_error, ActivityError) and activity_error.retry_state is not None
    cause = activity_error.cause
    assert isinstance(cause, ApplicationError) and cause.type == "ChannelAuthFailed" and cause.non_retryable
    assert "OMS_BOL_" in cause.message
    assert cursor_row(sqlite_database, "bol") is None


async def test_an_unmappable_order_is_kept_and_the_channel_moves_on(temporal_client, sqlite_database, bol_url):
    broken, fine = bol_order(), bol_order()
    broken["orderItems"][0]["totalPrice"] = "lots"
    seed_bol_orders(bol_url, broken, fine)
    async with running_engine(temporal_client, sqlite_database, **bol_settings(bol_url)) as engine:
        result = await pull(engine, "bol")
    assert (result.pulled, result.started, result.rejected) == (2, 1, 1)
    outcomes = {external_id: outcome for external_id, _, outcome in audit(sqlite_database, "bol")}
    assert outcomes[fine["orderId"]] == "started"
    assert outcomes[broken["orderId"]].startswith("rejected: not a valid order: orderItems.0.totalPrice")
    with sqlite_database.session() as session:
        kept = session.scalar(select(ChannelMessage.body).where(ChannelMessage.external_id == broken["orderId"]))
    assert kept is not None and json.loads(kept)["orderItems"][0]["totalPrice"] == "lots"
    saved = cursor_row(sqlite_database, "bol")
    assert saved is not None and saved.orders_seen == 2


async def test_an_order_cancelled_on_bol_is_cancelled_here(temporal_client, sqlite_database, bol_url):
    order = bol_order()
    order_id = f"order-bol-{order['orderId']}"
    seed_bol_orders(bol_url, order)
    async with running_engine(temporal_client, sqlite_database, **bol_settings(bol_url)) as engine:
        assert (await pull(engine, "bol")).started == 1
        await engine.wait_for_status(order_id, "ON_HOLD")
        cancel_on_bol(bol_url, order["orderId"])
        result = await pull(engine, "bol")
        assert (result.pulled, result.cancelled) == (1, 1)
        await engine.wait_for_status(order_id, "CANCELLED")
    assert [outcome for _, _, outcome in audit(sqlite_database, "bol")] == ["started", "cancelled"]


async def test_eans_resolve_through_the_catalogue_and_unknown_ones_hold_the_order(
    temporal_client, sqlite_database, bol_url
):
    with UnitOfWork(sqlite_database.session_factory) as uow:
        save_product(uow.session, "TEE-ORG-BLK-M", name="Organic T-shirt black M", ean="8712345678906", listings={})
        uow.commit()
    add_location(sqlite_database.session_factory, "AMS")
    stock(sqlite_database.session_factory, "AMS", {"TEE-ORG-BLK-M": 10})
    order = bol_order()
    order_id = f"order-bol-{order['orderId']}"
    seed_bol_orders(bol_url, order)
    async with running_engine(temporal_client, sqlite_database, **bol_settings(bol_url)) as engine:
        await pull(engine, "bol")
        await engine.wait_for_status(order_id, "ON_HOLD")
    with sqlite_database.session() as session:
        skus = set(session.scalars(select(OrderLineRecord.sku).where(OrderLineRecord.order_id == order_id)))
        record = session.get(OrderRecord, order_id)
        reason = record.hold_reason if record is not None else None
    assert "TEE-ORG-BLK-M" in skus
    assert reason is not None
    assert "ean:8712345678913" in reason and "ean:8712345678937" in reason
    assert "8712345678906" not in reason and "TEE-ORG-BLK-M" not in reason


async def test_a_new_order_with_a_cancellation_request_on_some_items_goes_on_without_them(
    temporal_client, sqlite_database, bol_url
):
    """Held by its checks for the request, then edited by bol there (order edits): checked again, it
    goes on without those items, and bol is to hear them confirmed."""
    with UnitOfWork(sqlite_database.session_factory) as uow:
        for sku, ean in (("TEE-ORG-BLK-M", "8712345678906"), ("MUG-STONE-350", "8712345678913")):
            save_product(uow.session, sku, name=sku, ean=ean, listings={})
        save_product(uow.session, "COASTER-BAMBOO-4", name="Coasters", ean="8712345678937", listings={})
        uow.commit()
    add_location(sqlite_database.session_factory, "AMS")
    stock(sqlite_database.session_factory, "AMS", {"TEE-ORG-BLK-M": 10, "MUG-STONE-350": 10, "COASTER-BAMBOO-4": 10})
    order = bol_order()
    order["orderItems"][1]["cancellationRequest"] = True  # the mug: the customer changed their mind
    order_id, mug_item = f"order-bol-{order['orderId']}", order["orderItems"][1]["orderItemId"]
    seed_bol_orders(bol_url, order)
    async with running_engine(temporal_client, sqlite_database, **bol_settings(bol_url)) as engine:
        await pull(engine, "bol")
        await engine.wait_for_status(order_id, "SHIPPED")
    with sqlite_database.session() as session:
        skus = set(session.scalars(select(OrderLineRecord.sku).where(OrderLineRecord.order_id == order_id)))
        assert "MUG-STONE-350" not in skus and "TEE-ORG-BLK-M" in skus
        kinds = [event.kind for event in order_store.order_events(session, order_id)]
        assert "status:ON_HOLD" in kinds and "order_edited" in kinds
        notice = cancellation_notices.notice_of(session, order_id)
        assert notice is not None and notice.notice["line_ids"] == [mug_item]
    assert [outcome for _, _, outcome in audit(sqlite_database, "bol")] == ["started; items cancelled: version 2"]


# --- Amazon ---------------------------------------------------------------------------------------------------------


async def test_amazon_merchant_and_amazon_fulfilled_orders_are_started(temporal_client, sqlite_database, amazon_url):
    mfn_id, afn_id = f"302-{next_id() % 10**7:07d}-0000001", f"026-{next_id() % 10**7:07d}-0000002"
    seed_amazon(amazon_url, amazon_order(AMAZON_MFN, mfn_id, DE))
    seed_amazon(amazon_url, amazon_order(AMAZON_AFN, afn_id, UK))
    async with running_engine(temporal_client, sqlite_database, **amazon_settings(amazon_url)) as engine:
        result = await pull(engine, "amazon")
        assert (result.pulled, result.started, result.rejected) == (2, 2, 0)
        assert (await start_input(temporal_client, f"order-amazon-{mfn_id}")).order.fulfilled_by == FULFILLED_BY_US
        afn = await start_input(temporal_client, f"order-amazon-{afn_id}")
        assert afn.order.fulfilled_by == FULFILLED_BY_CHANNEL and afn.order.currency == "GBP"
        assert (await pull(engine, "amazon")).started == 0
    assert sorted(outcome for _, _, outcome in audit(sqlite_database, "amazon")) == ["started", "started"]


# --- the schedules --------------------------------------------------------------------------------------------------


async def test_a_schedule_per_pulled_channel_pulls_when_triggered(temporal_client, sqlite_database, bol_url):
    handle = temporal_client.get_schedule_handle(pull_schedule_id("bol"))
    with contextlib.suppress(RPCError):
        await handle.delete()  # left by an earlier test run against this server
    async with running_engine(temporal_client, sqlite_database, **bol_settings(bol_url)) as engine:
        try:
            moved = engine.settings.model_copy(update={"task_queue": f"gone-{uuid.uuid4()}"})
            await ensure_pull_schedules(temporal_client, moved, ["bol"])
            described = await handle.describe()
            assert [spec.every for spec in described.schedule.spec.intervals] == [QUIET]
            assert described.schedule.policy.overlap is ScheduleOverlapPolicy.SKIP
            action = described.schedule.action
            assert isinstance(action, ScheduleActionStartWorkflow)
            assert (action.workflow, action.id, action.task_queue) == (
                "ChannelPullWorkflow",
                "channel-pull-bol",
                moved.task_queue,
            )
            await handle.trigger()  # a run on a queue no worker serves: under SKIP it blocks later runs
            assert await running_runs(handle, expected=1) == 1

            # A second start (another worker, new settings) updates rather than fails, and ends the
            # stranded run so the schedule pulls again.
            faster = engine.settings.model_copy(update={"channel_poll_interval": timedelta(minutes=30)})
            await ensure_pull_schedules(temporal_client, faster, ["bol"])
            described = await handle.describe()
            assert [spec.every for spec in described.schedule.spec.intervals] == [timedelta(minutes=30)]
            assert isinstance(described.schedule.action, ScheduleActionStartWorkflow)
            assert described.schedule.action.task_queue == engine.settings.task_queue
            assert await running_runs(handle, expected=0) == 0

            order = bol_order()
            seed_bol_orders(bol_url, order)
            await handle.trigger()
            await engine.wait_for_status(f"order-bol-{order['orderId']}", "ON_HOLD")

            await ensure_pull_schedules(temporal_client, faster, [])  # credentials removed
            with pytest.raises(RPCError):
                await handle.describe()
        finally:
            with contextlib.suppress(RPCError):
                await handle.delete()


async def test_a_pulled_order_past_a_column_limit_is_kept_and_a_long_title_is_taken(
    temporal_client, sqlite_database, bol_url
):
    too_long, long_title = bol_order(), bol_order()
    too_long["shipmentDetails"]["email"] = "a" * 400 + "@example.com"
    long_title["orderItems"][0]["product"]["title"] = "Organic T-shirt " * 40  # 640 characters: kept whole
    seed_bol_orders(bol_url, too_long, long_title)
    async with running_engine(temporal_client, sqlite_database, **bol_settings(bol_url)) as engine:
        result = await pull(engine, "bol")
        assert (result.pulled, result.started, result.rejected) == (2, 1, 1)
        outcomes = {external_id: outcome for external_id, _, outcome in audit(sqlite_database, "bol")}
        assert outcomes[too_long["orderId"]] == "rejected: customer_email: at most 320 characters, got 412"
        order_id = f"order-bol-{long_title['orderId']}"
        await engine.wait_for_status(order_id, "ON_HOLD", "RESERVED", "IN_FULFILMENT", "SHIPPED", "BACKORDERED")
        with sqlite_database.session() as session:
            titles = [line.title for line in order_store.get_order(session, order_id).lines]
        assert "Organic T-shirt " * 40 in titles
