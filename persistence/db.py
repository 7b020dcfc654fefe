"""Engines and sessions. SQLite gets WAL and write transactions that take the lock up front; read-only
sessions take no lock at all (WAL lets them read beside the one writer)."""

from __future__ import annotations

import weakref
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

SessionFactory = sessionmaker[Session]

READ_ONLY = "oms_read_only"
"""Execution option of a read-only session factory's engine (see create_session_factory)."""


def create_db_engine(
    url: str, *, pool_size: int = 20, max_overflow: int | None = None, pre_ping: bool = True
) -> Engine:
    """`pool_size` and `max_overflow` (default: as many as the pool) bound what this process holds
    of PostgreSQL's connections (config.DatabasePool). `pre_ping` costs a round trip per
    transaction to spare a request a dead pooled connection; the worker turns it off (a step that
    meets one fails and Temporal retries it) and recycles connections instead."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return _sqlite_engine(url, parsed.database)
    overflow = pool_size if max_overflow is None else max_overflow
    return create_engine(url, pool_size=pool_size, max_overflow=overflow, pool_pre_ping=pre_ping, pool_recycle=1800)


def _sqlite_engine(url: str, database: str | None) -> Engine:
    if database and database != ":memory:":
        Path(database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30}, pool_size=20)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the driver, decide when transactions start (see _on_begin).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        # A writer's IMMEDIATE takes the write lock at BEGIN: two writers queue on busy_timeout
        # instead of both reading, then one failing to upgrade its lock (SQLITE_BUSY, not retried by
        # SQLite). A reader's plain (deferred) BEGIN takes no lock, and query_only makes sure it
        # never needs one: a write in a read-only session fails instead of upgrading.
        read_only = bool(connection.get_execution_options().get(READ_ONLY, False))
        if connection.info.get(READ_ONLY, False) is not read_only:
            connection.exec_driver_sql(f"PRAGMA query_only={int(read_only)}")
            connection.info[READ_ONLY] = read_only  # per pooled connection: set only when it changes
        connection.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")

    return engine


def create_session_factory(engine: Engine, *, read_only: bool = False) -> SessionFactory:
    """Sessions on `engine`. `read_only`: for work that only reads (GET requests, a look-up before a
    call to Temporal): on SQLite it takes no write lock, so it never stalls the worker's writes; on
    both databases a write in it fails (PRAGMA query_only, a READ ONLY transaction), so a read path
    that starts writing is caught by the tests rather than quietly taking the lock."""
    # Imported here: they import the models, and db.py stays importable alone.
    from persistence.guarded_writes import payment_ledger, stock_outbox

    if read_only:
        options: dict[str, Any] = {READ_ONLY: True}
        if engine.dialect.name == "postgresql":
            options["postgresql_readonly"] = True
        engine = engine.execution_options(**options)
    factory = sessionmaker(engine, expire_on_commit=False)
    stock_outbox.install(factory)
    payment_ledger.install(factory)
    return factory


_readers: weakref.WeakKeyDictionary[Engine, SessionFactory] = weakref.WeakKeyDictionary()


def readers_of(session_factory: SessionFactory) -> SessionFactory:
    """Read-only sessions on the same engine as `session_factory`, made once per engine: for a
    look-up on a path that otherwise writes (on SQLite a write session's BEGIN IMMEDIATE takes the
    database's one write lock, even to read)."""
    engine: Engine = session_factory.kw["bind"]
    readers = _readers.get(engine)
    if readers is None:
        readers = _readers[engine] = create_session_factory(engine, read_only=True)
    return readers
