"""Changing an order before it ships (update `edit_order`) on the real dev server and database:
each kind of edit, the stock and the shipments following it, the money coming to the new total,
the versions, and the refusals (handed over, too early or late, more money on a card)."""

from __future__ import annotations

import asyncio
import time

import pytest
import stripe
from sqlalchemy import select
from temporalio.client import Client, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError

from contracts.errors import ErrorType
from contracts.order_edits import EditChange, EditOrderRequest, EditOrderResult
from contracts.order_workflow import CancelRequest
from contracts.shipments import ShipmentProgress, StepConfirmation
from domain.money import Money
from domain.order import Address
from domain.payments import PaymentStatus
from domain.status import OrderStatus
from integrations.payments import StripeGateway
from persistence.models import PaymentRecord, ShipmentRecord, StockLevel
from persistence.read_model import order_versions
from persistence.read_model import orders as order_store
from services.cancel import request_cancel
from services.intake import start_order
from tests.conftest import TestDatabase
from tests.factories import add_location, make_order, stock
from tests.workflow.conftest import Engine, running_engine
from tests.workflow.gates import Gate, GatedWarehouse
from tests.workflow.histories import record_history
from workflows.order import OrderWorkflow
from workflows.shipment import ShipmentWorkflow

STAFF = "anna@shop.example"


async def partly_captured(client: Client, order_id: str, timeout: float = 30) -> None:
    """Until the order's workflow has counted a first capture (its live view says so)."""
    deadline = time.monotonic() + timeout
    while (await client.get_workflow_handle(order_id).query(OrderWorkflow.state)).payment_status is not (
        PaymentStatus.PARTIALLY_CAPTURED
    ):
        assert time.monotonic() < deadline, "no capture"
        await asyncio.sleep(0.1)


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
        await record_history(temporal_client.get_workflow_handle(order_id), "order_edited_before_it_shipped")


async def test_a_line_removed_and_one_added_on_a_channel_paid_order_are_reserved_like_any_order(
    temporal_client, database
):
    db = database
    async with running_engine(temporal_client, db, auto_confirm=False) as engine:
        add_location(db.session_factory, "AMS")
        stock(db.session_factory, "AMS", {"MUG": 5, "TEE": 5, "CAP": 5})
        order = make_order([("MUG", 3, 1000), ("TEE", 1, 2000)], paid=True)
        order_id, _ = await start_order(temporal_client, engine.settings, order)
        first = await _reserved(engine, order_id)

        price = Money(1500, "EUR")
        result = await _edit(
            temporal_client,
            order_id,
            EditChange("remove_line", line=1),
            EditChange("add_line", sku="CAP", quantity=2, unit_price=price, title="Cap"),
        )
        assert (result.version, result.total, result.difference) == (2, Money(6495, "EUR"), Money(1000, "EUR"))
        assert result.on_channel and result.authorize == Money(1000, "EUR")  # the channel collects it

        second = f"{first}-2"
        await _running(temporal_client, second)
        assert _shipments(db, order_id)[second][1] == {"CAP": 2, "MUG": 3}
        assert _levels(db, "AMS") == {"MUG": (5, 3), "TEE": (5, 0), "CAP": (5, 2)}
        await _ship(temporal_client, second, "AMS", "3SEDIT2")
        await engine.wait_for_status(order_id, "SHIPPED")
        assert _levels(db, "AMS") == {"MUG": (2, 0), "TEE": (5, 0), "CAP": (3, 0)}
        with db.session() as session:
            kinds = [event.kind for event in order_store.order_events(session, order_id)]
            assert "order_edited" in kinds and "edit_payment" in kinds


