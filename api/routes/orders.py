"""Orders: intake for the web shop and POS, the read model, and staff actions (cancel, release)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, status
from starlette.concurrency import run_in_threadpool
from temporalio.client import WorkflowQueryFailedError
from temporalio.service import RPCError, RPCStatusCode

from api.deps import SessionDep, SettingsDep, StaffUser, StateDep, TemporalDep, connected
from api.errors import temporal_unavailable, unprocessable
from api.schemas import (
    ActionAccepted,
    CancelBody,
    OrderAccepted,
    OrderCreate,
    OrderPublic,
    OrdersPublic,
    ReleaseBody,
)
from api.services import order_view
from api.services.cancel import request_cancel
from api.services.intake import start_order
from domain.money import Money, MoneyError
from domain.order import Address, InvalidOrder, Order, OrderLine
from domain.status import OrderStatus, cancel_refusal, is_waiting_for_a_person
from persistence import orders as order_store
from workflows.order import OrderWorkflow
from workflows.payloads import CancelRequest, OrderState, ReleaseRequest

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
    )


@router.post("", status_code=status.HTTP_202_ACCEPTED, response_model=OrderAccepted)
async def create_order(body: OrderCreate, _: StaffUser, settings: SettingsDep, temporal: TemporalDep) -> Any:
    try:
        order = _to_order(body)
    except (MoneyError, InvalidOrder) as exc:
        raise unprocessable(str(exc)) from None
    order_id, duplicate = await start_order(await connected(temporal), settings, order)
    return OrderAccepted(order_id=order_id, duplicate=duplicate)


@router.get("", response_model=OrdersPublic)
def list_orders(
    _: StaffUser,
    session: SessionDep,
    status_: Annotated[OrderStatus | None, Query(alias="status")] = None,
    channel: str | None = None,
    sku: str | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> Any:
    rows, count = order_store.list_orders(
        session, status=status_.value if status_ else None, channel=channel, sku=sku, limit=limit, offset=offset
    )
    return OrdersPublic(data=[order_view.summary(row) for row in rows], count=count)


@router.get("/{order_id}", response_model=OrderPublic)
def get_order(order_id: str, _: StaffUser, session: SessionDep) -> Any:
    record = order_store.get_order(session, order_id)
    if record is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no order {order_id}")
    return order_view.detail(record, order_store.order_events(session, order_id))


async def _live_state(temporal: TemporalDep, order_id: str) -> OrderState:
    try:
        return await (await connected(temporal)).get_workflow_handle(order_id).query(OrderWorkflow.state)
    except WorkflowQueryFailedError as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, f"order {order_id} cannot be queried: {exc}") from None
    except RPCError as exc:
        if exc.status is RPCStatusCode.NOT_FOUND:
            raise HTTPException(status.HTTP_404_NOT_FOUND, f"no order {order_id}") from None
        raise temporal_unavailable() from None


async def _status_of(session: SessionDep, order_id: str) -> OrderStatus:
    record = await run_in_threadpool(order_store.get_order, session, order_id)
    if record is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no order {order_id}")
    return OrderStatus(record.status)


@router.post(
    "/{order_id}/cancel",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=ActionAccepted,
    responses={409: {"description": "past the point of cancelling: use returns"}},
)
async def cancel_order(
    order_id: str,
    user: StaffUser,
    session: SessionDep,
    temporal: TemporalDep,
    state: StateDep,
    body: CancelBody | None = None,
) -> Any:
    recorded = await _status_of(session, order_id)
    if recorded in (OrderStatus.COMPLETED, OrderStatus.CANCELLED):
        raise HTTPException(status.HTTP_409_CONFLICT, cancel_refusal(recorded, shipping_started=False))
    live = await _live_state(temporal, order_id)
    refusal = cancel_refusal(live.status, live.shipping_started)
    if refusal is not None:
        raise HTTPException(status.HTTP_409_CONFLICT, refusal)
    # End this request's read transaction first: on SQLite it holds the write lock the claim needs.
    await run_in_threadpool(session.rollback)
    refusal = await request_cancel(
        await connected(temporal),
        state.session_factory,
        order_id,
        CancelRequest(reason=body.reason if body else "", requested_by=user),
    )
    if refusal is not None:
        raise HTTPException(status.HTTP_409_CONFLICT, refusal)
    return ActionAccepted(order_id=order_id, action="cancel requested")


@router.post(
    "/{order_id}/release",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=ActionAccepted,
    responses={409: {"description": "the order is not on hold or backordered"}},
)
async def release_order(
    order_id: str, user: StaffUser, session: SessionDep, temporal: TemporalDep, body: ReleaseBody | None = None
) -> Any:
    await _status_of(session, order_id)
    live = await _live_state(temporal, order_id)
    if not is_waiting_for_a_person(live.status):
        raise HTTPException(status.HTTP_409_CONFLICT, f"order is {live.status.value}, not on hold or backordered")
    handle = (await connected(temporal)).get_workflow_handle(order_id)
    await handle.signal(OrderWorkflow.release, ReleaseRequest(note=body.note if body else "", released_by=user))
    return ActionAccepted(order_id=order_id, action="release requested")
