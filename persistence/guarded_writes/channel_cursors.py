"""Where each pulled channel's next pull starts (table channel_cursors).

The cursor moves only after every order of a page was started or cancelled here, so a worker that
dies mid-page repeats that page (harmless: order ids dedupe) and never skips an order. Saving is a
compare-and-set against the cursor the page was pulled from: an overtaken pull (an attempt Temporal
gave up on that still runs in a lost worker) cannot move the cursor backwards.
"""

from __future__ import annotations

from sqlalchemy.exc import IntegrityError

from persistence.db import SessionFactory
from persistence.models import ChannelCursor, utcnow
from persistence.unit_of_work import UnitOfWork


def load_cursor(session_factory: SessionFactory, channel: str) -> str | None:
    """The cursor to pull from; None: never pulled (the source starts from its own lookback)."""
    with UnitOfWork(session_factory) as uow:
        row = uow.session.get(ChannelCursor, channel)
        return row.cursor if row is not None else None


def save_cursor(
    session_factory: SessionFactory, channel: str, *, previous: str | None, cursor: str | None, orders: int
) -> bool:
    """Move the cursor from `previous` to `cursor`, counting the page's orders. False (nothing
    saved) when the stored cursor is no longer `previous`: someone else pulled meanwhile."""
    with UnitOfWork(session_factory) as uow:
        row = uow.session.get(ChannelCursor, channel, with_for_update=True)
        if row is None:
            if previous is not None:
                return False  # reset by a person while we pulled: theirs wins
            uow.session.add(ChannelCursor(channel=channel, cursor=cursor, pulled_at=utcnow(), orders_seen=orders))
            try:
                uow.commit()
            except IntegrityError:
                return False  # a concurrent first pull inserted it
            return True
        if row.cursor != previous:
            return False
        row.cursor, row.pulled_at, row.orders_seen = cursor, utcnow(), row.orders_seen + orders
        uow.commit()
        return True
