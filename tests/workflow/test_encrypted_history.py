"""An order's histories on the Temporal server hold no customer name, address or e-mail in the clear:
read without OMS_PAYLOAD_KEYS (a plain client, as the server, a backup or the UI without the codec
endpoint see them) they are ciphertext; the engine's own client reads them back."""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import timedelta

from temporalio.api.enums.v1 import EventType
from temporalio.client import Client, WorkflowHistory

from contracts.order_workflow import OrderWorkflowInput
from domain.order import Address
from domain.status import OrderStatus
from integrations.temporal.codec import ENCRYPTED
from services.intake import start_order
from tests.factories import add_location, make_order, stock
from tests.workflow.conftest import running_engine
from workflows.order import OrderWorkflow

CUSTOMER = Address(
    name="Wilhelmina Vermeulen-Oosterhout",
    line1="Prinsengracht 263",
    line2="tweede verdieping",
    postcode="1016 GV",
    city="Zwolle-Oost",
    country="NL",
    phone="+31 6 12345678",
)
EMAIL = "w.vermeulen.oosterhout@voorbeeld.nl"
PERSONAL = (CUSTOMER.name, CUSTOMER.line1, CUSTOMER.line2, CUSTOMER.postcode, CUSTOMER.phone, EMAIL)


def _raw(history: WorkflowHistory) -> bytes:
    """Everything the server holds of the run, as it holds it (protobuf) and as the UI would show it (JSON)."""
    return history.to_json().encode() + b"".join(event.SerializeToString() for event in history.events)


def _children(history: WorkflowHistory) -> list[str]:
    return [
        event.start_child_workflow_execution_initiated_event_attributes.workflow_id
        for event in history.events
        if event.event_type == EventType.EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_INITIATED
    ]


async def test_an_orders_histories_show_no_personal_data_without_the_key(temporal_client, database):
    async with running_engine(temporal_client, database, return_window=timedelta(seconds=1)) as engine:
        add_location(database.session_factory, "AMS")
        stock(database.session_factory, "AMS", {"A": 5})
        order = dataclasses.replace(make_order([("A", 2, 1250)]), shipping_address=CUSTOMER, customer_email=EMAIL)
        order_id, _ = await start_order(temporal_client, engine.settings, order)
        handle = temporal_client.get_workflow_handle_for(OrderWorkflow.run, order_id)
        assert (await asyncio.wait_for(handle.result(), 60)).status is OrderStatus.COMPLETED

    address = temporal_client.service_client.config.target_host
    without_key = await Client.connect(address)  # no codec: what anyone without the keys reads
    history = await without_key.get_workflow_handle(order_id).fetch_history()
    children = _children(history)
    assert children == [f"shipment-{order_id}-AMS"]
    for workflow_id in (order_id, *children):
        run = await without_key.get_workflow_handle(workflow_id).fetch_history()
        raw = _raw(run)
        leaked = [value for value in PERSONAL if value.encode() in raw]
        assert leaked == [], f"{workflow_id}'s history holds {leaked} in the clear"
    started = history.events[0].workflow_execution_started_event_attributes
    assert [payload.metadata["encoding"] for payload in started.input.payloads] == [ENCRYPTED]

    # The engine's own client (the worker's, the API's) reads the same history in full.
    history = await temporal_client.get_workflow_handle(order_id).fetch_history()
    started = history.events[0].workflow_execution_started_event_attributes
    [data] = await temporal_client.data_converter.decode(started.input.payloads, [OrderWorkflowInput])
    assert isinstance(data, OrderWorkflowInput)
    assert (data.order.shipping_address, data.order.customer_email) == (CUSTOMER, EMAIL)
