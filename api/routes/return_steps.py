"""A return's steps after its request (services.returns; each an update of its ReturnWorkflow):
support approves, rejects or cancels; the warehouse where the parcel arrives receives it and
disposes of what came. Lists and one return by id or RMA for both."""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, status
from pydantic import BaseModel, Field

from api.deps import MemberDep, ReturnsDep, at_location, require
from api.paging import PageDep
from api.schemas import Money as MoneyPublic
from contracts.return_lifecycle import (
    DisposeReturnRequest,
    DispositionLineInput,
    ExchangeDifference,
    ReceivedLineInput,
    ReceiveReturnRequest,
    ReturnDecision,
    ReturnView,
)
from domain.money import Money
from domain.return_lifecycle import Condition, Disposition, ReturnState
from domain.staff import Permission, StaffMember
from services.returns import ReturnSummary

router = APIRouter(prefix="/returns", tags=["returns"])

SupportStaff = Annotated[StaffMember, Depends(require(Permission.RETURNS))]
WarehouseStaff = Annotated[StaffMember, Depends(require(Permission.STOCK_COUNT))]

_REFUSALS: dict[int | str, dict[str, Any]] = {
    404: {"description": "no return of that id or RMA"},
    409: {"description": "not a step this return waits for now, or it is over: {message, refusal}"},
    422: {"description": "lines that do not match what was announced or received: {message, refusal}"},
}


def support_or_warehouse(member: MemberDep) -> StaffMember:
    """Support (who take returns) and the warehouse (who receive them) both see returns."""
    if not (member.may(Permission.RETURNS) or member.may(Permission.STOCK_COUNT)):
        raise HTTPException(status.HTTP_403_FORBIDDEN, f"{member.role} may not see returns")
    return member


Viewer = Annotated[StaffMember, Depends(support_or_warehouse)]


def _money(value: Money | None) -> MoneyPublic | None:
    return None if value is None else MoneyPublic(amount_minor=value.amount_minor, currency=value.currency)


class DifferencePublic(BaseModel):
    """What an exchange whose replacement costs more asked of the customer's card."""

    amount: MoneyPublic
    status: str
    """AUTHORIZED, CAPTURED (when the replacement left), VOIDED (it did not), DECLINED by the card,
    or REJECTED (a provider that cannot charge without the customer: refunded instead); asked with a
    payment link (Mollie): AWAITING_PAYMENT, then AUTHORIZED once paid, or EXPIRED (refunded instead)."""
    payment_id: str | None = None
    """The order's payment that took it (`payment-<order id>-x<n>`), listed with the order's payments."""
    link: str | None = None
    """Where the customer pays it when their provider cannot charge without them (a Mollie payment
    link): status AWAITING_PAYMENT until paid, then AUTHORIZED; EXPIRED when not paid by `link_expires_at`."""
    link_expires_at: datetime | None = None

    @classmethod
    def of(cls, difference: ExchangeDifference | None) -> DifferencePublic | None:
        if difference is None:
            return None
        amount = _money(difference.amount)
        assert amount is not None
        return cls(
            amount=amount,
            status=difference.status,
            payment_id=difference.payment_id,
            link=difference.link,
            link_expires_at=difference.link_expires_at,
        )


class ReplacementShipmentPublic(BaseModel):
    shipment_id: str
    location_id: str
    status: str
    lines: dict[str, int]
    """What it carries (after a short pick, what was found)."""


class ReturnRecordPublic(BaseModel):
    return_id: str
    order_id: str
    rma: str
    state: str
    """AWAITING_APPROVAL, REQUESTED, RECEIVED, DISPOSED, RESOLVED, EXPIRED, REJECTED or CANCELLED; a
    return taken in one step before the lifecycle (GET by id only): its status as recorded
    (ACCEPTED, REFUNDED, REFUND_ON_CHANNEL), with no RMA."""
    status: str
    """The money side: REFUNDED, REFUND_ON_CHANNEL or CREDITED (store credit only) once settled, else the state."""
    source: str
    external_rma: str | None
    lines: dict[str, int]
    """Units announced per SKU."""
    reason: str
    refund: MoneyPublic
    over_refunded: MoneyPublic
    """Refunded on request for units that never came: owed by the customer."""
    location_id: str | None
    received: dict[str, dict[str, int]]
    """Units received per SKU and condition."""
    short: dict[str, int]
    created_at: datetime
    expires_at: datetime | None
    resolution: str = "refund"
    """refund, store_credit or exchange."""
    replacement_shipment_id: str | None = None
    """An exchange's new shipment of the order (it ships like any other), once reserved; the latest
    when units that did not leave were sourced again."""
    difference: DifferencePublic | None = None
    """An exchange's difference charged on the order's card when the replacement costs more."""
    replacement_shipments: list[ReplacementShipmentPublic] = Field(default_factory=list)
    """Every shipment of an exchange's replacement, oldest first: the first, then one per sourcing
    again of units that did not leave (GET /returns/{id}; empty in the lists)."""

    @classmethod
    def of(cls, summary: ReturnSummary) -> ReturnRecordPublic:
        return cls(
            **{
                **summary.__dict__,
                "refund": _money(summary.refund),
                "over_refunded": _money(summary.over_refunded),
                "difference": DifferencePublic.of(summary.difference),
                "replacement_shipments": [
                    ReplacementShipmentPublic(**s.__dict__) for s in summary.replacement_shipments
                ],
            }
        )


class ReturnsPublic(BaseModel):
    data: list[ReturnRecordPublic]
    count: int


