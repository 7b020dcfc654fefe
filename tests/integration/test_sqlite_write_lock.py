"""The API asks for SQLite's write lock itself (persistence.db._take_write_lock): it waits while a
worker's transaction holds the lock and takes it once that commits, with nothing lost; its reads
still wait for a busy database as before rather than answering "locked"."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime

from sqlalchemy import func, select

from persistence.db import SessionFactory, create_db_engine, create_session_factory
from persistence.models import StockOutbox
from tests.conftest import TestDatabase as Database


def _row(session_factory: SessionFactory, sku: str) -> None:
    with session_factory() as session:
        session.add(StockOutbox(sku=sku, created_at=datetime.now(UTC), attempts=0))
        session.commit()


def test_the_api_waits_for_a_held_write_lock_and_then_writes(sqlite_database: Database) -> None:
    api = create_db_engine(sqlite_database.url, ask_for_the_lock=True)
    api_sessions = create_session_factory(api)
    readers = create_session_factory(api, read_only=True)
    worker = sqlite_database.session()
    worker.add(StockOutbox(sku="LOCK-WORKER", created_at=datetime.now(UTC), attempts=0))
    worker.flush()  # the worker's BEGIN IMMEDIATE holds the write lock from here until it commits

    wrote = threading.Event()
    failures: list[BaseException] = []

    def api_write() -> None:
        try:
            _row(api_sessions, "LOCK-API")
            wrote.set()
        except BaseException as exc:  # reported by the assertion below
            failures.append(exc)

    writer = threading.Thread(target=api_write)
    writer.start()
    time.sleep(0.2)  # let it ask a few dozen times while the lock is held
    assert not wrote.is_set() and not failures
    with readers() as session:  # reading beside the held lock does not wait (WAL) and does not fail
        assert session.scalar(select(func.count()).select_from(StockOutbox).where(StockOutbox.sku == "LOCK-API")) == 0
    worker.commit()
    writer.join(timeout=30)
    assert wrote.is_set(), failures
    with readers() as session:
        skus = set(session.scalars(select(StockOutbox.sku)))
    assert {"LOCK-WORKER", "LOCK-API"} <= skus
    # A pooled connection used for reading and then for writing again still writes.
    _row(api_sessions, "LOCK-API-2")
    with readers() as session:
        assert session.scalar(select(func.count()).select_from(StockOutbox).where(StockOutbox.sku == "LOCK-API-2")) == 1
    worker.close()
    api.dispose()
