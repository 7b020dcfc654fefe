"""Order throughput of a running engine, next to the floor Temporal sets on the same machine.

python -m bench.orders [--api http://localhost:8000] [--temporal localhost:7233] [--orders 300] [--concurrency 16]

Drives an engine that is already running (`make run`): signed Shopify orders/create webhooks in,
orders counted out when they reach SHIPPED. Then, unless --skip-floor, an in-process worker runs the
same number of tiny workflows with as many no-op activities as a paid Shopify order runs up to
SHIPPED: what Temporal alone costs here. See bench/README.md for what each figure means.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    import argparse
    import asyncio
    import json
    import os
    import secrets
    import sys
    import time
    from collections.abc import Callable, Iterator, Sequence
    from concurrent.futures import ThreadPoolExecutor
    from datetime import UTC, datetime, timedelta
    from decimal import Decimal
    from typing import Any

    import httpx
    from prometheus_client.parser import text_string_to_metric_families
    from temporalio.client import Client, WorkflowHandle
    from temporalio.service import RPCError
    from temporalio.worker import Worker

    from bench import processes
    from bench.floor import ACTIVITY, FloorChildWorkflow, FloorInput, FloorStep, FloorWorkflow, floor_step
    from bench.shape import Shape, read_shape
    from config import Settings, load_settings
    from domain.status import OrderStatus
    from integrations.channels.shopify import sign
    from integrations.temporal.client import connect

# Only when no order's history can be read (--floor-activities): K no-op activities in one workflow.
# Otherwise the floor repeats the shape of a real order of the run (bench/shape.py).
ORDER_ACTIVITIES_TO_SHIPPED = 5

# The real worker's activity thread pool (OMS_WORKER_ACTIVITY_THREADS default); the floor uses the same.
WORKER_ACTIVITY_THREADS: int = Settings.model_fields["worker_activity_threads"].default

POLL_INTERVAL = 0.25
UNIT_PRICE = Decimal("24.95")
SHIPPING_PRICE = Decimal("4.95")
VAT_RATE = Decimal("0.21")
CENT = Decimal("0.01")


class BenchError(Exception):
    """A reason to stop, said in one line, with the exit code."""

    def __init__(self, message: str, code: int = 1) -> None:
        super().__init__(message)
        self.code = code


# -- the Temporal floor (its workflow lives in bench/floor.py) -------------------------------------


@dataclass
class FloorResult:
    workflows: int
    activities: int
    seconds: float
    cpu: dict[str, float | None]
    """CPU seconds of the bench process (the floor's worker and client) and Temporal in the floor phase."""

    @property
    def per_second(self) -> float:
        return self.workflows / self.seconds if self.seconds > 0 else 0.0


async def temporal_client(address: str, namespace: str) -> Client:
    try:
        # Encrypted with OMS_PAYLOAD_KEYS as the engine's payloads are: the floor pays the codec too.
        return await connect(load_settings(temporal_namespace=namespace), address)
    except Exception as exc:
        raise BenchError(f"cannot reach Temporal at {address}: {exc}", 2) from None


def plain_shape(activities: int) -> FloorInput:
    return FloorInput([FloorStep(ACTIVITY) for _ in range(activities)])


async def measure_floor(
    client: Client,
    run_id: str,
    count: int,
    concurrency: int,
    shape: FloorInput,
    temporal_pids: list[int],
) -> FloorResult:
    task_queue = f"bench-floor-{run_id}-{secrets.token_hex(4)}"
    handles: list[WorkflowHandle[Any, int]] = []
    with ThreadPoolExecutor(max_workers=WORKER_ACTIVITY_THREADS) as executor:
        async with Worker(
            client,
            task_queue=task_queue,
            workflows=[FloorWorkflow, FloorChildWorkflow],
            activities=[floor_step],
            activity_executor=executor,
            max_concurrent_activities=WORKER_ACTIVITY_THREADS,
        ):
            numbers = iter(range(count))

            async def starter() -> None:
                for i in numbers:
                    handle = await client.start_workflow(
                        FloorWorkflow.run,
                        shape,
                        id=f"bench-floor-{run_id}-{i}",
                        task_queue=task_queue,
                        execution_timeout=timedelta(minutes=30),
                    )
                    handles.append(handle)

            watched = {"bench (floor worker)": [os.getpid()], "temporal": temporal_pids}
            before = processes.sample_all(watched)
            started = time.perf_counter()
            await asyncio.gather(*(starter() for _ in range(concurrency)))
            done = await asyncio.gather(*(handle.result() for handle in handles))
            elapsed = time.perf_counter() - started
            cpu = processes.used(before, processes.sample_all(watched))
    return FloorResult(workflows=count, activities=done[0] if done else 0, seconds=elapsed, cpu=cpu)


# -- Shopify orders ---------------------------------------------------------------------------------


def _money(value: Decimal) -> str:
    return str(value.quantize(CENT))


def _vat_included(gross: Decimal) -> Decimal:
    return (gross * VAT_RATE / (1 + VAT_RATE)).quantize(CENT)


def shopify_order(order_id: int, number: int, sku: str, quantity: int, created_at: datetime) -> dict[str, Any]:
    """A Shopify REST orders/create payload as a Dutch shop sends it: EUR, paid, prices include VAT."""
    lines_total = UNIT_PRICE * quantity
    line_tax, shipping_tax = _vat_included(lines_total), _vat_included(SHIPPING_PRICE)
    stamp = created_at.isoformat(timespec="seconds")
    customer = {"first_name": "Sanne", "last_name": f"Bakker {number}"}
    address = {
        **customer,
        "name": f"{customer['first_name']} {customer['last_name']}",
        "address1": f"Prinsengracht {number % 900 + 1}",
        "address2": None,
        "city": "Amsterdam",
        "zip": "1015 DV",
        "province": None,
        "province_code": None,
        "country": "Netherlands",
        "country_code": "NL",
        "company": None,
        "phone": "+31 20 123 4567",
    }
    email = f"bench+{order_id}@example.com"
    return {
        "id": order_id,
        "admin_graphql_api_id": f"gid://shopify/Order/{order_id}",
        "name": f"#B{number}",
        "order_number": number,
        "number": number - 1000,
        "email": email,
        "contact_email": email,
        "created_at": stamp,
        "updated_at": stamp,
        "processed_at": stamp,
        "currency": "EUR",
        "presentment_currency": "EUR",
        "financial_status": "paid",
        "fulfillment_status": None,
        "gateway": "shopify_payments",
        "payment_gateway_names": ["shopify_payments"],
        "taxes_included": True,
        "tax_lines": [{"title": "BTW", "rate": float(VAT_RATE), "price": _money(line_tax + shipping_tax)}],
        "subtotal_price": _money(lines_total),
        "total_line_items_price": _money(lines_total),
        "total_discounts": "0.00",
        "total_tax": _money(line_tax + shipping_tax),
        "total_tip_received": "0.00",
        "total_price": _money(lines_total + SHIPPING_PRICE),
        "discount_codes": [],
        "line_items": [
            {
                "id": order_id * 10 + 1,
                "variant_id": 40_000_000_000 + number,
                "product_id": 7_000_000_000,
                "title": "Benchmark T-shirt",
                "variant_title": "Black / M",
                "sku": sku,
                "quantity": quantity,
                "price": _money(UNIT_PRICE),
                "grams": 180,
                "requires_shipping": True,
                "taxable": True,
                "fulfillment_service": "manual",
                "tax_lines": [{"title": "BTW", "rate": float(VAT_RATE), "price": _money(line_tax)}],
                "discount_allocations": [],
            }
        ],
        "shipping_lines": [
            {
                "id": order_id * 10 + 2,
                "title": "Standaard verzending",
                "code": "standard",
                "source": "shopify",
                "price": _money(SHIPPING_PRICE),
                "tax_lines": [{"title": "BTW", "rate": float(VAT_RATE), "price": _money(shipping_tax)}],
                "discount_allocations": [],
            }
        ],
        "billing_address": address,
        "shipping_address": address,
        "customer": {"id": order_id + 1, "email": email, **customer},
    }


def quantity_of(index: int) -> int:
    return index % 3 + 1  # 1, 2, 3, 1, ...: not every order the same shape


@dataclass
class Webhook:
    order_id: int
    body: bytes
    signature: str


def build_webhooks(count: int, sku: str, secret: str) -> list[Webhook]:
    # Random 13-digit ids (Shopify's shape) with room for a million orders: unique across runs.
    first_id = 5_000_000_000_000 + secrets.randbelow(4_000_000) * 1_000_000
    created_at = datetime.now(UTC)
    webhooks = []
    for i in range(count):
        payload = shopify_order(first_id + i, 1001 + i, sku, quantity_of(i), created_at)
        body = json.dumps(payload, separators=(",", ":")).encode()
        webhooks.append(Webhook(first_id + i, body, sign(secret, body)))
    return webhooks


# -- driving the engine -----------------------------------------------------------------------------


@dataclass
class Intake:
    latencies_ms: list[float]
    failures: list[str]
    first_sent: float
    last_answered: float


async def send_webhooks(api: httpx.AsyncClient, webhooks: Sequence[Webhook], concurrency: int) -> Intake:
    latencies: list[float] = []
    failures: list[str] = []
    items: Iterator[Webhook] = iter(webhooks)
    first_sent = time.perf_counter()

    async def sender() -> None:
        for hook in items:
            headers = {
                "Content-Type": "application/json",
                "X-Shopify-Topic": "orders/create",
                "X-Shopify-Hmac-Sha256": hook.signature,
                "X-Shopify-Shop-Domain": "bench-shop.myshopify.com",
                "X-Shopify-API-Version": "2024-10",
                "X-Shopify-Webhook-Id": secrets.token_hex(16),
            }
            sent = time.perf_counter()
            try:
                response = await api.post("/webhooks/shopify", content=hook.body, headers=headers)
            except httpx.HTTPError as exc:
                failures.append(f"order {hook.order_id}: {type(exc).__name__}: {exc}")
                continue
            if response.status_code != 202:
                failures.append(f"order {hook.order_id}: HTTP {response.status_code} {response.text[:200]}")
            elif response.json().get("duplicate"):
                failures.append(f"order {hook.order_id}: answered as a duplicate of an earlier order")
            else:
                latencies.append((time.perf_counter() - sent) * 1000)

    await asyncio.gather(*(sender() for _ in range(concurrency)))
    return Intake(latencies, failures, first_sent, time.perf_counter())


async def count_orders(api: httpx.AsyncClient, sku: str, status: str) -> int:
    response = await api.get("/orders", params={"sku": sku, "status": status, "limit": 1})
    response.raise_for_status()
    count: int = response.json()["count"]
    return count


async def wait_until_shipped(
    api: httpx.AsyncClient,
    sku: str,
    expected: int,
    within: float,
    on_tenth: Callable[[int], None] = lambda shipped: None,
) -> tuple[int, float]:
    """Poll the read model; return how many shipped and when the count was last seen to grow.
    `on_tenth` is called once as each tenth of `expected` has shipped."""
    deadline = time.perf_counter() + within
    shipped, reached = 0, time.perf_counter()
    tenths = 0
    while True:
        try:
            seen = await count_orders(api, sku, OrderStatus.SHIPPED.value)
        except httpx.HTTPError:
            seen = shipped  # a busy API is no reason to stop counting
        now = time.perf_counter()
        if seen > shipped:
            shipped, reached = seen, now
            while tenths < 10 and shipped * 10 >= expected * (tenths + 1):
                tenths += 1
                on_tenth(shipped)
        if shipped >= expected or now >= deadline:
            return shipped, reached
        await asyncio.sleep(POLL_INTERVAL)


async def status_breakdown(api: httpx.AsyncClient, sku: str) -> dict[str, int]:
    """One pass over the bench orders (stable order: newest received first), counted by status."""
    counts: dict[str, int] = {}
    offset = 0
    try:
        while True:
            response = await api.get("/orders", params={"sku": sku, "limit": 500, "offset": offset})
            response.raise_for_status()
            page = response.json()
            for row in page["data"]:
                counts[row["status"]] = counts.get(row["status"], 0) + 1
            offset += len(page["data"])
            if not page["data"] or offset >= page["count"]:
                return counts
    except httpx.HTTPError:
        return counts


def database_from_health(body: Any) -> str | None:
    """The database kind, if /health names it (e.g. {"database": "postgresql"}); "ok" is not a name."""
    if not isinstance(body, dict):
        return None
    checks = body.get("checks")
    for source in (body, checks if isinstance(checks, dict) else {}):
        for key in ("database_kind", "database_dialect", "dialect", "database"):
            value = source.get(key)
            if isinstance(value, dict):
                value = value.get("kind") or value.get("dialect") or value.get("engine")
            if isinstance(value, str) and value and value != "ok" and not value.startswith("unavailable"):
                return value
    return None


async def check_health(api: httpx.AsyncClient, base: str) -> Any:
    try:
        response = await api.get("/health")
    except httpx.HTTPError as exc:
        raise BenchError(f"no engine answers at {base} ({type(exc).__name__}): start it with `make run`", 2) from None
    if response.status_code != 200:
        raise BenchError(f"{base}/health answered {response.status_code}: {response.text[:200]}", 2)
    return response.json()


async def stock_the_bench(api: httpx.AsyncClient, location_id: str, sku: str, units: int) -> None:
    location = {
        "location_id": location_id,
        "name": f"Benchmark warehouse {location_id}",
        "kind": "warehouse",
        "country": "NL",
        "postcode": "1015 DV",
        "latitude": 52.3731,
        "longitude": 4.8837,
    }
    response = await api.post("/locations", json=location)
    if response.status_code not in (200, 201):
        raise BenchError(f"POST /locations answered {response.status_code}: {response.text[:200]}")
    adjustment = {"location_id": location_id, "sku": sku, "delta": units, "reason": "benchmark stock"}
    response = await api.post("/inventory/adjustments", json=adjustment)
    if response.status_code != 201:
        raise BenchError(f"POST /inventory/adjustments answered {response.status_code}: {response.text[:200]}")


# -- the run ----------------------------------------------------------------------------------------


def percentile(values: Sequence[float], fraction: float) -> float:
    """Nearest-rank percentile (p99 of 100 values is the 99th smallest)."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * fraction // 1))
    return ordered[int(rank) - 1]


async def round_trips(api: httpx.AsyncClient, worker_metrics: str) -> dict[str, float | None]:
    """Database round trips so far (oms_db_round_trips_total, every kind) of the API and the worker,
    from their metrics; None for one that cannot be read."""
    counts: dict[str, float | None] = {}
    for name, url in (("api", "/metrics"), ("worker", worker_metrics)):
        try:
            response = await api.get(url)
            response.raise_for_status()
        except httpx.HTTPError:
            counts[name] = None
            continue
        total = None
        for family in text_string_to_metric_families(response.text):
            if family.name in ("oms_db_round_trips", "oms_db_round_trips_total"):
                total = sum(each.value for each in family.samples if each.name.endswith("_total"))
        counts[name] = total
    return counts


@dataclass
class Histories:
    largest_events: int
    largest_id: str
    orders_seen: int
    stock_feed_events: int | None


async def histories(client: Client, order_ids: Sequence[str], stock_feed_id: str) -> Histories:
    """The largest history among the run's order workflows (each one's length as Temporal describes
    it, 16 at a time), and the stock feed's current run (it continues as new)."""
    largest, largest_id, seen = 0, "", 0
    pending = iter(order_ids)

    async def describer() -> None:
        nonlocal largest, largest_id, seen
        for order_id in pending:
            try:
                length = (await client.get_workflow_handle(order_id).describe()).history_length
            except RPCError:  # not there (yet): counted as unseen
                length = -1
            seen += length >= 0
            if length > largest:
                largest, largest_id = length, order_id

    await asyncio.gather(*(describer() for _ in range(16)))
    try:
        feed_events: int | None = (await client.get_workflow_handle(stock_feed_id).describe()).history_length
    except Exception:  # not running under this id (another task queue): said as n/a
        feed_events = None
    return Histories(largest, largest_id, seen, feed_events)


