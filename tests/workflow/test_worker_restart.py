"""A worker lost in the middle of a shipment: another worker finishes it, and when the lost one's
step finally completes it changes nothing, because the step's idempotency record is already there."""

from __future__ import annotations

import asyncio
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

from sqlalchemy import select
from temporalio.worker import Worker

from config import load_settings
from integrations.providers import Dispatch
from integrations.sandbox.warehouse import SandboxWarehouse
from integrations.temporal.client import connect
from persistence.guarded_writes import inventory
from persistence.models import StockMovement
from services.intake import start_order
from tests.factories import add_location, make_order, stock
from tests.workflow.conftest import Engine
from worker import build_parts, build_worker


class StuckCarrier(SandboxWarehouse):
    """The carrier call hangs (a dead network, a frozen process) until the test lets it go."""

    def __init__(self) -> None:
        self.reached = threading.Event()
        self.release = threading.Event()

    def dispatch(self, shipment_id: str, location_id: str) -> Dispatch:
        self.reached.set()
        self.release.wait(120)
        return super().dispatch(shipment_id, location_id)


async def test_a_shipment_survives_its_worker_and_ships_exactly_once(temporal_client, temporal_server, sqlite_database):
    db = sqlite_database
    settings = load_settings(task_queue="restart-" + str(id(db)), database_url=db.url, worker_activity_threads=4)
    add_location(db.session_factory, "AMS")
    stock(db.session_factory, "AMS", {"A": 3})
    stuck = StuckCarrier()
    lost_pool = ThreadPoolExecutor(max_workers=4)
    parts = build_parts(settings, db.session_factory, temporal_client, warehouse=stuck)
    first = Worker(
        temporal_client,
        task_queue=settings.task_queue,
        workflows=parts.workflows,
        activities=parts.activities,
        activity_executor=lost_pool,
        graceful_shutdown_timeout=timedelta(0),  # it dies: nothing waits for its running step
    )
    first_run = asyncio.create_task(first.run())
    order_id, _ = await start_order(temporal_client, settings, make_order([("A", 2, 1000)]))
    assert await asyncio.to_thread(stuck.reached.wait, 30)  # the ship step is running on worker 1

    # Worker 1 goes away without finishing its step: its shutdown hangs on the stuck thread, as a
    # frozen process would, while worker 2 takes over the task queue.
    first_gone = asyncio.create_task(first.shutdown())
    second_process = await connect(settings, temporal_server.address)  # another process's own connection
    with ThreadPoolExecutor(max_workers=4) as pool:
        async with build_worker(second_process, settings, db.session_factory, executor=pool):
            # Temporal retries the step on worker 2 once its start-to-close timeout (30 s) has passed.
            await Engine(temporal_client, settings, db).wait_for_status(order_id, "SHIPPED", timeout=90)
            stuck.release.set()  # now the lost step finishes too...
            await first_gone
            first_run.cancel()
            await asyncio.to_thread(lost_pool.shutdown, True)
    with db.session() as session:
        shipments = session.scalars(
            select(StockMovement).where(StockMovement.order_id == order_id, StockMovement.kind == "shipment")
        ).all()
        level = inventory.stock_row(session, "AMS", "A")
    assert [(m.on_hand_delta, m.reserved_delta) for m in shipments] == [(-2, -2)]  # ...and ships nothing twice
    assert (level.on_hand, level.reserved) == (1, 0)
    await temporal_client.get_workflow_handle(order_id).terminate("test done")
