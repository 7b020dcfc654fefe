"""The engine as a user runs it: `worker.py` and the API under uvicorn as real processes, on the
session's Temporal dev server, with SQLite and with PostgreSQL."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, sync_playwright
from sqlalchemy.engine import make_url

from ops.temporal_dev import DevServer, free_port
from persistence.migrate import upgrade_to_head
from tests.conftest import _admin

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("OMS_TEST_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
TOKEN = "e2e-admin-token"
SHOPIFY_SECRET = "e2e-shopify-secret"


PLACES: dict[str, dict[str, object]] = {  # where System.stock puts its locations
    "warehouse": {"name": "Amsterdam DC", "kind": "warehouse", "postcode": "1043 AP"}
    | {"latitude": 52.386, "longitude": 4.836},
    "store": {"name": "Utrecht store", "kind": "store", "postcode": "3511 AB"} | {"latitude": 52.09, "longitude": 5.12},
}


@dataclass
class System:
    api: str
    client: httpx.Client

    def stock(self, sku: str, quantity: int, location_id: str = "AMS", *, store: bool = False) -> None:
        """A location (the Amsterdam DC, or with `store` a store in Utrecht) holding `quantity` of
        `sku`, through the API as staff set it up."""
        place = PLACES["store" if store else "warehouse"]
        response = self.client.post("/locations", json={"location_id": location_id, "country": "NL", **place})
        assert response.status_code in (200, 201), response.text
        adjustment = {"location_id": location_id, "sku": sku, "delta": quantity, "reason": "receipt"}
        response = self.client.post("/inventory/adjustments", json=adjustment)
        assert response.status_code == 201, response.text

    def wait_for_status(self, order_id: str, *statuses: str, timeout: float = 30) -> dict:
        deadline = time.monotonic() + timeout
        body: dict = {}
        while time.monotonic() < deadline:
            response = self.client.get(f"/orders/{order_id}")
            if response.status_code == 200:
                body = response.json()
                if body["status"] in statuses:
                    return body
            time.sleep(0.2)
        raise AssertionError(f"{order_id} is {body.get('status')}, expected one of {statuses}")


@pytest.fixture(scope="module")
def chromium() -> Iterator[Browser]:
    """Debian's Chromium driven by Playwright (never a browser download at test time)."""
    if not Path(CHROMIUM).exists():
        if IN_CI:
            pytest.fail(f"Chromium is required in CI and {CHROMIUM} does not exist (make test installs it)")
        pytest.skip("Chromium is not installed: apt-get install chromium (make test does it as root)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM)
        yield browser
        browser.close()


def engine_env(database_url: str, temporal_address: str, var_dir: Path, **extra: str) -> dict[str, str]:
    """The environment the engine's processes get in these tests: this machine's, without any OMS_
    setting of its own, pointed at the test's database, Temporal and a task queue of its own."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("OMS_")}
    env.update(
        OMS_ENV="test",
        OMS_DATABASE_URL=database_url,
        OMS_TEMPORAL_ADDRESS=temporal_address,
        OMS_TASK_QUEUE=f"e2e-{uuid.uuid4()}",
        OMS_VAR_DIR=str(var_dir),
        OMS_ADMIN_TOKEN=TOKEN,
        OMS_SHOPIFY_WEBHOOK_SECRET=SHOPIFY_SECRET,
        OMS_SANDBOX="true",
        # Many workers run on this machine at once: none serves metrics unless a test asks for it.
        OMS_WORKER_METRICS_ADDRESS="",
    )
    env.update(extra)
    return env


def start_worker(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    """`worker.py` as a real process, appending to `log`."""
    with log.open("ab") as out:
        return subprocess.Popen([sys.executable, "worker.py"], cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)


def start_api(env: dict[str, str], port: int, log: Path) -> subprocess.Popen[bytes]:
    """The API under uvicorn as a real process on `port`, appending to `log`."""
    with log.open("ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "--factory", "api.main:create_app", "--port", str(port)],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )


def wait_until_healthy(
    client: httpx.Client, processes: Sequence[subprocess.Popen[bytes]], logs: str, timeout: float = 60
) -> None:
    """Until the API answers /health with 200 (Temporal and the database there); a process that
    exits first, or the timeout, fails it naming where the logs are."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            if client.get("/health").status_code == 200:
                return
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline or any(process.poll() is not None for process in processes):
            raise RuntimeError(f"the engine did not come up; {logs}")
        time.sleep(0.2)


def stop_processes(processes: Sequence[subprocess.Popen[bytes]], grace: float = 20) -> None:
    """SIGTERM to all first (they shut down side by side), then wait for each; kill what lingers."""
    for process in processes:
        process.terminate()
    for process in processes:
        try:
            process.wait(grace)
        except subprocess.TimeoutExpired:
            process.kill()


@pytest.fixture(scope="session")
def drop_database_later(postgres_url: str) -> Iterator[Callable[[str], None]]:
    """Drops an e2e database in the background: DROP DATABASE waits for a PostgreSQL checkpoint
    (2 s on an idle machine, 8 s and more on a busy one), which the next file's tests need not wait
    for. Every drop has finished, and a failed one fails the run, before the session ends."""
    drops: list[Future[None]] = []
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="drop-e2e-database") as executor:

        def drop(name: str) -> None:
            drops.append(executor.submit(_admin, postgres_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))

        yield drop
        for each in drops:
            each.result()