async def test_an_added_line_ships_as_its_own_shipment_while_the_first_runs(temporal_client, sqlite_database):
    db = sqlite_database
    async with running_engine(temporal_client, db, auto_confirm=False) as engine:
        add_location(db.session_factory, "AMS")
        stock(db.session_factory, "AMS", {"MUG": 5, "CAP": 5})
        order_id, _ = await start_order(temporal_client, engine.settings, make_order([("MUG", 1, 1000)], paid=True))
        first = await _reserved(engine, order_id)
        await temporal_client.get_workflow_handle(first).execute_update(
            ShipmentWorkflow.confirm_step, StepConfirmation("pick", "AMS")
        )

        added = EditChange("add_line", sku="CAP", quantity=1, unit_price=Money(1500, "EUR"))
        assert (await _edit(temporal_client, order_id, added)).total == Money(2995, "EUR")
        second = f"{first}-2"
        await _running(temporal_client, second)
        shipments = _shipments(db, order_id)
        assert shipments[first] == ("PICKED", {"MUG": 1}) and shipments[second] == ("RESERVED", {"CAP": 1})

        await _ship(temporal_client, second, "AMS", "3SEDIT3")
        handle = temporal_client.get_workflow_handle(first)
        await handle.execute_update(ShipmentWorkflow.confirm_step, StepConfirmation("pack", "AMS", parcels=1))
        await handle.execute_update(
            ShipmentWorkflow.confirm_step, StepConfirmation("ship", "AMS", carrier="postnl", tracking_number="3SEDIT4")
        )
        await engine.wait_for_status(order_id, "SHIPPED")
        assert _levels(db, "AMS") == {"MUG": (4, 0), "CAP": (4, 0)}
        state = await temporal_client.get_workflow_handle(order_id).query(OrderWorkflow.state)
        assert state.version == 2


async def test_a_new_address_goes_to_the_open_shipment_and_the_record(temporal_client, sqlite_database):
    db = sqlite_database
    async with running_engine(temporal_client, db, auto_confirm=False) as engine:
        add_location(db.session_factory, "AMS")
        stock(db.session_factory, "AMS", {"MUG": 5})
        order_id, _ = await start_order(temporal_client, engine.settings, make_order([("MUG", 1, 1000)], paid=True))
        first = await _reserved(engine, order_id)
        address = Address(name="Sam Tester", line1="Oudegracht 2", postcode="3511 AB", city="Utrecht", country="NL")

        result = await _edit(temporal_client, order_id, EditChange("change_address", address=address))
        assert result.difference == Money(0, "EUR") and result.changes == [
            "shipping address → Oudegracht 2, 3511 AB Utrecht, NL"
        ]
        assert _shipments(db, order_id) == {first: ("RESERVED", {"MUG": 1})}  # the same parcel, readdressed
        with db.session() as session:
            record = order_store.get_order(session, order_id)
            assert record is not None and record.shipping_address["city"] == "Utrecht"
            assert record.postcode_key == "3511AB"
            kinds = [event.kind for event in order_store.order_events(session, order_id)]
            assert "shipment_readdressed" in kinds
        await _ship(temporal_client, first, "AMS", "3SEDIT5")
        await engine.wait_for_status(order_id, "SHIPPED")


async def test_a_channel_cancelling_some_units_is_an_edit_by_the_channel(temporal_client, sqlite_database):
    db = sqlite_database
    async with running_engine(temporal_client, db, auto_confirm=False) as engine:
        add_location(db.session_factory, "AMS")
        stock(db.session_factory, "AMS", {"MUG": 5, "TEE": 5})
        order = make_order([("MUG", 2, 1000), ("TEE", 2, 2000)], paid=True)
        order_id, _ = await start_order(temporal_client, engine.settings, order)
        first = await _reserved(engine, order_id)

        result = await _edit(temporal_client, order_id, EditChange("cancel_lines", line=1, quantity=2), by="webshop")
        assert result.total == Money(2495, "EUR")
        second = f"{first}-2"
        await _running(temporal_client, second)
        assert _levels(db, "AMS") == {"MUG": (5, 2), "TEE": (5, 0)}
        await _ship(temporal_client, second, "AMS", "3SEDIT6")
        await engine.wait_for_status(order_id, "SHIPPED")
        with db.session() as session:
            versions = order_versions.versions(session, order_id)
            assert [(v.number, v.changed_by) for v in versions] == [(1, "webshop"), (2, "webshop")]
            assert versions[1].changes == ["removed 2 x TEE (40.00 EUR → 0.00 EUR)", "total: 64.95 EUR → 24.95 EUR"]