@dataclass
class Report:
    run_id: str
    orders: int
    concurrency: int
    sku: str
    database: str | None
    intake: Intake
    shipped: int
    shipped_at: float
    breakdown: dict[str, int]
    cpu: dict[str, float | None]
    """CPU seconds each engine process used from the first webhook until every order shipped."""
    memory_before: dict[str, processes.Sample | None]
    memory_after: dict[str, processes.Sample | None]
    trips: dict[str, float | None]
    """Database round trips each process made in the same span."""
    shape: Shape | None = None
    floor: FloorResult | None = None
    history: Histories | None = None
    worker_rss_by_tenth: list[tuple[int, float]] = field(default_factory=list)
    """(orders shipped, the worker's RSS in MB) as each tenth of the orders had shipped: a leak
    grows through them; the workflow cache fills in the first ones and then holds."""

    @property
    def ok(self) -> bool:
        return not self.intake.failures and self.shipped >= self.orders

    @property
    def ship_seconds(self) -> float:
        return self.shipped_at - self.intake.first_sent

    @property
    def orders_per_second(self) -> float | None:
        return self.orders / self.ship_seconds if self.ok and self.ship_seconds > 0 else None

    @property
    def ratio_percent(self) -> float | None:
        rate = self.orders_per_second
        if rate is None or self.floor is None or self.floor.per_second <= 0:
            return None
        return 100 * rate / self.floor.per_second

    def per_order(self, figures: dict[str, float | None], count: int | None = None) -> dict[str, float | None]:
        count = count or self.orders
        return {name: None if value is None else value / count for name, value in figures.items()}

    def rss_mb(self) -> dict[str, tuple[float, float] | None]:
        out: dict[str, tuple[float, float] | None] = {}
        for name, first in self.memory_before.items():
            last = self.memory_after.get(name)
            out[name] = None if first is None or last is None else (first.rss_bytes / 2**20, last.rss_bytes / 2**20)
        return out

    def as_dict(self) -> dict[str, Any]:
        lat = self.intake.latencies_ms
        return {
            "ok": self.ok,
            "run_id": self.run_id,
            "sku": self.sku,
            "orders": self.orders,
            "concurrency": self.concurrency,
            "database": self.database,
            "webhooks_accepted": len(lat),
            "webhook_failures": len(self.intake.failures),
            "webhook_failure_examples": self.intake.failures[:5],
            "webhook_ms": {"p50": percentile(lat, 0.50), "p99": percentile(lat, 0.99), "max": max(lat, default=0.0)},
            "intake_seconds": self.intake.last_answered - self.intake.first_sent,
            "shipped": self.shipped,
            "not_shipped_by_status": self.breakdown,
            "seconds_to_all_shipped": self.ship_seconds if self.ok else None,
            "orders_per_second": self.orders_per_second,
            "cpu_seconds_per_order": self.per_order(self.cpu),
            "db_round_trips_per_order": self.per_order(self.trips),
            "rss_mb_start_end": self.rss_mb(),
            "worker_rss_mb_by_tenth": self.worker_rss_by_tenth,
            "shape": None if self.shape is None else self.shape.describe(),
            "history": None if self.history is None else vars(self.history),
            "floor": None
            if self.floor is None
            else {
                "workflows": self.floor.workflows,
                "activities_per_workflow": self.floor.activities,
                "seconds": self.floor.seconds,
                "workflows_per_second": self.floor.per_second,
                "cpu_seconds_per_workflow": self.per_order(self.floor.cpu, self.floor.workflows),
            },
            "orders_vs_floor_percent": self.ratio_percent,
        }

    def text(self) -> str:
        lat = self.intake.latencies_ms
        intake_s = self.intake.last_answered - self.intake.first_sent
        out = [f"OMS order benchmark (run {self.run_id}): N={self.orders} orders, C={self.concurrency} concurrent"]
        if self.database:
            out.append(f"  database              {self.database}")
        out.append(
            f"  webhook acceptance    p50 {percentile(lat, 0.5):.1f} ms   p99 {percentile(lat, 0.99):.1f} ms"
            f"   max {max(lat, default=0.0):.1f} ms   ({len(lat)} x 202 in {intake_s:.2f} s)"
        )
        if self.intake.failures:
            out.append(f"  webhook failures      {len(self.intake.failures)}, first: {self.intake.failures[0]}")
        rate = self.orders_per_second
        if rate is not None:
            out.append(f"  orders to SHIPPED     {self.orders} in {self.ship_seconds:.2f} s = {rate:.1f} orders/s")
        else:
            rest = ", ".join(f"{status} {n}" for status, n in self.breakdown.items() if status != "SHIPPED")
            out.append(
                f"  orders to SHIPPED     only {self.shipped} of {self.orders}" + (f" (others: {rest})" if rest else "")
            )
        out.append(f"  CPU ms per order      {_figures(self.per_order(self.cpu), 1000)}")
        out.append(f"  DB round trips/order  {_figures(self.per_order(self.trips), 1)}")
        rss = ", ".join(
            f"{name} n/a" if pair is None else f"{name} {pair[0]:.0f} -> {pair[1]:.0f}"
            for name, pair in self.rss_mb().items()
        )
        out.append(f"  RSS MB start -> end   {rss}")
        if self.worker_rss_by_tenth:
            tenths = " ".join(f"{mb:.0f}" for _, mb in self.worker_rss_by_tenth)
            out.append(f"  worker RSS MB/tenth   {tenths}")
        if self.history is not None:
            feed = "n/a" if self.history.stock_feed_events is None else f"{self.history.stock_feed_events} events"
            out.append(
                f"  histories             largest order {self.history.largest_events} events"
                f" (of {self.history.orders_seen}); stock feed's current run {feed}"
            )
        if self.shape is not None:
            out.append(f"  order shape           {self.shape.describe()}")
        if self.floor is not None:
            out.append(
                f"  Temporal floor        {self.floor.workflows} workflows of that shape"
                f" in {self.floor.seconds:.2f} s = {self.floor.per_second:.1f} workflows/s"
            )
            out.append(
                f"  floor CPU ms/workflow {_figures(self.per_order(self.floor.cpu, self.floor.workflows), 1000)}"
            )
        ratio = self.ratio_percent
        if ratio is not None:
            out.append(f"  orders / floor        {ratio:.0f} %")
        return "\n".join(out)


