"""How long the reads people wait for take at 100,000 orders, through the real app, on SQLite and PostgreSQL.

    python -m bench.reads [--orders 100000] [--days 90] [--runs 20] [--database-url URL]
                          [--sqlite-only] [--json]

Seeds a fresh database exactly as bench/kpis.py does (orders over the last `--days` days in five
channels and three currencies, with their lines, shipments, payments, timelines and returns), then
asks each read of the list below of api.main's app in-process (Starlette's TestClient, the staff
token as a bearer or the dashboard's signed-in cookie), so routing, authentication, the queries and
serialization all count: the median (p50) and p95 of `--runs` requests after one warm-up, and the
median CPU time this process spent on one (on a shared machine the wall clock also measures the rest).

SQLite always (a temporary file); PostgreSQL too when `--database-url` or OMS_TEST_POSTGRES_URL names
one: that database is migrated and EMPTIED first (use a scratch database).
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import os
import re
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import Engine, func, select, text

from api.main import create_app
from bench.kpis import fresh, seed
from config import load_settings
from ops.temporal_dev import free_port
from persistence.db import create_session_factory
from persistence.models import OrderLineRecord, OrderRecord, ReturnRecord

TOKEN = "bench-reads-token"
BEARER = {"Authorization": f"Bearer {TOKEN}"}
DEEP_PAGE = 0.5
"""The deep page starts this far into the whole list (50,000 orders in at 100,000)."""


@dataclass(frozen=True)
class Typical:
    """What the reads ask for, taken from the seeded data so each finds something."""

    order_id: str
    """The order of the latest return: shipped, with its lines, parcel, payment, return and timeline."""
    sku: str
    """A SKU sold as often as most."""
    email: str
    """That order's e-mail (support's look-up: one order, answered by a redirect to it)."""
    postcode: str
    """That order's postcode key (support's look-up: the orders of everyone there, listed)."""
    orders: int


def typical(engine: Engine) -> Typical:
    with create_session_factory(engine)() as session:
        orders = session.scalar(select(func.count()).select_from(OrderRecord)) or 0
        returned = select(ReturnRecord.order_id).order_by(ReturnRecord.created_at.desc()).limit(1)
        order_id = session.scalar(
            select(OrderRecord.order_id)
            .where(OrderRecord.order_id.in_(returned.scalar_subquery()))
            .order_by(OrderRecord.order_id)
        ) or session.scalar(select(OrderRecord.order_id).order_by(OrderRecord.received_at.desc()).limit(1))
        sku = session.scalar(select(OrderLineRecord.sku).order_by(OrderLineRecord.order_id).limit(1))
        email, postcode = session.execute(
            select(OrderRecord.customer_email, OrderRecord.postcode_key).where(OrderRecord.order_id == order_id)
        ).one()
    if order_id is None or sku is None:
        raise SystemExit("the database holds no orders to read")
    return Typical(order_id, sku, email, postcode, orders)


Read = Callable[[TestClient], Response]


def reads(seeded: Typical, now: datetime, form_token: Callable[[], str]) -> dict[str, Read]:
    """Each read as its page or client asks for it: name → one request (its answer checked by the caller)."""
    since = quote((now - timedelta(days=30)).isoformat())
    deep = int(seeded.orders * DEEP_PAGE)

    def get(path: str, *, bearer: bool = True) -> Read:
        return lambda client: client.get(path, headers=BEARER if bearer else None)

    def support(typed: str) -> Read:
        def look_up(client: TestClient) -> Response:
            response: Response = client.post("/dashboard/support", data={"q": typed, "form_token": form_token()})
            return response

        return look_up

    return {
        "GET /orders (newest 50)": get("/orders"),
        "GET /orders?status=SHIPPED": get("/orders?status=SHIPPED"),
        "GET /orders?status=ON_HOLD": get("/orders?status=ON_HOLD"),
        "GET /orders?channel=pos": get("/orders?channel=pos"),
        "GET /orders?sku=…": get(f"/orders?sku={quote(seeded.sku)}"),
        "GET /orders?status=SHIPPED&channel=bol": get("/orders?status=SHIPPED&channel=bol"),
        f"GET /orders?offset={deep}": get(f"/orders?offset={deep}"),
        "GET /orders/{id}": get(f"/orders/{quote(seeded.order_id)}"),
        "GET /kpis (30 days)": get(f"/kpis?since={since}"),
        "GET /kpis (7 days, default)": get("/kpis"),
        "dashboard overview": get("/dashboard", bearer=False),
        "dashboard orders, page 1": get("/dashboard/orders", bearer=False),
        "dashboard order page": get(f"/dashboard/orders/{quote(seeded.order_id)}", bearer=False),
        "support look-up by e-mail": support(seeded.email.upper()),
        "support look-up by postcode": support(seeded.postcode.lower()),
    }


def percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[max(0, math.ceil(fraction * len(ordered)) - 1)]


@contextmanager
def signed_in_app(url: str) -> Iterator[TestClient]:
    """api.main's app on the database at `url`, its dashboard signed in with the staff token.
    Temporal is pointed at a port nobody listens on: no read asks it anything."""
    settings = load_settings(database_url=url, admin_token=TOKEN, temporal_address=f"localhost:{free_port()}")
    with TestClient(create_app(settings), follow_redirects=False) as client:
        signed = client.post("/dashboard/login", data={"token": TOKEN, "next": "/dashboard"})
        if signed.status_code != 303:
            raise RuntimeError(f"the dashboard refused the staff token: {signed.status_code}")
        root = logging.getLogger()
        level = root.level
        root.setLevel(logging.WARNING)  # a line per request would bury the table
        try:
            yield client
        finally:
            root.setLevel(level)


def _form_token(client: TestClient) -> Callable[[], str]:
    def token() -> str:
        found = re.search(r'name="form_token" value="([^"]+)"', client.get("/dashboard/support").text)
        if found is None:
            raise RuntimeError("the support page has no form token")
        return found.group(1)

    cached = token()
    return lambda: cached


def _checked(name: str, response: Response) -> None:
    if response.status_code not in (200, 303):
        raise RuntimeError(f"{name}: {response.status_code} {response.text[:300]}")


def time_reads(url: str, seeded: Typical, now: datetime, runs: int) -> dict[str, dict[str, float]]:
    """p50 and p95 milliseconds per read, over `runs` requests after one warm-up; and `cpu`, the
    median CPU milliseconds this process spent on one (the app, and on SQLite the database too):
    on a shared machine the wall clock measures the other work as much as the read."""
    figures: dict[str, dict[str, float]] = {}
    with signed_in_app(url) as client:
        for name, read in reads(seeded, now, _form_token(client)).items():
            _checked(name, read(client))  # warm the caches once, as a page asked twice would
            samples, cpu = [], []
            for _ in range(runs):
                started, cpu_started = time.perf_counter(), time.process_time()
                response = read(client)
                samples.append((time.perf_counter() - started) * 1000)
                cpu.append((time.process_time() - cpu_started) * 1000)
                _checked(name, response)
            figures[name] = {
                "p50": statistics.median(samples),
                "p95": percentile(samples, 0.95),
                "cpu": statistics.median(cpu),
            }
    return figures


def vacuum(engine: Engine) -> None:
    """What PostgreSQL's autovacuum does after a bulk load of this size (its insert threshold): the
    visibility map set, so a count or a key-only page is answered from the index alone; and fresh
    statistics on both databases."""
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("VACUUM ANALYZE"))
    else:
        with engine.begin() as connection:
            connection.execute(text("ANALYZE"))


def run(url: str, args: argparse.Namespace, now: datetime) -> dict[str, Any]:
    engine = fresh(url)
    kind = engine.dialect.name
    print(f"{kind}: seeding {args.orders} orders over {args.days} days …", file=sys.stderr)
    counts, seconds = seed(engine, args.orders, args.days, now)
    vacuum(engine)
    print(f"{kind}: seeded {counts} in {seconds:.1f} s", file=sys.stderr)
    seeded = typical(engine)
    engine.dispose()
    figures = time_reads(url, seeded, now, args.runs)
    return {
        "database": kind,
        "rows": counts,
        "seed_seconds": round(seconds, 1),
        "load_average": round(os.getloadavg()[0], 1),
        "ms": figures,
    }


def report(result: dict[str, Any]) -> None:
    print(
        f"\nReads on {result['database']} ({result['rows']['orders']} orders; ms over the runs; "
        f"load average {result['load_average']} as they ended)"
    )
    cpu = "cpu (app + SQLite)" if result["database"] == "sqlite" else "cpu (app)"
    print(f"  {'read':<42}{'p50':>8}{'p95':>8}{cpu:>20}")
    for name, figures in result["ms"].items():
        print(f"  {name:<42}{figures['p50']:>8.0f}{figures['p95']:>8.0f}{figures['cpu']:>20.0f}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--orders", type=int, default=100_000)
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--database-url", default=os.environ.get("OMS_TEST_POSTGRES_URL", ""))
    parser.add_argument("--sqlite-only", action="store_true")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    now = datetime.now(UTC).replace(microsecond=0)
    urls = [f"sqlite:///{Path(tempfile.mkdtemp()) / 'reads.db'}"]
    if args.database_url and not args.sqlite_only:
        urls.append(args.database_url)
    results = [run(url, args, now) for url in urls]
    if args.json:
        print(json.dumps(results, indent=2))
    else:
        for result in results:
            report(result)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
