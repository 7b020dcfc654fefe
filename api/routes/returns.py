"""Returns (support staff): goods back from the customer, restocked and refunded by the order's
workflow (services.returns)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, status
from pydantic import BaseModel, Field

from api.deps import ReturnsDep, require
from api.schemas import Money as MoneyPublic
from contracts.returns import ReturnRequest, ReturnRequestLine
from domain.staff import Permission, StaffMember

router = APIRouter(prefix="/orders", tags=["returns"])

ReturnsStaff = Annotated[StaffMember, Depends(require(Permission.RETURNS))]


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
async def create_return(order_id: str, body: ReturnBody, member: ReturnsStaff, returns: ReturnsDep) -> Any:
    request = ReturnRequest(
        lines=[ReturnRequestLine(line.sku, line.quantity) for line in body.lines],
        reason=body.reason,
        requested_by=member.label,
        restock=body.restock,
    )
    accepted = await returns.request(order_id, request)
    return ReturnPublic(
        return_id=accepted.return_id,
        order_id=order_id,
        status=accepted.status,
        refund=MoneyPublic(amount_minor=accepted.refund.amount_minor, currency=accepted.refund.currency),
    )
