"""Processes wait for what they need: the worker and the API started before Temporal is there wait
for it (one clear line in the log, no traceback), and go on working when Temporal is killed and
started again under them; orders taken while Temporal is not there (202, kept in the intake) ship
once it is. The order in which an orchestrator starts or restarts things does not matter."""

from __future__ import annotations

import shutil
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from ops.temporal_dev import DevServer, free_port
from tests.e2e.conftest import TOKEN, engine_env, start_api, start_worker, stop_processes

LOCATION = "AMS"


def _until(check: Callable[[], object], what: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            result = check()
        except httpx.TransportError:
            result = None
        if result:
            return
        if time.monotonic() > deadline:
            pytest.fail(f"{what} within {timeout:.0f} s")
        time.sleep(0.3)


def _an_order_ships(client: httpx.Client, timeout: float) -> None:
    _ships(client, _an_order_taken(client), timeout)


def _an_order_taken(client: httpx.Client) -> str:
    response = client.post(
        "/orders",
        json={
            "channel": "webshop",
            "external_id": uuid.uuid4().hex[:12],
            "currency": "EUR",
            "lines": [{"sku": "WAIT-1", "quantity": 1, "unit_price": {"amount_minor": 1000, "currency": "EUR"}}],
            "shipping_address": {"name": "Sem", "city": "Amsterdam", "country": "NL"},
            "payment_method": "pm_card_visa",
        },
    )
    assert response.status_code == 202, response.text
    order_id: str = response.json()["order_id"]
    return order_id


def _ships(client: httpx.Client, order_id: str, timeout: float) -> None:
    def shipped() -> bool:
        answer = client.get(f"/orders/{order_id}")
        return answer.status_code == 200 and answer.json()["status"] == "SHIPPED"

    _until(shipped, f"{order_id} shipped", timeout)


def test_worker_and_api_wait_for_temporal_and_outlive_its_restart(tmp_path: Path, sqlite_template: Path):
    shutil.copyfile(sqlite_template, tmp_path / "oms.db")
    temporal = DevServer(
        db_file=tmp_path / "temporal.db", port=free_port(), ui_port=None, log_file=tmp_path / "temporal.log"
    )
    api_port = free_port()
    # Temporal's address: nothing listens there yet.
    env = engine_env(f"sqlite:///{tmp_path / 'oms.db'}", temporal.address, tmp_path)
    worker_log, api_log = tmp_path / "worker.log", tmp_path / "api.log"
    worker = start_worker(env, worker_log)
    api = start_api(env, api_port, api_log)
    client = httpx.Client(
        base_url=f"http://127.0.0.1:{api_port}", headers={"Authorization": f"Bearer {TOKEN}"}, timeout=15
    )
    try:
        # The API is up without Temporal and says it is not ready; the worker waits instead of exiting.
        _until(lambda: client.get("/health").status_code == 503, "the API answered 503", 30)
        time.sleep(3)
        assert worker.poll() is None, worker_log.read_text()
        for path, body in (
            ("/locations", {"location_id": LOCATION, "name": "Amsterdam DC", "kind": "warehouse", "country": "NL"}),
            (
                "/inventory/adjustments",
                {"location_id": LOCATION, "sku": "WAIT-1", "delta": 10, "reason": "receipt"},
            ),
        ):
            assert client.post(path, json=body).status_code in (200, 201)  # the database needs no Temporal
        # An order is taken all the same (kept in the intake) and reads as RECEIVED.
        waited = _an_order_taken(client)
        assert client.get(f"/orders/{waited}").json()["status"] == "RECEIVED"
        assert client.get("/health").json()["intake"]["waiting"] == 1

        temporal.start()
        _until(lambda: client.get("/health").status_code == 200, "the API saw Temporal", 60)
        _an_order_ships(client, timeout=60)
        _ships(client, waited, timeout=120)  # started by the API's intake sweeper, within a minute or so

        # Temporal dies under the running worker and API, and comes back (its state on disk).
        assert temporal.process is not None
        temporal.process.kill()
        temporal.process.wait()
        _until(lambda: client.get("/health").status_code == 503, "the API noticed Temporal gone", 30)
        waited = _an_order_taken(client)  # taken while Temporal is gone
        time.sleep(5)  # long enough for the worker's pollers to fail and back off
        temporal.start()
        _an_order_ships(client, timeout=120)
        _ships(client, waited, timeout=120)
        assert worker.poll() is None and api.poll() is None
    finally:
        client.close()
        stop_processes((worker, api))
        temporal.stop()

    logged = worker_log.read_text()
    assert logged.count("waiting for Temporal") == 1, logged
    assert f"Temporal at {temporal.address} is there" in logged
    assert "Traceback" not in logged, logged
    api_logged = api_log.read_text()
    assert api_logged.count(f"Temporal at {temporal.address} is not reachable") == 1, api_logged
    assert "Traceback" not in api_logged, api_logged
