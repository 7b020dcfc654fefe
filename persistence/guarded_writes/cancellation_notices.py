"""The cancellation-notice outbox: what the channel that sold an order must hear when it ends
cancelled here.

The row is written by the step that records the order as CANCELLED (activities.orders), in that
step's transaction: a rolled-back status change leaves no notice and a committed one cannot lose
it. At most one per order (a unique order id, ON CONFLICT DO NOTHING), whoever retries. The
stock-feed workflow delivers it next to the shipment notices, with no transaction open while the
channel is called (activities.channel_out).

Which cancels are told is `domain.cancellation.channel_cancellation`: ours, and a customer's
cancellation request the channel forwarded for confirmation; never the channel's own. Not told:
- orders the channel fulfils from its own stock (Amazon AFN, bol FBB): the channel alone decides
  whether they ship, and a cancel here only corrects our record;
- Amazon seller-fulfilled orders: the Orders API has no cancel call, so the order's timeline says
  to cancel it in Seller Central (a row would only ever be closed "not connected").
Which channel has a cancel call, and which must be told by hand, is its capability spec's to say
(`cancels`, `cancel_by_hand`: integrations.channels.<name>.spec), handed in by the caller as `channels`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from domain.cancellation import CancelReason, channel_cancellation
from domain.channel_notices import CancellationNotice
from domain.order import FULFILLED_BY_US
from persistence.guarded_writes import channel_outbox
from persistence.guarded_writes.channel_outbox import Enqueued
from persistence.guarded_writes.stock_outbox import note_stock_change
from persistence.models import CancellationNoticeOutbox, ChannelStockLevel, OrderLineRecord, OrderRecord, utcnow


class CancellationNoticeTerms(Protocol):
    """What a channel's capability spec says about cancellation notices."""

    @property
    def cancels(self) -> bool:
        """It has a cancel call of its own."""
        ...

    @property
    def cancel_by_hand(self) -> str:
        """Not empty: its orders must be cancelled there by a person, and this says where."""
        ...

    @property
    def cancels_items(self) -> bool:
        """Its cancel call takes single items (an order edit's removed lines)."""
        ...


UNKNOWN_LEVEL = -(2**31)
"""A `channel_stock_levels.quantity` no available-to-promise ever equals: the next stock pass sends
the channel our figure, whatever it was last told."""


def enqueue_cancellation(
    session: Session,
    order_id: str,
    channels: Mapping[str, CancellationNoticeTerms],
    *,
    requested_by: str | None,
    reason: str,
    confirm_lines: Iterable[str] = (),
    at: datetime | None = None,
) -> Enqueued:
    """Write the order's cancellation notice in the caller's transaction, when its channel must hear
    of this cancel. `channels`: each channel's terms (its spec); `requested_by`: who asked
    (`CancelRequest.requested_by`; None: not recorded); `confirm_lines`: the lines whose cancellation
    the channel asked us to confirm. A channel whose orders are cancelled by hand comes back
    `by_hand`, for the order's timeline."""
    order = session.execute(
        select(OrderRecord.channel, OrderRecord.external_id, OrderRecord.fulfilled_by).where(
            OrderRecord.order_id == order_id
        )
    ).first()
    terms = channels.get(order.channel) if order is not None else None
    if order is None or terms is None or order.fulfilled_by != FULFILLED_BY_US:
        return Enqueued()
    if not terms.cancels and not terms.cancel_by_hand:
        return Enqueued()
    _reopen_after_items(session, order_id)
    line_ids = session.scalars(
        select(OrderLineRecord.external_line_id)
        .where(OrderLineRecord.order_id == order_id)
        .order_by(OrderLineRecord.line_no)
    )
    decision = channel_cancellation(order.channel, requested_by, (i or "" for i in line_ids), confirm_lines)
    if decision is None:
        return Enqueued()
    at = at or utcnow()
    if terms.cancel_by_hand:
        return Enqueued(by_hand=f"cancellation: {terms.cancel_by_hand}", at=at)
    notice = {
        "order_external_id": order.external_id,
        "line_ids": list(decision.line_ids),
        "reason_kind": decision.reason.value,
        "reason": reason,
        "requested_by": requested_by,
        "cancelled_at": at.isoformat(),
    }
    values: dict[str, Any] = {
        "order_id": order_id,
        "channel": order.channel,
        "notice": notice,
        "created_at": utcnow(),
    }
    return Enqueued(written=channel_outbox.add_once(session, CancellationNoticeOutbox, values, "order_id"))


