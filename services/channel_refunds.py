"""Refunds a channel made itself (Shopify's admin, `refunds/create`): recorded on their order once.

The money is the channel's (REFUND_ON_CHANNEL): nothing is refunded here. The refunded units count as
returned, so a return asked here later for the same units is refused (nothing refunded twice). No
stock moves: Shopify's restock_type says what the merchant did to Shopify's own inventory, not that
the goods reached one of our locations; when they do, staff book them in (an inventory adjustment
naming the refund), as with any goods that come back without a return here.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import UTC, datetime

from domain.marketplace_returns import ChannelRefund
from domain.order import order_id_for
from persistence.conflicts import ConcurrentWrite
from services.unit_of_work import UnitOfWorkFactory


@dataclass(frozen=True)
class RefundRecorded:
    refund_id: str
    order_id: str | None
    """None: no such order here; the refund is kept in the channel audit for a person."""
    duplicate: bool = False
    """Recorded by an earlier delivery: nothing changed."""


class ChannelRefunds:
    def __init__(self, units: UnitOfWorkFactory) -> None:
        self._units = units

    async def record(self, refund: ChannelRefund) -> RefundRecorded:
        return await asyncio.to_thread(self._record, refund)

    def _record(self, refund: ChannelRefund) -> RefundRecorded:
        order_id = order_id_for(refund.channel, refund.order_external_id)
        try:
            with self._units() as uow:
                if uow.orders.get(order_id) is None:
                    return RefundRecorded(refund.refund_id, None)
                new = uow.returns.record_channel_refund(refund, order_id, datetime.now(UTC))
                uow.commit()
        except ConcurrentWrite:  # the same refund delivered twice at once: the other one recorded it
            return RefundRecorded(refund.refund_id, order_id, duplicate=True)
        return RefundRecorded(refund.refund_id, order_id, duplicate=not new)
