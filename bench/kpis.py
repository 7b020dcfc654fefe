"""How long each KPI chart's query takes at 100,000 orders, on SQLite and PostgreSQL.

    python -m bench.kpis [--orders 100000] [--days 90] [--runs 5] [--database-url URL]
                         [--sqlite-only] [--compare] [--explain] [--json]

Seeds a fresh database with `--orders` orders spread over the last `--days` days and five channels
(with their lines, shipments, payments, timelines, some returns in different states, resolutions
and reasons with their refunds, store credit and write-offs, goodwill, backorders and late steps),
in bulk inserts straight into the tables (not through the API: the point is the read side), then
times every chart's query (persistence.read_model.kpi_series and .after_sales, defects per SKU,
plus the KPI report's own `kpi_rows`) over the default 30-day window and over the whole range:
the median of `--runs` runs.

SQLite always (a temporary file); PostgreSQL too when `--database-url` or OMS_TEST_POSTGRES_URL
names one: that database is migrated and EMPTIED first (use a scratch database). `--compare` first
times the queries without the indexes migration 0016 added for them (dropped, then made again),
so the report shows before and after. `--explain` prints each query's plan.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, Index, Table, event, text
from sqlalchemy.orm import Session

from persistence.db import create_db_engine, create_session_factory
from persistence.migrate import upgrade_to_head
from persistence.models import (
    Base,
    Escalation,
    GoodwillRecord,
    Location,
    OrderEvent,
    OrderLineRecord,
    OrderRecord,
    PaymentRecord,
    ReturnRecord,
    ShipmentRecord,
    StockWriteOff,
    StoreCreditAccount,
    StoreCreditEntry,
)
from persistence.read_model import after_sales
from persistence.read_model import kpi_series as ks
from persistence.read_model.defects import defects_per_sku
from persistence.read_model.kpis import kpi_rows
from services.reports import chart_window

CHANNELS = (("shopify", 45), ("bol", 25), ("amazon", 15), ("woocommerce", 10), ("pos", 5))
CURRENCIES = (("EUR", 90), ("GBP", 7), ("USD", 3))
LOCATIONS = [f"DC-{n:02d}" for n in range(1, 5)] + [f"STORE-{n:02d}" for n in range(1, 9)]
REASONS = (
    "does not fit: too small",
    "does not fit: too large",
    "damaged",
    "not as described",
    "changed mind",
    "arrived late",
    "Wrong item",
    "",
)
MARKETPLACES = ("bol", "amazon")
"""Channels that took the money: their returns are refunded on the channel."""
STEPS = ("pick", "pack", "ship")
BATCH = 5000
NEW_INDEXES = ("ix_order_events_kind_order", "ix_escalations_raised", "ix_returns_created")
"""What migration 0016 added for these queries (dropped and made again by --compare)."""

Query = Callable[[Session, datetime, datetime, str | None], Any]
REFERENCE = "(KPI report's kpi_rows, not charted)"
"""GET /kpis and the overview's query, timed for comparison: it brings every duration to Python."""
QUERIES: dict[str, Query] = {
    "orders + revenue per channel/day": ks.orders_per_channel_day,
    "processing p50/p90 per day": ks.processing_per_day,
    "fulfilment cost per order/day": ks.cost_per_day,
    "fulfilment cost per location": ks.cost_per_location,
    "return rate per day": ks.return_rate_per_day,
    "top return reasons": ks.top_return_reasons,
    "backorder rate per day": ks.backorder_rate_per_day,
    "late steps per day": ks.late_steps_per_day,
    "late steps per location": ks.late_steps_per_location,
    "after-sales: return rate per SKU + channel": after_sales.return_rates,
    "after-sales: refunds per channel": after_sales.refunds_by_channel,
    "after-sales: store credit per channel": after_sales.credit_issued,
    "after-sales: exchanges": after_sales.exchanges,
    "after-sales: defects per SKU": lambda session, since, until, channel: defects_per_sku(
        session, since, until, channel=channel
    ),
    REFERENCE: kpi_rows,
}


