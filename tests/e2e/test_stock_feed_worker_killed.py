"""The stock feed outlives the worker it runs on: a worker SIGKILLed while the feed waits for work
inside its activity is noticed within seconds by its heartbeat, so a restock still wakes a
backorder at once on the next worker (found by the chaos run: it took up to two minutes); and a
worker asked to stop does not sit out its graceful timeout in that wait."""

from __future__ import annotations

import shutil
import signal
import subprocess
import time
import uuid
from pathlib import Path

import httpx

from ops.temporal_dev import DevServer, free_port
from tests.e2e.conftest import TOKEN, engine_env, start_api, start_worker, wait_until_healthy

SKU = "FEED-1"


def _status(client: httpx.Client, order_id: str) -> str | None:
    answer = client.get(f"/orders/{order_id}")
    return answer.json()["status"] if answer.status_code == 200 else None


def _wait_for(client: httpx.Client, order_id: str, status: str, timeout: float) -> float:
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if _status(client, order_id) == status:
            return time.monotonic() - started
        time.sleep(0.2)
    raise AssertionError(f"{order_id} is {_status(client, order_id)}, not {status}, after {timeout:.0f} s")


def test_a_restock_wakes_a_backorder_soon_after_the_feeds_worker_was_killed(
    tmp_path: Path, sqlite_template: Path, temporal_server: DevServer
):
    shutil.copyfile(sqlite_template, tmp_path / "oms.db")
    api_port = free_port()
    env = engine_env(f"sqlite:///{tmp_path / 'oms.db'}", temporal_server.address, tmp_path)
    log = tmp_path / "worker.log"
    first = start_worker(env, log)
    api = start_api(env, api_port, tmp_path / "api.log")
    client = httpx.Client(base_url=f"http://127.0.0.1:{api_port}", headers={"Authorization": f"Bearer {TOKEN}"})
    second: subprocess.Popen[bytes] | None = None
    try:
        wait_until_healthy(client, [first, api], f"logs in {tmp_path}")
        location = {"location_id": "AMS", "name": "Amsterdam DC", "kind": "warehouse", "country": "NL"}
        assert client.post("/locations", json=location).status_code in (200, 201)
        receipt = {"location_id": "AMS", "sku": SKU, "delta": 1, "reason": "receipt"}
        assert client.post("/inventory/adjustments", json=receipt).status_code == 201
        order = {
            "channel": "webshop",
            "external_id": uuid.uuid4().hex[:12],
            "currency": "EUR",
            "lines": [{"sku": SKU, "quantity": 2, "unit_price": {"amount_minor": 1000, "currency": "EUR"}}],
            "shipping_address": {"name": "Sem", "city": "Amsterdam", "country": "NL"},
            "payment_collected": True,
        }
        response = client.post("/orders", json=order)
        assert response.status_code == 202, response.text
        order_id = response.json()["order_id"]
        _wait_for(client, order_id, "BACKORDERED", 30)
        time.sleep(3)  # the feed's pass found nothing and waits for work inside its activity

        first.send_signal(signal.SIGKILL)
        first.wait()
        second = start_worker(env, log)
        assert client.post("/inventory/adjustments", json=receipt).status_code == 201
        took = _wait_for(client, order_id, "SHIPPED", 45)
        assert took < 45

        second.terminate()  # a worker asked to stop leaves the feed's wait at once
        stopped = time.monotonic()
        second.wait(25)
        assert time.monotonic() - stopped < 15, log.read_text()[-2000:]
    finally:
        client.close()
        for process in (first, second, api):
            if process is not None and process.poll() is None:
                process.kill()
                process.wait()