def _fresh_postgres_database(base_url: str) -> str:
    name = f"oms_e2e_{uuid.uuid4().hex[:8]}"
    _admin(base_url, f"CREATE DATABASE {name}")
    return make_url(base_url).set(database=name).render_as_string(hide_password=False)


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def system(
    request: pytest.FixtureRequest, temporal_server: DevServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[System]:
    """The engine with the sandbox warehouse confirming every step by itself."""
    yield from _running_system(request, temporal_server, tmp_path_factory, {})


@pytest.fixture(scope="module", params=["postgresql"])
def postgres_system(
    request: pytest.FixtureRequest, temporal_server: DevServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[System]:
    """The sandbox engine on PostgreSQL only, for journeys whose database side the other tiers cover."""
    yield from _running_system(request, temporal_server, tmp_path_factory, {})


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def staff_system(
    request: pytest.FixtureRequest, temporal_server: DevServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[System]:
    """The engine where warehouse and store staff confirm each step through the API."""
    yield from _running_system(request, temporal_server, tmp_path_factory, {"OMS_AUTO_CONFIRM": "false"})


@pytest.fixture(scope="module", params=["postgresql"])
def postgres_staff_system(
    request: pytest.FixtureRequest, temporal_server: DevServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[System]:
    """Staff confirm each step, on PostgreSQL only: the browser journeys of the staff screens."""
    yield from _running_system(request, temporal_server, tmp_path_factory, {"OMS_AUTO_CONFIRM": "false"})


def _running_system(
    request: pytest.FixtureRequest,
    temporal_server: DevServer,
    tmp_path_factory: pytest.TempPathFactory,
    extra_env: dict[str, str],
) -> Iterator[System]:
    var_dir = tmp_path_factory.mktemp("e2e")
    if request.param == "sqlite":
        shutil.copyfile(request.getfixturevalue("sqlite_template"), var_dir / "oms.db")
        database_url = f"sqlite:///{var_dir / 'oms.db'}"
    else:
        database_url = _fresh_postgres_database(request.getfixturevalue("postgres_url"))
        drop_later = request.getfixturevalue("drop_database_later")
        upgrade_to_head(database_url)
    port = free_port()
    env = engine_env(database_url, temporal_server.address, var_dir, OMS_API_PORT=str(port), **extra_env)
    processes = [start_worker(env, var_dir / "worker.log"), start_api(env, port, var_dir / "api.log")]
    api = f"http://127.0.0.1:{port}"
    client = httpx.Client(base_url=api, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=15)
    try:
        wait_until_healthy(client, processes, f"logs in {var_dir}")
        yield System(api, client)
    finally:
        client.close()
        stop_processes(processes)
        if request.param == "postgresql":
            drop_later(str(make_url(database_url).database))