def _weighted(rng: random.Random, choices: tuple[tuple[str, int], ...]) -> str:
    return rng.choices([c for c, _ in choices], weights=[w for _, w in choices])[0]


def _rows(orders: int, days: int, now: datetime, seed: int = 14) -> Iterator[dict[str, list[dict[str, Any]]]]:
    """Batches of rows per table, deterministic for a seed."""
    rng = random.Random(seed)
    start = now - timedelta(days=days)
    for first in range(0, orders, BATCH):
        batch: dict[str, list[dict[str, Any]]] = {
            name: []
            for name in (
                "orders",
                "lines",
                "shipments",
                "payments",
                "events",
                "returns",
                "escalations",
                "goodwill",
                "accounts",
                "credit",
                "write_offs",
            )
        }
        for n in range(first, min(first + BATCH, orders)):
            order_id = f"bench-{n:07d}"
            # In the order they arrive, as the engine writes them: the table's physical order
            # follows received_at, as it does in a real database.
            received = start + timedelta(seconds=(n + rng.random()) * days * 86400 / orders)
            placed = received - timedelta(seconds=rng.uniform(0, 1800))
            channel, currency = _weighted(rng, CHANNELS), _weighted(rng, CURRENCIES)
            fate = rng.random()
            shipped = received + timedelta(hours=rng.lognormvariate(3, 0.8))
            if fate < 0.05:
                status, shipped_at = "CANCELLED", None
            elif fate < 0.08:
                status, shipped_at = "BACKORDERED", None
            elif fate < 0.10:
                status, shipped_at = "ON_HOLD", None
            elif shipped >= now:
                status, shipped_at = "IN_FULFILMENT", None
            else:
                # Delivered is the parcel's state (shipments.delivered_at): the order stays SHIPPED.
                status, shipped_at = rng.choice(("SHIPPED", "COMPLETED", "SHIPPED")), shipped
            backordered = status == "BACKORDERED" or (shipped_at is not None and rng.random() < 0.04)
            lines = [(f"SKU-{rng.randrange(2000):04d}", rng.randint(1, 3), rng.randrange(500, 8000, 5))]
            if rng.random() < 0.4:
                lines.append((f"SKU-{rng.randrange(2000):04d}", 1, rng.randrange(500, 8000, 5)))
            total = sum(q * p for _, q, p in lines) + 495
            batch["orders"].append(
                {
                    "order_id": order_id,
                    "channel": channel,
                    "external_id": str(n),
                    "reference": f"#{n}",
                    "status": status,
                    "currency": currency,
                    "total_minor": total,
                    "shipping_minor": 495,
                    "discount_minor": 0,
                    "payment_collected": True,
                    "shipping_address": {},
                    "customer_email": f"c{n}@example.org",
                    # domain.lookup's keys, as support looks orders up: one customer an order, a
                    # postcode shared by about eleven orders in 100,000
                    "email_key": f"c{n}@example.org",
                    "postcode_key": f"{1000 + n % 8999}AB",
                    "placed_at": placed,
                    "received_at": received,
                    "shipped_at": shipped_at,
                    "cancelled_at": received + timedelta(hours=1) if status == "CANCELLED" else None,
                    "fulfilled_by": "us",
                    "updated_at": shipped_at or received,
                }
            )
            for line_no, (sku, quantity, price) in enumerate(lines, start=1):
                batch["lines"].append(
                    {
                        "order_id": order_id,
                        "line_no": line_no,
                        "sku": sku,
                        "quantity": quantity,
                        "unit_price_minor": price,
                        "total_minor": price * quantity,
                        "title": sku,
                        "external_line_id": "",
                    }
                )
            batch["payments"].append(
                {
                    "payment_id": f"pay-{order_id}",
                    "order_id": order_id,
                    "provider": "stripe",
                    "provider_ref": f"pi_{n}",
                    "status": "captured",
                    "currency": currency,
                    "authorized_minor": total,
                    "captured_minor": total if shipped_at else 0,
                    "voided_minor": 0,
                    "refunded_minor": 0,
                    "created_at": received,
                    "updated_at": received,
                }
            )
            events = [("received", received), ("status:RESERVED", received + timedelta(seconds=5))]
            if backordered:
                events.append(("status:BACKORDERED", received + timedelta(seconds=4)))
            if shipped_at:
                events += [("sourcing", received + timedelta(seconds=6)), ("status:SHIPPED", shipped_at)]
            if status == "CANCELLED":
                events.append(("status:CANCELLED", received + timedelta(hours=1)))
            batch["events"] += [{"order_id": order_id, "kind": k, "detail": "", "at": at} for k, at in events]
            if status in ("CANCELLED", "ON_HOLD") or (status == "BACKORDERED" and rng.random() < 0.5):
                continue
            parcels = 2 if rng.random() < 0.1 else 1
            for p in range(parcels):
                location = rng.choice(LOCATIONS)
                shipment_id = f"shipment-{order_id}-{p}"
                batch["shipments"].append(
                    {
                        "shipment_id": shipment_id,
                        "order_id": order_id,
                        "location_id": location,
                        "status": "SHIPPED" if shipped_at else "PICKING",
                        "carrier": "postnl" if shipped_at else None,
                        "lines": {},
                        "fulfilment_cost_minor": rng.randrange(300, 900),
                        "kind": "delivery",
                        "created_at": received,
                        "shipped_at": shipped_at,
                        "delivered_at": shipped_at + timedelta(days=1) if shipped_at else None,
                    }
                )
                if rng.random() < 0.05:
                    raised = received + timedelta(hours=4)
                    if raised < now:
                        batch["escalations"].append(
                            {
                                "order_id": order_id,
                                "shipment_id": shipment_id,
                                "location_id": location,
                                "step": rng.choice(STEPS),
                                "due_at": raised,
                                "raised_at": raised,
                                "resolved_at": raised + timedelta(hours=2) if rng.random() < 0.7 else None,
                            }
                        )
            if shipped_at and rng.random() < 0.08:
                created = shipped_at + timedelta(days=rng.uniform(2, 20))
                if created < now:
                    _after_sales(batch, rng, n, order_id, channel, currency, lines[0], created, now)
            elif shipped_at and rng.random() < 0.01:
                done = shipped_at + timedelta(days=2)
                batch["goodwill"].append(
                    {
                        "goodwill_id": f"goodwill-{order_id}",
                        "order_id": order_id,
                        "form": "refund",
                        "amount_minor": 500,
                        "currency": currency,
                        "reason": "arrived late",
                        "given_by": "support",
                        "status": "REFUNDED" if done < now else "RESERVED",
                        "created_at": shipped_at,
                        "done_at": done if done < now else None,
                    }
                )
        yield batch


