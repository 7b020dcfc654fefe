"""persistence.round_trips counts what reaches the database: each statement, and each transaction's
end (and, on PostgreSQL, its begin), on both databases; a read-only session's end is a rollback."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime

from sqlalchemy import select

from persistence.db import create_session_factory
from persistence.models import StockOutbox
from persistence.round_trips import count_round_trips
from tests.conftest import TestDatabase as Database


def test_every_statement_and_every_transaction_end_is_counted(database: Database) -> None:
    kinds: Counter[str] = Counter()
    count_round_trips(database.engine, lambda kind: kinds.update([kind]))

    with database.session() as session:
        session.add(StockOutbox(sku="RT-SKU", created_at=datetime.now(UTC), attempts=0))
        session.commit()
    with create_session_factory(database.engine, read_only=True)() as session:
        assert session.scalars(select(StockOutbox.attempts).where(StockOutbox.sku == "RT-SKU")).one() == 0
        session.rollback()

    assert kinds["commit"] == 1
    assert kinds["rollback"] == 1
    if database.kind == "postgresql":
        assert kinds["begin"] == 2
        assert kinds["statement"] >= 2  # the INSERT and the SELECT (psycopg sends BEGIN itself)
    else:
        assert kinds["begin"] == 0  # SQLite's BEGIN is a statement of ours (persistence.db)
        assert kinds["statement"] >= 4  # BEGIN IMMEDIATE, INSERT, BEGIN, SELECT (and PRAGMA query_only)
