"""The order intake on both databases: a row taken once, claimed by one sweeper at a time (two
claiming at once split the rows), put off, marked started, forgotten after its retention; and the
API with Temporal unreachable: a new order is 202, kept with its payload's audit row, reads as
RECEIVED, repeats as a duplicate, and shows on /health and /metrics as the intake's backlog."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import select

from api.main import create_app
from config import load_settings
from integrations.channels import shopify
from ops.temporal_dev import free_port
from persistence.guarded_writes import order_intake
from persistence.models import ChannelMessage, OrderIntake
from persistence.read_model import orders as order_store
from tests.factories import make_order, next_id, shopify_payload

TOKEN = "intake-admin-token"
STAFF = {"Authorization": f"Bearer {TOKEN}"}
METRICS_TOKEN = "intake-metrics-token-1234"
T0 = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)


def _take(session_factory, order_id: str, at: datetime = T0) -> bool:
    with session_factory() as session:
        new = order_intake.take_in(
            session, order_id=order_id, channel="shopify", workflow_input="{}", received_at=at, first_try=at
        )
        session.commit()
        return new


def _claim(session_factory, now: datetime, limit: int = 50) -> list[str]:
    with session_factory() as session:
        claimed = order_intake.claim_due(session, now, timedelta(seconds=60), limit)
        session.commit()
        return [row.order_id for row in claimed]


def test_an_order_is_taken_once(database):
    assert _take(database.session_factory, "order-shopify-1")
    assert not _take(database.session_factory, "order-shopify-1")
    with database.session() as session:
        assert order_intake.backlog(session) == (1, T0)


def test_an_order_recorded_already_is_not_taken_again(database):
    order = make_order([("MUG", 1, 1250)])
    with database.session() as session:
        assert order_store.record_order(session, order, T0)
        session.commit()
    assert not _take(database.session_factory, order.order_id)
    with database.session() as session:
        assert order_intake.backlog(session) == (0, None)


def test_a_claimed_row_waits_for_its_lease_a_put_off_one_for_its_time(database):
    factory = database.session_factory
    _take(factory, "order-shopify-1")
    _take(factory, "order-shopify-2", T0 + timedelta(seconds=10))
    assert _claim(factory, T0 + timedelta(seconds=5)) == ["order-shopify-1"]  # the other is not due
    assert _claim(factory, T0 + timedelta(seconds=30)) == ["order-shopify-2"]  # the first is leased
    with factory() as session:
        order_intake.put_off(session, "order-shopify-1", T0 + timedelta(minutes=5), "engine away " * 100)
        order_intake.mark_started(session, ["order-shopify-2"], T0 + timedelta(seconds=31))
        session.commit()
    assert _claim(factory, T0 + timedelta(minutes=4)) == []
    assert _claim(factory, T0 + timedelta(minutes=5)) == ["order-shopify-1"]
    with factory() as session:
        first = order_intake.waiting(session, "order-shopify-1")
        assert first is not None and first.attempts == 2 and first.started_at is None
        row = session.get(OrderIntake, "order-shopify-1")
        assert row is not None and len(row.last_error or "") == order_intake.ERROR_KEPT
        assert order_intake.backlog(session) == (1, T0)
        assert order_intake.forget_started(session, T0 + timedelta(days=7)) == 1
        session.commit()
        assert order_intake.waiting(session, "order-shopify-2") is None


def test_two_sweepers_claiming_at_once_split_the_rows(database):
    factory = database.session_factory
    ids = [f"order-shopify-{n}" for n in range(40)]
    for order_id in ids:
        _take(factory, order_id)
    claimed: list[list[str]] = [[], []]
    ready = threading.Barrier(2)

    def sweep(n: int) -> None:
        ready.wait()
        while got := _claim(factory, T0 + timedelta(seconds=1), limit=7):
            claimed[n] += got

    threads = [threading.Thread(target=sweep, args=(n,)) for n in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(claimed[0] + claimed[1]) == sorted(ids)  # every row once, none twice


@pytest.fixture
def api(database) -> Iterator[TestClient]:
    settings = load_settings(
        database_url=database.url,
        admin_token=TOKEN,
        metrics_token=METRICS_TOKEN,
        temporal_address=f"localhost:{free_port()}",  # nothing listens there
        intake_sweep_interval=timedelta(0),
    )
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        yield client


def _shopify(api: TestClient, payload: dict[str, object]):
    raw = json.dumps(payload).encode()
    headers = {
        "Content-Type": "application/json",
        "X-Shopify-Topic": "orders/create",
        "X-Shopify-Hmac-Sha256": shopify.sign("dev-shopify-secret", raw),
        "X-Shopify-Webhook-Id": f"wh-{next_id()}",
    }
    return api.post("/webhooks/shopify", content=raw, headers=headers)


def test_a_new_order_is_taken_without_temporal_and_reads_as_received(api, database):
    payload = shopify_payload([("MUG", 2, "12.50")])
    order_id = f"order-shopify-{payload['id']}"
    first = _shopify(api, payload)
    assert first.status_code == 202 and first.json() == {"order_id": order_id, "duplicate": False}
    again = _shopify(api, payload)
    assert again.status_code == 202 and again.json() == {"order_id": order_id, "duplicate": True}

    with database.session() as session:
        row = session.get(OrderIntake, order_id)
        assert row is not None and row.started_at is None and row.attempts == 0
        kept = list(session.scalars(select(ChannelMessage).order_by(ChannelMessage.id)))
        assert [(m.order_id, m.outcome) for m in kept] == [(order_id, "taken"), (order_id, "duplicate")]

    seen = api.get(f"/orders/{order_id}", headers=STAFF)
    assert seen.status_code == 200, seen.text
    body = seen.json()
    assert (body["status"], body["channel"], body["external_id"]) == ("RECEIVED", "shopify", str(payload["id"]))
    assert [(line["sku"], line["quantity"]) for line in body["lines"]] == [("MUG", 2)]
    assert body["shipments"] == [] and body["payments"] == []
    assert api.get("/orders/order-shopify-404", headers=STAFF).status_code == 404

    health = api.get("/health")
    assert health.status_code == 503  # Temporal is not there: health says so; the backlog does not decide it
    assert health.json()["intake"]["waiting"] == 1 and health.json()["intake"]["oldest_age_seconds"] >= 0

    scraped = api.get("/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"})
    assert scraped.status_code == 200, scraped.text
    pending = {
        sample.labels["channel"]: sample.value
        for family in text_string_to_metric_families(scraped.text)
        for sample in family.samples
        if sample.name == "oms_outbox_pending" and sample.labels.get("outbox") == "order_intake"
    }
    assert pending["shopify"] == 1 and pending["woocommerce"] == 0
