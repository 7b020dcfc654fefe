"""How long each business report takes at 100,000 orders, on SQLite and PostgreSQL.

    python -m bench.reports [--orders 100000] [--days 90] [--runs 7] [--database-url URL]
                            [--sqlite-only] [--json]

Seeds a fresh database exactly as bench/kpis.py does (orders over the last `--days` days in five
channels and three currencies, with their lines, shipments, payments, returns with refunds, store
credit and goodwill), then adds a unit cost to nine SKUs in ten (the tenth has none, so the
"no cost" rows are exercised) and stock of every SKU at a third of the locations. Then times each
report through services.reports.Reports (what the API and the dashboard call): the median (p50) and
p95 of `--runs` runs after one warm-up.

SQLite always (a temporary file); PostgreSQL too when `--database-url` or OMS_TEST_POSTGRES_URL
names one: that database is migrated and EMPTIED first (use a scratch database).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, text

from bench.kpis import LOCATIONS, fresh, seed
from domain.report_periods import Granularity
from persistence.db import create_session_factory
from persistence.models import Product, StockLevel
from services.reports import Reports
from services.unit_of_work import units_on

SKUS = [f"SKU-{n:04d}" for n in range(2000)]
"""The SKUs bench/kpis.py sells."""


def stock_and_costs(engine: Engine, seed_value: int = 31) -> dict[str, int]:
    """A unit cost for nine SKUs in ten (EUR; every 50th in GBP), stock at a third of the locations."""
    rng = random.Random(seed_value)
    products = [
        {
            "sku": sku,
            "name": sku,
            "updated_at": datetime.now(UTC),
            "unit_cost_minor": None if n % 10 == 9 else rng.randrange(100, 4000),
            "unit_cost_currency": None if n % 10 == 9 else ("GBP" if n % 50 == 0 else "EUR"),
        }
        for n, sku in enumerate(SKUS)
    ]
    levels = [
        {
            "location_id": loc,
            "sku": sku,
            "on_hand": rng.randrange(0, 200),
            "reserved": 0,
            "safety_stock": 0,
            "held": 0,
            "updated_at": datetime.now(UTC),
        }
        for sku in SKUS
        for loc in LOCATIONS
        if rng.random() < 1 / 3
    ]
    with engine.begin() as connection:
        connection.execute(Product.__table__.insert(), products)  # type: ignore[attr-defined]
        connection.execute(StockLevel.__table__.insert(), levels)  # type: ignore[attr-defined]
        connection.execute(text("ANALYZE"))
    return {"products": len(products), "stock_levels": len(levels)}


def cases(reports: Reports, now: datetime, days: int) -> dict[str, Callable[[], Any]]:
    today = now.date()
    first = today - timedelta(days=days)
    return {
        "performance, 13 weeks by week": lambda: reports.performance(None, None, Granularity.WEEK),
        f"performance, {days + 1} days by month": lambda: reports.performance(first, today, Granularity.MONTH),
        "performance, 13 weeks, top 20 SKUs": lambda: reports.performance(None, None, Granularity.WEEK, top=20),
        "performance, 13 weeks, one channel": lambda: reports.performance(None, None, Granularity.WEEK, channel="bol"),
        "financials, now + last 30 days": lambda: reports.financials(None, None),
        f"financials, now + {days + 1} days": lambda: reports.financials(first, today),
        "stock value, every location": lambda: reports.stock_value(),
    }


def percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[max(0, math.ceil(fraction * len(ordered)) - 1)]


def time_reports(engine: Engine, now: datetime, days: int, runs: int) -> dict[str, dict[str, float]]:
    """p50 and p95 milliseconds per report."""
    reports = Reports(units_on(create_session_factory(engine)))
    figures: dict[str, dict[str, float]] = {}
    for name, call in cases(reports, now, days).items():
        call()  # warm the caches once, as a page asked twice would
        samples = []
        for _ in range(runs):
            started = time.perf_counter()
            call()
            samples.append((time.perf_counter() - started) * 1000)
        figures[name] = {"p50": statistics.median(samples), "p95": percentile(samples, 0.95)}
    return figures


def run(url: str, args: argparse.Namespace, now: datetime) -> dict[str, Any]:
    engine = fresh(url)
    kind = engine.dialect.name
    print(f"{kind}: seeding {args.orders} orders over {args.days} days …", file=sys.stderr)
    counts, seconds = seed(engine, args.orders, args.days, now)
    counts |= stock_and_costs(engine)
    print(f"{kind}: seeded {counts} in {seconds:.1f} s", file=sys.stderr)
    result = {
        "database": kind,
        "rows": counts,
        "seed_seconds": round(seconds, 1),
        "ms": time_reports(engine, now, args.days, args.runs),
    }
    engine.dispose()
    return result


def report(result: dict[str, Any]) -> None:
    print(f"\nReports on {result['database']} ({result['rows']['orders']} orders; ms over the runs)")
    print(f"  {'report':<42}{'p50':>8}{'p95':>8}")
    for name, figures in result["ms"].items():
        print(f"  {name:<42}{figures['p50']:>8.0f}{figures['p95']:>8.0f}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--orders", type=int, default=100_000)
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--database-url", default=os.environ.get("OMS_TEST_POSTGRES_URL", ""))
    parser.add_argument("--sqlite-only", action="store_true")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    now = datetime.now(UTC).replace(microsecond=0)
    urls = [f"sqlite:///{Path(tempfile.mkdtemp()) / 'reports.db'}"]
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
