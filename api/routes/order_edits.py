"""Changing an order before it ships (support staff): POST /orders/{id}/edits. The order's workflow
applies it (workflows.order.edits); the order's versions are in GET /orders/{id}."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field, StrictInt

from api.deps import OrderEditsDep, require
from api.errors import unprocessable
from api.schemas import AddressBody, MoneyBody
from api.schemas import Money as MoneyPublic
from contracts.order_edits import AWAITING_PAYMENT, EditChange, EditOrderRequest
from domain import limits
from domain.limits import MAX_UNITS
from domain.money import Money, MoneyError
from domain.order import Address
from domain.staff import Permission, StaffMember

router = APIRouter(prefix="/orders", tags=["orders"])

OrdersAct = Annotated[StaffMember, Depends(require(Permission.ORDERS_ACT))]


class EditChangeBody(BaseModel):
    kind: Literal["remove_line", "reduce_line", "add_line", "change_address", "cancel_lines"]
    line: StrictInt | None = Field(default=None, ge=0, le=10_000)
    """remove_line, reduce_line, cancel_lines: the line's position in GET /orders/{id} `lines` (0-based)."""
    quantity: StrictInt | None = Field(default=None, ge=1, le=MAX_UNITS)
    """reduce_line, cancel_lines: units taken off; add_line: units added."""
    sku: str = Field(default="", max_length=limits.SKU)
    unit_price: MoneyBody | None = None
    """add_line: what the customer pays per unit, tax included."""
    title: str = Field(default="", max_length=300)
    address: AddressBody | None = None
    """change_address: the new shipping address."""


class EditBody(BaseModel):
    changes: list[EditChangeBody] = Field(min_length=1, max_length=100)
    reason: str = Field(default="", max_length=1000)


class OrderEditPublic(BaseModel):
    order_id: str
    version: int
    """The order's version after the edit (1 is the order as placed)."""
    changes: list[str]
    total: MoneyPublic
    difference: MoneyPublic
    """New total minus old: negative is given back (the capture is smaller, the rest released)."""
    void: MoneyPublic
    refund: MoneyPublic
    authorize: MoneyPublic
    on_channel: bool
    """The channel took the money: it settles the difference."""
    authorized: MoneyPublic | None = None
    """What the card holds now when the edit authorized it anew (the old hold released); null: unchanged."""
    credit_back: MoneyPublic | None = None
    """Store credit given back to the customer's account (the order now costs less than the credit it
    spent; the card's part is released first); null: none."""
    status: Literal["applied", "awaiting_payment"] = "applied"
    """awaiting_payment: the edit costs more on an order paid at the provider's checkout (Mollie); it
    applies once the customer pays `authorize` through `payment_link` before `pay_by`, else it lapses."""
    payment_link: str | None = None
    pay_by: datetime | None = None


def _money(money: Money) -> MoneyPublic:
    return MoneyPublic(amount_minor=money.amount_minor, currency=money.currency)


def _change(body: EditChangeBody) -> EditChange:
    price = body.unit_price
    return EditChange(
        kind=body.kind,
        line=body.line,
        quantity=body.quantity,
        sku=body.sku,
        unit_price=Money(price.amount_minor, price.currency) if price is not None else None,
        title=body.title,
        address=Address(**body.address.model_dump()) if body.address is not None else None,
    )


@router.post(
    "/{order_id}/edits",
    response_model=OrderEditPublic,
    responses={
        404: {"description": "no such order"},
        409: {
            "description": "units already handed over, the order not reserved yet or past shipping, another edit "
            "under way or waiting for its payment link, more money than the card can be asked for "
            "(`needs_payment`), or the card declined it (`payment_declined`), a new address whose parcel's carrier "
            "label can no longer be cancelled (`label_not_cancellable`): {message, refusal}"
        },
        422: {"description": "an unknown line or SKU, a quantity beyond the line, an empty edit: {message, refusal}"},
        502: {"description": "the order's workflow took the edit and could not complete it"},
        503: {
            "description": "the card's gateway did not answer the new authorization (`payment_unavailable`), or "
            "the carrier the cancellation of a label the new address needs redone (`carrier_unavailable`)"
        },
    },
)
async def edit_order(order_id: str, body: EditBody, member: OrdersAct, edits: OrderEditsDep) -> Any:
    """Remove or reduce lines, add one, change the shipping address, or cancel some units, while no
    shipment carrying them has been handed over. Stock, shipments, the capture and store credit
    follow; a new address cancels the carrier labels made for the old one and labels anew. An increase
    on an order paid at Mollie's checkout answers `awaiting_payment` with a payment link: the edit
    applies once the customer pays it."""
    try:
        changes = [_change(change) for change in body.changes]
    except MoneyError as exc:
        raise unprocessable(str(exc)) from None
    request = EditOrderRequest(changes, member.label, body.reason)
    result = await edits.edit(order_id, request)
    return OrderEditPublic(
        order_id=result.order_id,
        version=result.version,
        changes=result.changes,
        total=_money(result.total),
        difference=_money(result.difference),
        void=_money(result.void),
        refund=_money(result.refund),
        authorize=_money(result.authorize),
        on_channel=result.on_channel,
        authorized=_money(result.authorized) if result.authorized is not None else None,
        credit_back=_money(result.credit_back) if result.credit_back is not None else None,
        status="awaiting_payment" if result.status == AWAITING_PAYMENT else "applied",
        payment_link=result.payment_link or None,
        pay_by=result.pay_by,
    )
