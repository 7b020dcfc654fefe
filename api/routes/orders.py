"""Orders: intake for the web shop and POS, the read model, and staff actions (cancel, release).

The web shop and the POS may each use their own key instead of the staff token: it creates and
reads that channel's orders only. Asking for another channel's order with it is 403, decided from
the order id alone (`order-<channel>-…`), so the answer never tells whether that order exists.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request, status

from api import order_view
from api.audit import kept_payload
from api.canonical_order import channel_named_in, documented_body, parse_order, to_order
from api.deps import AuditDep, IntakeDep, OrderActionsDep, OrderViewsDep, StaffOrChannel, require
from api.errors import unprocessable
from api.paging import PageDep
from api.schemas import (
    ActionAccepted,
    CancelBody,
    ChannelMessagePublic,
    ChannelMessagesPublic,
    OrderAccepted,
    OrderCreate,
    OrderPublic,
    OrdersPublic,
    ReleaseBody,
)
from api.taken import accepted
from contracts.order_workflow import CancelRequest, ReleaseRequest
from domain.limits import within_limits
from domain.money import MoneyError
from domain.order import InvalidOrder
from domain.staff import Permission, StaffMember
from domain.status import OrderStatus

router = APIRouter(prefix="/orders", tags=["orders"])

OrdersView = Annotated[StaffMember, Depends(require(Permission.ORDERS_VIEW))]
OrdersAct = Annotated[StaffMember, Depends(require(Permission.ORDERS_ACT))]


@router.post(
    "",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=OrderAccepted,
    openapi_extra=documented_body(OrderCreate),
    responses={
        401: {"description": "neither a staff token nor a channel's API key"},
        403: {"description": "a channel's key, for an order of another channel; a role that may not handle orders"},
        422: {
            "description": "not a canonical order (the message names the field); or `store_credit` the customer's "
            "credit cannot cover: {message, refusal: insufficient, available}, nothing recorded"
        },
    },
)
async def create_order(request: Request, caller: StaffOrChannel, intake: IntakeDep, audit: AuditDep) -> Any:
    """The canonical order from the web shop or the POS (staff token, or that channel's API key).
    A currency we do not sell in, an unknown SKU or a total that does not add up is accepted and
    held for a person; only what cannot be an order at all is refused."""
    raw = await request.body()
    # Kept under the channel that sent it: a channel key's own, else the one the body names.
    sender = caller.channel or channel_named_in(raw)
    async with kept_payload(audit, sender, "api", raw) as kept:
        body = parse_order(raw, caller)
        kept.names(body.external_id)
        try:
            order = within_limits(to_order(body))
        except (MoneyError, InvalidOrder) as exc:
            raise unprocessable(str(exc)) from None
        taken = await intake.take_canonical(order, kept=kept)
        kept.outcome = taken.outcome
        return accepted(taken, intake)


@router.get("", response_model=OrdersPublic)
def list_orders(
    _: OrdersView,
    orders: OrderViewsDep,
    page: PageDep,
    status_: Annotated[OrderStatus | None, Query(alias="status")] = None,
    channel: str | None = None,
    sku: str | None = None,
) -> Any:
    rows, count = orders.page(
        status=status_.value if status_ else None, channel=channel, sku=sku, limit=page.limit, offset=page.offset
    )
    return OrdersPublic(data=[order_view.summary(row) for row in rows], count=count)


@router.get(
    "/{order_id}",
    response_model=OrderPublic,
    responses={
        403: {"description": "a channel's key, for another channel's order id; a role that may not read orders"},
        404: {"description": "none"},
    },
)
def get_order(order_id: str, caller: StaffOrChannel, orders: OrderViewsDep, request: Request) -> Any:
    if not caller.is_staff and not order_id.startswith(f"order-{caller.channel}-"):
        raise HTTPException(status.HTTP_403_FORBIDDEN, f"the {caller.name} may read {caller.channel} orders only")
    return order_view.public(orders.details(order_id, base_url=str(request.base_url), for_channel=caller.channel))


def _parsed(body: str) -> object:
    try:
        return json.loads(body)
    except (ValueError, RecursionError):
        return body  # a malformed delivery is kept as the text that came in


@router.get("/{order_id}/messages", response_model=ChannelMessagesPublic, responses={404: {"description": "none"}})
def order_messages(order_id: str, _: OrdersView, orders: OrderViewsDep) -> Any:
    """Every payload received about this order (webhook deliveries, POST /orders bodies, pulls),
    oldest first, card data and secrets removed: what the channel said, and what we did with it."""
    data = [
        ChannelMessagePublic(
            id=message.id,
            channel=message.channel,
            kind=message.kind,
            external_id=message.external_id,
            outcome=message.outcome,
            received_at=message.received_at,
            body=_parsed(message.body),
        )
        for message in orders.messages(order_id)
    ]
    return ChannelMessagesPublic(data=data, count=len(data))


@router.post(
    "/{order_id}/cancel",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=ActionAccepted,
    responses={
        404: {"description": "no such order"},
        409: {"description": "past the point of cancelling: use returns"},
    },
)
async def cancel_order(
    order_id: str, member: OrdersAct, actions: OrderActionsDep, body: CancelBody | None = None
) -> Any:
    await actions.cancel(order_id, CancelRequest(reason=body.reason if body else "", requested_by=member.label))
    return ActionAccepted(order_id=order_id, action="cancel requested")


@router.post(
    "/{order_id}/release",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=ActionAccepted,
    responses={404: {"description": "no such order"}, 409: {"description": "the order is not on hold or backordered"}},
)
async def release_order(
    order_id: str, member: OrdersAct, actions: OrderActionsDep, body: ReleaseBody | None = None
) -> Any:
    request = ReleaseRequest(
        note=body.note if body else "",
        released_by=member.label,
        accept_channel_total=body.accept_channel_total if body else False,
    )
    await actions.release(order_id, request)
    return ActionAccepted(order_id=order_id, action="release requested")
