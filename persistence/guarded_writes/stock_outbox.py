"""Every transaction that moves stock also writes an outbox row for each SKU it touched, in that
same transaction: the ledger writer notes it, so no caller can forget. The stock-feed workflow
turns the rows into per-channel available-to-promise at delivery; a stock.changed event for
subscribers (persistence.guarded_writes.events_outbox) is written beside it."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence

from sqlalchemy import event, insert, select
from sqlalchemy.orm import Session

from domain.channels import ChannelPolicy, available_to_promise
from domain.outbound_events import EventType
from persistence.db import SessionFactory
from persistence.guarded_writes.events_outbox import emit
from persistence.guarded_writes.guarded_commit import INSERT_OUTBOX, batch
from persistence.master_data.channels import all_policies
from persistence.models import StockLevel, StockOutbox, utcnow

_NOTED = "oms.stock_outbox_noted"
_INSERT_OUTBOX = insert(StockOutbox)


def note_stock_change(session: Session, sku: str) -> None:
    """Write the SKU's outbox row once per transaction, at once and before the stock statement, so a
    hot SKU's row lock is not held while it is written."""
    noted: set[str] = session.info.setdefault(_NOTED, set())
    if sku not in noted:
        noted.add(sku)
        pending = batch(session)
        if pending is not None:
            pending.inserts.append((INSERT_OUTBOX, (sku, utcnow())))
        else:
            session.connection().execute(_INSERT_OUTBOX, {"sku": sku})
        # stock.changed for subscribers: its per-channel ATP is read from committed stock when the
        # event-delivery workflow fans it out (and several changes of a SKU waiting then go as one).
        emit(session, EventType.STOCK_CHANGED, {"sku": sku}, ordering_key=sku, at=utcnow())


def atp_by_sku(
    session: Session, skus: Iterable[str], policies: Sequence[ChannelPolicy] | None = None
) -> dict[str, dict[str, int]]:
    """Per SKU, each channel's available-to-promise from committed stock. `policies`: the channels'
    policies (a PolicyCache's, on a hot path); read from the database when not given."""
    wanted = sorted(set(skus))
    if not wanted:
        return {}
    available: dict[str, dict[str, int]] = defaultdict(dict)
    rows = session.execute(
        select(
            StockLevel.sku,
            StockLevel.location_id,
            StockLevel.on_hand - StockLevel.reserved - StockLevel.safety_stock,
        ).where(StockLevel.sku.in_(wanted))
    )
    for sku, location_id, units in rows:
        available[sku][location_id] = int(units)
    policies = all_policies(session) if policies is None else policies
    return {sku: available_to_promise(available[sku], policies) for sku in wanted}


def _forget(session: Session, *_: object) -> None:
    session.info.pop(_NOTED, None)


def install(session_factory: SessionFactory) -> None:
    event.listen(session_factory, "after_commit", _forget)
    event.listen(session_factory, "after_rollback", _forget)
