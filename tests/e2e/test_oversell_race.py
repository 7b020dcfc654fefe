"""No oversell, ever: 60 orders race for 15 units through two separate worker processes.

The lock that keeps stock true must live in the database, not in a process: two `worker.py`
processes poll the same task queue, so reservations for the same SKU run truly in parallel.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from config import load_settings
from persistence.db import create_db_engine, create_session_factory
from persistence.guarded_writes import inventory
from persistence.models import OrderRecord, StockLevel
from services.intake import start_order
from tests.e2e.conftest import ROOT, _fresh_postgres_database
from tests.factories import add_location, make_order, stock

WORKERS = 2
ORDERS = 60


@pytest.fixture(params=["sqlite", "postgresql"])
def race(request, temporal_server, tmp_path: Path) -> Iterator[tuple[str, str]]:
    if request.param == "sqlite":
        (tmp_path / "oms.db").write_bytes(Path(request.getfixturevalue("sqlite_template")).read_bytes())
        url = f"sqlite:///{tmp_path / 'oms.db'}"
    else:
        from persistence.migrate import upgrade_to_head

        url = _fresh_postgres_database(request.getfixturevalue("postgres_url"))
        upgrade_to_head(url)
    task_queue = f"race-{uuid.uuid4()}"
    env = {key: value for key, value in os.environ.items() if not key.startswith("OMS_")}
    env.update({"OMS_DATABASE_URL": url, "OMS_TEMPORAL_ADDRESS": temporal_server.address, "OMS_TASK_QUEUE": task_queue})
    env["OMS_WORKER_METRICS_ADDRESS"] = ""  # two workers: one metrics port would refuse the second
    workers = [
        subprocess.Popen(
            [sys.executable, "worker.py"],
            cwd=ROOT,
            env=env,
            stdout=open(tmp_path / f"worker{n}.log", "wb"),  # noqa: SIM115
            stderr=subprocess.STDOUT,
        )
        for n in range(WORKERS)
    ]
    try:
        yield url, task_queue
    finally:
        for process in workers:
            process.terminate()
        for process in workers:
            process.wait(30)
        assert all(p.returncode in (0, -15) for p in workers), f"a worker crashed; logs in {tmp_path}"


async def test_racing_orders_from_two_worker_processes_never_oversell(race, temporal_client):
    url, task_queue = race
    engine = create_db_engine(url)
    session_factory = create_session_factory(engine)
    add_location(session_factory, "AMS", priority=10)
    add_location(session_factory, "UTR", priority=20, latitude=52.09, longitude=5.12)
    stock(session_factory, "AMS", {"HOT": 10})
    stock(session_factory, "UTR", {"HOT": 5})
    settings = load_settings(task_queue=task_queue, database_url=url)
    orders = [make_order([("HOT", 1 if n % 3 else 2, 1999)]) for n in range(ORDERS)]
    await asyncio.gather(*(start_order(temporal_client, settings, order) for order in orders))

    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        with session_factory() as session:
            statuses = dict(session.execute(select(OrderRecord.order_id, OrderRecord.status)).all())
        if len(statuses) == ORDERS and all(s in ("SHIPPED", "BACKORDERED") for s in statuses.values()):
            break
        await asyncio.sleep(0.5)
    else:
        pytest.fail(f"orders did not settle: {sorted(set(statuses.values()))}")

    with session_factory() as session:
        levels = {(s.location_id, s.sku): s for s in session.scalars(select(StockLevel))}
        rebuilt = inventory.ledger_totals(session)
        shipped_units = sum(order.lines[0].quantity for order in orders if statuses[order.order_id] == "SHIPPED")
    for level in levels.values():
        assert 0 <= level.reserved <= level.on_hand - level.safety_stock
    assert rebuilt == {key: (level.on_hand, level.reserved) for key, level in levels.items()}
    left = sum(level.on_hand for level in levels.values())
    assert shipped_units + left == 15  # every unit is either shipped or still on a shelf: none invented
    assert left <= 1  # and the stock was used up (a single unit may be left for 2-unit orders only)
    engine.dispose()
    for order in orders:  # backordered ones would wait for days: end them
        if statuses[order.order_id] == "BACKORDERED":
            await temporal_client.get_workflow_handle(order.order_id).terminate("test done")
