"""Every transaction that moves stock also writes each touched SKU's available-to-promise per
channel to the outbox, in that same transaction: a session hook does it, so no caller can forget."""

from __future__ import annotations

from collections import defaultdict

from sqlalchemy import event, select
from sqlalchemy.orm import Session

from domain.channels import available_to_promise
from persistence.channels import all_policies
from persistence.db import SessionFactory
from persistence.models import StockLevel, StockOutbox

_CHANGED = "oms.stock_changed"


def note_stock_change(session: Session, sku: str) -> None:
    session.info.setdefault(_CHANGED, set()).add(sku)


def _write_outbox(session: Session) -> None:
    skus = session.info.pop(_CHANGED, None)
    if not skus:
        return
    available: dict[str, dict[str, int]] = defaultdict(dict)
    rows = session.execute(
        select(
            StockLevel.sku,
            StockLevel.location_id,
            StockLevel.on_hand - StockLevel.reserved - StockLevel.safety_stock,
        ).where(StockLevel.sku.in_(sorted(skus)))
    )
    for sku, location_id, units in rows:
        available[sku][location_id] = int(units)
    policies = all_policies(session)
    for sku in sorted(skus):
        session.add(StockOutbox(sku=sku, atp=available_to_promise(available[sku], policies)))


def _forget(session: Session) -> None:
    session.info.pop(_CHANGED, None)


def install(session_factory: SessionFactory) -> None:
    event.listen(session_factory, "before_commit", _write_outbox)
    event.listen(session_factory, "after_rollback", _forget)