def _after_sales(
    batch: dict[str, list[dict[str, Any]]],
    rng: random.Random,
    n: int,
    order_id: str,
    channel: str,
    currency: str,
    line: tuple[str, int, int],
    created: datetime,
    now: datetime,
) -> None:
    """A return on the order's first line: mostly refunded (by the gateway, or by a marketplace that
    took the money), some exchanged or resolved as store credit, a few rejected or cancelled; some
    of its units scrapped."""
    sku, quantity, price = line
    units = rng.randint(1, quantity)
    fate = rng.random()
    resolution = "exchange" if fate < 0.15 else "store_credit" if fate < 0.25 else "refund"
    state = "REJECTED" if fate > 0.95 else "CANCELLED" if fate > 0.92 else "RESOLVED"
    refunded = created + timedelta(days=1)
    status = state
    if state == "RESOLVED" and resolution == "refund":
        status = "REFUND_ON_CHANNEL" if channel in MARKETPLACES else "REFUNDED" if refunded < now else "RECEIVED"
    batch["returns"].append(
        {
            "return_id": f"return-{order_id}",
            "order_id": order_id,
            "status": status,
            "state": state,
            "resolution": resolution,
            "lines": {sku: units},
            "short": {},
            "reason": rng.choice(REASONS),
            "currency": currency,
            "refund_minor": price * units if resolution != "exchange" else 0,
            "refunded_at": refunded if status == "REFUNDED" else None,
            "requested_by": "support",
            "created_at": created,
        }
    )
    if state == "RESOLVED" and resolution == "store_credit" and refunded < now:
        batch["accounts"].append(
            {"id": n + 1, "shop": channel, "customer_key": f"c{n}", "currency": currency, "created_at": refunded}
        )
        batch["credit"].append(
            {
                "account_id": n + 1,
                "entry_id": f"return-{order_id}",
                "kind": "issue",
                "amount_minor": price * units,
                "currency": currency,
                "at": refunded,
                "reason": "return",
                "order_id": order_id,
            }
        )
    if state == "RESOLVED" and rng.random() < 0.2 and refunded < now:
        batch["write_offs"].append(
            {
                "location_id": LOCATIONS[0],
                "sku": sku,
                "quantity": units,
                "reason": "returned damaged",
                "source": "return",
                "order_id": order_id,
                "return_id": f"return-{order_id}",
                "written_off_at": refunded,
            }
        )


