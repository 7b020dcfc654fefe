"""Take a cancel: first in the database (where a shipment leaving takes the same lock), then tell
the order's workflow. A cancel the database refuses never reaches the workflow; one the workflow
never heard of is forgotten again, so shipments may leave."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from temporalio.client import Client

from contracts.order_workflow import CancelRequest
from persistence.db import SessionFactory
from services.gateway import TemporalWorkflows, WorkflowGateway
from services.unit_of_work import UnitOfWorkFactory, units_on


def _claim(units: UnitOfWorkFactory, order_id: str) -> str | None:
    with units() as uow:
        refusal = uow.orders.claim_cancel(order_id, datetime.now(UTC))
        uow.commit()
        return refusal


def _forget(units: UnitOfWorkFactory, order_id: str) -> None:
    with units() as uow:
        uow.orders.forget_cancel_claim(order_id)
        uow.commit()


async def claim_and_signal(
    units: UnitOfWorkFactory, workflows: WorkflowGateway, order_id: str, request: CancelRequest
) -> str | None:
    """None when the cancel was taken and signalled; else why it cannot be (something left)."""
    refusal = await asyncio.to_thread(_claim, units, order_id)
    if refusal is not None:
        return refusal
    try:
        await workflows.cancel_order(order_id, request)
    except BaseException:
        await asyncio.to_thread(_forget, units, order_id)
        raise
    return None


def claim_cancel(session_factory: SessionFactory, order_id: str) -> str | None:
    """Claim the cancel in its own transaction; why it cannot be taken, or None. For a process that
    holds only a session factory (scripts, tests)."""
    return _claim(units_on(session_factory), order_id)


async def request_cancel(
    client: Client, session_factory: SessionFactory, order_id: str, request: CancelRequest
) -> str | None:
    """claim_and_signal for a process that holds a Temporal client and a session factory."""
    return await claim_and_signal(units_on(session_factory), TemporalWorkflows.on(client), order_id, request)