def enqueue_item_cancellation(
    session: Session,
    order_id: str,
    channels: Mapping[str, CancellationNoticeTerms],
    line_ids: Iterable[str],
    *,
    requested_by: str,
    reason: str,
    at: datetime,
) -> Enqueued:
    """An order edit removed these lines (the channel's item ids) before they shipped: tell the
    channel to cancel those items, where its cancel call takes single items (bol.com); else, for a
    channel that must hear, what a person must do there (`by_hand`). One row per order: an item
    notice still waiting takes these items too; one delivered is sent again with these alone; an
    order cancelled later replaces it with the whole order (`enqueue_cancellation`)."""
    order = session.execute(
        select(OrderRecord.channel, OrderRecord.external_id, OrderRecord.fulfilled_by).where(
            OrderRecord.order_id == order_id
        )
    ).first()
    terms = channels.get(order.channel) if order is not None else None
    ids = [line_id for line_id in dict.fromkeys(line_ids) if line_id]
    if order is None or terms is None or order.fulfilled_by != FULFILLED_BY_US or not ids:
        return Enqueued()
    if not terms.cancels_items:
        if terms.cancels or terms.cancel_by_hand:
            return Enqueued(by_hand=f"{order.channel} cannot cancel single items: change the order there", at=at)
        return Enqueued()
    reason_kind = CancelReason.CUSTOMER_REQUEST if requested_by == order.channel else CancelReason.OTHER
    notice = {
        "order_external_id": order.external_id,
        "line_ids": ids,
        "reason_kind": reason_kind.value,
        "reason": reason,
        "requested_by": requested_by,
        "cancelled_at": at.isoformat(),
        "items": True,
    }
    row = notice_of(session, order_id)
    if row is None:
        values = {"order_id": order_id, "channel": order.channel, "notice": notice, "created_at": utcnow()}
        return Enqueued(written=channel_outbox.add_once(session, CancellationNoticeOutbox, values, "order_id"))
    if not row.notice.get("items"):
        return Enqueued()  # the whole order is being cancelled there already
    if row.delivered_at is None:
        notice["line_ids"] = list(dict.fromkeys([*row.notice.get("line_ids", []), *ids]))
    row.notice, row.delivered_at, row.attempts, row.last_error = notice, None, 0, None
    return Enqueued(written=True)


def _reopen_after_items(session: Session, order_id: str) -> None:
    """An order whose removed items were told to its channel is now cancelled whole: its row is
    taken back for the whole order (deleted here, written again by the caller)."""
    row = notice_of(session, order_id)
    if row is not None and row.notice.get("items"):
        session.delete(row)
        session.flush()


def to_notice(stored: Mapping[str, Any]) -> CancellationNotice:
    """The stored JSON back as the CancellationNotice a canceller takes."""
    cancelled_at = stored.get("cancelled_at")
    return CancellationNotice(
        order_external_id=str(stored["order_external_id"]),
        line_ids=tuple(str(line_id) for line_id in stored.get("line_ids") or ()),
        reason_kind=CancelReason(str(stored.get("reason_kind") or CancelReason.OTHER.value)),
        reason=str(stored.get("reason") or ""),
        cancelled_at=datetime.fromisoformat(str(cancelled_at)) if cancelled_at else None,
    )


def resend_stock(session: Session, channel: str, order_id: str) -> list[str]:
    """The channel changed its own stock figure for the order's products as it cancelled it: forget
    what it was last told of them and queue them, so the next stock pass sends our figure again.
    Returns the SKUs queued."""
    skus = sorted(set(session.scalars(select(OrderLineRecord.sku).where(OrderLineRecord.order_id == order_id))))
    if not skus:
        return []
    session.execute(
        update(ChannelStockLevel)
        .where(ChannelStockLevel.channel == channel, ChannelStockLevel.sku.in_(skus))
        .values(quantity=UNKNOWN_LEVEL),
        execution_options={"synchronize_session": False},
    )
    for sku in skus:
        note_stock_change(session, sku)
    return skus


def notice_of(session: Session, order_id: str) -> CancellationNoticeOutbox | None:
    return session.scalar(select(CancellationNoticeOutbox).where(CancellationNoticeOutbox.order_id == order_id))
