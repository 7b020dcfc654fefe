"""A pulled channel's cursor on both databases: it moves forward only from where the pull started."""

from __future__ import annotations

from persistence.guarded_writes.channel_cursors import load_cursor, save_cursor
from persistence.models import ChannelCursor


def test_the_cursor_moves_only_from_where_the_pull_started(database):
    factory = database.session_factory
    assert load_cursor(factory, "bol") is None

    assert save_cursor(factory, "bol", previous=None, cursor="page-2", orders=2)
    assert save_cursor(factory, "bol", previous="page-2", cursor="page-3", orders=1)
    # An overtaken pull (it started from page-2) must not take the cursor back.
    assert not save_cursor(factory, "bol", previous="page-2", cursor="page-3-again", orders=5)
    # Nor may a second "first" pull.
    assert not save_cursor(factory, "bol", previous=None, cursor="page-1", orders=5)

    assert load_cursor(factory, "bol") == "page-3"
    with database.session() as session:
        row = session.get(ChannelCursor, "bol")
        assert row is not None and row.orders_seen == 3 and row.pulled_at is not None
    assert load_cursor(factory, "amazon") is None
