"""Status out: deliver the shipment-notice and cancellation-notice outboxes to the channel that sold
each order."""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Generic, TypeVar

from sqlalchemy.orm import Session

from contracts.channels import DeliverNoticesResult
from integrations.channels.base import ChannelCanceller, ShipmentConfirmer
from integrations.channels.errors import ChannelError, ChannelRateLimited, ChannelUnavailable
from integrations.channels.registry import SPECS
from integrations.channels.spec import ChannelSpec
from persistence.db import SessionFactory, readers_of
from persistence.guarded_writes import cancellation_notices, channel_outbox, shipment_notices
from persistence.guarded_writes.channel_outbox import Row
from persistence.models import CancellationNoticeOutbox, ShipmentNoticeOutbox, utcnow
from persistence.read_model import orders as order_store
from persistence.unit_of_work import UnitOfWork

log = logging.getLogger("oms.channel_out")

RETRY_BASE = timedelta(minutes=1)
RETRY_CAP = timedelta(hours=6)
MAX_PAUSE_SECONDS = 300.0
PASS_BUDGET_SECONDS = 60.0
"""A pass stops calling channels after this long (each call may take its client's timeout), so it
stays well inside the activity's start-to-close timeout; the rest waits for the next pass."""

Adapter = TypeVar("Adapter")


def next_attempt_at(created_at: datetime, attempts: int) -> datetime:
    """When a refused notice is due again: a schedule from its creation whose steps double from
    RETRY_BASE up to RETRY_CAP. Anchored on stored columns only, so it survives restarts and any
    worker computes the same; a refusal is a person's to fix, and hammering the channel will not."""
    due, step = created_at, RETRY_BASE
    for _ in range(attempts):
        due += step
        step = min(step * 2, RETRY_CAP)
    return due


@dataclass(frozen=True)
class _Pending:
    id: int
    order_id: str
    channel: str
    label: str
    """What the timeline names: the shipment id, or "cancellation"."""
    notice: dict[str, Any]
    attempts: int
    created_at: datetime


@dataclass
class _Tally:
    delivered: int = 0
    failed: int = 0
    skipped: int = 0
    deferred: int = 0

    @property
    def acted(self) -> int:
        return self.delivered + self.failed + self.skipped

    def result(self) -> DeliverNoticesResult:
        return DeliverNoticesResult(self.delivered, self.failed, self.skipped, self.deferred)


class _OutboxDelivery(Generic[Row, Adapter]):
    """Tells each selling channel what its outbox holds for it, through the adapters the worker was
    built with (integrations.channels.registry). Outcomes per notice:

    - accepted: `delivered_at` set, and a "channel_notified" event on the order's timeline;
    - channel down or throttling (ChannelUnavailable, ChannelRateLimited): the notice stays pending
      as it was and the channel is not called again this pass (nor before its Retry-After);
    - refused (ChannelRejected, ChannelAuthFailed): attempts + 1 and the reason kept, so ops see it;
      tried again on a doubling schedule, since a person may fix the cause (a token, a listing);
    - no adapter for the channel: closed with last_error "channel not connected". This deployment
      has no credentials for that channel, so the notice could only wait forever, re-read every pass
      and looking like an outage; closed, it stays on record (what the channel never heard of), and
      `channel_outbox.reopen_not_connected` queues them again once it is connected.
    """

    what = "notice"

    def __init__(self, session_factory: SessionFactory, model: type[Row], adapters: Mapping[str, Adapter]) -> None:
        self._session_factory = session_factory
        self._model: type[Row] = model
        self._adapters = adapters
        self._paused_until: dict[str, float] = {}  # channel → time.monotonic() it may be called again

    # -- what each outbox says and does ----------------------------------------------------------

    def _label(self, row: Row) -> str:
        raise NotImplementedError

    def _send(self, adapter: Adapter, row: _Pending) -> None:
        raise NotImplementedError

    def _told(self, row: _Pending) -> str:
        """The "channel_notified" event's detail."""
        raise NotImplementedError

    def _after_delivery(self, session: Session, adapter: Adapter, row: _Pending) -> None:
        """More to write in the transaction that closes a delivered notice."""

    # -- the pass ---------------------------------------------------------------------------------

    def deliver(self, batch_size: int) -> _Tally:
        """One pass over the oldest pending notices: up to `batch_size` are acted on. No transaction
        is open while a channel is called; each outcome commits on its own."""
        tally, down, after = _Tally(), set[str](), 0
        deadline = time.monotonic() + PASS_BUDGET_SECONDS
        while tally.acted < batch_size and time.monotonic() < deadline:
            page = self._pending(batch_size, after, down | self._paused())
            if not page:
                break
            for row in page:
                after = row.id
                if tally.acted >= batch_size or time.monotonic() >= deadline:
                    break
                self._deliver_one(row, down, tally)
        return tally

    def _deliver_one(self, row: _Pending, down: set[str], tally: _Tally) -> None:
        adapter = self._adapters.get(row.channel)
        if adapter is None:
            self._close_not_connected(row)
            tally.skipped += 1
            return
        if row.channel in down or row.channel in self._paused():
            tally.deferred += 1
            return
        if row.attempts and utcnow() < next_attempt_at(row.created_at, row.attempts):
            tally.deferred += 1
            return
        try:
            self._send(adapter, row)
        except ChannelUnavailable as exc:
            down.add(row.channel)
            if isinstance(exc, ChannelRateLimited) and exc.retry_after:
                self._paused_until[row.channel] = time.monotonic() + min(exc.retry_after, MAX_PAUSE_SECONDS)
            log.warning("%s %s: %s is unavailable: %s", self.what, row.label, row.channel, exc)
            self._note_unavailable(row, exc)
            tally.failed += 1
        except ChannelError as exc:  # refused, or credentials: a person looks
            log.warning("%s %s refused by %s: %s", self.what, row.label, row.channel, exc)
            self._note_refused(row, exc)
            tally.failed += 1
        except Exception as exc:  # a notice the adapter cannot send: kept like a refusal, not blocking the rest
            log.exception("%s %s could not be sent to %s", self.what, row.label, row.channel)
            self._note_refused(row, exc)
            tally.failed += 1
        else:
            self._mark_delivered(row, adapter)
            tally.delivered += 1

    def _paused(self) -> set[str]:
        now = time.monotonic()
        return {channel for channel, until in self._paused_until.items() if until > now}

    def _pending(self, limit: int, after: int, excluded: set[str]) -> list[_Pending]:
        with UnitOfWork(readers_of(self._session_factory)) as uow:  # reads only: no write lock on SQLite
            rows = channel_outbox.pending(uow.session, self._model, limit=limit, after_id=after, excluded=excluded)
            return [
                _Pending(r.id, r.order_id, r.channel, self._label(r), dict(r.notice), r.attempts, r.created_at)
                for r in rows
            ]

    def _mark_delivered(self, row: _Pending, adapter: Adapter) -> None:
        now = utcnow()
        with UnitOfWork(self._session_factory) as uow:
            # Unless a concurrent pass already closed it (then it has its event already).
            if channel_outbox.close(uow.session, self._model, row.id, now, None):
                order_store.add_event(uow.session, row.order_id, "channel_notified", self._told(row), now)
                self._after_delivery(uow.session, adapter, row)
            uow.commit()

    def _close_not_connected(self, row: _Pending) -> None:
        now = utcnow()
        with UnitOfWork(self._session_factory) as uow:
            if channel_outbox.close(uow.session, self._model, row.id, now, channel_outbox.NOT_CONNECTED):
                order_store.add_event(
                    uow.session,
                    row.order_id,
                    "channel_not_notified",
                    f"{row.label}: no {row.channel} connection is configured; tell the channel by hand",
                    now,
                )
            uow.commit()

    def _note_refused(self, row: _Pending, exc: Exception) -> None:
        reason = f"{type(exc).__name__}: {exc}"[:1000]
        with UnitOfWork(self._session_factory) as uow:
            channel_outbox.note_refused(uow.session, self._model, row.id, reason)
            if row.attempts == 0:  # once on the timeline, not at every retry
                order_store.add_event(
                    uow.session, row.order_id, "channel_notice_refused", f"{row.label}: {reason}", utcnow()
                )
            uow.commit()

    def _note_unavailable(self, row: _Pending, exc: Exception) -> None:
        with UnitOfWork(self._session_factory) as uow:
            channel_outbox.note_unavailable(uow.session, self._model, row.id, f"{type(exc).__name__}: {exc}"[:1000])
            uow.commit()


