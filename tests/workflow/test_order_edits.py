"""Changing an order before it ships (update `edit_order`) on the real dev server and database:
each kind of edit, the stock and the shipments following it, the money coming to the new total,
the versions, and the refusals (handed over, too early or late, more money on a card)."""

from __future__ import annotations

import asyncio
import time

import pytest
from sqlalchemy import select
from temporalio.client import Client, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError

from contracts.errors import ErrorType
from contracts.order_edits import EditChange, EditOrderRequest, EditOrderResult
from contracts.shipments import ShipmentProgress, StepConfirmation
from domain.money import Money
from domain.status import OrderStatus
from persistence.models import PaymentRecord, ShipmentRecord, StockLevel
from persistence.read_model import order_versions
from persistence.read_model import orders as order_store
from services.intake import start_order
from tests.conftest import TestDatabase
from tests.factories import add_location, make_order, stock
from tests.workflow.conftest import Engine, running_engine
from workflows.order import OrderWorkflow
from workflows.shipment import ShipmentWorkflow

STAFF = "anna@shop.example"


async def _running(client: Client, shipment_id: str, timeout: float = 20) -> ShipmentProgress:
    deadline = time.monotonic() + timeout
    while True:
        try:
            return await client.get_workflow_handle(shipment_id).query(ShipmentWorkflow.progress)
        except RPCError:
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.1)


async def _ship(client: Client, shipment_id: str, location: str, tracking: str) -> None:
    handle = client.get_workflow_handle(shipment_id)
    await _running(client, shipment_id)
    for step, fields in (
        ("pick", {}),
        ("pack", {"parcels": 1}),
        ("ship", {"carrier": "postnl", "tracking_number": tracking}),
    ):
        await handle.execute_update(ShipmentWorkflow.confirm_step, StepConfirmation(step, location, **fields))


async def _edit(client: Client, order_id: str, *changes: EditChange, by: str = STAFF) -> EditOrderResult:
    request = EditOrderRequest(list(changes), requested_by=by, reason="customer called")
    return await client.get_workflow_handle(order_id).execute_update(OrderWorkflow.edit_order, request)


async def _refusal(client: Client, order_id: str, *changes: EditChange) -> tuple[str, str]:
    with pytest.raises(WorkflowUpdateFailedError) as refused:
        await _edit(client, order_id, *changes)
    cause = refused.value.cause
    assert isinstance(cause, ApplicationError) and cause.type == ErrorType.ORDER_EDIT_REFUSED
    return str(cause.details[0]), cause.message


def _levels(db: TestDatabase, location: str) -> dict[str, tuple[int, int]]:
    with db.session() as session:
        rows = session.scalars(select(StockLevel).where(StockLevel.location_id == location))
        return {row.sku: (row.on_hand, row.reserved) for row in rows}


def _shipments(db: TestDatabase, order_id: str) -> dict[str, tuple[str, dict[str, int]]]:
    with db.session() as session:
        rows = session.scalars(select(ShipmentRecord).where(ShipmentRecord.order_id == order_id))
        return {row.shipment_id: (row.status, dict(row.lines)) for row in rows}


def _payment(db: TestDatabase, order_id: str) -> tuple[int, int, int]:
    with db.session() as session:
        payment = session.scalar(select(PaymentRecord).where(PaymentRecord.order_id == order_id))
        assert payment is not None
        return payment.authorized_minor, payment.captured_minor, payment.voided_minor


async def _reserved(engine: Engine, order_id: str) -> str:
    await engine.wait_for_live_status(order_id, OrderStatus.IN_FULFILMENT)
    shipment_id = f"shipment-{order_id}-AMS"
    await _running(engine.client, shipment_id)
    return shipment_id


async def test_reducing_a_line_releases_its_units_and_the_capture_comes_to_the_new_total(
    temporal_client, sqlite_database
):
    db = sqlite_database
    async with running_engine(temporal_client, db, auto_confirm=False) as engine:
        add_location(db.session_factory, "AMS")
        stock(db.session_factory, "AMS", {"MUG": 5, "TEE": 5})
        order = make_order([("MUG", 3, 1000), ("TEE", 1, 2000)], paid=False, payment_method="pm_card_visa")
        order_id, _ = await start_order(temporal_client, engine.settings, order)
        first = await _reserved(engine, order_id)

        result = await _edit(temporal_client, order_id, EditChange("reduce_line", line=0, quantity=2))
        assert (result.version, result.total, result.difference) == (2, Money(3495, "EUR"), Money(-2000, "EUR"))
        assert result.void == Money(2000, "EUR") and not result.on_channel
        assert result.changes == ["MUG: 3 → 1 (30.00 EUR → 10.00 EUR)", "total: 54.95 EUR → 34.95 EUR"]

        # The running shipment stood down (its stock released) and what it still carries was reserved again.
        second = f"{first}-2"
        await _running(temporal_client, second)
        shipments = _shipments(db, order_id)
        assert shipments[first][0] == "WITHDRAWN" and shipments[second][1] == {"MUG": 1, "TEE": 1}
        assert _levels(db, "AMS") == {"MUG": (5, 1), "TEE": (5, 1)}

        await _ship(temporal_client, second, "AMS", "3SEDIT1")
        await engine.wait_for_status(order_id, "SHIPPED")
        assert _payment(db, order_id) == (5495, 3495, 2000)
        with db.session() as session:
            record = order_store.get_order(session, order_id)
            assert record is not None and record.total_minor == 3495
            assert [(line.sku, line.quantity, line.total_minor) for line in record.lines] == [
                ("MUG", 1, 1000),
                ("TEE", 1, 2000),
            ]
            versions = [(v.number, v.changed_by, v.total_minor) for v in order_versions.versions(session, order_id)]
            assert versions == [(1, "webshop", 5495), (2, STAFF, 3495)]
        assert _levels(db, "AMS") == {"MUG": (4, 0), "TEE": (4, 0)}
