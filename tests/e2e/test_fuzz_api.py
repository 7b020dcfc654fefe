"""Schemathesis over /openapi.json: every operation, with the staff token, against the API in-process
(the app from `create_app`, called over ASGI) on SQLite and on PostgreSQL, with a real Temporal dev
server and a real worker process, so starting workflows, signals, queries and updates run for real.

Each response must not be a 5xx, must use a status code the operation documents, and must match the
documented schema. Examples per operation are bounded (OMS_FUZZ_EXAMPLES, default 10) so the file
stays around a minute on a small machine; raise it for a longer hunt.

Seeded data (a warehouse and a store with stock, an order waiting to be picked, a click & collect
order) gives the generator real ids to use some of the time, so path and body values reach the code
behind a 404 too: staff confirmations reach the shipment workflow's update validators, a cancel
reaches the order workflow.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.python.asgi import shutdown_lifespans
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from api.main import create_app
from config import load_settings
from integrations.temporal.client import connect
from ops.temporal_dev import DevServer
from tests.conftest import _open_database

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "fuzz-admin-token"
STAFF = {"Authorization": f"Bearer {TOKEN}"}
MAX_EXAMPLES = int(os.environ.get("OMS_FUZZ_EXAMPLES", "10"))
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]

WAREHOUSE, STORE, SKU = "FUZZ-WH", "FUZZ-STORE", "FUZZ-1"


@dataclass
class Known:
    """Ids that exist in the engine under test, offered to the generator next to random ones."""

    values: dict[str, list[str]] = field(default_factory=dict)


KNOWN = Known()

CONFIG = schemathesis.Config.from_dict(
    {
        # Examples and fuzzing; the coverage phase's thousands of boundary cases are for a long hunt.
        "phases": {"coverage": {"enabled": False}, "stateful": {"enabled": False}},
        "generation": {"max-examples": MAX_EXAMPLES},
    }
)


def _schema_app() -> FastAPI:
    """Only for its OpenAPI document (no lifespan runs, nothing is connected)."""
    return create_app(load_settings(database_url="sqlite://", admin_token=TOKEN))


schema = schemathesis.openapi.from_dict(_schema_app().openapi(), config=CONFIG)


@schema.hook
def flatmap_path_parameters(context: Any, path_parameters: dict[str, Any]) -> st.SearchStrategy[dict[str, Any]]:
    return _with_known(path_parameters)


@schema.hook
def flatmap_query(context: Any, query: dict[str, Any]) -> st.SearchStrategy[dict[str, Any]]:
    return _with_known(query)


@schema.hook
def flatmap_body(context: Any, body: Any) -> st.SearchStrategy[Any]:
    return _with_known(body) if isinstance(body, dict) else st.just(body)


def _with_known(values: dict[str, Any] | None) -> st.SearchStrategy[Any]:
    """The generated values, or the same with one field replaced by an id that exists."""
    if not values:
        return st.just(values)
    options: list[st.SearchStrategy[dict[str, Any]]] = [st.just(values)]
    for name, value in values.items():
        known = KNOWN.values.get(name)
        if known and isinstance(value, str):
            options.append(st.sampled_from(known).map(partial(_replaced, values, name)))
    return st.one_of(*options)


def _replaced(values: dict[str, Any], name: str, chosen: str) -> dict[str, Any]:
    return {**values, name: chosen}


@dataclass
class Engine:
    app: FastAPI
    kind: str
    temporal_address: str


def _wait(client: TestClient, path: str, ready: Any, timeout: float = 30) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        response = client.get(path, headers=STAFF)
        if response.status_code == 200 and ready(response.json()):
            return response.json()
        time.sleep(0.2)
    raise AssertionError(f"GET {path} never got ready")


def _seed(client: TestClient) -> dict[str, list[str]]:
    """A warehouse and a store with stock, an order waiting at the warehouse for its pick, and a
    click & collect order waiting at the store."""
    for location in (
        {"location_id": WAREHOUSE, "name": "Fuzz DC", "kind": "warehouse", "latitude": 52.37, "longitude": 4.9},
        {"location_id": STORE, "name": "Fuzz store", "kind": "store", "latitude": 52.09, "longitude": 5.12},
    ):
        response = client.post("/locations", json={"country": "NL", **location}, headers=STAFF)
        assert response.status_code in (200, 201), response.text
        response = client.post(
            "/inventory/receipts",
            json={"location_id": location["location_id"], "sku": SKU, "quantity": 50},
            headers=STAFF,
        )
        assert response.status_code == 201, response.text
    orders = []
    run = uuid.uuid4().hex[:8]  # one Temporal server serves the whole test session: workflow ids must differ
    for external_id, pickup in ((f"FUZZ-SHIP-{run}", None), (f"FUZZ-COLLECT-{run}", STORE)):
        order = {
            "channel": "webshop",
            "external_id": external_id,
            "currency": "EUR",
            "lines": [{"sku": SKU, "quantity": 1, "unit_price": {"amount_minor": 1000, "currency": "EUR"}}],
            "shipping_address": {"name": "Fuzz", "city": "Amsterdam", "country": "NL"},
            "payment_collected": True,
            "pickup_location_id": pickup,
        }
        response = client.post("/orders", json=order, headers=STAFF)
        assert response.status_code == 202, response.text
        orders.append(response.json()["order_id"])
    shipments: list[str] = []
    for location_id in (WAREHOUSE, STORE):
        listed = _wait(client, f"/shipments?location_id={location_id}", lambda body: body["data"])
        shipments.extend(shipment["shipment_id"] for shipment in listed["data"])
    tracking = _wait(client, f"/orders/{orders[0]}", lambda body: body.get("tracking_url"))["tracking_url"]
    return {
        "order_id": orders,
        "shipment_id": shipments,
        "location_id": [WAREHOUSE, STORE],
        "from_location_id": [WAREHOUSE],
        "to_location_id": [STORE],
        "sku": [SKU],
        "channel": ["webshop", "pos", "shopify"],
        "token": [tracking.rsplit("/", 1)[-1]],
    }


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def engine(
    request: pytest.FixtureRequest, temporal_server: DevServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Engine]:
    var_dir = tmp_path_factory.mktemp("fuzz")
    database = _open_database(request.param, request, var_dir)  # a fresh copy, or the test database emptied
    database_url = database.url
    task_queue = f"fuzz-{uuid.uuid4()}"
    env = {key: value for key, value in os.environ.items() if not key.startswith("OMS_")}
    env.update(
        {
            "OMS_ENV": "test",
            "OMS_DATABASE_URL": database_url,
            "OMS_TEMPORAL_ADDRESS": temporal_server.address,
            "OMS_TASK_QUEUE": task_queue,
            "OMS_VAR_DIR": str(var_dir),
            "OMS_SANDBOX": "true",
            "OMS_AUTO_CONFIRM": "false",  # shipments wait for staff confirmations: the fuzzer sends them
            "OMS_WORKER_METRICS_ADDRESS": "",
        }
    )
    log = open(var_dir / "worker.log", "wb")  # noqa: SIM115
    worker = subprocess.Popen([sys.executable, "worker.py"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    settings = load_settings(
        env="test",
        database_url=database_url,
        temporal_address=temporal_server.address,
        task_queue=task_queue,
        admin_token=TOKEN,
        sandbox=True,
        auto_confirm=False,
    )
    app = create_app(settings)
    try:
        with TestClient(app) as client:
            KNOWN.values = _seed(client)
        yield Engine(app, request.param, temporal_server.address)
    finally:
        shutdown_lifespans()
        KNOWN.values = {}
        worker.terminate()
        try:
            worker.wait(5)
        except subprocess.TimeoutExpired:  # it waits for running activities; nothing here needs them
            worker.kill()
            worker.wait(10)
        log.close()
        database.engine.dispose()


@schema.parametrize()
@settings(max_examples=MAX_EXAMPLES, deadline=None, database=None, suppress_health_check=list(HealthCheck))
def test_no_input_gets_a_5xx_or_an_undocumented_answer(case: schemathesis.Case, engine: Engine) -> None:
    case.call_and_validate(app=engine.app, headers=STAFF, checks=CHECKS)


def test_an_action_on_an_order_whose_workflow_has_ended_is_a_409_not_a_503(engine: Engine) -> None:
    """Found by the fuzzer: a cancel that reaches the workflow just after it ended (or one an operator
    terminated) was Temporal's NOT_FOUND turned into 503, which tells the caller to retry forever."""

    async def terminate(order_id: str) -> None:
        client = await connect(load_settings(), engine.temporal_address)
        await client.get_workflow_handle(order_id).terminate("test: the workflow has ended")

    with TestClient(engine.app, raise_server_exceptions=False) as client:
        # An order of its own: the fuzzed operations may have cancelled (ended) the seeded ones.
        order = {
            "channel": "webshop",
            "external_id": f"FUZZ-ENDED-{uuid.uuid4().hex[:8]}",
            "currency": "EUR",
            "lines": [{"sku": SKU, "quantity": 1, "unit_price": {"amount_minor": 1000, "currency": "EUR"}}],
            "shipping_address": {"name": "Fuzz", "city": "Amsterdam", "country": "NL"},
            "payment_collected": True,
        }
        created = client.post("/orders", json=order, headers=STAFF)
        assert created.status_code == 202, created.text
        order_id = created.json()["order_id"]
        _wait(client, f"/orders/{order_id}", lambda body: body["status"] not in ("RECEIVED",))
        asyncio.run(terminate(order_id))
        cancelled = client.post(f"/orders/{order_id}/cancel", json={"reason": "too late"}, headers=STAFF)
    assert cancelled.status_code == 409, cancelled.text
    assert "no longer running" in cancelled.json()["detail"]
