"""Outbound events on both databases: written in the transaction of the change, delivered signed
(verified by the `standardwebhooks` package's own verifier at a real HTTP endpoint), once and in
order per order id through failures, a dead endpoint disabled while a healthy one keeps receiving,
and replay with the same webhook-id. The delivery activity runs for real (ActivityEnvironment)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from temporalio.testing import ActivityEnvironment

from activities.event_delivery import DeliveryPolicy, EventDeliveryActivities
from api.main import create_app
from config import load_settings
from contracts.documents import BuyerDetails
from contracts.events import EventDeliveryInput, EventDeliveryResult
from domain.invoicing import Item, invoice
from domain.money import Money
from domain.outbound_events import EventType
from domain.status import OrderStatus
from domain.vat import DUTCH_RATES
from ops.temporal_dev import free_port
from persistence.guarded_writes import inventory
from persistence.guarded_writes.event_deliveries import (
    Attempt,
    due,
    fan_out,
    prune,
    record_attempt,
    signing_secrets,
)
from persistence.guarded_writes.events_outbox import emit
from persistence.guarded_writes.invoices import record_document
from persistence.models import EventDelivery, EventSubscription, OutboundEvent
from persistence.read_model import orders as order_store
from persistence.unit_of_work import UnitOfWork
from services.event_subscriptions import EventSubscriptions
from tests.event_receiver import SLOW, receiving
from tests.factories import add_location, make_order

TOKEN = "events-admin-token"
STAFF = {"Authorization": f"Bearer {TOKEN}"}
FAST = DeliveryPolicy(
    timeout=timedelta(seconds=0.5), first_retry=timedelta(seconds=0.05), window=timedelta(minutes=5), concurrency=4
)


def _subscriptions(database: Any) -> EventSubscriptions:
    return EventSubscriptions(database.session_factory, database.session_factory, allow_http=True)


def _emit_orders(database: Any, orders: list[str], per_order: int) -> dict[str, list[str]]:
    """`per_order` status changes of each order, interleaved, each in its own transaction: the
    event ids per order, in the order they were made."""
    made: dict[str, list[str]] = {order_id: [] for order_id in orders}
    for n in range(per_order):
        for order_id in orders:
            with database.session() as session:
                data = {"order_id": order_id, "from": f"S{n}", "to": f"S{n + 1}"}
                event_id = emit(
                    session, EventType.ORDER_STATUS_CHANGED, data, ordering_key=order_id, at=datetime.now(UTC)
                )
                session.commit()
            made[order_id].append(event_id)
    return made


def _deliver(
    database: Any, policy: DeliveryPolicy, until: Callable[[], bool], *, timeout: float = 20.0
) -> EventDeliveryResult:
    """Delivery activities of a quarter of a second each, until `until()` holds (or time is up): the
    check between two activities comes sooner than after activities of a second each."""
    activities = EventDeliveryActivities(database.session_factory, policy)
    total = EventDeliveryResult()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = asyncio.run(
            ActivityEnvironment().run(activities.deliver_events, EventDeliveryInput(window_seconds=0.25))
        )
        for name in ("fanned_out", "delivered", "failed", "disabled"):
            setattr(total, name, getattr(total, name) + getattr(result, name))
        if until():
            break
    return total


def _in_order_per_key(received: list[Any], made: dict[str, list[str]]) -> None:
    for order_id, ids in made.items():
        got = [r.event_id for r in received if r.data.get("order_id") == order_id]
        assert got == ids, order_id


def test_a_rolled_back_change_emits_nothing(database):
    add_location(database.session_factory, "AMS")
    order = make_order([("SKU-RB", 1, 1000)])
    with database.session() as session:
        order_store.record_order(session, order, datetime.now(UTC))
        inventory.adjust_on_hand(session, "AMS", "SKU-RB", 5, kind="receipt", reason="test")
        session.rollback()
    with database.session() as session:
        assert session.scalar(select(func.count()).select_from(OutboundEvent)) == 0
        order_store.record_order(session, order, datetime.now(UTC))
        order_store.set_status(session, order.order_id, OrderStatus.ON_HOLD, hold_reason="unknown SKU: X")
        inventory.adjust_on_hand(session, "AMS", "SKU-RB", 5, kind="receipt", reason="test")
        session.commit()
    with database.session() as session:
        events = session.scalars(select(OutboundEvent).order_by(OutboundEvent.seq)).all()
        assert [(e.type, e.ordering_key) for e in events] == [
            ("order.created", order.order_id),
            ("order.status_changed", order.order_id),
            ("order.held", order.order_id),
            ("stock.changed", "SKU-RB"),
        ]
        created, changed, held = (e.data for e in events[:3])
        assert created["total"] == {"amount_minor": order.total.amount_minor, "currency": "EUR"}
        assert created["lines"] == [
            {"sku": "SKU-RB", "quantity": 1, "unit_price": {"amount_minor": 1000, "currency": "EUR"}}
        ]
        assert changed == {"order_id": order.order_id, "from": "RECEIVED", "to": "ON_HOLD"}
        assert held == {"order_id": order.order_id, "hold_reason": "unknown SKU: X"}
        text = str([e.data for e in events])
        assert "sam@example.org" not in text and "Sam Tester" not in text and "Damrak" not in text


def test_an_endpoint_that_fails_then_recovers_gets_every_event_once_in_order(database):
    subscriptions = _subscriptions(database)
    # 500, then two answers too slow for the timeout, then 502, then it works.
    with receiving(script=[500, SLOW, SLOW, 502]) as receiver:
        made_sub = subscriptions.create(receiver.url, ["order.status_changed"])
        receiver.secret = made_sub.secret
        made = _emit_orders(database, [f"order-webshop-{n}" for n in range(4)], per_order=3)
        wanted = sum(len(ids) for ids in made.values())
        _deliver(database, FAST, lambda: len(receiver.accepted()) >= wanted)
        accepted = receiver.accepted()
        assert all(r.verified for r in receiver.requests)
        assert len(accepted) == wanted and len(set(receiver.accepted_ids())) == wanted
        _in_order_per_key(accepted, made)
        assert len(receiver.requests) > wanted  # the failures were real and retried
    log, count = subscriptions.deliveries(made_sub.subscription.subscription_id, 500, 0)
    assert count == len(log) > wanted
    assert {row.status_code for row in log} >= {200, 500, 502}
    assert any(row.error == "timed out" for row in log)
    assert all(row.response_ms >= 0 and row.attempt >= 1 for row in log)


def test_a_dead_endpoint_is_disabled_while_a_healthy_one_keeps_receiving(database):
    subscriptions = _subscriptions(database)
    short = DeliveryPolicy(
        timeout=timedelta(seconds=0.5), first_retry=timedelta(seconds=0.1), window=timedelta(seconds=1), concurrency=2
    )
    with receiving(script=[503] * 10_000) as dead, receiving() as healthy:
        dead_sub = subscriptions.create(dead.url, None)
        healthy_sub = subscriptions.create(healthy.url, ["order.status_changed"])
        dead.secret, healthy.secret = dead_sub.secret, healthy_sub.secret
        dead_id = dead_sub.subscription.subscription_id
        made = _emit_orders(database, ["order-webshop-d1", "order-webshop-d2"], per_order=2)
        result = _deliver(
            database, short, lambda: not subscriptions.get(dead_id).enabled and len(healthy.accepted()) == 4
        )
        assert result.disabled == 1
        disabled = subscriptions.get(dead_id)
        assert not disabled.enabled and disabled.disabled_at is not None
        assert disabled.disabled_reason and "failed since" in disabled.disabled_reason
        assert disabled.pending == 4  # kept for replay
        _in_order_per_key(healthy.accepted(), made)
        # Orders keep flowing: more events reach the healthy endpoint, none is owed to the dead one.
        more = _emit_orders(database, ["order-webshop-d3"], per_order=2)
        _deliver(database, short, lambda: len(healthy.accepted()) == 6)
        _in_order_per_key(healthy.accepted(), made | more)
        assert subscriptions.get(dead_id).pending == 4
        # Enabled again once it works: what it kept arrives, in order.
        dead.script.clear()
        subscriptions.set_enabled(dead_id, True)
        _deliver(database, short, lambda: len(dead.accepted()) == 4)
        _in_order_per_key(dead.accepted(), made)
        assert subscriptions.get(dead_id).pending == 0


def test_replay_sends_again_with_the_same_webhook_id(database):
    subscriptions = _subscriptions(database)
    with receiving() as receiver:
        sub = subscriptions.create(receiver.url, None)
        receiver.secret = sub.secret
        sub_id = sub.subscription.subscription_id
        start = datetime.now(UTC)
        made = _emit_orders(database, ["order-webshop-r1", "order-webshop-r2"], per_order=2)
        _deliver(database, FAST, lambda: len(receiver.accepted()) == 4)
        first = made["order-webshop-r1"][0]
        assert subscriptions.replay_event(sub_id, first) == 1
        _deliver(database, FAST, lambda: len(receiver.accepted()) == 5)
        assert receiver.accepted_ids()[-1] == first
        assert subscriptions.replay_range(sub_id, start, datetime.now(UTC) + timedelta(seconds=1)) == 4
        _deliver(database, FAST, lambda: len(receiver.accepted()) == 9)
        replayed = receiver.accepted()[5:]
        assert sorted(r.event_id for r in replayed) == sorted(made["order-webshop-r1"] + made["order-webshop-r2"])
        _in_order_per_key(replayed, made)
        assert all(r.verified for r in receiver.requests)


def test_stock_changes_go_out_with_each_channels_atp_coalesced_per_sku(database):
    add_location(database.session_factory, "AMS")
    subscriptions = _subscriptions(database)
    with receiving() as receiver:
        sub = subscriptions.create(receiver.url, ["stock.changed"])
        receiver.secret = sub.secret
        for quantity in (5, 3):
            with UnitOfWork(database.session_factory) as uow:
                inventory.adjust_on_hand(uow.session, "AMS", "SKU-ATP", quantity, kind="receipt", reason="test")
                uow.commit()
        _deliver(database, FAST, lambda: len(receiver.accepted()) >= 1)
        time.sleep(0.2)
        [only] = receiver.accepted()  # two changes waiting together: one event with the newest stock
        assert only.type == "stock.changed"
        assert only.data["sku"] == "SKU-ATP" and only.data["available"]["webshop"] == 8


def test_an_invoice_recorded_once_emits_invoice_issued_once(database):
    items = [Item("Mug", "standard", Money(1299, "EUR"), 1)]
    document = invoice(items, Money(495, "EUR"), DUTCH_RATES)
    buyer = BuyerDetails("A. Buyer", ("Kerkstraat 1",), "1011 AA", "Amsterdam", "NL")
    for _ in range(2):  # a retried step finds its invoice: no second event
        with database.session() as session, session.begin():
            issued = record_document(
                session,
                "inv:ship-1",
                document,
                order_id="order-1",
                channel="webshop",
                buyer=buyer,
                at=datetime.now(UTC),
            )
    with database.session() as session:
        [event] = session.scalars(select(OutboundEvent)).all()
    assert (event.type, event.ordering_key) == ("invoice.issued", "order-1")
    assert event.data["number"] == issued.number and event.data["invoice_id"] == "inv:ship-1"
    assert event.data["total"] == {"amount_minor": 1794, "currency": "EUR"}
    assert "Buyer" not in str(event.data) and "Kerkstraat" not in str(event.data)


def test_invoice_issued_is_in_the_catalogue_and_goes_out(database):
    subscriptions = _subscriptions(database)
    with receiving() as receiver:
        sub = subscriptions.create(receiver.url, ["invoice.issued"])
        receiver.secret = sub.secret
        data = {
            "order_id": "order-webshop-i1",
            "invoice_id": "inv-1",
            "number": "INV-2026-000001",
            "total": {"amount_minor": 12100, "currency": "EUR"},
            "issued_at": datetime.now(UTC).isoformat(),
        }
        with database.session() as session:
            emit(session, EventType.INVOICE_ISSUED, data, ordering_key="order-webshop-i1", at=datetime.now(UTC))
            emit(session, EventType.ORDER_HELD, {"order_id": "x"}, ordering_key="x", at=datetime.now(UTC))
            session.commit()
        _deliver(database, FAST, lambda: len(receiver.accepted()) == 1)
        [invoice] = receiver.accepted()
        assert invoice.type == "invoice.issued" and invoice.data == data
    with database.session() as session:  # the held order went to no one: not a type it wants
        assert session.scalar(select(func.count()).select_from(EventDelivery)) == 1
    with pytest.raises(ValueError, match="unknown event type"), database.session() as session:
        emit(session, "invoice.paid", {}, ordering_key="x", at=datetime.now(UTC))


@pytest.fixture
def api(database) -> Iterator[TestClient]:
    settings = load_settings(database_url=database.url, admin_token=TOKEN, temporal_address=f"localhost:{free_port()}")
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        yield client


def test_the_admin_api_keeps_subscriptions(api, database):
    base = "/admin/event-subscriptions"
    assert api.get(base).status_code == 401
    made = api.post(base, json={"url": "https://erp.example/hooks", "event_types": ["order.created"]}, headers=STAFF)
    assert made.status_code == 201, made.text
    sub = made.json()
    assert sub["secret"].startswith("whsec_") and sub["enabled"] and sub["event_types"] == ["order.created"]
    sub_id = sub["subscription_id"]
    listed = api.get(base, headers=STAFF).json()
    assert listed["count"] == 1 and "secret" not in listed["data"][0]
    assert "secret" not in api.get(f"{base}/{sub_id}", headers=STAFF).json()
    changed = api.patch(f"{base}/{sub_id}", json={"event_types": []}, headers=STAFF).json()
    assert changed["event_types"] is None and changed["url"] == "https://erp.example/hooks"
    rotated = api.post(f"{base}/{sub_id}/rotate-secret", headers=STAFF).json()
    assert rotated["secret"].startswith("whsec_") and rotated["secret"] != sub["secret"]
    off = api.post(f"{base}/{sub_id}/disable", headers=STAFF).json()
    assert not off["enabled"] and off["disabled_reason"] == "disabled by staff"
    assert api.post(f"{base}/{sub_id}/enable", headers=STAFF).json()["enabled"]
    log = api.get(f"{base}/{sub_id}/deliveries?limit=10", headers=STAFF).json()
    assert log == {"data": [], "count": 0}
    assert api.post(f"{base}/{sub_id}/events/evt_nope/replay", headers=STAFF).status_code == 404
    window = {"from": "2026-01-01T00:00:00Z", "to": "2026-01-02T00:00:00Z"}
    assert api.post(f"{base}/{sub_id}/replay", json=window, headers=STAFF).json() == {"replayed": 0}
    assert (
        api.post(f"{base}/{sub_id}/replay", json={**window, "to": "2025-01-01T00:00:00Z"}, headers=STAFF).status_code
        == 422
    )
    for body in ({"url": "ftp://x"}, {"url": "https://x", "event_types": ["order.paid"]}, {"url": "x" * 2001}):
        refused = api.post(base, json=body, headers=STAFF)
        assert refused.status_code == 422, body
    assert api.delete(f"{base}/{sub_id}", headers=STAFF).status_code == 204
    assert api.get(f"{base}/{sub_id}", headers=STAFF).status_code == 404


def test_production_sends_over_https_only(database):
    subscriptions = EventSubscriptions(database.session_factory, database.session_factory, allow_http=False)
    from services.errors import Unprocessable

    with pytest.raises(Unprocessable, match="https://"):
        subscriptions.create("http://erp.example/hooks", None)
    assert subscriptions.create("https://erp.example/hooks", None).subscription.enabled


def test_old_events_every_subscriber_has_are_pruned_with_their_log(database):
    subscriptions = _subscriptions(database)
    sub_id = subscriptions.create("https://erp.example/hooks", None).subscription.subscription_id
    made = _emit_orders(database, ["order-webshop-p1", "order-webshop-p2"], per_order=1)
    now = datetime.now(UTC)
    with database.session() as session:
        fan_out(session, 10, now)
        session.commit()
    with database.session() as session:
        first, second = due(session, sub_id, now, 10)
        record_attempt(
            session, first, Attempt(200, None, 5, now), first_retry=timedelta(seconds=5), window=timedelta(days=3)
        )
        record_attempt(
            session, second, Attempt(500, None, 5, now), first_retry=timedelta(seconds=5), window=timedelta(days=3)
        )
        session.commit()
    with database.session() as session:
        assert prune(session, now - timedelta(seconds=1), 100) == 0  # not old enough yet
        assert prune(session, now + timedelta(days=1), 100) == 1  # the one still owed is kept
        session.commit()
    with database.session() as session:
        kept = session.scalars(select(OutboundEvent.event_id)).all()
        assert kept == [second.event_id] and second.event_id in made["order-webshop-p2"]
        assert session.scalar(select(func.count()).select_from(EventDelivery)) == 1
    log, count = subscriptions.deliveries(sub_id, 10, 0)
    assert count == 1 and log[0].event_id == second.event_id


def test_after_a_rotation_both_secrets_verify_for_a_while(database):
    subscriptions = _subscriptions(database)
    with receiving() as receiver:
        made = subscriptions.create(receiver.url, None)
        receiver.secret = made.secret
        sub_id = made.subscription.subscription_id
        rotated = subscriptions.rotate_secret(sub_id)
        assert rotated.secret != made.secret
        _emit_orders(database, ["order-webshop-k1"], per_order=1)
        _deliver(database, FAST, lambda: len(receiver.accepted()) == 1)  # verified with the old secret
        receiver.secret = rotated.secret
        _emit_orders(database, ["order-webshop-k2"], per_order=1)
        _deliver(database, FAST, lambda: len(receiver.accepted()) == 2)  # and with the new one
        assert all(r.verified for r in receiver.requests) and len(receiver.requests) == 2
    with database.session() as session:
        subscription = session.get(EventSubscription, sub_id)
        assert subscription is not None and subscription.previous_secret_until is not None
        later = subscription.previous_secret_until + timedelta(seconds=1)
        assert signing_secrets(subscription, later) == (rotated.secret,)
