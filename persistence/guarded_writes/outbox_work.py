"""Is there anything new for the channels? One cheap look, so an idle stock feed can wait for work
inside its activity instead of running a pass (and a round trip through Temporal) every second."""

from __future__ import annotations

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from persistence.models import CancellationNoticeOutbox, ShipmentNoticeOutbox, StockOutbox


def new_work_waiting(session: Session) -> bool:
    """A stock change not yet delivered, or a notice never tried. Notices a channel refused wait for
    their retry time and are picked up by the pass that ends each idle wait."""
    stock = exists().where(StockOutbox.delivered_at.is_(None))
    shipments = exists().where(ShipmentNoticeOutbox.delivered_at.is_(None), ShipmentNoticeOutbox.attempts == 0)
    cancellations = exists().where(
        CancellationNoticeOutbox.delivered_at.is_(None), CancellationNoticeOutbox.attempts == 0
    )
    return bool(session.execute(select(stock | shipments | cancellations)).scalar())
