"""Returns (support staff): a customer's request for goods back, opened by the order's workflow as a
ReturnWorkflow with an RMA (services.returns); goods already here are settled at once. The steps
that follow (receive, dispose, approve, ...) are api.routes.return_steps."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Response, status
from pydantic import BaseModel, Field

from api.deps import ReturnsDep, require
from api.errors import unprocessable
from api.schemas import Money as MoneyPublic
from api.schemas import MoneyBody
from contracts.returns import ReplacementLine, ReturnRequest, ReturnRequestLine
from domain.money import Money, MoneyError
from domain.return_lifecycle import ReturnState
from domain.staff import Permission, StaffMember

router = APIRouter(prefix="/orders", tags=["returns"])

ReturnsStaff = Annotated[StaffMember, Depends(require(Permission.RETURNS))]


class ReturnLineBody(BaseModel):
    sku: str = Field(min_length=1, max_length=100)
    quantity: int = Field(ge=1, le=100_000)


class ReplacementLineBody(BaseModel):
    sku: str = Field(min_length=1, max_length=100)
    quantity: int = Field(ge=1, le=100_000)
    unit_price: MoneyBody | None = None


class ReturnBody(BaseModel):
    lines: list[ReturnLineBody] = Field(min_length=1, max_length=500)
    reason: str = Field(default="", max_length=1000)
    restock: bool = True
    """With `received`: false when the goods cannot be sold again (damaged): scrapped with the
    reason, refunded, not put back on the shelf."""
    received: bool = False
    """True: support holds the goods now (a counter return): received in full at `location_id`,
    disposed of by `restock` and refunded at once (201). False: an RMA is issued and the return
    waits for its parcel (202, status REQUESTED)."""
    location_id: str | None = Field(default=None, min_length=1, max_length=64)
    """Where goods already here are received; default: where they were shipped from."""
    resolution: str = Field(default="refund", max_length=20)
    """How it is settled: "refund" (default), "store_credit" (the refund's amount as credit at the
    order's shop; not for a marketplace's order) or "exchange" (with `replacement`)."""
    replacement: list[ReplacementLineBody] = Field(default_factory=list, max_length=100)
    """An exchange's replacement lines. A SKU on the order defaults to what was paid per unit for
    it; any other SKU needs its `unit_price`. When the replacement costs more than the returned
    units are worth, the difference is charged on the order's card once the replacement is reserved
    (422 for an order not paid through our payment provider); when it costs less, it is refunded."""


class ReturnPublic(BaseModel):
    return_id: str
    order_id: str
    status: str
    """REQUESTED (RMA issued, waiting for the parcel), or once settled REFUNDED (through our
    payment provider), REFUND_ON_CHANNEL (the channel took the money) or CREDITED (store credit)."""
    refund: MoneyPublic
    rma: str = ""


@router.post(
    "/{order_id}/returns",
    status_code=status.HTTP_201_CREATED,
    response_model=ReturnPublic,
    responses={
        202: {"description": "requested: an RMA issued, the return waits for its parcel", "model": ReturnPublic},
        404: {"description": "unknown order"},
        409: {"description": "not shipped (yet, or by us), or the returns window is closed: {message, refusal}"},
        422: {"description": "more units than are left to return, or an invalid line: {message, refusal}"},
    },
)
async def create_return(
    order_id: str, body: ReturnBody, member: ReturnsStaff, returns: ReturnsDep, response: Response
) -> Any:
    try:
        replacement = [
            ReplacementLine(
                line.sku,
                line.quantity,
                None if line.unit_price is None else Money(line.unit_price.amount_minor, line.unit_price.currency),
            )
            for line in body.replacement
        ]
    except MoneyError as exc:
        raise unprocessable(f"replacement unit_price: {exc}") from None
    request = ReturnRequest(
        lines=[ReturnRequestLine(line.sku, line.quantity) for line in body.lines],
        reason=body.reason,
        requested_by=member.label,
        restock=body.restock,
        received=body.received,
        location_id=body.location_id,
        resolution=body.resolution,
        replacement=replacement,
    )
    accepted = await returns.request(order_id, request)
    if accepted.status in (ReturnState.REQUESTED, ReturnState.AWAITING_APPROVAL):
        response.status_code = status.HTTP_202_ACCEPTED
    return ReturnPublic(
        return_id=accepted.return_id,
        order_id=order_id,
        status=accepted.status,
        refund=MoneyPublic(amount_minor=accepted.refund.amount_minor, currency=accepted.refund.currency),
        rma=accepted.rma,
    )