class ReturnStepPublic(BaseModel):
    """A return as its workflow knows it after the step."""

    return_id: str
    order_id: str
    rma: str
    state: str
    status: str
    refund: MoneyPublic
    over_refunded: MoneyPublic | None
    location_id: str | None
    received: dict[str, dict[str, int]]
    short: dict[str, int]
    resolution: str = "refund"
    replacement_shipment_id: str | None = None
    difference: DifferencePublic | None = None
    replacement_shipments: list[str] = Field(default_factory=list)
    """The ids of every shipment an exchange's replacement went out as so far, oldest first."""

    @classmethod
    def of(cls, view: ReturnView) -> ReturnStepPublic:
        refund = _money(view.refund)
        assert refund is not None
        return cls(
            return_id=view.return_id,
            order_id=view.order_id,
            rma=view.rma,
            state=view.state,
            status=view.status or view.state,
            refund=refund,
            over_refunded=_money(view.over_refunded),
            location_id=view.location_id,
            received=view.received,
            short=view.short,
            resolution=view.resolution,
            replacement_shipment_id=view.replacement_shipment_id,
            difference=DifferencePublic.of(view.difference),
            replacement_shipments=list(view.replacement_shipments),
        )


class DecisionBody(BaseModel):
    reason: str = Field(default="", max_length=1000)


def _decision(member: StaffMember, body: DecisionBody | None) -> ReturnDecision:
    """Who decided (as the audit names them), and why: the body is optional."""
    return ReturnDecision(member.label, body.reason if body else "")


class ReceivedLineBody(BaseModel):
    sku: str = Field(min_length=1, max_length=100)
    quantity: int = Field(ge=0, le=100_000)
    """0: looked for and not in the parcel (recorded as short, as a line left out is)."""
    condition: Condition = Condition.AS_NEW


class ReceiveBody(BaseModel):
    location_id: str = Field(min_length=1, max_length=64)
    lines: list[ReceivedLineBody] = Field(min_length=1, max_length=500)


class DispositionLineBody(BaseModel):
    sku: str = Field(min_length=1, max_length=100)
    quantity: int = Field(ge=1, le=100_000)
    disposition: Disposition
    reason: str = Field(default="", max_length=200)
    """Why, for a scrap (required there)."""


class DisposeBody(BaseModel):
    lines: list[DispositionLineBody] = Field(min_length=1, max_length=500)


@router.get("", response_model=ReturnsPublic)
def list_returns(
    member: Viewer,
    returns: ReturnsDep,
    page: PageDep,
    state: Annotated[ReturnState | None, Query(description="only returns in this state")] = None,
) -> Any:
    found, count = returns.page(state=state.value if state else None, limit=page.limit, offset=page.offset)
    return ReturnsPublic(data=[ReturnRecordPublic.of(summary) for summary in found], count=count)


@router.get("/{return_id}", response_model=ReturnRecordPublic, responses={404: _REFUSALS[404]})
def get_return(return_id: str, member: Viewer, returns: ReturnsDep) -> Any:
    """By its return id or its RMA (as printed: RMA-XXXXX-XXXXX-n)."""
    return ReturnRecordPublic.of(returns.get(return_id))


@router.post("/{return_id}/approve", response_model=ReturnStepPublic, responses=_REFUSALS)
async def approve_return(
    return_id: str, member: SupportStaff, returns: ReturnsDep, body: DecisionBody | None = None
) -> Any:
    """A customer's request approved: the RMA is issued (and refunded, on a channel that refunds on request)."""
    view = await returns.approve(return_id, _decision(member, body))
    return ReturnStepPublic.of(view)


@router.post("/{return_id}/reject", response_model=ReturnStepPublic, responses=_REFUSALS)
async def reject_return(
    return_id: str, member: SupportStaff, returns: ReturnsDep, body: DecisionBody | None = None
) -> Any:
    view = await returns.reject(return_id, _decision(member, body))
    return ReturnStepPublic.of(view)


@router.post("/{return_id}/cancel", response_model=ReturnStepPublic, responses=_REFUSALS)
async def cancel_return(
    return_id: str, member: SupportStaff, returns: ReturnsDep, body: DecisionBody | None = None
) -> Any:
    """Withdrawn before the goods came (the customer keeps them)."""
    view = await returns.cancel(return_id, _decision(member, body))
    return ReturnStepPublic.of(view)


@router.post("/{return_id}/receive", response_model=ReturnStepPublic, responses=_REFUSALS)
async def receive_return(return_id: str, body: ReceiveBody, member: WarehouseStaff, returns: ReturnsDep) -> Any:
    """The parcel is in at `location_id` (one of the caller's locations): quantity and condition
    per line; fewer than announced is recorded as short, more or an unannounced SKU is 422. At
    receipt the return is refunded for what came (unless the channel refunds on request)."""
    at_location(member, Permission.STOCK_COUNT, body.location_id)
    lines = [ReceivedLineInput(line.sku, line.quantity, line.condition.value) for line in body.lines]
    view = await returns.receive(return_id, ReceiveReturnRequest(body.location_id, lines, member.label))
    return ReturnStepPublic.of(view)


@router.post("/{return_id}/dispose", response_model=ReturnStepPublic, responses=_REFUSALS)
async def dispose_return(return_id: str, body: DisposeBody, member: WarehouseStaff, returns: ReturnsDep) -> Any:
    """Every unit received gets a disposition (restock, refurbish, scrap with a reason,
    return_to_supplier), adding up exactly per SKU; the stock is booked where it was received and
    the return is settled (RESOLVED)."""
    summary = await asyncio.to_thread(returns.get, return_id)
    if summary.location_id:  # not received yet: the workflow refuses the step as out of order
        at_location(member, Permission.STOCK_COUNT, summary.location_id)
    lines = [DispositionLineInput(line.sku, line.quantity, line.disposition.value, line.reason) for line in body.lines]
    view = await returns.dispose(summary.return_id, DisposeReturnRequest(lines, member.label))
    return ReturnStepPublic.of(view)
