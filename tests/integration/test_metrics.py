"""GET /metrics as Prometheus reads it (prometheus_client's own parser): it moves when an order is
taken and when a webhook is refused, latency is labelled by route template, the read model's gauges
follow the database, and the request log lines are JSON with the order id and no personal data.
Real app, real databases, the session's Temporal dev server (no worker: a started workflow waits)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from api.main import create_app
from config import load_settings
from domain.status import OrderStatus
from integrations.channels import shopify
from ops.temporal_dev import DevServer, free_port
from persistence.models import Escalation, ShipmentNoticeOutbox, StockOutbox
from persistence.read_model import orders as order_store
from persistence.unit_of_work import UnitOfWork
from tests.factories import make_order, next_id, shopify_payload

TOKEN = "metrics-admin-token"
METRICS_TOKEN = "metrics-scrape-token-5a1c"
POS_KEY = "metrics-pos-key-0001"
SECRET = "metrics-shopify-secret"
WEBHOOK_LIMIT = 16 * 1024
SCRAPE = {"Authorization": f"Bearer {METRICS_TOKEN}"}
STAFF = {"Authorization": f"Bearer {TOKEN}"}

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def _settings(database: Any, temporal_address: str) -> Any:
    return load_settings(
        database_url=database.url,
        admin_token=TOKEN,
        metrics_token=METRICS_TOKEN,
        pos_api_key=POS_KEY,
        shopify_webhook_secret=SECRET,
        webhook_body_limit=WEBHOOK_LIMIT,
        temporal_address=temporal_address,
        task_queue=f"metrics-{uuid.uuid4()}",
        log_format="json",
    )


@pytest.fixture
def api(database: Any, temporal_server: DevServer) -> Iterator[TestClient]:
    with TestClient(create_app(_settings(database, temporal_server.address)), raise_server_exceptions=False) as client:
        yield client


@pytest.fixture
def api_without_temporal(sqlite_database: Any) -> Iterator[TestClient]:
    settings = _settings(sqlite_database, f"localhost:{free_port()}")
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        yield client


def scrape(api: TestClient) -> Samples:
    response = api.get("/metrics", headers=SCRAPE)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def _shopify(api: TestClient, payload: object, *, secret: str = SECRET) -> Any:
    raw = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    headers = {"Content-Type": "application/json", "X-Shopify-Hmac-Sha256": shopify.sign(secret, raw)}
    return api.post("/webhooks/shopify", content=raw, headers=headers)


# --- who may scrape -------------------------------------------------------------------------------


def test_the_metrics_need_the_metrics_token_or_a_staff_token(api_without_temporal: TestClient) -> None:
    api = api_without_temporal
    assert api.get("/metrics").status_code == 401
    assert api.get("/metrics", headers={"Authorization": "Bearer not-a-token"}).status_code == 401
    assert api.get("/metrics", headers={"Authorization": f"Bearer {POS_KEY}"}).status_code == 403
    assert api.get("/metrics", headers=STAFF).status_code == 200
    assert api.get("/metrics", headers=SCRAPE).status_code == 200
    # The metrics token opens nothing else.
    assert api.get("/orders", headers=SCRAPE).status_code == 401


# --- orders taken ---------------------------------------------------------------------------------


def test_an_order_taken_moves_its_channels_counter_and_a_redelivery_does_not(api: TestClient) -> None:
    before = scrape(api)
    payload = shopify_payload([("MUG", 1, "12.50")])
    first = _shopify(api, payload)
    assert first.status_code == 202 and first.json()["duplicate"] is False
    after_first = scrape(api)
    assert value(after_first, "oms_orders_taken_total", channel="shopify") == (
        value(before, "oms_orders_taken_total", channel="shopify") + 1
    )
    assert _shopify(api, payload).json()["duplicate"] is True
    after_again = scrape(api)
    assert value(after_again, "oms_orders_taken_total", channel="shopify") == value(
        after_first, "oms_orders_taken_total", channel="shopify"
    )
    assert value(after_again, "oms_orders_taken_total", channel="webshop") == value(
        before, "oms_orders_taken_total", channel="webshop"
    )


# --- webhook refusals -----------------------------------------------------------------------------


def _rejections(api: TestClient, reason: str, webhook: str = "shopify") -> float:
    return value(scrape(api), "oms_webhook_rejections_total", webhook=webhook, reason=reason)


@pytest.mark.parametrize(
    ("reason", "send"),
    [
        ("bad_signature", lambda api: _shopify(api, {"id": 1}, secret="forged")),
        ("malformed", lambda api: _shopify(api, b"{not json")),
        ("unprocessable", lambda api: _shopify(api, {"id": next_id(), "line_items": "none"})),
        ("oversized", lambda api: _shopify(api, b" " * (WEBHOOK_LIMIT + 1))),
        # Streamed without a Content-Length: refused while it comes in, counted once.
        ("oversized", lambda api: api.post("/webhooks/shopify", content=iter([b" " * WEBHOOK_LIMIT, b"  "]))),
    ],
)
def test_a_refused_webhook_moves_its_reasons_counter_by_one(
    api_without_temporal: TestClient, reason: str, send: Any
) -> None:
    api = api_without_temporal
    before = _rejections(api, reason)
    assert send(api).status_code in (400, 401, 413, 422)
    assert _rejections(api, reason) == before + 1


def test_a_refusal_on_a_made_up_webhook_path_adds_no_series_of_its_own(api_without_temporal: TestClient) -> None:
    api = api_without_temporal
    before = _rejections(api, "oversized", webhook="unknown")
    response = api.post(f"/webhooks/made-up-{uuid.uuid4()}", content=b" " * (WEBHOOK_LIMIT + 1))
    assert response.status_code == 413
    samples = scrape(api)
    assert value(samples, "oms_webhook_rejections_total", webhook="unknown", reason="oversized") == before + 1
    assert not [labels for name, labels in samples if "made-up" in str(labels)]


# --- HTTP latency ---------------------------------------------------------------------------------


def test_latency_is_labelled_by_route_template_never_by_the_path(api_without_temporal: TestClient) -> None:
    api = api_without_temporal
    order_id = f"order-webshop-{next_id()}"
    key = "oms_http_request_duration_seconds_count"
    route = {"method": "GET", "route": "/orders/{order_id}", "status": "4xx"}
    before = value(scrape(api), key, **route)
    assert api.get(f"/orders/{order_id}", headers=STAFF).status_code == 404
    assert api.get(f"/nothing/here/{order_id}", headers=STAFF).status_code == 404
    samples = scrape(api)
    assert value(samples, key, **route) == before + 1
    assert value(samples, key, method="GET", route="<unmatched>", status="4xx") >= 1
    assert value(samples, key, method="GET", route="/metrics", status="2xx") >= 1
    assert not [labels for name, labels in samples if order_id in str(labels)]


# --- the read model's gauges ----------------------------------------------------------------------


def _record(database: Any, status: OrderStatus | None = None) -> str:
    order = make_order([("A", 1, 1000)], channel="bol")
    with UnitOfWork(database.session_factory) as uow:
        order_store.record_order(uow.session, order, datetime.now(UTC))
        if status is not None:
            order_store.set_status(uow.session, order.order_id, status, hold_reason="unknown SKU A")
        uow.commit()
    return order.order_id


def test_the_gauges_follow_the_read_model(api: TestClient, database: Any) -> None:
    samples = scrape(api)
    assert value(samples, "oms_read_model_up") == 1
    assert value(samples, "oms_orders", status="ON_HOLD") == 0 and value(samples, "oms_holds_open") == 0
    assert value(samples, "oms_outbox_pending", outbox="shipment_notices", channel="bol") == 0

    _record(database)
    held = _record(database, OrderStatus.ON_HOLD)
    an_hour_ago = datetime.now(UTC) - timedelta(hours=1)
    with database.session() as session:
        session.add(ShipmentNoticeOutbox(channel="bol", notice={}, shipment_id=f"shipment-{held}-AMS", order_id=held))
        session.add(StockOutbox(sku="A", created_at=an_hour_ago))
        session.add(StockOutbox(sku="B", delivered_at=an_hour_ago))
        session.add(
            Escalation(
                order_id=held,
                shipment_id=f"shipment-{held}-AMS",
                location_id="AMS",
                step="pick",
                due_at=an_hour_ago,
                raised_at=an_hour_ago,
            )
        )
        session.commit()

    samples = scrape(api)
    assert value(samples, "oms_orders", status="RECEIVED") == 1 and value(samples, "oms_orders", status="ON_HOLD") == 1
    assert value(samples, "oms_holds_open") == 1
    assert value(samples, "oms_outbox_pending", outbox="shipment_notices", channel="bol") == 1
    assert value(samples, "oms_outbox_pending", outbox="shipment_notices", channel="shopify") == 0
    assert value(samples, "oms_outbox_pending", outbox="stock", channel="") == 1
    assert 3600 <= value(samples, "oms_outbox_oldest_age_seconds", outbox="stock", channel="") < 3600 + 300
    assert value(samples, "oms_outbox_oldest_age_seconds", outbox="cancellation_notices", channel="bol") == 0
    assert value(samples, "oms_escalations_open", location_id="AMS", step="pick") == 1


# --- request log lines ----------------------------------------------------------------------------


def test_request_log_lines_are_json_with_the_order_id_and_no_personal_data(
    api: TestClient, capsys: pytest.CaptureFixture[str]
) -> None:
    payload = shopify_payload([("MUG", 1, "12.50")])
    capsys.readouterr()
    response = _shopify(api, payload)
    assert response.status_code == 202, response.text
    order_id = response.json()["order_id"]
    assert api.get(f"/orders/{order_id}/messages", headers=STAFF).status_code == 200
    written = capsys.readouterr().err
    lines = [json.loads(line) for line in written.splitlines() if line.startswith("{")]
    requests = [line for line in lines if line.get("logger") == "oms.http"]
    assert [(line["route"], line["status"], line.get("order_id")) for line in requests] == [
        ("/webhooks/shopify", 202, order_id),
        ("/orders/{order_id}/messages", 200, order_id),
    ]
    for personal in (payload["email"], "Damrak", "Jansen", "1012 LG"):
        assert personal not in written
