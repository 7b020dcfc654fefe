"""What a counter sale may take, checked where it comes in (POST /orders) as well as where its
stock moves (persistence.inventory.sell_at_counter), so no caller can go around it."""

from __future__ import annotations

from domain.order import FULFILLED_AT_COUNTER, Order
from domain.outside_fulfilment import counter_sale_refusal
from persistence.db import SessionFactory
from persistence.inventory import location_kind
from persistence.unit_of_work import UnitOfWork


def counter_sale_refusal_for(session_factory: SessionFactory, order: Order) -> str | None:
    """Why this counter sale may not be taken at the location it names (not a store, too many
    units), or None. A location we do not know is not refused here: the order is accepted and
    held for a person, as any order naming something we do not know yet."""
    store = order.pickup_location_id
    if order.fulfilled_by != FULFILLED_AT_COUNTER or not store:
        return None
    with UnitOfWork(session_factory) as uow:
        kind = location_kind(uow.session, store)
    return None if kind is None else counter_sale_refusal(store, kind, order.demand())