class ShipmentNoticeActivities(_OutboxDelivery[ShipmentNoticeOutbox, ShipmentConfirmer]):
    """Tells each selling channel that its order left (carrier and tracking where there are some)."""

    what = "shipment notice"

    def __init__(self, session_factory: SessionFactory, confirmers: Mapping[str, ShipmentConfirmer]) -> None:
        super().__init__(session_factory, ShipmentNoticeOutbox, confirmers)

    def _label(self, row: ShipmentNoticeOutbox) -> str:
        return row.shipment_id

    def _send(self, adapter: ShipmentConfirmer, row: _Pending) -> None:
        adapter.confirm_shipment(shipment_notices.to_notice(row.notice))

    def _told(self, row: _Pending) -> str:
        tracking = str(row.notice.get("tracking_number") or "")
        carrier = str(row.notice.get("carrier") or "")
        how = f"{carrier} {tracking}".strip() if tracking else "no tracking"
        return f"{row.label}: {row.channel} told ({how})"


class CancellationNoticeActivities(_OutboxDelivery[CancellationNoticeOutbox, ChannelCanceller]):
    """Tells each selling channel that an order of its own was cancelled here (or confirms the
    customer's cancellation request it forwarded). A channel that changes its own stock figure when
    it cancels (its spec's `cancel_touches_stock`) has the order's SKUs sent again by the next stock
    pass, queued in the transaction that records the delivery."""

    what = "cancellation notice"

    def __init__(
        self,
        session_factory: SessionFactory,
        cancellers: Mapping[str, ChannelCanceller],
        specs: Mapping[str, ChannelSpec] = SPECS,
    ) -> None:
        super().__init__(session_factory, CancellationNoticeOutbox, cancellers)
        self._specs = specs

    def _label(self, row: CancellationNoticeOutbox) -> str:
        return "cancellation"

    def _send(self, adapter: ChannelCanceller, row: _Pending) -> None:
        adapter.cancel_order(cancellation_notices.to_notice(row.notice))

    def _told(self, row: _Pending) -> str:
        return f"{row.label}: {row.channel} told ({row.notice.get('reason_kind', 'other')})"

    def _after_delivery(self, session: Session, adapter: ChannelCanceller, row: _Pending) -> None:
        spec = self._specs.get(row.channel)
        if spec is not None and spec.cancel_touches_stock:
            cancellation_notices.resend_stock(session, row.channel, row.order_id)