async def test_refusals_before_history(temporal_client, database):
    """Handed over, more money on a card captured from already, unknown line, empty edit, and after
    everything left."""
    db = database
    async with running_engine(temporal_client, db, auto_confirm=False) as engine:
        add_location(db.session_factory, "AMS", priority=1)
        add_location(db.session_factory, "UTR", priority=2)
        stock(db.session_factory, "AMS", {"MUG": 5})
        stock(db.session_factory, "UTR", {"TEE": 5})
        order = make_order([("MUG", 2, 1000), ("TEE", 1, 2000)], paid=False, payment_method="pm_card_visa")
        order_id, _ = await start_order(temporal_client, engine.settings, order)
        await engine.wait_for_live_status(order_id, OrderStatus.IN_FULFILMENT)
        await _ship(temporal_client, f"shipment-{order_id}-AMS", "AMS", "3SEDIT7")
        await partly_captured(temporal_client, order_id)  # the mugs' share taken: no second hold beside it

        kind, message = await _refusal(temporal_client, order_id, EditChange("reduce_line", line=0, quantity=1))
        assert kind == "handed_over" and "already handed over" in message
        added = EditChange("add_line", sku="TEE", quantity=1, unit_price=Money(2000, "EUR"))
        assert (await _refusal(temporal_client, order_id, added))[0] == "needs_payment"
        assert (await _refusal(temporal_client, order_id, EditChange("remove_line", line=7)))[0] == "invalid"
        assert (await _refusal(temporal_client, order_id))[0] == "invalid"
        assert (await _refusal(temporal_client, order_id, EditChange("explode", line=0)))[0] == "invalid"

        # What has not left can still change: the customer no longer wants the tee.
        result = await _edit(temporal_client, order_id, EditChange("remove_line", line=1))
        assert result.total == Money(2495, "EUR")
        await engine.wait_for_status(order_id, "SHIPPED")
        assert _payment(db, order_id) == (4495, 2495, 2000)
        assert _levels(db, "UTR") == {"TEE": (5, 0)}
        assert (await _refusal(temporal_client, order_id, EditChange("reduce_line", line=0, quantity=1)))[0] in (
            "not_editable",
            "handed_over",
        )


async def test_a_backordered_line_removed_no_longer_waits(temporal_client, sqlite_database):
    db = sqlite_database
    async with running_engine(temporal_client, db, auto_confirm=False) as engine:
        add_location(db.session_factory, "AMS")
        stock(db.session_factory, "AMS", {"MUG": 5, "TEE": 0})
        order = make_order([("MUG", 1, 1000), ("TEE", 2, 2000)], paid=True)
        order_id, _ = await start_order(temporal_client, engine.settings, order)
        assert (await engine.wait_for_live_status(order_id, OrderStatus.BACKORDERED)).status is OrderStatus.BACKORDERED

        # The tee is nowhere: nothing to release, the backorder shrinks and waits on.
        result = await _edit(temporal_client, order_id, EditChange("reduce_line", line=1, quantity=1))
        assert result.total == Money(3495, "EUR") and _shipments(db, order_id) == {}
        assert (await engine.wait_for_live_status(order_id, OrderStatus.BACKORDERED)).status is OrderStatus.BACKORDERED
        # Without it the mug is all there is, and it is there.
        await _edit(temporal_client, order_id, EditChange("remove_line", line=1))
        first = await _reserved(engine, order_id)
        assert _shipments(db, order_id) == {first: ("RESERVED", {"MUG": 1})}
        await _ship(temporal_client, first, "AMS", "3SEDIT8")
        await engine.wait_for_status(order_id, "SHIPPED")
        with db.session() as session:
            record = order_store.get_order(session, order_id)
            assert record is not None and record.total_minor == 1495
            assert [v.number for v in order_versions.versions(session, order_id)] == [1, 2, 3]


