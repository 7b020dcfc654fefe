"""Goodwill without a return (support): money back or store credit on a shipped order, with a
reason (services.goodwill). Checked and reserved at once (4xx saying why not); a GoodwillWorkflow
then refunds or issues the credit exactly once, and the order's timeline shows it."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, status
from pydantic import BaseModel, Field

from api.deps import GoodwillDep, require
from api.errors import unprocessable
from api.schemas import Money as MoneyPublic
from api.schemas import MoneyBody
from domain import limits
from domain.goodwill import GoodwillForm
from domain.money import Money, MoneyError
from domain.staff import Permission, StaffMember

router = APIRouter(prefix="/orders", tags=["goodwill"])

GoodwillGivers = Annotated[StaffMember, Depends(require(Permission.RETURNS))]
RequestKey = Annotated[str | None, Header(max_length=limits.REQUEST_KEY, pattern=r"^[A-Za-z0-9._:-]+$")]


class GoodwillBody(BaseModel):
    amount: MoneyBody
    reason: str = Field(min_length=1, max_length=limits.LEDGER_REASON)
    form: GoodwillForm = GoodwillForm.REFUND
    """refund (through the payment provider) or store_credit (on the customer's account at the shop)."""


class GoodwillPublic(BaseModel):
    goodwill_id: str
    order_id: str
    form: GoodwillForm
    amount: MoneyPublic
    status: str
    """RESERVED when taken; REFUNDED, CREDITED or REFUSED once its workflow has run (the timeline shows it)."""
    duplicate: bool


@router.post(
    "/{order_id}/goodwill",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=GoodwillPublic,
    responses={
        404: {"description": "unknown order"},
        409: {
            "description": "nothing of the order shipped (refusal not_shipped), or a refund of money the channel "
            "took (refusal refund_on_channel: give store credit, or refund on the channel): {message, refusal}"
        },
        422: {
            "description": "more than was captured and not yet given back (refusal too_much, with `most`), no "
            "reason, another currency, an amount below one minor unit: {message, refusal}"
        },
    },
)
async def give_goodwill(
    order_id: str,
    body: GoodwillBody,
    member: GoodwillGivers,
    goodwill: GoodwillDep,
    idempotency_key: RequestKey = None,
) -> Any:
    """Send an Idempotency-Key header so that a resent request gives nothing more (answered
    `duplicate`, with the first request's goodwill)."""
    try:
        amount = Money(body.amount.amount_minor, body.amount.currency)
    except MoneyError as exc:
        raise unprocessable(f"amount: {exc}") from None
    given = await goodwill.give(order_id, body.form, amount, body.reason, member.label, idempotency_key or "")
    return GoodwillPublic(
        goodwill_id=given.goodwill_id,
        order_id=order_id,
        form=given.form,
        amount=MoneyPublic(amount_minor=given.amount.amount_minor, currency=given.amount.currency),
        status=given.status,
        duplicate=given.duplicate,
    )
