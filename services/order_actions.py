"""What a person may do to an order (cancel it, release a hold), decided once for every way in: the
JSON API answers a refusal with 409, the dashboard shows it next to the button that was pressed.

The read model is asked first, so an unknown order is unknown whether or not the engine answers;
then the workflow's live state decides, and who asked goes on the order's timeline."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime

from contracts.order_workflow import CancelRequest, OrderState, ReleaseRequest
from domain.status import OrderStatus, cancel_refusal, is_waiting_for_a_person
from services.cancel import claim_and_signal
from services.errors import Conflict, NotFound, Unavailable
from services.gateway import QueryFailed, WorkflowGateway, WorkflowNotFound
from services.unit_of_work import UnitOfWorkFactory


class OrderActions:
    def __init__(self, units: UnitOfWorkFactory, workflows: WorkflowGateway) -> None:
        self._units = units
        self._workflows = workflows

    async def cancel(self, order_id: str, request: CancelRequest) -> None:
        """Cancel unless something has left (then a return is the way): Conflict, or NotFound."""
        asked_at = datetime.now(UTC)
        recorded = await self._recorded(order_id)
        if recorded in (OrderStatus.COMPLETED, OrderStatus.CANCELLED):
            raise Conflict(cancel_refusal(recorded, shipping_started=False) or "")
        live = await self._live_state(order_id)
        refusal = cancel_refusal(live.status, live.shipping_started)
        if refusal is None:
            async with _while_running(order_id):
                refusal = await claim_and_signal(self._units, self._workflows, order_id, request)
        if refusal is not None:
            raise Conflict(refusal)
        await self._note(order_id, "cancel_requested", request.requested_by, request.reason, asked_at)

    async def release(self, order_id: str, request: ReleaseRequest) -> None:
        """Let a held or backordered order try again: Conflict, or NotFound."""
        asked_at = datetime.now(UTC)
        await self._recorded(order_id)
        live = await self._live_state(order_id)
        refusal = release_refusal(live, request)
        if refusal is not None:
            raise Conflict(refusal)
        async with _while_running(order_id):
            await self._workflows.release_order(order_id, request)
        await self._note(order_id, "release_requested", request.released_by, request.note, asked_at)

    async def _recorded(self, order_id: str) -> OrderStatus:
        """The status in the read model, in its own short unit of work (no lock held afterwards)."""

        def status() -> tuple[OrderStatus | None, bool]:
            """(its status, or None; whether it is taken: in the intake, not recorded yet)."""
            with self._units(read_only=True) as uow:
                recorded = uow.orders.status_of(order_id)
                return recorded, recorded is None and uow.intake.waiting(order_id) is not None

        recorded, taken = await asyncio.to_thread(status)
        if taken:  # GET shows it RECEIVED; a moment later its workflow can take the action
            raise Unavailable(f"order {order_id} is taken, its workflow not started yet: try again", retry_after=5)
        if recorded is None:
            raise NotFound(f"no order {order_id}")
        return recorded

    async def _live_state(self, order_id: str) -> OrderState:
        try:
            return await self._workflows.order_state(order_id)
        except QueryFailed as exc:
            raise Conflict(f"order {order_id} cannot be queried: {exc.reason}") from None
        except WorkflowNotFound:
            raise NotFound(f"no order {order_id}") from None

    async def _note(self, order_id: str, kind: str, who: str, words: str, asked_at: datetime) -> None:
        """Who asked for what, on the order's timeline: the workflow records what it then did. Written
        once the request was taken (a refused one leaves no note), at the time it was asked: the
        timeline runs by time, so the request comes before what the workflow did about it."""
        detail = f"by {who or 'staff'}" + (f": {words}" if words else "")

        def note() -> None:
            with self._units() as uow:
                uow.orders.add_event(order_id, kind, detail, asked_at)
                uow.commit()

        await asyncio.to_thread(note)


def release_refusal(live: OrderState, request: ReleaseRequest) -> str | None:
    """Why the release cannot be taken in the order's live state, or None."""
    if not is_waiting_for_a_person(live.status):
        return f"order is {live.status.value}, not on hold or backordered"
    if live.price_mismatch and not request.accept_channel_total:
        # A plain release would validate, find the same mismatch and hold again, forever.
        return (
            f"held because the channel's total does not reconcile ({live.hold_reason}): accept the channel's "
            "total, saying why (accept_channel_total with a note), or cancel the order"
        )
    if request.accept_channel_total and not live.price_mismatch:
        return "nothing to accept: the order is not held for a price mismatch"
    if request.accept_channel_total and not request.note.strip():
        return "say why the channel's total is accepted (a note): it goes on the order's timeline"
    return None


@asynccontextmanager
async def _while_running(order_id: str) -> AsyncIterator[None]:
    """A signal to an order's workflow that ended meanwhile (or was terminated) is refused, not a 503:
    retrying cannot help."""
    try:
        yield
    except WorkflowNotFound as exc:
        raise Conflict(f"order {order_id}'s workflow is no longer running ({exc.reason})") from None
