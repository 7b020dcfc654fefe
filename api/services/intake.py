"""Start an order's workflow; a second delivery of the same order finds the first one.

Whether we have an order is the database's to say (the order row `record_order` writes): Temporal
refuses a second start of a workflow id only while the first run is within retention, so a channel
that resends an order weeks later would otherwise start it again. Temporal's own refusal still
covers the moment between a start and the order's first activity recording it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from temporalio.client import Client
from temporalio.common import (
    SearchAttributePair,
    TypedSearchAttributes,
    WorkflowIDReusePolicy,
)
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from api.services.cancel import request_cancel
from config import Settings
from contracts.order_workflow import CancelRequest, FulfilmentOptions, OrderWorkflowInput
from domain.fulfilment import DEFAULT_SLAS
from domain.order import Order
from domain.status import OrderStatus
from persistence import orders as order_store
from persistence.db import SessionFactory, readers_of
from workflows.order import OrderWorkflow
from workflows.search_attributes import CHANNEL, ORDER_STATUS


def fulfilment_options(settings: Settings) -> FulfilmentOptions:
    slas = {kind: {**steps, **settings.sla_overrides.get(kind, {})} for kind, steps in DEFAULT_SLAS.items()}
    return FulfilmentOptions(
        auto_confirm=settings.auto_confirm_enabled,
        slas=slas,
        pickup_expiry_seconds=int(settings.pickup_expiry.total_seconds()),
    )


def _start_arguments(settings: Settings, order: Order) -> dict[str, Any]:
    return {
        "arg": OrderWorkflowInput(
            order=order,
            received_at=datetime.now(UTC),
            return_window_seconds=int(settings.return_window.total_seconds()),
            backorder_deadline_seconds=(
                int(settings.backorder_deadline.total_seconds()) if settings.backorder_deadline else None
            ),
            fulfilment=fulfilment_options(settings),
            history_limit=settings.order_history_limit,
        ),
        "id": order.order_id,
        "task_queue": settings.task_queue,
        "id_reuse_policy": WorkflowIDReusePolicy.REJECT_DUPLICATE,
        "search_attributes": TypedSearchAttributes(
            [
                SearchAttributePair(ORDER_STATUS, OrderStatus.RECEIVED.value),
                SearchAttributePair(CHANNEL, order.channel),
            ]
        ),
        "static_summary": f"{order.channel} order {order.reference or order.external_id}",
    }


def _is_recorded(session_factory: SessionFactory, order_id: str) -> bool:
    with readers_of(session_factory)() as session:
        return order_store.recorded_status(session, order_id) is not None


async def is_recorded(session_factory: SessionFactory, order_id: str) -> bool:
    """Whether the order is in our database, asked on a thread in a session closed before we return."""
    return await asyncio.to_thread(_is_recorded, session_factory, order_id)


async def start_order(client: Client, settings: Settings, order: Order) -> tuple[str, bool]:
    """Return (order_id, duplicate). The workflow id is the order id, so Temporal dedupes a second
    start while the first run is within retention; callers that may see an order again later ask
    the database first (take_order)."""
    try:
        await client.start_workflow(OrderWorkflow.run, **_start_arguments(settings, order))
    except WorkflowAlreadyStartedError:
        return order.order_id, True
    return order.order_id, False


async def cancel_from_channel(
    client: Client,
    settings: Settings,
    order: Order,
    reason: str,
    session_factory: SessionFactory,
    *,
    confirm_lines: Sequence[str] = (),
) -> tuple[str, bool]:
    """The channel cancelled the order. One we have: its workflow is signalled, after the cancel is
    claimed like a staff cancel (so it cannot cross a shipment that is leaving right now); never a
    second run. One new to us (a cancellation can overtake the creation): started with the cancel,
    so it is recorded, then cancelled. `confirm_lines`: the lines whose cancellation the customer
    requested and the channel wants confirmed once done (bol). Return (order_id, finished):
    finished when the order's workflow had already ended, or something had left."""
    request = CancelRequest(reason=reason, requested_by=order.channel, confirm_lines=list(confirm_lines))
    if await is_recorded(session_factory, order.order_id):
        try:
            refusal = await request_cancel(client, session_factory, order.order_id, request)
        except RPCError as exc:
            if exc.status is RPCStatusCode.NOT_FOUND:  # its workflow has ended, perhaps long ago
                return order.order_id, True
            raise
        return order.order_id, refusal is not None
    try:
        await client.start_workflow(
            OrderWorkflow.run, **_start_arguments(settings, order), start_signal="cancel", start_signal_args=[request]
        )
    except WorkflowAlreadyStartedError:
        return order.order_id, True
    return order.order_id, False


@dataclass(frozen=True)
class Taken:
    """What became of an order a channel sent: its id, whether it repeated what we already had
    (a duplicate delivery, or a cancel too late to honour) and the outcome for the audit row."""

    order_id: str
    repeated: bool
    outcome: str


async def take_order(
    client: Client,
    settings: Settings,
    order: Order,
    session_factory: SessionFactory,
    *,
    cancel_reason: str | None = None,
    confirm_lines: Sequence[str] = (),
) -> Taken:
    """Start the order or, given a cancel_reason, cancel it (starting it first if it is new to us):
    the one path webhooks, POST /orders and pulled channels share. `confirm_lines`: see
    cancel_from_channel."""
    if cancel_reason is not None:
        order_id, finished = await cancel_from_channel(
            client, settings, order, cancel_reason, session_factory, confirm_lines=confirm_lines
        )
        return Taken(order_id, finished, "cancel too late: shipped or ended" if finished else "cancelled")
    if await is_recorded(session_factory, order.order_id):
        return Taken(order.order_id, True, "duplicate")
    order_id, duplicate = await start_order(client, settings, order)
    return Taken(order_id, duplicate, "duplicate" if duplicate else "started")
