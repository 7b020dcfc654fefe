"""Recording an order edit: the new lines and totals, the version, and the shipments it withdraws.

The shipments that lose units are checked and marked under the order row's lock, the lock a
handover takes too (persistence.guarded_writes.cancel_claims): a parcel that left first refuses
the edit; one that would leave after finds the mark and stops, so an edit and a handover never
both win."""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session
from temporalio import activity
from temporalio.exceptions import ApplicationError

from contracts.errors import ErrorType
from contracts.order_edits import NoteEditInput, OrderEditRecords, RecordEditInput, RecordEditResult
from domain.money import Money
from domain.order import FULFILLED_BY_US
from domain.order_edits import EditRefusalKind, OrderVersion
from integrations.channels.registry import SPECS
from persistence.db import SessionFactory
from persistence.guarded_writes import cancellation_notices
from persistence.guarded_writes.idempotency import run_once
from persistence.models import OrderRecord, ShipmentRecord
from persistence.read_model import order_versions
from persistence.read_model import orders as order_store

log = logging.getLogger("oms.orders")  # each line carries the order id (activities.log_context)


class OrderEditActivities(OrderEditRecords):
    def __init__(self, session_factory: SessionFactory) -> None:
        self._session_factory = session_factory

    @activity.defn
    def record_edit(self, data: RecordEditInput) -> RecordEditResult:
        """The edited order in the read model with its new version, once per key; ApplicationError
        (ORDER_EDIT_REFUSED, handed_over) when a shipment it takes units off has left meanwhile."""
        result = run_once(self._session_factory, data.idempotency_key, lambda s: _record(s, data), RecordEditResult)
        log.info("order edited: version %d", result.version)
        return result

    @activity.defn
    def note_edit(self, data: NoteEditInput) -> None:
        """One timeline line about an edit waiting for its payment link (or given up), once per key."""

        def effect(session: Session) -> RecordEditResult:
            order_store.add_event(session, data.order_id, data.kind, data.detail, data.at)
            return RecordEditResult(0)

        run_once(self._session_factory, data.idempotency_key, effect, RecordEditResult)


def _record(session: Session, data: RecordEditInput) -> RecordEditResult:
    order = data.order
    record = session.scalar(select(OrderRecord).where(OrderRecord.order_id == order.order_id).with_for_update())
    if record is None:
        raise ApplicationError(
            f"order {order.order_id} is not recorded",
            EditRefusalKind.NOT_EDITABLE.value,
            type=ErrorType.ORDER_EDIT_REFUSED,
            non_retryable=True,
        )
    _withdraw(session, order.order_id, data.withdraw, data.at)
    if data.version == 2 and data.placed_total is not None:
        placed = OrderVersion(1, ("placed",), order.channel, "", record.placed_at, data.placed_total)
        order_versions.add_version(session, order.order_id, placed)
    version = OrderVersion(data.version, tuple(data.changes), data.changed_by, data.reason, data.at, order.total)
    order_versions.add_version(session, order.order_id, version, dict(data.payment))
    order_store.rewrite_order(session, order, data.at)
    who = data.changed_by or "staff"
    detail = f"version {data.version} by {who}: " + "; ".join(data.changes)
    detail += f" ({data.reason})" if data.reason else ""
    order_store.add_event(session, order.order_id, "order_edited", detail, data.at)
    for shipment_id in data.readdress:
        order_store.add_event(
            session, order.order_id, "shipment_readdressed", f"{shipment_id}: ships to the new address", data.at
        )
    _note_payment(session, order.order_id, data.payment, order.currency, data.at)
    told = cancellation_notices.enqueue_item_cancellation(
        session,
        order.order_id,
        SPECS,
        data.cancel_items,
        requested_by=data.changed_by,
        reason=data.reason or "order edited",
        at=data.at,
    )
    if told.by_hand:
        order_store.add_event(session, order.order_id, "channel_not_notified", told.by_hand, data.at)
    spec = SPECS.get(order.channel)
    if data.reduced_items and spec is not None and spec.cancels_items and order.fulfilled_by == FULFILLED_BY_US:
        items = ", ".join(data.reduced_items)
        detail = f"{order.channel} cancels whole items only: items {items} were reduced here; change them there by hand"
        order_store.add_event(session, order.order_id, "channel_not_notified", detail, data.at)
    return RecordEditResult(data.version)


def _withdraw(session: Session, order_id: str, shipment_ids: list[str], at: datetime) -> None:
    if not shipment_ids:
        return
    rows = session.scalars(select(ShipmentRecord).where(ShipmentRecord.shipment_id.in_(shipment_ids))).all()
    left = [row.shipment_id for row in rows if row.shipped_at is not None or row.collected_at is not None]
    if left:
        raise ApplicationError(
            f"{', '.join(sorted(left))} left meanwhile: the edit touches units already handed over",
            EditRefusalKind.HANDED_OVER.value,
            type=ErrorType.ORDER_EDIT_REFUSED,
            non_retryable=True,
        )
    for row in rows:
        row.edit_withdrawn_at = at
        order_store.add_event(
            session, order_id, "shipment_edited", f"{row.shipment_id}: withdrawn by the edit, reserved again", at
        )


def _note_payment(session: Session, order_id: str, payment: dict[str, int | bool], currency: str, at: datetime) -> None:
    """The money that follows, on the timeline (the captures and the final void carry it out)."""
    parts = [
        f"{label} {Money(int(payment[key]), currency).format()}"
        for key, label in (
            ("void", "to release"),
            ("refund", "to refund"),
            ("authorize", "to collect"),
            ("reauthorized", "card authorized anew for"),
            ("credit_back", "store credit to give back"),
            ("paid_by_link", "paid by the customer through the payment link"),
        )
        if payment.get(key)
    ]
    if not parts:
        return
    where = " (settled by the channel)" if payment.get("on_channel") else ""
    order_store.add_event(session, order_id, "edit_payment", ", ".join(parts) + where, at)
