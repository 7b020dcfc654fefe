"""Recording, validating and moving orders through their statuses in the read model."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from sqlalchemy.orm import Session
from temporalio import activity

from contracts.order_records import (
    ChangeStatusInput,
    ChangeStatusResult,
    OrderRecords,
    RecordOrderInput,
    RecordOrderResult,
    ValidateOrderInput,
    ValidateOrderResult,
)
from domain.channels import currency_hold_reason
from domain.limits import order_limit_refusals, unstorable_reason
from domain.order import hold_reasons, price_mismatch
from domain.status import OrderStatus
from integrations.channels.registry import SPECS
from persistence.db import SessionFactory
from persistence.guarded_writes import cancellation_notices, inventory
from persistence.guarded_writes.idempotency import run_once
from persistence.master_data.channels import policy_for
from persistence.read_model import backorders, deliveries
from persistence.read_model import orders as order_store
from persistence.storage_errors import describe, is_permanent
from persistence.unit_of_work import UnitOfWork

log = logging.getLogger("oms.orders")  # each line carries the order id (activities.log_context)


class OrderActivities(OrderRecords):
    def __init__(self, session_factory: SessionFactory, currencies: Sequence[str] | None = None) -> None:
        """`currencies`: what the engine sells in (settings.currency_codes); None: any it can price."""
        self._session_factory = session_factory
        self._currencies = tuple(currencies) if currencies is not None else None

    @activity.defn
    def record_order(self, data: RecordOrderInput) -> RecordOrderResult:
        """Record the order. One the database cannot hold as sent (the edges refuse those, so it
        slipped past them) would fail on every retry: it is kept as a placeholder ON_HOLD naming
        what does not fit, the same on SQLite (which would take long text) as on PostgreSQL."""
        problems = order_limit_refusals(data.order)
        if not problems:
            try:
                with UnitOfWork(self._session_factory) as uow:
                    created = order_store.record_order(uow.session, data.order, data.received_at)
                    uow.commit()
                log.info("order from %s recorded%s", data.order.channel, "" if created else " (already there)")
                return RecordOrderResult(created=created)
            except Exception as exc:
                if not is_permanent(exc):
                    raise
                problems = [describe(exc)]
        reason = unstorable_reason(problems)
        with UnitOfWork(self._session_factory) as uow:
            created = order_store.record_placeholder(uow.session, data.order, data.received_at, reason)
            uow.commit()
        return RecordOrderResult(created=created, hold_reason=reason)

    @activity.defn
    def validate_order(self, data: ValidateOrderInput) -> ValidateOrderResult:
        """Decide whether a person must look at the order; a hold is written to the read model here."""
        order = data.order

        accepted = data.channel_total_accepted
        mismatch = price_mismatch(order)

        def effect(session: Session) -> ValidateOrderResult:
            known = inventory.known_skus(session, (line.sku for line in order.lines))
            reasons = hold_reasons(order, known, channel_total_accepted=accepted is not None)
            if mismatch and accepted is not None:
                who = accepted.released_by or "staff"
                order_store.add_event(
                    session,
                    order.order_id,
                    "channel_total_accepted",
                    f"by {who}: {accepted.note or 'no reason given'}; the channel's {order.total.format()} is what "
                    f"is charged ({mismatch.split(' (', 1)[0]})",
                    data.at,
                )
            currency = currency_hold_reason(order.currency, policy_for(session, order.channel), self._currencies)
            if currency:
                reasons.insert(0, currency)
            if order.attention and data.attempt == 1:  # after a release a person has decided
                reasons.insert(0, order.attention)
            if reasons:
                order_store.set_status(
                    session, order.order_id, OrderStatus.ON_HOLD, hold_reason="; ".join(reasons), at=data.at
                )
            return ValidateOrderResult(hold_reasons=reasons)

        result = run_once(
            self._session_factory, f"{order.order_id}:validate:{data.attempt}", effect, ValidateOrderResult
        )
        return ValidateOrderResult(result.hold_reasons, price_mismatch=mismatch is not None and accepted is None)

    @activity.defn
    def change_status(self, data: ChangeStatusInput) -> ChangeStatusResult:
        def effect(session: Session) -> ChangeStatusResult:
            if data.status in (OrderStatus.CANCELLED, OrderStatus.SHIPPED, OrderStatus.COMPLETED):
                backorders.forget(session, data.order_id)  # nothing waits for stock any more
            order_store.set_status(
                session, data.order_id, data.status, hold_reason=data.hold_reason, detail=data.detail, at=data.at
            )
            if data.status is OrderStatus.SHIPPED:  # a parcel may have arrived before everything had left
                deliveries.note_order_delivered(session, data.order_id)
            if data.status is OrderStatus.CANCELLED:
                # Here, not later: a CANCELLED that commits always carries its notice to the channel.
                cancel = data.cancel
                enqueued = cancellation_notices.enqueue_cancellation(
                    session,
                    data.order_id,
                    SPECS,
                    requested_by=cancel.requested_by if cancel is not None else None,
                    reason=data.detail or (cancel.reason if cancel is not None else ""),
                    confirm_lines=cancel.confirm_lines if cancel is not None else (),
                    at=data.at,
                )
                if enqueued.by_hand:  # the channel has no cancel call: a person must, and the timeline says so
                    order_store.add_event(session, data.order_id, "channel_not_notified", enqueued.by_hand, enqueued.at)
            return ChangeStatusResult(data.status)

        result = run_once(self._session_factory, data.idempotency_key, effect, ChangeStatusResult)
        log.info("order is %s", data.status.value)
        return result
