"""Reservations per second on one hot SKU, and the oversell count (which must be 0).

    python -m bench.reservations [--database-url URL] [--workers 32] [--processes 4]
                                 [--attempts 6000] [--stock 5000]

Each attempt is what the reserve activity does to stock: in one transaction, an idempotency record
keyed by its step, a guarded single-statement UPDATE and its ledger row, and the ATP outbox row
for the SKU. `--workers` concurrent workers are spread over `--processes` OS processes (threads
inside each), so the database, not one process's lock, keeps the stock true. More attempts than
stock, so the guard is exercised. A fresh database is made and migrated for the run: SQLite in a
temporary file by default; with a PostgreSQL URL, the named database is emptied first (use a
scratch database).
"""

from __future__ import annotations

import argparse
import multiprocessing
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from persistence.db import create_db_engine, create_session_factory
from persistence.guarded_writes import inventory
from persistence.guarded_writes.idempotency import Done, run_once
from persistence.migrate import upgrade_to_head
from persistence.models import Base, Location, StockLevel
from persistence.unit_of_work import UnitOfWork

SKU = "BENCH-HOT"
LOCATION = "BENCH-DC"


def prepare(url: str, stock: int) -> None:
    upgrade_to_head(url)
    engine = create_db_engine(url, pool_size=1)
    if engine.dialect.name == "postgresql":
        tables = ", ".join(table.name for table in Base.metadata.sorted_tables)
        with engine.begin() as connection:
            connection.execute(text(f"TRUNCATE TABLE {tables} RESTART IDENTITY CASCADE"))
    factory = create_session_factory(engine)
    with UnitOfWork(factory) as uow:
        uow.session.add(Location(location_id=LOCATION, name="Bench DC", kind="warehouse", country="NL"))
        uow.session.flush()
        inventory.adjust_on_hand(uow.session, LOCATION, SKU, stock, kind="receipt", reason="bench")
        uow.commit()
    engine.dispose()


def _process(url: str, threads: int, keys: list[int], start_at: float, results: multiprocessing.Queue) -> None:  # type: ignore[type-arg]
    engine = create_db_engine(url, pool_size=threads, pre_ping=False)  # as the worker's
    factory = create_session_factory(engine)
    won = lost = 0
    lock = threading.Lock()

    def attempt(n: int) -> None:
        nonlocal won, lost
        order_id = f"order-bench-{n}"

        def reserve_one(session: Session) -> Done:
            inventory.reserve(session, LOCATION, {SKU: 1}, order_id)
            return Done()

        try:
            run_once(factory, f"{order_id}:reserve:1", reserve_one, Done)
            with lock:
                won += 1
        except inventory.InsufficientStock:
            with lock:
                lost += 1

    time.sleep(max(start_at - time.time(), 0))
    with ThreadPoolExecutor(max_workers=threads) as pool:
        list(pool.map(attempt, keys))
    engine.dispose()
    results.put((won, lost))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", default="")
    parser.add_argument("--workers", type=int, default=32)
    parser.add_argument("--processes", type=int, default=4)
    parser.add_argument("--attempts", type=int, default=6000)
    parser.add_argument("--stock", type=int, default=5000)
    args = parser.parse_args()
    url = args.database_url or f"sqlite:///{Path(tempfile.mkdtemp()) / 'bench.db'}"
    prepare(url, args.stock)
    processes = max(1, min(args.processes, args.workers))
    threads = args.workers // processes
    keys = list(range(args.attempts))
    results: multiprocessing.Queue = multiprocessing.Queue()  # type: ignore[type-arg]
    start_at = time.time() + 2.0  # every process connected and waiting before the clock starts
    children = [
        multiprocessing.Process(target=_process, args=(url, threads, keys[p::processes], start_at, results))
        for p in range(processes)
    ]
    for child in children:
        child.start()
    outcomes = [results.get() for _ in children]
    elapsed = time.time() - start_at
    for child in children:
        child.join()
    won, lost = sum(o[0] for o in outcomes), sum(o[1] for o in outcomes)
    engine = create_db_engine(url, pool_size=1)
    with engine.connect() as connection:
        level = connection.execute(
            select(StockLevel.on_hand, StockLevel.reserved, StockLevel.safety_stock).where(StockLevel.sku == SKU)
        ).one()
    engine.dispose()
    on_hand, reserved, safety = level
    oversold = max(reserved - (on_hand - safety), 0) + max(won - args.stock, 0)
    print(f"reservations on one hot SKU ({engine.dialect.name}, {processes} processes x {threads} threads)")
    print(f"  attempts {args.attempts}, stock {args.stock}: {won} reserved, {lost} refused in {elapsed:.2f} s")
    print(f"  {won / elapsed:.0f} reservations/s   ({args.attempts / elapsed:.0f} attempts/s)")
    print(f"  reserved {reserved} of {on_hand} on hand: oversold {oversold}")
    return 1 if oversold or reserved != won else 0


if __name__ == "__main__":
    raise SystemExit(main())
