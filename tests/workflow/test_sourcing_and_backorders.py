"""Orders sourced across locations, partial shipments, backorders woken by restocks or cancelled
by their deadline, and available-to-promise reaching every channel's feed."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import timedelta

import pytest
from sqlalchemy import select

from domain.channels import ChannelPolicy
from domain.routing import Fallback, PartialPolicy, RoutingPolicy
from domain.status import OrderStatus
from integrations.sandbox.payments import SandboxPaymentGateway
from persistence.guarded_writes import inventory
from persistence.master_data.channels import save_policy
from persistence.models import BackorderWait, PaymentRecord, SandboxStockFeedEntry
from persistence.read_model import orders as order_store
from persistence.unit_of_work import UnitOfWork
from services.intake import start_order
from tests.factories import add_location, make_order, stock
from tests.workflow.conftest import running_engine
from tests.workflow.histories import record_history
from workflows.order import OrderWorkflow


def _policy(db, channel: str, **routing) -> None:
    with UnitOfWork(db.session_factory) as uow:
        save_policy(uow.session, ChannelPolicy(channel, routing=RoutingPolicy(**routing)))
        uow.commit()


def _order(db, order_id):
    with db.session() as session:
        return order_store.get_order(session, order_id), order_store.order_events(session, order_id)


class SingleCaptureGateway(SandboxPaymentGateway):
    """A gateway without multicapture (localstripe, most cards on Stripe): one capture per authorization."""

    def authorize(self, idempotency_key, amount, payment_method, order_id):
        return replace(super().authorize(idempotency_key, amount, payment_method, order_id), multicapture=False)


@pytest.mark.parametrize("multicapture", [True, False], ids=["capture-per-shipment", "capture-once"])
async def test_an_order_no_single_location_can_fill_ships_from_two(temporal_client, sqlite_database, multicapture):
    db = sqlite_database
    gateway = SandboxPaymentGateway() if multicapture else SingleCaptureGateway()
    async with running_engine(temporal_client, db, return_window=timedelta(seconds=1), gateway=gateway) as engine:
        add_location(db.session_factory, "AMS", latitude=52.37, longitude=4.90)
        add_location(db.session_factory, "UTR", latitude=52.09, longitude=5.12)
        stock(db.session_factory, "AMS", {"A": 5})
        stock(db.session_factory, "UTR", {"B": 5})
        order = make_order([("A", 2, 1000), ("B", 1, 3000)], paid=False, payment_method="pm_card_visa")
        order_id, _ = await start_order(temporal_client, engine.settings, order)
        handle = temporal_client.get_workflow_handle_for(OrderWorkflow.run, order_id)
        assert (await asyncio.wait_for(handle.result(), 60)).status is OrderStatus.COMPLETED

        record, events = _order(db, order_id)
        assert sorted((s.location_id, s.status, tuple(sorted(s.lines.items()))) for s in record.shipments) == [
            ("AMS", "SHIPPED", (("A", 2),)),
            ("UTR", "SHIPPED", (("B", 1),)),
        ]
        assert all(s.fulfilment_cost_minor is not None for s in record.shipments)  # for the KPIs
        [payment] = record.payments
        assert (payment.status, payment.authorized_minor, payment.captured_minor) == ("CAPTURED", 5495, 5495)
        captures = sorted(e.detail for e in events if e.kind == "payment_captured")
        if multicapture:  # each shipment as it leaves (shipping rides with whichever leaves first)
            assert captures in (["20.00 EUR", "34.95 EUR"], ["24.95 EUR", "30.00 EUR"])
        else:  # one capture, for everything, once the last parcel has left
            assert captures == ["54.95 EUR"]
        [decision] = [e.detail for e in events if e.kind == "sourcing"]
        assert "AMS" in decision and "UTR" in decision
        await record_history(handle, "split_over_two_locations" if multicapture else "split_captured_at_the_end")


async def test_ship_what_is_there_then_a_restock_wakes_the_backordered_rest(temporal_client, sqlite_database):
    db = sqlite_database
    async with running_engine(temporal_client, db, stock_feed=True) as engine:
        add_location(db.session_factory, "AMS")
        stock(db.session_factory, "AMS", {"A": 5, "B": 0})
        _policy(db, "webshop", partial=PartialPolicy.SHIP_AVAILABLE)
        order_id, _ = await start_order(engine.client, engine.settings, make_order([("A", 1, 1000), ("B", 2, 500)]))
        await engine.wait_for_status(order_id, "BACKORDERED")
        record, _ = _order(db, order_id)
        assert [(s.status, s.lines) for s in record.shipments] == [("SHIPPED", {"A": 1})]
        assert "B x2" in record.hold_reason
        with db.session() as session:
            assert [(w.sku, w.quantity) for w in session.scalars(select(BackorderWait))] == [("B", 2)]

        stock(db.session_factory, "AMS", {"B": 2})  # no release: the restock itself wakes the order
        await engine.wait_for_status(order_id, "SHIPPED", timeout=30)
        record, _ = _order(db, order_id)
        assert sorted(s.shipment_id for s in record.shipments) == [
            f"shipment-{order_id}-AMS",
            f"shipment-{order_id}-AMS-2",
        ]
        with db.session() as session:
            assert session.scalars(select(BackorderWait)).all() == []
        await engine.wait_for_live_status(order_id, OrderStatus.SHIPPED)
        await temporal_client.get_workflow_handle(order_id).terminate("test done")
        await record_history(temporal_client.get_workflow_handle(order_id), "backorder_partly_shipped_then_restocked")


async def test_a_backorder_waits_for_all_and_wakes_on_restock(temporal_client, sqlite_database):
    db = sqlite_database
    async with running_engine(temporal_client, db, stock_feed=True) as engine:
        add_location(db.session_factory, "AMS")
        stock(db.session_factory, "AMS", {"A": 1, "B": 0})
        order_id, _ = await start_order(engine.client, engine.settings, make_order([("A", 1, 1000), ("B", 1, 500)]))
        await engine.wait_for_status(order_id, "BACKORDERED")
        record, _ = _order(db, order_id)
        assert record.shipments == []  # wait for all: nothing reserved while waiting
        with db.session() as session:
            assert inventory.stock_row(session, "AMS", "A").reserved == 0
        stock(db.session_factory, "AMS", {"B": 1})
        await engine.wait_for_status(order_id, "SHIPPED", timeout=30)
        await temporal_client.get_workflow_handle(order_id).terminate("test done")


async def test_a_backorder_past_its_deadline_is_cancelled_and_its_authorization_voided(
    temporal_client, sqlite_database
):
    db = sqlite_database
    async with running_engine(temporal_client, db, backorder_deadline=timedelta(seconds=2)) as engine:
        add_location(db.session_factory, "AMS")
        stock(db.session_factory, "AMS", {"A": 0})
        order = make_order([("A", 1, 1000)], paid=False, payment_method="pm_card_visa")
        order_id, _ = await start_order(engine.client, engine.settings, order)
        handle = temporal_client.get_workflow_handle_for(OrderWorkflow.run, order_id)
        assert (await asyncio.wait_for(handle.result(), 30)).status is OrderStatus.CANCELLED
        record, events = _order(db, order_id)
        assert record.status == "CANCELLED" and "deadline" in events[-1].detail
        with db.session() as session:
            payment = session.scalar(select(PaymentRecord).where(PaymentRecord.order_id == order_id))
            assert (payment.status, payment.voided_minor) == ("VOIDED", 1495)
            assert session.scalars(select(BackorderWait)).all() == []
        await record_history(handle, "backorder_deadline_cancelled")


async def test_a_channel_can_route_unfillable_orders_to_a_person(temporal_client, sqlite_database):
    db = sqlite_database
    async with running_engine(temporal_client, db) as engine:
        add_location(db.session_factory, "AMS")
        stock(db.session_factory, "AMS", {"A": 0})
        _policy(db, "webshop", when_nothing_fits=Fallback.HOLD)
        order_id, _ = await start_order(engine.client, engine.settings, make_order([("A", 1, 1000)]))
        await engine.wait_for_status(order_id, "ON_HOLD")
        record, _ = _order(db, order_id)
        assert record.hold_reason
        await temporal_client.get_workflow_handle(order_id).terminate("test done")


async def test_stock_changes_reach_every_channel_feed_in_order(temporal_client, sqlite_database):
    db = sqlite_database
    async with running_engine(temporal_client, db, stock_feed=True) as engine:
        add_location(db.session_factory, "AMS")
        add_location(db.session_factory, "UTR")
        with UnitOfWork(db.session_factory) as uow:
            save_policy(uow.session, ChannelPolicy("bol", sells_from=("AMS",)))
            save_policy(uow.session, ChannelPolicy("shopify", safety_stock=2))
            uow.commit()
        stock(db.session_factory, "AMS", {"A": 5})
        stock(db.session_factory, "UTR", {"A": 3})
        order_id, _ = await start_order(engine.client, engine.settings, make_order([("A", 2, 1000)]))
        await engine.wait_for_status(order_id, "SHIPPED")

        def last_sent() -> dict[str, int]:
            with db.session() as session:
                rows = session.scalars(select(SandboxStockFeedEntry).order_by(SandboxStockFeedEntry.id))
                return {row.channel: row.quantity for row in rows if row.sku == "A"}

        # 8 on hand, 2 shipped from AMS (the default sort picks one location by cost, then priority, then id).
        expected = {"webshop": 6, "pos": 6, "woocommerce": 6, "amazon": 6, "bol": 3, "shopify": 4}
        for _ in range(100):  # a pass sends to one channel after another: wait for the last of them
            if last_sent() == expected:
                break
            await asyncio.sleep(0.1)
        assert last_sent() == expected
        with db.session() as session:
            sequences = [
                row.sequence
                for row in session.scalars(select(SandboxStockFeedEntry).order_by(SandboxStockFeedEntry.id))
                if row.channel == "webshop"
            ]
        assert sequences == sorted(sequences)  # never an older value after a newer one
        await temporal_client.get_workflow_handle(order_id).terminate("test done")
