"""Returns (support staff): goods back from the customer, restocked and refunded by the order's workflow."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, status
from pydantic import BaseModel, Field
from temporalio.client import WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode

from api.deps import StaffUser, StateDep, connected
from api.errors import temporal_unavailable
from api.schemas import Money as MoneyPublic
from contracts.errors import ErrorType
from contracts.returns import ReturnRequest, ReturnRequestLine
from domain.returns import ReturnRefusalKind
from persistence import orders as order_store
from workflows.order import OrderWorkflow

router = APIRouter(prefix="/orders", tags=["returns"])

_UNPROCESSABLE = {ReturnRefusalKind.TOO_MANY.value, ReturnRefusalKind.INVALID.value}


class ReturnLineBody(BaseModel):
    sku: str = Field(min_length=1, max_length=100)
    quantity: int = Field(ge=1, le=100_000)


class ReturnBody(BaseModel):
    lines: list[ReturnLineBody] = Field(min_length=1, max_length=500)
    reason: str = Field(default="", max_length=1000)
    restock: bool = True
    """False when the goods cannot be sold again (damaged): refunded, not put back on the shelf."""


class ReturnPublic(BaseModel):
    return_id: str
    order_id: str
    status: str
    """REFUNDED (through our payment provider) or REFUND_ON_CHANNEL (the channel took the money)."""
    refund: MoneyPublic


@router.post(
    "/{order_id}/returns",
    status_code=status.HTTP_201_CREATED,
    response_model=ReturnPublic,
    responses={
        404: {"description": "unknown order"},
        409: {"description": "not shipped (yet, or by us), or the returns window is closed: {message, refusal}"},
        422: {"description": "more units than are left to return, or an invalid line: {message, refusal}"},
    },
)
async def create_return(order_id: str, body: ReturnBody, user: StaffUser, state: StateDep) -> Any:
    # Read in its own short session: none may be open while the workflow's steps write.
    recorded = await state.read(lambda session: order_store.recorded_status(session, order_id))
    if recorded is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no order {order_id}")
    request = ReturnRequest(
        lines=[ReturnRequestLine(line.sku, line.quantity) for line in body.lines],
        reason=body.reason,
        requested_by=user,
        restock=body.restock,
    )
    client = await connected(state.temporal)
    try:
        accepted = await client.get_workflow_handle(order_id).execute_update(OrderWorkflow.request_return, request)
    except WorkflowUpdateFailedError as exc:
        cause = exc.cause
        if isinstance(cause, ApplicationError) and cause.type == ErrorType.RETURN_REFUSED:
            kind = str(cause.details[0]) if cause.details else ReturnRefusalKind.NOT_SHIPPED.value
            code = status.HTTP_422_UNPROCESSABLE_CONTENT if kind in _UNPROCESSABLE else status.HTTP_409_CONFLICT
            raise HTTPException(code, {"message": cause.message, "refusal": kind}) from None
        raise HTTPException(status.HTTP_502_BAD_GATEWAY, f"the return could not be completed: {cause or exc}") from None
    except RPCError as exc:
        if exc.status in (RPCStatusCode.NOT_FOUND, RPCStatusCode.FAILED_PRECONDITION):
            # The order's workflow has ended: its returns window closed (or it was cancelled).
            raise HTTPException(
                status.HTTP_409_CONFLICT,
                {
                    "message": f"order {order_id} is {recorded.value}: its returns window is closed",
                    "refusal": "window_closed",
                },
            ) from None
        raise temporal_unavailable() from None
    return ReturnPublic(
        return_id=accepted.return_id,
        order_id=order_id,
        status=accepted.status,
        refund=MoneyPublic(amount_minor=accepted.refund.amount_minor, currency=accepted.refund.currency),
    )