async def test_an_order_held_by_the_checks_is_edited_there_and_checked_again(temporal_client, sqlite_database):
    """Held for a SKU nobody stocks: the line taken off, the order is checked again and goes on."""
    db = sqlite_database
    async with running_engine(temporal_client, db) as engine:
        add_location(db.session_factory, "AMS")
        stock(db.session_factory, "AMS", {"MUG": 5})
        order = make_order([("UNKNOWN", 1, 1000), ("MUG", 1, 1000)], paid=False, payment_method="pm_card_visa")
        order_id, _ = await start_order(temporal_client, engine.settings, order)
        await engine.wait_for_live_status(order_id, OrderStatus.ON_HOLD)
        added = EditChange("add_line", sku="MUG", quantity=1, unit_price=Money(1000, "EUR"))
        kind, message = await _refusal(temporal_client, order_id, added)  # the hold follows the checks
        assert kind == "needs_payment" and "no card authorization" in message

        result = await _edit(temporal_client, order_id, EditChange("remove_line", line=0))
        assert result.total == Money(1495, "EUR")
        await engine.wait_for_status(order_id, "SHIPPED")
        assert _payment(db, order_id) == (1495, 1495, 0)  # authorized for the order as edited
        assert _levels(db, "AMS") == {"MUG": (4, 0)}


async def test_an_edit_stops_a_parcel_about_to_leave(temporal_client, sqlite_database):
    """The parcel is being dispatched (the warehouse has it at the door) when the edit comes: the edit
    is recorded first, so the handover finds the shipment withdrawn and stops; the rest goes again."""
    gate = Gate()
    db = sqlite_database
    async with running_engine(temporal_client, db, warehouse=GatedWarehouse({"ship": gate})) as engine:
        add_location(db.session_factory, "AMS")
        stock(db.session_factory, "AMS", {"MUG": 5, "TEE": 5})
        order = make_order([("MUG", 2, 1000), ("TEE", 1, 2000)], paid=False, payment_method="pm_card_visa")
        order_id, _ = await start_order(temporal_client, engine.settings, order)
        assert await asyncio.to_thread(gate.reached.wait, 30)

        result = await _edit(temporal_client, order_id, EditChange("remove_line", line=1))
        assert result.total == Money(2495, "EUR")
        gate.open.set()
        await engine.wait_for_status(order_id, "SHIPPED")
        first = f"shipment-{order_id}-AMS"
        shipments = _shipments(db, order_id)
        assert shipments[first][0] == "WITHDRAWN" and shipments[f"{first}-2"] == ("SHIPPED", {"MUG": 2})
        assert _levels(db, "AMS") == {"MUG": (3, 0), "TEE": (5, 0)}
        assert _payment(db, order_id) == (4495, 2495, 2000)
        with db.session() as session:
            kinds = [event.kind for event in order_store.order_events(session, order_id)]
            assert "handover_stopped" in kinds and "status:CANCELLED" not in kinds


async def test_an_edited_order_cancelled_releases_everything_once(temporal_client, sqlite_database):
    db = sqlite_database
    async with running_engine(temporal_client, db, auto_confirm=False) as engine:
        add_location(db.session_factory, "AMS")
        stock(db.session_factory, "AMS", {"MUG": 5, "CAP": 5})
        order_id, _ = await start_order(temporal_client, engine.settings, make_order([("MUG", 2, 1000)], paid=True))
        first = await _reserved(engine, order_id)
        await _edit(
            temporal_client, order_id, EditChange("add_line", sku="CAP", quantity=1, unit_price=Money(1500, "EUR"))
        )
        await _running(temporal_client, f"{first}-2")
        assert _levels(db, "AMS") == {"MUG": (5, 2), "CAP": (5, 1)}

        refusal = await request_cancel(temporal_client, db.session_factory, order_id, CancelRequest("changed my mind"))
        assert refusal is None
        await engine.wait_for_status(order_id, "CANCELLED")
        assert _levels(db, "AMS") == {"MUG": (5, 0), "CAP": (5, 0)}


