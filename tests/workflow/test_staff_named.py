"""Who did it, through the API and a real workflow: a step confirmation and a cancel that name
nobody record the staff member who made them (their label), one that names a person keeps that
person (issue 14, item 2). The staff are real accounts with personal tokens
(tests.integration.staff_members)."""

from __future__ import annotations

import asyncio

from persistence.models import ShipmentRecord
from persistence.read_model import orders as order_store
from services.intake import start_order
from tests.factories import make_order, stock
from tests.integration.staff_members import ADMIN_TOKEN, make_staff
from tests.workflow.conftest import api_client, running_engine
from tests.workflow.test_shipments import _shipment


async def test_steps_and_a_cancel_name_the_staff_member_who_made_them(temporal_client, sqlite_database):
    db = sqlite_database
    async with running_engine(temporal_client, db, auto_confirm=False) as engine:
        staff = make_staff(db.session_factory)  # AMS and UTR, and the people who work there
        stock(db.session_factory, "AMS", {"A": 5})
        order_id, _ = await start_order(temporal_client, engine.settings, make_order([("A", 2, 1500)]))
        shipment_id = f"shipment-{order_id}-AMS"
        assert (await _shipment(temporal_client, shipment_id)).next_step == "pick"

        with api_client(engine, ADMIN_TOKEN) as api:
            at_ams = staff.warehouse_ams.headers
            picked = await asyncio.to_thread(
                api.post, f"/shipments/{shipment_id}/picked", json={"location_id": "AMS"}, headers=at_ams
            )
            assert picked.status_code == 200, picked.text
            named = {"location_id": "AMS", "parcels": 1, "confirmed_by": "anna"}
            packed = await asyncio.to_thread(api.post, f"/shipments/{shipment_id}/packed", json=named, headers=at_ams)
            assert packed.status_code == 200, packed.text

            other, _ = await start_order(temporal_client, engine.settings, make_order([("A", 1, 1500)]))
            assert (await _shipment(temporal_client, f"shipment-{other}-AMS")).next_step == "pick"
            cancelled = await asyncio.to_thread(
                api.post, f"/orders/{other}/cancel", json={"reason": "customer phoned"}, headers=staff.support.headers
            )
            assert cancelled.status_code == 202, cancelled.text
            await engine.wait_for_status(other, "CANCELLED")

        with db.session() as session:
            record = session.get(ShipmentRecord, shipment_id)
            assert record is not None and record.confirmed_by == {"pick": staff.warehouse_ams.label, "pack": "anna"}
            notes = {e.kind: e.detail for e in order_store.order_events(session, other)}
        assert notes["cancel_requested"] == f"by {staff.support.label}: customer phoned"
