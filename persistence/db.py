"""Engines and sessions. SQLite gets WAL and write transactions that take the lock up front; read-only
sessions take no lock at all (WAL lets them read beside the one writer)."""

from __future__ import annotations

import sqlite3
import time
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
    url: str,
    *,
    pool_size: int = 20,
    max_overflow: int | None = None,
    pre_ping: bool = True,
    ask_for_the_lock: bool = False,
) -> Engine:
    """`pool_size` and `max_overflow` (default: as many as the pool) bound what this process holds
    of PostgreSQL's connections (config.DatabasePool). `pre_ping` costs a round trip per
    transaction to spare a request a dead pooled connection; the worker turns it off (a step that
    meets one fails and Temporal retries it) and recycles connections instead. `ask_for_the_lock`
    (SQLite; the API): see _take_write_lock."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return _sqlite_engine(url, parsed.database, ask_for_the_lock=ask_for_the_lock)
    overflow = pool_size if max_overflow is None else max_overflow
    return create_engine(url, pool_size=pool_size, max_overflow=overflow, pool_pre_ping=pre_ping, pool_recycle=1800)


LOCK_ASKED_EVERY = 0.002
LOCK_WAIT_SECONDS = 30.0


def _take_write_lock(dbapi_connection: Any) -> None:
    """BEGIN IMMEDIATE, asked again every 2 ms while another connection holds the write lock.

    SQLite's own busy handler (busy_timeout) sleeps longer the longer it waits: 1, 2, 5 ... then
    100 ms between tries, so a writer that has waited a while sleeps through the moments the lock is
    free and busier writers take it first. Under a busy worker a webhook waited up to a second for
    its one short write. The API's writes are people and channels waiting for an answer; the
    worker's steps are not: the API asks this often, the worker keeps the busy handler.
    """
    deadline = time.monotonic() + LOCK_WAIT_SECONDS
    while True:
        try:
            dbapi_connection.execute("BEGIN IMMEDIATE")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() >= deadline:
                raise
        time.sleep(LOCK_ASKED_EVERY)


def _sqlite_engine(url: str, database: str | None, *, ask_for_the_lock: bool = False) -> Engine:
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
        # A connection starts as a writer (connection.info has no READ_ONLY yet): one that asks for
        # the lock itself must hear "locked" at once; switched to reading, it waits as ever.
        cursor.execute(f"PRAGMA busy_timeout={0 if ask_for_the_lock else 30000}")
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
            if ask_for_the_lock:  # a writer asks for the lock itself and must hear "locked" at once
                connection.exec_driver_sql(f"PRAGMA busy_timeout={30000 if read_only else 0}")
            connection.info[READ_ONLY] = read_only  # per pooled connection: set only when it changes
        if read_only:
            connection.exec_driver_sql("BEGIN")
        elif ask_for_the_lock:
            _take_write_lock(connection.connection.dbapi_connection)
        else:
            connection.exec_driver_sql("BEGIN IMMEDIATE")

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
