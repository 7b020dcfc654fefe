"""Durable intake against a real Temporal server: an order taken while Temporal cannot be reached is
answered 202, reads as RECEIVED, and ships once Temporal is back; a repeated delivery answers the
same order id as a duplicate before and after its start; a process that dies between the commit and
the start leaves the row to the sweeper, which starts it once; two sweepers never start a row twice."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta
from typing import TYPE_CHECKING

from fastapi.testclient import TestClient
from sqlalchemy import select
from temporalio.client import Client

from api.main import create_app
from contracts.order_workflow import CancelRequest, OrderWorkflowInput
from domain.status import OrderStatus
from integrations.channels import shopify
from ops.temporal_dev import free_port
from persistence.models import OrderIntake
from services.gateway import TemporalWorkflows
from services.intake import Intake
from services.intake_sweeper import IntakeSweeper
from services.unit_of_work import units_on
from tests.factories import add_location, make_order, next_id, shopify_payload, stock
from tests.workflow.conftest import Engine, running_engine

if TYPE_CHECKING:  # imported at run time, pytest would try to collect it as a test class
    from tests.conftest import TestDatabase

TOKEN = "intake-admin-token"
STAFF = {"Authorization": f"Bearer {TOKEN}"}
QUICK = timedelta(milliseconds=200)


class CountedStarts(TemporalWorkflows):
    """The real gateway, counting the starts it is asked for."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.starts: list[str] = []

    async def start_order(
        self, data: OrderWorkflowInput, *, task_queue: str, cancel: CancelRequest | None = None
    ) -> bool:
        self.starts.append(data.order.order_id)
        return await super().start_order(data, task_queue=task_queue, cancel=cancel)


def _api(engine: Engine, temporal_address: str, *, sweep: timedelta) -> TestClient:
    settings = engine.settings.model_copy(
        update={
            "admin_token": TOKEN,
            "temporal_address": temporal_address,
            "intake_sweep_interval": sweep,
            "intake_retry_first": QUICK,
        }
    )
    return TestClient(create_app(settings), raise_server_exceptions=False)


def _webhook(api: TestClient, payload: dict[str, object]) -> dict[str, object]:
    raw = json.dumps(payload).encode()
    headers = {
        "Content-Type": "application/json",
        "X-Shopify-Topic": "orders/create",
        "X-Shopify-Hmac-Sha256": shopify.sign("dev-shopify-secret", raw),
        "X-Shopify-Webhook-Id": f"wh-{next_id()}",
    }
    answer = api.post("/webhooks/shopify", content=raw, headers=headers)
    assert answer.status_code == 202, answer.text
    body: dict[str, object] = answer.json()
    return body


def _intake_row(db: TestDatabase, order_id: str) -> OrderIntake | None:
    with db.session() as session:
        return session.scalar(select(OrderIntake).where(OrderIntake.order_id == order_id))


async def test_an_order_taken_while_temporal_is_away_ships_once_it_is_back(temporal_client: Client, database):
    async with running_engine(temporal_client, database) as engine:
        add_location(database.session_factory, "AMS")
        stock(database.session_factory, "AMS", {"MUG": 5})
        payload = shopify_payload([("MUG", 2, "12.50")])
        order_id = f"order-shopify-{payload['id']}"

        with _api(engine, f"localhost:{free_port()}", sweep=timedelta(0)) as away:  # nothing listens there
            assert _webhook(away, payload) == {"order_id": order_id, "duplicate": False}
            seen = away.get(f"/orders/{order_id}", headers=STAFF)
            assert seen.status_code == 200 and seen.json()["status"] == "RECEIVED"
            assert [line["sku"] for line in seen.json()["lines"]] == ["MUG"]
            assert _webhook(away, payload) == {"order_id": order_id, "duplicate": True}
            health = away.get("/health").json()
            assert health["status"] == "unavailable" and health["intake"]["waiting"] == 1
        row = _intake_row(database, order_id)
        assert row is not None and row.started_at is None and engine.status(order_id) is None

        live = engine.client.service_client.config.target_host
        with _api(engine, live, sweep=QUICK) as back:  # its sweeper starts what waits
            assert await engine.wait_for_status(order_id, "SHIPPED", "COMPLETED") in ("SHIPPED", "COMPLETED")
            assert _webhook(back, payload) == {"order_id": order_id, "duplicate": True}
            assert back.get("/health").json()["intake"] == {"waiting": 0, "oldest_age_seconds": 0.0}
        row = _intake_row(database, order_id)
        assert row is not None and row.started_at is not None and row.attempts == 1


async def test_a_row_left_unstarted_by_a_crash_is_started_by_the_sweeper_once(temporal_client: Client, database):
    async with running_engine(temporal_client, database) as engine:
        units = units_on(database.session_factory)
        order = make_order([("MUG", 1, 1250)], channel="webshop")
        taken = await Intake(engine.settings, units, TemporalWorkflows.on(temporal_client)).take(order)
        assert taken.to_start is not None  # ... and the process died before it started it
        gateway = CountedStarts.on(temporal_client)
        assert isinstance(gateway, CountedStarts)
        sweeper = IntakeSweeper(engine.settings, units, gateway)
        assert await sweeper.sweep() == 0  # within its grace: the request's own start comes first
        later = taken.to_start.received_at + engine.settings.intake_retry_first
        assert await sweeper.sweep(later) == 1
        assert await sweeper.sweep(later + timedelta(minutes=5)) == 0
        assert gateway.starts == [order.order_id]
        assert await engine.wait_for_status(order.order_id, *(status.value for status in OrderStatus))


async def test_two_sweepers_start_each_row_once(temporal_client: Client, database):
    async with running_engine(temporal_client, database) as engine:
        units = units_on(database.session_factory)
        intake = Intake(engine.settings, units, TemporalWorkflows.on(temporal_client))
        orders = [make_order([("MUG", 1, 1250)], channel="webshop") for _ in range(6)]
        taken = [await intake.take(order) for order in orders]
        assert all(t.to_start is not None for t in taken)
        later = max(t.to_start.received_at for t in taken if t.to_start) + engine.settings.intake_retry_first
        one, other = CountedStarts.on(temporal_client), CountedStarts.on(temporal_client)
        assert isinstance(one, CountedStarts) and isinstance(other, CountedStarts)
        started = await asyncio.gather(
            IntakeSweeper(engine.settings, units, one).sweep(later),
            IntakeSweeper(engine.settings, units, other).sweep(later),
        )
        assert sum(started) == 6
        assert sorted(one.starts + other.starts) == sorted(order.order_id for order in orders)
        for order in orders:
            row = _intake_row(database, order.order_id)
            assert row is not None and row.started_at is not None and row.attempts == 1
        # A start asked for again anyway is refused by Temporal as the same workflow id.
        assert taken[0].to_start is not None
        assert not await TemporalWorkflows.on(temporal_client).start_order(
            taken[0].to_start, task_queue=engine.settings.task_queue
        )