async def test_two_edits_at_once_are_applied_one_after_the_other(temporal_client, sqlite_database):
    db = sqlite_database
    async with running_engine(temporal_client, db, auto_confirm=False) as engine:
        add_location(db.session_factory, "AMS")
        stock(db.session_factory, "AMS", {"MUG": 5})
        order_id, _ = await start_order(temporal_client, engine.settings, make_order([("MUG", 3, 1000)], paid=True))
        await _reserved(engine, order_id)
        one = EditChange("reduce_line", line=0, quantity=1)
        outcomes = await asyncio.gather(
            _edit(temporal_client, order_id, one), _edit(temporal_client, order_id, one), return_exceptions=True
        )
        taken = [o for o in outcomes if isinstance(o, EditOrderResult)]
        for refused in (o for o in outcomes if not isinstance(o, EditOrderResult)):
            assert isinstance(refused, WorkflowUpdateFailedError)
        with db.session() as session:
            record = order_store.get_order(session, order_id)
            assert record is not None and [line.quantity for line in record.lines] == [3 - len(taken)]
            assert len(order_versions.versions(session, order_id)) == 1 + len(taken)
        assert sorted(result.version for result in taken) == list(range(2, 2 + len(taken)))
        await _running(temporal_client, f"shipment-{order_id}-AMS-{1 + len(taken)}")  # the last one reserved
        assert _levels(db, "AMS") == {"MUG": (5, 3 - len(taken))}


async def test_a_stripe_card_is_charged_the_edited_total_and_the_rest_released(
    temporal_client, sqlite_database, localstripe_url
):
    db = sqlite_database
    gateway = StripeGateway(STRIPE_SECRET, localstripe_url)
    async with running_engine(temporal_client, db, gateway=gateway, auto_confirm=False) as engine:
        add_location(db.session_factory, "AMS")
        stock(db.session_factory, "AMS", {"MUG": 5, "TEE": 5})
        card = _stripe(localstripe_url).v1.payment_methods.create(
            {"type": "card", "card": {"number": "4242424242424242", "exp_month": 12, "exp_year": 2034, "cvc": "123"}}
        )
        order = make_order([("MUG", 2, 1000), ("TEE", 1, 2000)], paid=False, payment_method=card.id)
        order_id, _ = await start_order(temporal_client, engine.settings, order)
        first = await _reserved(engine, order_id)

        result = await _edit(temporal_client, order_id, EditChange("reduce_line", line=0, quantity=1))
        assert result.total == Money(3495, "EUR") and result.void == Money(1000, "EUR")
        await _ship(temporal_client, f"{first}-2", "AMS", "3SSTRIPE1")
        await engine.wait_for_status(order_id, "SHIPPED")
        with db.session() as session:
            payment = session.scalar(select(PaymentRecord).where(PaymentRecord.order_id == order_id))
            assert payment is not None and (payment.provider, payment.captured_minor) == ("stripe", 3495)
            reference = payment.provider_ref
        intent = _stripe(localstripe_url).v1.payment_intents.retrieve(reference)
        # What the card is charged in the end (localstripe captures the intent whole and gives the rest back).
        charges = intent.to_dict()["charges"]["data"]
        charged = sum(charge["amount"] - charge["amount_refunded"] for charge in charges)
        assert (intent.status, intent.amount, charged) == ("succeeded", 4495, 3495)


STRIPE_SECRET = "sk_test_oms_edits"


def _stripe(url: str) -> stripe.StripeClient:
    return stripe.StripeClient(STRIPE_SECRET, base_addresses={"api": url}, max_network_retries=0)


async def test_a_short_picked_parcel_withdrawn_by_an_edit_is_reserved_again_once(temporal_client, sqlite_database):
    db = sqlite_database
    async with running_engine(temporal_client, db, auto_confirm=False) as engine:
        add_location(db.session_factory, "AMS")
        stock(db.session_factory, "AMS", {"MUG": 6, "TEE": 5})
        order = make_order([("MUG", 3, 1000), ("TEE", 1, 2000)], paid=True)
        order_id, _ = await start_order(temporal_client, engine.settings, order)
        first = await _reserved(engine, order_id)
        pick = StepConfirmation("pick", "AMS", quantities={"MUG": 2})  # one mug not on the shelf
        await temporal_client.get_workflow_handle(first).execute_update(ShipmentWorkflow.confirm_step, pick)

        await _edit(temporal_client, order_id, EditChange("remove_line", line=1))
        second = f"{first}-2"
        await _running(temporal_client, second)
        assert _shipments(db, order_id)[second] == ("RESERVED", {"MUG": 3})
        await _ship(temporal_client, second, "AMS", "3SEDIT9")
        await engine.wait_for_status(order_id, "SHIPPED")
        assert _levels(db, "AMS") == {"MUG": (2, 0), "TEE": (5, 0)}  # 6 - 1 written off - 3 shipped
