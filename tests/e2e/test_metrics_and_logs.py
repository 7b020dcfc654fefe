"""Metrics and logs as production runs them: `worker.py` serving the Temporal SDK's metrics on its
own port, the API's GET /metrics, and both writing JSON log lines (OMS_LOG_FORMAT=json). A Shopify
order with an e-mail and an address goes all the way to SHIPPED; then every endpoint the Grafana
dashboard reads serves the metrics it names, and no log line holds the customer's data."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from integrations.channels import shopify
from ops.temporal_dev import DevServer, free_port
from persistence.migrate import upgrade_to_head
from tests.e2e.conftest import (
    SHOPIFY_SECRET,
    TOKEN,
    System,
    engine_env,
    start_api,
    start_worker,
    stop_processes,
    wait_until_healthy,
)
from tests.factories import shopify_payload
from tests.unit.test_deployment import SDK_METRICS_ON_FAILURE, dashboard_metric_names, is_served

pytestmark = pytest.mark.e2e

METRICS_TOKEN = "e2e-metrics-token-7d2e"


@dataclass
class Observed:
    system: System
    worker_metrics: str
    logs: Path


@pytest.fixture(scope="module")
def observed(temporal_server: DevServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Observed]:
    var_dir = tmp_path_factory.mktemp("metrics")
    database_url = f"sqlite:///{var_dir / 'oms.db'}"
    upgrade_to_head(database_url)
    port, metrics_port = free_port(), free_port()
    env = engine_env(
        database_url,
        temporal_server.address,
        var_dir,
        OMS_API_PORT=str(port),
        OMS_WORKER_METRICS_ADDRESS=f"127.0.0.1:{metrics_port}",
        OMS_LOG_FORMAT="json",
        OMS_METRICS_TOKEN=METRICS_TOKEN,
    )
    processes = [start_worker(env, var_dir / "worker.log"), start_api(env, port, var_dir / "api.log")]
    client = httpx.Client(base_url=f"http://127.0.0.1:{port}", headers={"Authorization": f"Bearer {TOKEN}"}, timeout=15)
    try:
        wait_until_healthy(client, processes, f"logs in {var_dir}")
        yield Observed(System(str(client.base_url), client), f"http://127.0.0.1:{metrics_port}/metrics", var_dir)
    finally:
        client.close()
        stop_processes(processes)


def _families(text: str) -> dict[str, set[str]]:
    """Family name → the names of its samples (a histogram's _bucket, _sum, _count)."""
    return {family.name: {sample.name for sample in family.samples} for family in text_string_to_metric_families(text)}


def _api_metrics(observed: Observed) -> httpx.Response:
    return httpx.get(f"{observed.system.api}/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"}, timeout=10)


def _taken(text: str, channel: str) -> float:
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == "oms_orders_taken_total" and sample.labels.get("channel") == channel:
                return sample.value
    return 0.0


def test_an_order_moves_the_metrics_and_its_log_lines_name_it_without_personal_data(observed: Observed) -> None:
    system = observed.system
    system.stock("MUG", 5)
    before = _taken(_api_metrics(observed).text, "shopify")
    payload = shopify_payload([("MUG", 1, "12.50")])
    raw = json.dumps(payload).encode()
    headers = {"Content-Type": "application/json", "X-Shopify-Hmac-Sha256": shopify.sign(SHOPIFY_SECRET, raw)}
    taken = system.client.post("/webhooks/shopify", content=raw, headers=headers)
    assert taken.status_code == 202, taken.text
    order_id = taken.json()["order_id"]
    system.wait_for_status(order_id, "SHIPPED")

    api = _api_metrics(observed)
    assert api.status_code == 200
    assert _taken(api.text, "shopify") == before + 1
    worker = httpx.get(observed.worker_metrics, timeout=10)
    assert worker.status_code == 200
    served = _families(api.text) | _families(worker.text)
    wanted = dashboard_metric_names() - SDK_METRICS_ON_FAILURE  # nothing failed here
    missing = sorted(name for name in wanted if not is_served(name, served))
    assert not missing, f"the dashboard reads metrics nobody serves: {missing}"
    assert all(is_served(name, served) for name in ("temporal_worker_task_slots_available", "temporal_request_total"))

    for name in ("api.log", "worker.log"):
        text = (observed.logs / name).read_text()
        lines = [json.loads(line) for line in text.splitlines() if line.strip()]  # every line is JSON
        assert any(line.get("order_id") == order_id for line in lines), name
        for personal in (payload["email"], "Damrak", "Jansen", "1012 LG"):
            assert personal not in text, f"{name} holds {personal!r}"
    worker_lines = [json.loads(line) for line in (observed.logs / "worker.log").read_text().splitlines()]
    assert {"order is SHIPPED"} <= {line["event"] for line in worker_lines if line.get("order_id") == order_id}
