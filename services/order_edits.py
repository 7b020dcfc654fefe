"""Changing an order before it ships, for every way in (staff through the API, channels through
their webhooks and pulls): the read model is asked first (an unknown order is 404 whether or not
the engine answers, a SKU nobody stocks is refused here), then the order's workflow decides
(OrderWorkflow.edit_order: its validator refuses before history) and its answers become 409 or 422."""

from __future__ import annotations

import asyncio

from contracts.errors import ErrorType
from contracts.order_edits import EditOrderRequest, EditOrderResult
from domain.order_edits import EditKind, EditRefusalKind
from domain.status import OrderStatus
from services.errors import Conflict, Failed, NotFound, Unprocessable, refused
from services.gateway import (
    EngineError,
    EngineUnavailable,
    UpdateFailed,
    WorkflowGateway,
    WorkflowNotFound,
    WorkflowNotRunning,
)
from services.unit_of_work import UnitOfWorkFactory

_UNPROCESSABLE = frozenset({EditRefusalKind.INVALID.value})


class OrderEdits:
    def __init__(self, units: UnitOfWorkFactory, workflows: WorkflowGateway) -> None:
        self._units = units
        self._workflows = workflows

    async def edit(self, order_id: str, request: EditOrderRequest) -> EditOrderResult:
        """The new version; NotFound, Conflict (handed over, too early or late, more money on a
        card) or Unprocessable (an invalid change), each with its `refusal`; EngineUnavailable."""
        recorded = await asyncio.to_thread(self._check, order_id, request)
        try:
            return await self._workflows.edit_order(order_id, request)
        except UpdateFailed as exc:
            if exc.error_type == ErrorType.ORDER_EDIT_REFUSED:
                kind = exc.refusal or EditRefusalKind.NOT_EDITABLE.value
                raise refused(exc.refused_because, kind, _UNPROCESSABLE) from None
            raise Failed(f"the edit could not be completed: {exc.reason}") from None
        except (WorkflowNotFound, WorkflowNotRunning):
            message = f"order {order_id} is {recorded.value}: it can no longer be changed"
            raise Conflict(message, refusal=EditRefusalKind.NOT_EDITABLE.value) from None
        except EngineError:
            raise EngineUnavailable() from None

    def _check(self, order_id: str, request: EditOrderRequest) -> OrderStatus:
        """What the read model can tell: the order exists, and every SKU added is one we stock."""
        added = {change.sku for change in request.changes if change.kind == EditKind.ADD_LINE.value and change.sku}
        with self._units(read_only=True) as uow:
            recorded = uow.orders.status_of(order_id)
            if recorded is None:
                raise NotFound(f"no order {order_id}")
            unknown = sorted(added - uow.orders.known_skus(added))
        if unknown:
            raise Unprocessable(
                f"no location stocks {', '.join(unknown)}: add it to the inventory first",
                refusal=EditRefusalKind.INVALID.value,
            )
        return recorded
