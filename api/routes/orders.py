"""Orders: intake for the web shop and POS, the read model, and staff actions (cancel, release).

The web shop and the POS may each use their own key instead of the staff token: it creates and
reads that channel's orders only. Asking for another channel's order with it is 403, decided from
the order id alone (`order-<channel>-…`), so the answer never tells whether that order exists.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request, status
from pydantic import BaseModel, ValidationError

from api.deps import Caller, SessionDep, SettingsDep, StaffOrChannel, StaffUser, StateDep, TemporalDep, connected
from api.errors import from_validation_error, unprocessable
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
from api.services import order_view, staff_actions, tracking
from api.services.counter_sales import counter_sale_refusal_for
from api.services.intake import take_order
from api.services.payload_audit import UNKNOWN_CHANNEL, kept_payload
from contracts.order_workflow import CancelRequest, ReleaseRequest
from domain.limits import within_limits
from domain.money import Money, MoneyError
from domain.order import CHANNELS, Address, InvalidOrder, Order, OrderLine
from domain.status import OrderStatus
from persistence import orders as order_store
from persistence import returns as return_store
from persistence import shipment_notices
from persistence.channel_messages import messages_for_order

router = APIRouter(prefix="/orders", tags=["orders"])


def _to_order(body: OrderCreate) -> Order:
    def money(value: Any) -> Money:
        return Money(value.amount_minor, value.currency)

    lines = tuple(
        OrderLine(
            line.sku,
            line.quantity,
            money(line.unit_price),
            money(line.unit_price).times(line.quantity),
            title=line.title,
        )
        for line in body.lines
    )
    shipping = money(body.shipping) if body.shipping else Money.zero(body.currency)
    discount = money(body.discount) if body.discount else None
    draft_total = sum((line.total.amount_minor for line in lines), 0) + shipping.amount_minor
    draft_total -= discount.amount_minor if discount else 0
    return Order(
        channel=body.channel,
        external_id=body.external_id,
        reference=body.reference,
        currency=body.currency,
        lines=lines,
        placed_at=body.placed_at or datetime.now(UTC),
        total=money(body.total) if body.total else Money(draft_total, body.currency),
        shipping=shipping,
        discount=discount,
        shipping_address=Address(**body.shipping_address.model_dump()),
        payment_collected=body.payment_collected,
        customer_email=body.customer_email,
        payment_method=body.payment_method,
        pickup_location_id=body.pickup_location_id,
        fulfilled_by=body.fulfilled_by,
    )


def _inlined(node: Any, definitions: dict[str, Any]) -> Any:
    if isinstance(node, dict):
        if "$ref" in node:
            return _inlined(definitions[node["$ref"].rsplit("/", 1)[-1]], definitions)
        return {key: _inlined(value, definitions) for key, value in node.items() if key != "$defs"}
    if isinstance(node, list):
        return [_inlined(item, definitions) for item in node]
    return node


def _documented_body(model: type[BaseModel]) -> dict[str, Any]:
    """The OpenAPI request body of a route that reads its body itself (so that it can keep even an
    invalid one), with the model's schema inlined: it is not among the app's components."""
    schema = model.model_json_schema()
    body = _inlined(schema, schema.get("$defs", {}))
    return {"requestBody": {"required": True, "content": {"application/json": {"schema": body}}}}


def _channel_named_in(raw: bytes) -> str:
    """For keeping a body that did not validate: the channel it says it is from, if it says."""
    try:
        named = json.loads(raw).get("channel")
    except (ValueError, AttributeError, RecursionError):
        return UNKNOWN_CHANNEL
    return named if isinstance(named, str) and named in CHANNELS else UNKNOWN_CHANNEL


def _parse_order(raw: bytes, caller: Caller) -> OrderCreate:
    try:
        body = OrderCreate.model_validate_json(raw)
    except ValidationError as exc:
        raise from_validation_error(exc, "not a canonical order") from None
    if not caller.may_act_for(body.channel):
        raise HTTPException(
            status.HTTP_403_FORBIDDEN,
            f"this is the {caller.name}: it may create {caller.channel} orders only, not {body.channel} orders",
        )
    return body


@router.post(
    "",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=OrderAccepted,
    openapi_extra=_documented_body(OrderCreate),
    responses={
        401: {"description": "neither the staff token nor a channel's API key"},
        403: {"description": "a channel's key, for an order of another channel"},
        422: {"description": "not a canonical order; the message names the field"},
    },
)
async def create_order(
    request: Request, caller: StaffOrChannel, settings: SettingsDep, temporal: TemporalDep, state: StateDep
) -> Any:
    """The canonical order from the web shop or the POS (staff token, or that channel's API key).
    A currency we do not sell in, an unknown SKU or a total that does not add up is accepted and
    held for a person; only what cannot be an order at all is refused."""
    raw = await request.body()
    # Kept under the channel that sent it: a channel key's own, else the one the body names.
    sender = caller.channel or _channel_named_in(raw)
    async with kept_payload(state.session_factory, settings, sender, "api", raw) as kept:
        body = _parse_order(raw, caller)
        kept.names(body.external_id)
        try:
            order = within_limits(_to_order(body))
        except (MoneyError, InvalidOrder) as exc:
            raise unprocessable(str(exc)) from None
        refusal = await asyncio.to_thread(counter_sale_refusal_for, state.session_factory, order)
        if refusal is not None:
            raise unprocessable(f"pickup_location_id: {refusal}")
        taken = await take_order(await connected(temporal), settings, order, state.session_factory)
        kept.outcome = taken.outcome
        return OrderAccepted(order_id=taken.order_id, duplicate=taken.repeated)


@router.get("", response_model=OrdersPublic)
def list_orders(
    _: StaffUser,
    session: SessionDep,
    page: PageDep,
    status_: Annotated[OrderStatus | None, Query(alias="status")] = None,
    channel: str | None = None,
    sku: str | None = None,
) -> Any:
    rows, count = order_store.list_orders(
        session,
        status=status_.value if status_ else None,
        channel=channel,
        sku=sku,
        limit=page.limit,
        offset=page.offset,
    )
    return OrdersPublic(data=[order_view.summary(row) for row in rows], count=count)


@router.get(
    "/{order_id}",
    response_model=OrderPublic,
    responses={403: {"description": "a channel's key, for another channel's order id"}, 404: {"description": "none"}},
)
def get_order(
    order_id: str, caller: StaffOrChannel, session: SessionDep, settings: SettingsDep, request: Request
) -> Any:
    if not caller.is_staff and not order_id.startswith(f"order-{caller.channel}-"):
        raise HTTPException(status.HTTP_403_FORBIDDEN, f"the {caller.name} may read {caller.channel} orders only")
    record = order_store.get_order(session, order_id)
    if record is None or not caller.may_act_for(record.channel):
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no order {order_id}")
    events = order_store.order_events(session, order_id)
    returns = return_store.returns_for(session, order_id)
    link = tracking.tracking_url(settings, order_id, str(request.base_url))
    return order_view.detail(
        record, events, shipment_notices.notified_at(session, order_id), returns, tracking_url=link
    )


def _parsed(body: str) -> object:
    try:
        return json.loads(body)
    except (ValueError, RecursionError):
        return body  # a malformed delivery is kept as the text that came in


@router.get("/{order_id}/messages", response_model=ChannelMessagesPublic, responses={404: {"description": "none"}})
def order_messages(order_id: str, _: StaffUser, session: SessionDep) -> Any:
    """Every payload received about this order (webhook deliveries, POST /orders bodies, pulls),
    oldest first, card data and secrets removed: what the channel said, and what we did with it."""
    messages = messages_for_order(session, order_id)
    if not messages and order_store.get_order(session, order_id) is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no order {order_id}")
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
        for message in messages
    ]
    return ChannelMessagesPublic(data=data, count=len(data))


@contextmanager
def _refusals_as_http() -> Iterator[None]:
    try:
        yield
    except staff_actions.UnknownOrder as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, str(exc)) from None
    except staff_actions.Refused as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, str(exc)) from None


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
    order_id: str, user: StaffUser, temporal: TemporalDep, state: StateDep, body: CancelBody | None = None
) -> Any:
    with _refusals_as_http():
        await staff_actions.cancel(
            lambda: connected(temporal),
            state.session_factory,
            order_id,
            CancelRequest(reason=body.reason if body else "", requested_by=user),
        )
    return ActionAccepted(order_id=order_id, action="cancel requested")


@router.post(
    "/{order_id}/release",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=ActionAccepted,
    responses={404: {"description": "no such order"}, 409: {"description": "the order is not on hold or backordered"}},
)
async def release_order(
    order_id: str, user: StaffUser, temporal: TemporalDep, state: StateDep, body: ReleaseBody | None = None
) -> Any:
    with _refusals_as_http():
        await staff_actions.release(
            lambda: connected(temporal),
            state.session_factory,
            order_id,
            ReleaseRequest(
                note=body.note if body else "",
                released_by=user,
                accept_channel_total=body.accept_channel_total if body else False,
            ),
        )
    return ActionAccepted(order_id=order_id, action="release requested")
