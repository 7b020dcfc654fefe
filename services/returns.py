"""Support takes goods back: the order's workflow checks the return against what really left,
restocks and refunds (OrderWorkflow.request_return); here, what its answers mean to the caller."""

from __future__ import annotations

import asyncio

from contracts.errors import ErrorType
from contracts.returns import ReturnAccepted, ReturnRequest
from domain.returns import ReturnRefusalKind
from services.errors import Conflict, Failed, NotFound, refused
from services.gateway import (
    EngineError,
    EngineUnavailable,
    UpdateFailed,
    WorkflowGateway,
    WorkflowNotFound,
    WorkflowNotRunning,
)
from services.unit_of_work import UnitOfWorkFactory

_UNPROCESSABLE = frozenset({ReturnRefusalKind.TOO_MANY.value, ReturnRefusalKind.INVALID.value})


class Returns:
    def __init__(self, units: UnitOfWorkFactory, workflows: WorkflowGateway) -> None:
        self._units = units
        self._workflows = workflows

    async def request(self, order_id: str, request: ReturnRequest) -> ReturnAccepted:
        """NotFound; Conflict or Unprocessable with the refusal's kind; Failed when the workflow took
        the return and could not complete it; EngineUnavailable."""

        def status() -> str | None:
            # Read in its own short unit of work: none may be open while the workflow's steps write.
            with self._units(read_only=True) as uow:
                recorded = uow.orders.status_of(order_id)
            return None if recorded is None else recorded.value

        recorded = await asyncio.to_thread(status)
        if recorded is None:
            raise NotFound(f"no order {order_id}")
        try:
            return await self._workflows.request_return(order_id, request)
        except UpdateFailed as exc:
            if exc.error_type == ErrorType.RETURN_REFUSED:
                kind = exc.refusal or ReturnRefusalKind.NOT_SHIPPED.value
                raise refused(exc.refused_because, kind, _UNPROCESSABLE) from None
            raise Failed(f"the return could not be completed: {exc.reason}") from None
        except (WorkflowNotFound, WorkflowNotRunning):
            # The order's workflow has ended: its returns window closed (or it was cancelled).
            message = f"order {order_id} is {recorded}: its returns window is closed"
            raise Conflict(message, refusal=ReturnRefusalKind.WINDOW_CLOSED.value) from None
        except EngineError:
            raise EngineUnavailable() from None
