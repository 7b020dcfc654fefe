"""Take a cancel: first in the database (where a shipment leaving takes the same lock), then tell
the order's workflow. A cancel the database refuses never reaches the workflow."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from temporalio.client import Client

from contracts.order_workflow import CancelRequest
from persistence import orders as order_store
from persistence.db import SessionFactory
from persistence.unit_of_work import UnitOfWork
from workflows.order import OrderWorkflow


def claim_cancel(session_factory: SessionFactory, order_id: str) -> str | None:
    """Claim the cancel in its own transaction; why it cannot be taken, or None."""
    with UnitOfWork(session_factory) as uow:
        refusal = order_store.claim_cancel(uow.session, order_id, datetime.now(UTC))
        uow.commit()
        return refusal


def _forget(session_factory: SessionFactory, order_id: str) -> None:
    with UnitOfWork(session_factory) as uow:
        order_store.forget_cancel_claim(uow.session, order_id)
        uow.commit()


async def request_cancel(
    client: Client, session_factory: SessionFactory, order_id: str, request: CancelRequest
) -> str | None:
    """None when the cancel was taken and signalled; else why it cannot be (something left)."""
    refusal = await asyncio.to_thread(claim_cancel, session_factory, order_id)
    if refusal is not None:
        return refusal
    try:
        await client.get_workflow_handle(order_id).signal(OrderWorkflow.cancel, request)
    except BaseException:
        await asyncio.to_thread(_forget, session_factory, order_id)
        raise
    return None
