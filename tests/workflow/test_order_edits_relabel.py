"""A new address after the carrier label was made (Sendcloud's sandbox over real HTTP, the real dev
server, both databases): the old label is cancelled at Sendcloud and a new one made to the new
address, which the parcel then ships with; a label the carrier no longer lets go refuses the edit
(409) before anything changes."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from persistence.models import OrderVersionRecord, ShipmentLabel, ShipmentRecord
from persistence.read_model import orders as order_store
from services.intake import start_order
from tests.factories import add_location, make_order, stock
from tests.workflow.conftest import api_client, running_engine
from tests.workflow.histories import record_history
from tests.workflow.test_carrier_labels import (
    SENDER,
    TOKEN,
    _call,
    _packed_order,
    _progress,
    _sandbox,
    _sendcloud,
    sendcloud_url,  # noqa: F401 - the fixture
)

NEW_ADDRESS: dict[str, Any] = {
    "name": "Sam Tester",
    "line1": "Oudegracht 10",
    "postcode": "3511 AL",
    "city": "Utrecht",
    "country": "NL",
}


def _label(db: Any, shipment_id: str) -> tuple[str | None, str | None, str | None]:
    with db.session() as session:
        record = session.get(ShipmentRecord, shipment_id)
        kept = session.scalar(select(ShipmentLabel.tracking_number).where(ShipmentLabel.shipment_id == shipment_id))
        return record.tracking_number, record.label_status, kept


async def test_a_new_address_cancels_the_label_at_sendcloud_and_the_parcel_ships_with_a_new_one(
    temporal_client,
    database,
    sendcloud_url,  # noqa: F811
):
    async with running_engine(temporal_client, database, auto_confirm=False, **_sendcloud(sendcloud_url)) as engine:
        with api_client(engine, TOKEN) as api:
            order_id, shipment_id = await _packed_order(engine, api)
            old = (await _progress(engine, shipment_id, lambda p: p.label == "ready")).tracking_number

            edited = await _call(
                api,
                "POST",
                f"/orders/{order_id}/edits",
                json={"changes": [{"kind": "change_address", "address": NEW_ADDRESS}]},
            )
            assert edited.status_code == 200, edited.text

            made = await _sandbox("GET", f"{sendcloud_url}/_sandbox/shipments")
            first, second = made["data"]
            assert made["cancel_calls"] == 1
            assert {p["status"]["code"] for p in first["parcels"]} == {"CANCELLED"}
            assert (second["external_reference_id"], second["to_address"]["city"]) == (f"{shipment_id}~2", "Utrecht")
            assert first["to_address"]["city"] == "Amsterdam"
            new = second["parcels"][0]["tracking_number"]
            assert new != old and _label(database, shipment_id) == (new, "ready", new)

            shipped = await _call(api, "POST", f"/shipments/{shipment_id}/shipped", json={"location_id": "AMS"})
            assert shipped.status_code == 200, shipped.text
            assert shipped.json()["tracking_number"] == new
            await engine.wait_for_status(order_id, "SHIPPED")
        with database.session() as session:
            events = [(e.kind, e.detail) for e in order_store.order_events(session, order_id)]
        cancelled = [detail for kind, detail in events if kind == "label_cancelled"]
        assert cancelled == [f"{shipment_id}: postnl {old} cancelled (the order's address changed (version 2))"]
        assert [kind for kind, _ in events].count("label_printed") == 2
        await record_history(temporal_client.get_workflow_handle(order_id), "order_edit_relabelled")


async def test_a_label_the_carrier_no_longer_lets_go_refuses_the_new_address_before_anything_changes(
    temporal_client,
    database,
    sendcloud_url,  # noqa: F811
):
    async with running_engine(temporal_client, database, auto_confirm=False, **_sendcloud(sendcloud_url)) as engine:
        with api_client(engine, TOKEN) as api:
            order_id, shipment_id = await _packed_order(engine, api)
            old = (await _progress(engine, shipment_id, lambda p: p.label == "ready")).tracking_number
            await _sandbox("POST", f"{sendcloud_url}/_sandbox/refuse-cancellations", {"count": 1})

            refused = await _call(
                api,
                "POST",
                f"/orders/{order_id}/edits",
                json={"changes": [{"kind": "change_address", "address": NEW_ADDRESS}]},
            )
            assert refused.status_code == 409, refused.text
            detail = refused.json()["detail"]
            assert detail["refusal"] == "label_not_cancellable"
            assert shipment_id in detail["message"] and "announced to the carrier" in detail["message"]

            made = await _sandbox("GET", f"{sendcloud_url}/_sandbox/shipments")
            assert (len(made["data"]), made["cancel_calls"]) == (1, 1)
            assert _label(database, shipment_id) == (old, "ready", old)
            with database.session() as session:
                order = order_store.get_order(session, order_id)
                versions = session.scalars(
                    select(OrderVersionRecord).where(OrderVersionRecord.order_id == order_id)
                ).all()
            assert order is not None and order.shipping_address["city"] == "Amsterdam" and versions == []

            shipped = await _call(api, "POST", f"/shipments/{shipment_id}/shipped", json={"location_id": "AMS"})
            assert shipped.status_code == 200 and shipped.json()["tracking_number"] == old
            await engine.wait_for_status(order_id, "SHIPPED")


async def test_a_refusal_after_a_first_label_was_cancelled_labels_that_parcel_again_to_the_address_kept(
    temporal_client,
    sqlite_database,
    sendcloud_url,  # noqa: F811
):
    db = sqlite_database
    async with running_engine(temporal_client, db, auto_confirm=False, **_sendcloud(sendcloud_url)) as engine:
        with api_client(engine, TOKEN) as api:
            for location, sku in (("AMS", "A"), ("UTR", "B")):
                add_location(db.session_factory, location, **SENDER)
                stock(db.session_factory, location, {sku: 5})
            order_id, _ = await start_order(
                engine.client, engine.settings, make_order([("A", 1, 1500), ("B", 1, 1500)])
            )
            shipments = {f"shipment-{order_id}-{location}": location for location in ("AMS", "UTR")}
            for shipment_id, location in shipments.items():
                await _progress(engine, shipment_id, lambda p: p.next_step == "pick")
                for step, body in (("picked", {}), ("packed", {"parcels": 1, "parcel_weights_grams": [900]})):
                    done = await _call(
                        api, "POST", f"/shipments/{shipment_id}/{step}", json={"location_id": location, **body}
                    )
                    assert done.status_code == 200, done.text
                await _progress(engine, shipment_id, lambda p: p.label == "ready")
            made = await _sandbox("GET", f"{sendcloud_url}/_sandbox/shipments")
            # The carrier has UTR's parcel already: its label can no longer be cancelled.
            held = made["data"][1]
            assert held["reference"] == f"shipment-{order_id}-UTR"
            await _sandbox("POST", f"{sendcloud_url}/_sandbox/parcels/{held['parcels'][0]['id']}/advance")

            refused = await _call(
                api,
                "POST",
                f"/orders/{order_id}/edits",
                json={"changes": [{"kind": "change_address", "address": NEW_ADDRESS}]},
            )
            assert refused.status_code == 409 and refused.json()["detail"]["refusal"] == "label_not_cancellable"

        made = await _sandbox("GET", f"{sendcloud_url}/_sandbox/shipments")
        live = {s["reference"]: s for s in made["data"] if {p["status"]["code"] for p in s["parcels"]} != {"CANCELLED"}}
        assert set(live) == set(shipments)  # one live label per parcel, every one to the address kept
        assert {s["to_address"]["city"] for s in live.values()} == {"Amsterdam"}
        # AMS's label was cancelled first, then UTR's refused: AMS is labelled again, to Amsterdam.
        references = [s["external_reference_id"] for s in made["data"]]
        assert references == [*shipments, f"shipment-{order_id}-AMS~2"] and made["cancel_calls"] == 2
        for shipment_id in shipments:
            tracking, status, kept = _label(db, shipment_id)
            assert status == "ready" and tracking == kept == live[shipment_id]["parcels"][0]["tracking_number"]


async def test_a_new_address_while_the_label_is_being_made_is_refused_for_now(
    temporal_client,
    sqlite_database,
    sendcloud_url,  # noqa: F811
):
    await _sandbox("POST", f"{sendcloud_url}/_sandbox/outage", {"down": True})
    async with running_engine(
        temporal_client, sqlite_database, auto_confirm=False, **_sendcloud(sendcloud_url)
    ) as engine:
        with api_client(engine, TOKEN) as api:
            order_id, shipment_id = await _packed_order(engine, api)
            await _progress(engine, shipment_id, lambda p: p.label == "pending")

            later = await _call(
                api,
                "POST",
                f"/orders/{order_id}/edits",
                json={"changes": [{"kind": "change_address", "address": NEW_ADDRESS}]},
            )
            assert later.status_code == 503, later.text
            detail = later.json()["detail"]
            assert detail["refusal"] == "carrier_unavailable" and "label is being made" in detail["message"]

            await _sandbox("POST", f"{sendcloud_url}/_sandbox/outage", {"down": False})
            await _progress(engine, shipment_id, lambda p: p.label == "ready", timeout=90)
            [made] = (await _sandbox("GET", f"{sendcloud_url}/_sandbox/shipments"))["data"]
            assert made["to_address"]["city"] == "Amsterdam"  # the order was not changed
            edited = await _call(
                api,
                "POST",
                f"/orders/{order_id}/edits",
                json={"changes": [{"kind": "change_address", "address": NEW_ADDRESS}]},
            )
            assert edited.status_code == 200, edited.text
            assert _label(sqlite_database, shipment_id)[1] == "ready"