TABLES: dict[str, Table] = {
    "orders": OrderRecord.__table__,  # type: ignore[dict-item]
    "lines": OrderLineRecord.__table__,  # type: ignore[dict-item]
    "payments": PaymentRecord.__table__,  # type: ignore[dict-item]
    "events": OrderEvent.__table__,  # type: ignore[dict-item]
    "shipments": ShipmentRecord.__table__,  # type: ignore[dict-item]
    "returns": ReturnRecord.__table__,  # type: ignore[dict-item]
    "escalations": Escalation.__table__,  # type: ignore[dict-item]
    "goodwill": GoodwillRecord.__table__,  # type: ignore[dict-item]
    "accounts": StoreCreditAccount.__table__,  # type: ignore[dict-item]
    "credit": StoreCreditEntry.__table__,  # type: ignore[dict-item]
    "write_offs": StockWriteOff.__table__,  # type: ignore[dict-item]
}


def seed(engine: Engine, orders: int, days: int, now: datetime) -> tuple[dict[str, int], float]:
    started = time.perf_counter()
    counts = dict.fromkeys(TABLES, 0)
    with engine.begin() as connection:
        connection.execute(
            Location.__table__.insert(),  # type: ignore[attr-defined]
            [{"location_id": loc, "name": loc, "kind": "warehouse", "country": "NL"} for loc in LOCATIONS],
        )
    for batch in _rows(orders, days, now):
        with engine.begin() as connection:
            for name, table in TABLES.items():
                if batch[name]:
                    connection.execute(table.insert(), batch[name])
                    counts[name] += len(batch[name])
    with engine.begin() as connection:
        connection.execute(text("ANALYZE"))
    return counts, time.perf_counter() - started


def fresh(url: str) -> Engine:
    upgrade_to_head(url)
    engine = create_db_engine(url, pool_size=2)
    if engine.dialect.name == "postgresql":
        tables = ", ".join(table.name for table in Base.metadata.sorted_tables)
        with engine.begin() as connection:
            connection.execute(text(f"TRUNCATE TABLE {tables} RESTART IDENTITY CASCADE"))
    return engine


def _new_indexes() -> list[Index]:
    return [index for table in Base.metadata.sorted_tables for index in table.indexes if index.name in NEW_INDEXES]


def drop_new_indexes(engine: Engine) -> None:
    with engine.begin() as connection:
        for index in _new_indexes():
            index.drop(connection, checkfirst=True)
        connection.execute(text("ANALYZE"))


def make_new_indexes(engine: Engine) -> None:
    with engine.begin() as connection:
        for index in _new_indexes():
            index.create(connection, checkfirst=True)
        connection.execute(text("ANALYZE"))


def time_queries(
    engine: Engine, windows: dict[str, tuple[datetime, datetime]], runs: int
) -> dict[str, dict[str, float]]:
    """Median milliseconds per query and window."""
    factory = create_session_factory(engine)
    figures: dict[str, dict[str, float]] = {}
    with factory() as session:
        for name, query in QUERIES.items():
            figures[name] = {}
            for label, (since, until) in windows.items():
                query(session, since, until, None)  # warm the caches once, as a page asked twice would
                samples = []
                for _ in range(runs):
                    started = time.perf_counter()
                    query(session, since, until, None)
                    samples.append((time.perf_counter() - started) * 1000)
                figures[name][label] = statistics.median(samples)
            session.rollback()
    return figures