def _figures(values: dict[str, float | None], scale: float) -> str:
    return "   ".join(f"{name} {'n/a' if v is None else f'{v * scale:.1f}'}" for name, v in values.items())


def _difference(first: float | None, last: float | None) -> float | None:
    return None if first is None or last is None else last - first


def progress(message: str) -> None:
    print(f"bench: {message}", file=sys.stderr, flush=True)


def engine_processes(args: argparse.Namespace) -> dict[str, list[int]]:
    return {
        "worker": processes.listening_pids(processes.port_of(args.worker_metrics, 9464)),
        "api": processes.listening_pids(processes.port_of(args.api, 8000)),
        "temporal": processes.listening_pids(processes.port_of(args.temporal, 7233)),
    }


async def run(args: argparse.Namespace) -> Report:
    run_id = secrets.token_hex(4).upper()
    location_id, sku = f"BENCH-{run_id}", f"BENCH-TSHIRT-{run_id}"
    headers = {"Authorization": f"Bearer {args.token}"}
    limits = httpx.Limits(max_connections=args.concurrency + 2, max_keepalive_connections=args.concurrency + 2)
    watched = engine_processes(args)
    client = await temporal_client(args.temporal, args.namespace)
    async with httpx.AsyncClient(base_url=args.api, headers=headers, timeout=60, limits=limits) as api:
        health = await check_health(api, args.api)
        database = args.database or database_from_health(health)
        units = sum(quantity_of(i) for i in range(args.orders))
        await stock_the_bench(api, location_id, sku, units)
        webhooks = build_webhooks(args.orders, sku, args.shopify_secret)
        progress(
            f"{units} x {sku} at {location_id}; "
            f"sending {args.orders} Shopify webhooks at concurrency {args.concurrency}"
        )
        trips_before = await round_trips(api, args.worker_metrics)
        before = processes.sample_all(watched)
        intake = await send_webhooks(api, webhooks, args.concurrency)
        accepted = len(intake.latencies_ms)
        timeout = args.timeout if args.timeout is not None else max(120.0, float(args.orders))
        progress(
            f"{accepted} accepted in {intake.last_answered - intake.first_sent:.2f} s; "
            f"waiting for SHIPPED (up to {timeout:.0f} s)"
        )
        rss_by_tenth: list[tuple[int, float]] = []

        def worker_rss(shipped: int) -> None:
            sample = processes.sample(watched["worker"])
            if sample is not None:
                rss_by_tenth.append((shipped, sample.rss_bytes / 2**20))

        shipped, shipped_at = await wait_until_shipped(api, sku, accepted, timeout, worker_rss)
        after = processes.sample_all(watched)
        trips_after = await round_trips(api, args.worker_metrics)
        breakdown = {} if shipped >= args.orders else await status_breakdown(api, sku)
    trips = {name: _difference(trips_before[name], trips_after.get(name)) for name in trips_before}
    report = Report(
        run_id,
        args.orders,
        args.concurrency,
        sku,
        database,
        intake,
        shipped,
        shipped_at,
        breakdown,
        cpu=processes.used(before, after),
        memory_before=before,
        memory_after=after,
        trips=trips,
        worker_rss_by_tenth=rss_by_tenth,
    )
    order_ids = [f"order-shopify-{hook.order_id}" for hook in webhooks]
    report.history = await histories(client, order_ids, f"stock-feed-{args.task_queue}")
    if report.ok and not args.skip_floor:
        first_order = f"order-shopify-{webhooks[0].order_id}"
        if args.floor_activities is not None:
            floor_input = plain_shape(args.floor_activities)
        else:
            report.shape = await read_shape(client, first_order)
            floor_input = FloorInput(report.shape.steps, "p" * report.shape.workflow_input_bytes)
        progress(f"Temporal floor: {args.orders} workflows shaped as {first_order} on {args.temporal}")
        report.floor = await measure_floor(
            client, run_id, args.orders, args.concurrency, floor_input, watched["temporal"]
        )
    return report


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.orders", description=__doc__.split("\n\n")[0])
    parser.add_argument("--api", default="http://localhost:8000", help="the running engine's API")
    parser.add_argument("--temporal", default="localhost:7233", help="its Temporal frontend, for the floor")
    parser.add_argument("--namespace", default="default", help="Temporal namespace for the floor")
    parser.add_argument("--orders", type=int, default=300, help="N: orders (and floor workflows)")
    parser.add_argument("--concurrency", type=int, default=16, help="C: webhooks (and floor starts) in flight")
    parser.add_argument("--token", default="dev-admin-token", help="staff bearer token (OMS_ADMIN_TOKEN)")
    parser.add_argument("--shopify-secret", default="dev-shopify-secret", help="OMS_SHOPIFY_WEBHOOK_SECRET")
    parser.add_argument("--timeout", type=float, default=None, help="seconds to wait for SHIPPED (max(120, N))")
    parser.add_argument("--skip-floor", action="store_true", help="do not measure the Temporal floor")
    parser.add_argument(
        "--floor-activities",
        type=int,
        default=None,
        help="K: a floor of K no-op activities in one workflow instead of the shape of a real order of the run",
    )
    parser.add_argument(
        "--worker-metrics",
        default="http://127.0.0.1:9464/metrics",
        help="the worker's metrics (OMS_WORKER_METRICS_ADDRESS), for its database round trips",
    )
    parser.add_argument("--task-queue", default="orders", help="the engine's task queue (OMS_TASK_QUEUE)")
    parser.add_argument("--database", default=None, help="a label for the database the engine runs on")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of the report")
    args = parser.parse_args(argv)
    if not 1 <= args.orders <= 1_000_000:
        parser.error("--orders must be between 1 and 1000000")
    if args.concurrency < 1 or (args.floor_activities is not None and args.floor_activities < 1):
        parser.error("--concurrency and --floor-activities must be at least 1")
    args.api = args.api.rstrip("/")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    # Like worker.py: the sandbox re-imports the floor's workflow module per run; keep its bytecode.
    sys.dont_write_bytecode = False
    args = parse_args(argv)
    try:
        report = asyncio.run(run(args))
    except BenchError as exc:
        print(f"bench: {exc}", file=sys.stderr)
        return exc.code
    except KeyboardInterrupt:
        return 130
    print(json.dumps(report.as_dict(), indent=2) if args.json else report.text())
    if not report.ok:
        if report.intake.failures:
            progress(f"{len(report.intake.failures)} webhooks were not accepted")
        accepted = len(report.intake.latencies_ms)
        if report.shipped < accepted:
            progress(f"{accepted - report.shipped} of {accepted} accepted orders did not reach SHIPPED in time")
        return 1
    return 0


if __name__ == "__main__":
    # Run from the importable module, not __main__, so the workflow sandbox finds FloorWorkflow.
    from bench.orders import main as _main

    raise SystemExit(_main())
