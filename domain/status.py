"""Order statuses and which moves between them are legal (the contract's status list)."""

from __future__ import annotations

from enum import StrEnum


class OrderStatus(StrEnum):
    RECEIVED = "RECEIVED"
    ON_HOLD = "ON_HOLD"
    BACKORDERED = "BACKORDERED"
    RESERVED = "RESERVED"
    IN_FULFILMENT = "IN_FULFILMENT"
    SHIPPED = "SHIPPED"
    COMPLETED = "COMPLETED"
    CANCELLED = "CANCELLED"


_WAITING = {OrderStatus.ON_HOLD, OrderStatus.BACKORDERED}

ALLOWED_TRANSITIONS: dict[OrderStatus, frozenset[OrderStatus]] = {
    # A counter sale or a channel-fulfilled order goes straight to SHIPPED: nothing to reserve.
    OrderStatus.RECEIVED: frozenset(
        {OrderStatus.ON_HOLD, OrderStatus.BACKORDERED, OrderStatus.RESERVED, OrderStatus.CANCELLED, OrderStatus.SHIPPED}
    ),
    OrderStatus.ON_HOLD: frozenset(
        {
            OrderStatus.RECEIVED,
            OrderStatus.ON_HOLD,
            OrderStatus.BACKORDERED,
            OrderStatus.RESERVED,
            OrderStatus.CANCELLED,
            OrderStatus.SHIPPED,
        }
    ),
    OrderStatus.BACKORDERED: frozenset(
        {OrderStatus.ON_HOLD, OrderStatus.BACKORDERED, OrderStatus.RESERVED, OrderStatus.CANCELLED, OrderStatus.SHIPPED}
    ),
    OrderStatus.RESERVED: frozenset({OrderStatus.IN_FULFILMENT, OrderStatus.CANCELLED, OrderStatus.BACKORDERED}),
    # A partial shipment leaves the remainder backordered until stock arrives or its deadline passes.
    OrderStatus.IN_FULFILMENT: frozenset({OrderStatus.SHIPPED, OrderStatus.CANCELLED, OrderStatus.BACKORDERED}),
    # The channel that shipped an order itself (Amazon FBA, bol FBB) may still cancel it.
    OrderStatus.SHIPPED: frozenset({OrderStatus.COMPLETED, OrderStatus.CANCELLED}),
    OrderStatus.COMPLETED: frozenset(),
    OrderStatus.CANCELLED: frozenset(),
}

TERMINAL = frozenset({OrderStatus.COMPLETED, OrderStatus.CANCELLED})


class IllegalTransition(ValueError):
    pass


def check_transition(current: OrderStatus, new: OrderStatus) -> None:
    if new not in ALLOWED_TRANSITIONS[current]:
        raise IllegalTransition(f"an order cannot go from {current} to {new}")


def is_waiting_for_a_person(status: OrderStatus) -> bool:
    return status in _WAITING


def cancel_refusal(status: OrderStatus, shipping_started: bool) -> str | None:
    """Why a cancel can no longer be honoured, or None when it still can.

    Cancel is honoured until the first parcel leaves: after that the goods are on their way and
    only a return can undo the sale.
    """
    if status is OrderStatus.CANCELLED:
        return "the order is already cancelled"
    if status in (OrderStatus.SHIPPED, OrderStatus.COMPLETED) or shipping_started:
        return "the order has shipped; request a return instead"
    return None