def explain(engine: Engine, since: datetime, until: datetime) -> None:
    """Each query's plan (EXPLAIN QUERY PLAN on SQLite, EXPLAIN ANALYZE on PostgreSQL), on stderr:
    the statements are caught as they run, then explained with the same parameters."""
    captured: list[tuple[str, Any]] = []

    def capture(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, many: bool) -> None:
        captured.append((statement, parameters))

    prefix = "EXPLAIN ANALYZE " if engine.dialect.name == "postgresql" else "EXPLAIN QUERY PLAN "
    factory = create_session_factory(engine)
    for name, query in QUERIES.items():
        captured.clear()
        event.listen(engine, "before_cursor_execute", capture)
        with factory() as session:
            query(session, since, until, None)
        event.remove(engine, "before_cursor_execute", capture)
        with engine.connect() as connection:
            for statement, parameters in captured:
                if statement.lstrip().upper().startswith("SELECT"):
                    print(f"--- {name}", file=sys.stderr)
                    for row in connection.exec_driver_sql(prefix + statement, parameters):
                        print("   ", " | ".join(str(c) for c in row), file=sys.stderr)


def run(url: str, args: argparse.Namespace, now: datetime) -> dict[str, Any]:
    engine = fresh(url)
    kind = engine.dialect.name
    print(f"{kind}: seeding {args.orders} orders over {args.days} days …", file=sys.stderr)
    counts, seconds = seed(engine, args.orders, args.days, now)
    print(f"{kind}: seeded {counts} in {seconds:.1f} s", file=sys.stderr)
    today = now.date()
    windows = {
        "30 days": chart_window(None, None, today),
        f"{args.days + 1} days": chart_window(today - timedelta(days=args.days), today, today),
    }
    result: dict[str, Any] = {"database": kind, "rows": counts, "seed_seconds": round(seconds, 1)}
    if args.compare:
        drop_new_indexes(engine)
        result["before"] = time_queries(engine, windows, args.runs)
        make_new_indexes(engine)
    result["after"] = time_queries(engine, windows, args.runs)
    if args.explain:
        explain(engine, *windows["30 days"])
    engine.dispose()
    return result


def report(result: dict[str, Any]) -> None:
    print(f"\nKPI chart queries on {result['database']} ({result['rows']['orders']} orders; median ms)")
    after = result["after"]
    labels = list(next(iter(after.values())))
    before = result.get("before")
    head = "  ".join(f"{label:>16}" for label in labels)
    print(f"  {'query':<38}{head}")
    for name, figures in after.items():
        cells = []
        for label in labels:
            was = f"{before[name][label]:.0f} → " if before else ""
            cells.append(f"{was}{figures[label]:.0f}".rjust(16))
        print(f"  {name:<38}" + "  ".join(cells))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--orders", type=int, default=100_000)
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--database-url", default=os.environ.get("OMS_TEST_POSTGRES_URL", ""))
    parser.add_argument("--sqlite-only", action="store_true")
    parser.add_argument("--compare", action="store_true", help="time without migration 0016's indexes first")
    parser.add_argument("--explain", action="store_true", help="print each query's plan (stderr)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    now = datetime.now(UTC).replace(microsecond=0)
    urls = [f"sqlite:///{Path(tempfile.mkdtemp()) / 'kpis.db'}"]
    if args.database_url and not args.sqlite_only:
        urls.append(args.database_url)
    results = [run(url, args, now) for url in urls]
    if args.json:
        print(json.dumps(results, indent=2))
    else:
        for result in results:
            report(result)
    slowest = max(
        ms
        for result in results
        for name, figures in result["after"].items()
        if name != REFERENCE
        for ms in figures.values()
    )
    return 0 if slowest < 1000 else 1


if __name__ == "__main__":
    raise SystemExit(main())
