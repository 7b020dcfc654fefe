"""What a person may do to an order (cancel it, release a hold), decided once for every way in: the
JSON API answers a refusal with 409, the dashboard shows it next to the button that was pressed."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime

from temporalio.client import Client, WorkflowQueryFailedError
from temporalio.service import RPCError, RPCStatusCode

from api.services.cancel import request_cancel
from contracts.order_workflow import CancelRequest, OrderState, ReleaseRequest
from domain.status import OrderStatus, cancel_refusal, is_waiting_for_a_person
from persistence import orders as order_store
from persistence.db import SessionFactory
from persistence.unit_of_work import UnitOfWork
from workflows.order import OrderWorkflow

Connect = Callable[[], Awaitable[Client]]
"""Gets the Temporal client: called only after the read model knows the order, so an unknown order
is 'unknown' whether or not Temporal answers."""


class UnknownOrder(LookupError):
    """No such order, in the read model or in Temporal."""


class Refused(Exception):
    """The order is past the point where the action is possible; the message says why."""


def _note(session_factory: SessionFactory, order_id: str, kind: str, who: str, words: str) -> None:
    """Who asked for what, on the order's timeline: the workflow records what it then did."""
    detail = f"by {who or 'staff'}" + (f": {words}" if words else "")
    with UnitOfWork(session_factory) as uow:
        order_store.add_event(uow.session, order_id, kind, detail, datetime.now(UTC))
        uow.commit()


def _recorded(session_factory: SessionFactory, order_id: str) -> OrderStatus:
    with session_factory() as session:
        record = order_store.get_order(session, order_id)
        if record is None:
            raise UnknownOrder(f"no order {order_id}")
        return OrderStatus(record.status)


async def recorded_status(session_factory: SessionFactory, order_id: str) -> OrderStatus:
    """The status in the read model, in its own short session (no lock held afterwards)."""
    return await asyncio.to_thread(_recorded, session_factory, order_id)


async def live_state(client: Client, order_id: str) -> OrderState:
    try:
        return await client.get_workflow_handle(order_id).query(OrderWorkflow.state)
    except WorkflowQueryFailedError as exc:
        raise Refused(f"order {order_id} cannot be queried: {exc}") from None
    except RPCError as exc:
        if exc.status is RPCStatusCode.NOT_FOUND:
            raise UnknownOrder(f"no order {order_id}") from None
        raise


@asynccontextmanager
async def _while_running(order_id: str) -> AsyncIterator[None]:
    """A signal to an order's workflow that ended meanwhile (or was terminated) is refused, not a 503:
    retrying cannot help."""
    try:
        yield
    except RPCError as exc:
        if exc.status is not RPCStatusCode.NOT_FOUND:
            raise
        raise Refused(f"order {order_id}'s workflow is no longer running ({exc.message})") from None


async def cancel(connect: Connect, session_factory: SessionFactory, order_id: str, request: CancelRequest) -> None:
    """Cancel unless something has left (then a return is the way); raises Refused or UnknownOrder."""
    recorded = await recorded_status(session_factory, order_id)
    if recorded in (OrderStatus.COMPLETED, OrderStatus.CANCELLED):
        raise Refused(cancel_refusal(recorded, shipping_started=False))
    client = await connect()
    live = await live_state(client, order_id)
    refusal = cancel_refusal(live.status, live.shipping_started)
    if refusal is None:
        async with _while_running(order_id):
            refusal = await request_cancel(client, session_factory, order_id, request)
    if refusal is not None:
        raise Refused(refusal)
    await asyncio.to_thread(_note, session_factory, order_id, "cancel_requested", request.requested_by, request.reason)


async def release(connect: Connect, session_factory: SessionFactory, order_id: str, request: ReleaseRequest) -> None:
    """Let a held or backordered order try again; raises Refused or UnknownOrder."""
    await recorded_status(session_factory, order_id)
    client = await connect()
    live = await live_state(client, order_id)
    if not is_waiting_for_a_person(live.status):
        raise Refused(f"order is {live.status.value}, not on hold or backordered")
    if live.price_mismatch and not request.accept_channel_total:
        # A plain release would validate, find the same mismatch and hold again, forever.
        raise Refused(
            f"held because the channel's total does not reconcile ({live.hold_reason}): accept the channel's "
            "total, saying why (accept_channel_total with a note), or cancel the order"
        )
    if request.accept_channel_total and not live.price_mismatch:
        raise Refused("nothing to accept: the order is not held for a price mismatch")
    if request.accept_channel_total and not request.note.strip():
        raise Refused("say why the channel's total is accepted (a note): it goes on the order's timeline")
    async with _while_running(order_id):
        await client.get_workflow_handle(order_id).signal(OrderWorkflow.release, request)
    await asyncio.to_thread(_note, session_factory, order_id, "release_requested", request.released_by, request.note)
