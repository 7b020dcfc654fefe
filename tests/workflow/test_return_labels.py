"""A return label asked for through Temporal, as the ReturnWorkflow will at REQUESTED: the real worker
serves `create_return_label`, the order's parcel left with a Sendcloud label (its sandbox over real
HTTP), Sendcloud is away at first and Temporal retries with backoff until the one label comes, and
asking again for the same return answers it without a second return at Sendcloud."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.worker import Worker

from contracts.return_labels import ReturnLabel, ReturnLabelInput, ReturnLabels
from persistence.read_model import orders as order_store
from persistence.read_model import return_labels
from sandboxes import sendcloud as sandbox
from sandboxes.server import serve
from services.intake import start_order
from tests.factories import add_location, make_order, stock
from tests.workflow.conftest import Engine, api_client, running_engine, until

TOKEN = "return-labels-admin-token"
STAFF = {"Authorization": f"Bearer {TOKEN}"}
SENDER: dict[str, Any] = {"address_line1": "Keizersgracht 1", "city": "Amsterdam", "email": "ams@example.org"}
RMA = "RMA-7K3QX-9PDM2-1"


@dataclass
class AskInput:
    queue: str
    """The engine's task queue, where the worker serves the activity."""
    label: ReturnLabelInput


@workflow.defn(sandboxed=False)
class AskForAReturnLabel:
    """Stands in for the ReturnWorkflow's step at REQUESTED."""

    @workflow.run
    async def run(self, data: AskInput) -> ReturnLabel | None:
        return await workflow.execute_activity_method(
            ReturnLabels.create_return_label,
            data.label,
            task_queue=data.queue,
            start_to_close_timeout=timedelta(seconds=30),
            retry_policy=RetryPolicy(initial_interval=timedelta(milliseconds=200), backoff_coefficient=1.5),
        )


@pytest.fixture
def sendcloud_url() -> Iterator[str]:
    with serve(sandbox.create_app()) as url:
        yield url


def _sandbox(method: str, url: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
    answer = httpx.request(method, url, json=body)
    answer.raise_for_status()
    result: dict[str, Any] = answer.json()
    return result


async def _call(api: TestClient, method: str, path: str, **kwargs: Any) -> httpx.Response:
    return await asyncio.to_thread(api.request, method, path, headers=STAFF, **kwargs)


async def _shipped_with_a_sendcloud_label(engine: Engine, api: TestClient) -> tuple[str, str]:
    db = engine.db
    add_location(db.session_factory, "AMS", **SENDER)
    stock(db.session_factory, "AMS", {"A": 5})
    order_id, _ = await start_order(engine.client, engine.settings, make_order([("A", 2, 1500)]))
    shipment_id = f"shipment-{order_id}-AMS"
    steps: tuple[tuple[str, dict[str, Any]], ...] = (
        ("picked", {}),
        ("packed", {"parcels": 1, "parcel_weights_grams": [1320]}),
        ("shipped", {}),
    )
    for step, more in steps:
        path, body = f"/shipments/{shipment_id}/{step}", {"location_id": "AMS", **more}
        answer = await until(
            lambda path=path, body=body: (r := api.post(path, json=body, headers=STAFF)).status_code == 200 and r,
            f"{shipment_id}: {step}",
        )
        assert answer.status_code == 200
    await engine.wait_for_status(order_id, "SHIPPED")
    return order_id, shipment_id


async def test_temporal_retries_the_return_label_through_an_outage_and_one_label_comes(
    temporal_client, database, sendcloud_url
):
    settings = {
        "sendcloud_public_key": sandbox.PUBLIC_KEY,
        "sendcloud_secret_key": sandbox.SECRET_KEY,
        "sendcloud_api_url": sendcloud_url,
    }
    async with running_engine(temporal_client, database, auto_confirm=False, **settings) as engine:
        with api_client(engine, TOKEN) as api:
            order_id, _ = await _shipped_with_a_sendcloud_label(engine, api)
            data = ReturnLabelInput(
                order_id=order_id,
                return_id=f"return-{order_id}-1",
                rma=RMA,
                location_id=None,
                lines={"A": 1},
                at=datetime.now(UTC),
            )
            ask = AskInput(engine.settings.task_queue, data)
            queue = f"return-labels-{uuid.uuid4()}"
            with ThreadPoolExecutor(max_workers=2) as pool:
                async with Worker(
                    temporal_client, task_queue=queue, workflows=[AskForAReturnLabel], activity_executor=pool
                ):
                    _sandbox("POST", f"{sendcloud_url}/_sandbox/outage", {"down": True})
                    handle = await temporal_client.start_workflow(
                        AskForAReturnLabel.run, ask, id=f"ask-{data.return_id}", task_queue=queue
                    )

                    def pending() -> bool:
                        with engine.db.session() as session:
                            view = return_labels.return_label_for(session, data.return_id)
                        return view is not None and view.status == "pending" and "HTTP 503" in (view.problem or "")

                    await until(pending, "the label shows pending while Sendcloud is away")
                    _sandbox("POST", f"{sendcloud_url}/_sandbox/outage", {"down": False})
                    label = await handle.result()
                    assert label is not None and label.carrier == "postnl" and label.tracking_number.startswith("3S")

                    again = await temporal_client.execute_workflow(
                        AskForAReturnLabel.run, ask, id=f"ask-again-{data.return_id}", task_queue=queue
                    )
                    assert again == label

            made = _sandbox("GET", f"{sendcloud_url}/_sandbox/returns")
            assert made["return_calls"] == 1
            [sent] = made["data"]
            assert sent["external_reference"] == RMA and sent["to_address"]["address_line_1"] == "Keizersgracht 1"
            assert sent["weight"] == {"value": 0.66, "unit": "kg"}  # one of the parcel's two units
            pdf = await _call(api, "GET", label.label_url)
            assert pdf.status_code == 200 and label.tracking_number.encode() in pdf.content
    with database.session() as session:
        kinds = [event.kind for event in order_store.order_events(session, order_id)]
    assert kinds.count("return_label") == 1
