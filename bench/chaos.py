"""Chaos run: orders racing for scarce stock while the engine's processes are SIGKILLed, then checks.

python -m bench.chaos [--orders 1000] [--concurrency 16] [--faults full|one-kill|none] [--keep]

Starts its own engine on a fresh PostgreSQL database: a Temporal dev server on a database file in
the run's var directory, localstripe (the engine authorizes and captures there), two `worker.py`
and the API. Sends web shop orders paid by card and signed Shopify webhooks (each delivered twice)
for more units than there are, and meanwhile (faults `full`) SIGKILLs a worker (a new one is
started), Temporal (restarted on its file), the other worker, and finally every process at once,
after which the engine comes back through `make run`'s own supervisor (`python -m ops.run`). When
every order has settled it checks, from the database and from localstripe's own objects, that
nothing was lost, doubled, oversold or charged wrong, prints ok/FAIL per check with figures, and
exits 1 on any FAIL. See bench/README.md.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import psycopg
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from bench.chaos_checks import Check, gather_database, gather_gateway, run_checks, stranded
from bench.chaos_engine import ADMIN_TOKEN, SHOPIFY_SECRET, STRIPE_SECRET, Engine, Ports, engine_env
from bench.chaos_orders import (
    Intake,
    PlannedOrder,
    build_orders,
    plan_restock,
    plan_stock,
    receive_stock,
    seed_stock,
    send_orders,
)
from bench.orders import percentile
from config import PROJECT_ROOT
from persistence.db import SessionFactory, create_db_engine, create_session_factory
from persistence.migrate import upgrade_to_head
from persistence.models import OrderEvent, OrderLineRecord, OrderRecord, StockLevel, StockMovement

SETTLED = ("SHIPPED", "BACKORDERED", "CANCELLED", "ON_HOLD", "COMPLETED")
"""Statuses an order rests in without more stock or a person: a run is over when every order is in
one and nothing has moved for a while (the checks then say which of them are wrong)."""

FAULT_PLANS: dict[str, list[tuple[float, str]]] = {
    # (share of the orders settled, fault)
    "full": [(0.10, "kill-worker"), (0.30, "kill-temporal"), (0.50, "kill-worker"), (0.70, "kill-everything")],
    "one-kill": [(0.30, "kill-worker")],
    "none": [],
}
TEMPORAL_OUTAGE = 3.0
"""Seconds Temporal stays dead before it is started again."""
FAULT_LEAD = 1.0
"""Seconds every sender may deliver before a fault, so that it meets requests in flight."""
QUIET = 6.0
"""Seconds without any movement before the settled orders count as final."""
DEFAULT_POSTGRES = "postgresql+psycopg://oms_test:oms_test@localhost:5432/postgres"


@dataclass
class ChaosOptions:
    orders: int = 1000
    concurrency: int = 16
    faults: str = "full"
    keep: bool = False
    seed: int = 2024
    postgres_url: str = DEFAULT_POSTGRES
    """Any database on the server, as a role that may CREATE DATABASE: the run makes its own."""
    timeout: float | None = None
    """Seconds to wait for every order to settle once the last one was taken (default max(180, N/3))."""
    backlog: int = 150
    """Orders taken but not yet settled before intake waits: keeps orders coming through every fault."""
    worker_threads: int = 16
    var_dir: Path | None = None
    database_prefix: str = "chaos_"
    restock: float = 0.1
    """After the last order: this share of the first stock delivered again, for the backorders."""
    """The test suite's runs use its own prefix, whose leftovers `make test` drops."""


@dataclass
class Fault:
    at: float
    what: str
    accepted: int
    settled: int
    in_flight: int
    """Deliveries waiting for their answer when the kill came."""


@dataclass
class ChaosReport:
    options: ChaosOptions
    database: str
    var_dir: Path
    orders: list[PlannedOrder]
    stock: dict[tuple[str, str], int]
    restock: dict[tuple[str, str], int] = field(default_factory=dict)
    restocked_at: float | None = None
    backordered_before_restock: int = 0
    first_wake: float | None = None
    """Seconds from the restock's last receipt to the first reservation after it."""
    intake: Intake = field(default_factory=Intake)
    faults: list[Fault] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    started: float = 0.0
    settled_at: float | None = None
    statuses: Counter[str] = field(default_factory=Counter)
    checks: list[Check] = field(default_factory=list)
    code: str = ""
    """The engine's code: `git describe --always --dirty` of the working tree the processes ran."""

    @property
    def ok(self) -> bool:
        return self.settled_at is not None and bool(self.checks) and all(check.ok for check in self.checks)

    def text(self) -> str:
        o, intake = self.options, self.intake
        kinds = Counter(order.kind for order in self.orders)
        wanted = sum(sum(order.demand().values()) for order in self.orders)
        latencies = [s * 1000 for s in intake.latencies]
        out = [
            f"OMS chaos run: {o.orders} orders at concurrency {o.concurrency}, faults {o.faults!r}, seed {o.seed}",
            "  orders        " + ", ".join(f"{kind} {n}" for kind, n in kinds.most_common()),
            f"  stock         {sum(self.stock.values())} units of {len({sku for _, sku in self.stock})} SKUs over "
            f"{len({loc for loc, _ in self.stock})} warehouses; the orders want {wanted}",
            f"  engine        {self.code or 'unknown version'}; database {self.database} (PostgreSQL); logs in"
            f" {self.var_dir}",
            f"  intake        {len(intake.accepted)} accepted in {intake.last_answered - intake.first_sent:.1f} s"
            f" (p50 {percentile(latencies, 0.5):.0f} ms, p99 {percentile(latencies, 0.99):.0f} ms);"
            f" {sum(intake.retried.values())} deliveries retried",
        ]
        for fault in self.faults:
            out.append(
                f"  fault         t+{fault.at:6.1f} s  ({fault.accepted} taken, {fault.settled} settled,"
                f" {fault.in_flight} deliveries in flight)  {fault.what}"
            )
        if self.restocked_at is not None:
            woken = self.backordered_before_restock - self.statuses["BACKORDERED"]
            first = "no reservation followed" if self.first_wake is None else f"the first {self.first_wake:.1f} s later"
            out.append(
                f"  restock       t+{self.restocked_at:6.1f} s  {sum(self.restock.values())} more units received once"
                f" every order had settled; {woken} of {self.backordered_before_restock} backordered orders then"
                f" left ({first})"
            )
        out += [f"  note          {note}" for note in self.notes]
        statuses = ", ".join(f"{status} {n}" for status, n in self.statuses.most_common())
        if self.settled_at is not None:
            out.append(f"  settled       all in {self.settled_at:.1f} s from the first order: {statuses}")
        else:
            out.append(f"  settled       NOT within the timeout: {statuses}")
        out.append("checks")
        for check in self.checks:
            out += check.lines()
        out.append("result        " + ("ok" if self.ok else "FAIL"))
        return "\n".join(out)


def code_version() -> str:
    """Which code the processes run (they start from this working tree): a commit, `-dirty` if edited."""
    try:
        described = subprocess.run(
            ["git", "describe", "--always", "--dirty"], cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=10
        )
    except (OSError, subprocess.SubprocessError):
        return ""
    return described.stdout.strip()


# -- the database -------------------------------------------------------------------------------


def _admin(url: str, sql: str) -> None:
    parsed = make_url(url)
    with psycopg.connect(
        host=parsed.host,
        port=parsed.port,
        user=parsed.username,
        password=parsed.password,
        dbname=parsed.database,
        autocommit=True,
    ) as connection:
        connection.execute(sql.encode())


def create_database(server_url: str, prefix: str = "chaos_") -> str:
    """A fresh database `<prefix><hex>` on the server of `server_url`, migrated; its URL."""
    name = f"{prefix}{secrets.token_hex(4)}"
    _admin(server_url, f"CREATE DATABASE {name}")
    url = make_url(server_url).set(database=name).render_as_string(hide_password=False)
    upgrade_to_head(url)
    return url


def drop_database(server_url: str, database_url: str) -> None:
    _admin(server_url, f"DROP DATABASE IF EXISTS {make_url(database_url).database} WITH (FORCE)")


# -- watching the run ---------------------------------------------------------------------------


@dataclass
class Progress:
    """Where the orders are, read from the database twice a second (it is never killed)."""

    statuses: Counter[str] = field(default_factory=Counter)
    movement: tuple[int, int] = (0, 0)
    """(last ledger row, last timeline event): unchanged means nothing happened."""
    stranded: list[str] = field(default_factory=list)
    """Backordered orders the free stock could serve now: a wake-up still to come (or missed)."""

    @property
    def settled(self) -> int:
        return sum(self.statuses[status] for status in SETTLED)

    @property
    def total(self) -> int:
        return sum(self.statuses.values())


def _read_progress(session_factory: SessionFactory, progress: Progress) -> None:
    with session_factory() as session:
        rows = session.execute(select(OrderRecord.status, func.count()).group_by(OrderRecord.status)).all()
        progress.statuses = Counter({status: count for status, count in rows})
        progress.movement = (
            session.scalar(select(func.coalesce(func.max(StockMovement.id), 0))) or 0,
            session.scalar(select(func.coalesce(func.max(OrderEvent.id), 0))) or 0,
        )
        levels = {
            (s.location_id, s.sku): (s.on_hand, s.reserved, s.safety_stock) for s in session.scalars(select(StockLevel))
        }
        waiting: dict[str, Counter[str]] = defaultdict(Counter)
        backordered = select(OrderLineRecord.order_id, OrderLineRecord.sku, OrderLineRecord.quantity).join(
            OrderRecord, OrderRecord.order_id == OrderLineRecord.order_id
        )
        for order_id, sku, quantity in session.execute(backordered.where(OrderRecord.status == "BACKORDERED")):
            waiting[order_id][sku] += quantity
        progress.stranded = stranded(levels, waiting)


def first_reservation_after(database_url: str, ledger_id: int) -> float | None:
    """Seconds from the last receipt after ledger row `ledger_id` to the first reservation after it."""
    engine = create_db_engine(database_url, pool_size=1)
    try:
        with create_session_factory(engine)() as session:
            later = select(StockMovement.created_at).where(StockMovement.id > ledger_id)
            received = session.scalar(later.where(StockMovement.kind == "receipt").order_by(StockMovement.id.desc()))
            reserved = session.scalar(later.where(StockMovement.kind == "reservation").order_by(StockMovement.id))
    finally:
        engine.dispose()
    return None if received is None or reserved is None else (reserved - received).total_seconds()


async def follow(database_url: str, progress: Progress, stop: asyncio.Event) -> None:
    engine = create_db_engine(database_url, pool_size=1)
    try:
        factory = create_session_factory(engine)
        while not stop.is_set():
            with contextlib.suppress(Exception):  # a busy server is no reason to stop watching
                await asyncio.to_thread(_read_progress, factory, progress)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), 0.5)
    finally:
        engine.dispose()


def progress_line(message: str) -> None:
    print(f"chaos: {message}", file=sys.stderr, flush=True)


class Chaos:
    """One run: the engine, what was sent, the faults, and the watch over them."""

    def __init__(self, report: ChaosReport, engine: Engine, say: Callable[[str], None]) -> None:
        self.report = report
        self.engine = engine
        self.say = say
        self.progress = Progress()
        self.lock = asyncio.Lock()
        """Held while the engine's processes change: the watchdog waits for a fault to finish."""
        self.deadline = float("inf")
        self.faulting = False

    def now(self) -> float:
        return time.monotonic() - self.report.started

    def _too_many_in_flight(self) -> bool:
        in_flight = len(self.report.intake.accepted) - self.progress.settled
        return in_flight > self.report.options.backlog and time.monotonic() < self.deadline

    async def room(self) -> None:
        """Hold intake back while too many orders are in flight, except around a fault: then every
        sender delivers, so the kill meets requests on the wire."""
        while self._too_many_in_flight() and not self.faulting:  # noqa: ASYNC110 - counted in the database
            await asyncio.sleep(0.2)

    # -- the faults (each returns what it did) -------------------------------------------------

    def kill_worker(self) -> str:
        name = next(iter(self.engine.workers))
        pid = self.engine.kill_worker(name)
        started = self.engine.start_worker()
        return f"{name} (pid {pid}) SIGKILLed; {started} started in its place"

    def kill_temporal(self) -> str:
        pid = self.engine.kill_temporal()
        time.sleep(TEMPORAL_OUTAGE)
        begun = time.monotonic()
        self.engine.restart_temporal()
        return (
            f"Temporal (pid {pid}) SIGKILLed; started again on its database file after {TEMPORAL_OUTAGE:.0f} s"
            f" (answering {time.monotonic() - begun:.1f} s later)"
        )

    def kill_everything(self) -> str:
        names = ["API", *self.engine.workers, "Temporal"]
        pids = self.engine.kill_everything()
        self.engine.start_make_run()
        healthy = self.engine.wait_healthy(180)
        started = self.engine.start_worker()
        return (
            f"{', '.join(names)} SIGKILLed at once (pids {', '.join(map(str, pids))}); `make run` (ops.run) brought"
            f" Temporal, a worker and the API back on the same files, healthy {healthy:.1f} s after the kill;"
            f" {started} started beside it"
        )

    async def inject(self, plan: Sequence[tuple[float, str]]) -> None:
        actions: dict[str, Callable[[], str]] = {
            "kill-worker": self.kill_worker,
            "kill-temporal": self.kill_temporal,
            "kill-everything": self.kill_everything,
        }
        total = self.report.options.orders
        for share, action in plan:
            while self.progress.settled < share * total:
                if time.monotonic() > self.deadline:
                    self.report.notes.append(f"{action} not done: the orders never got to {share:.0%} settled")
                    return
                await asyncio.sleep(0.2)
            self.faulting = True
            await asyncio.sleep(FAULT_LEAD)  # let the senders put requests on the wire
            intake = self.report.intake
            fault = Fault(self.now(), "", len(intake.accepted), self.progress.settled, intake.in_flight)
            async with self.lock:
                fault.what = await asyncio.to_thread(actions[action])
            self.faulting = False
            self.report.faults.append(fault)
            self.say(f"t+{fault.at:.1f}s {fault.what} ({fault.in_flight} deliveries in flight at the kill)")

    async def watchdog(self, stop: asyncio.Event) -> None:
        """A worker that dies by itself is noted and replaced (a worker started while Temporal is
        unreachable exits: issue 11, item 13); so is `make run` if it gives up."""
        while not stop.is_set():
            async with self.lock:
                for name, code in self.engine.dead_workers().items():
                    started = self.engine.start_worker()
                    note = (
                        f"t+{self.now():.1f}s {name} exited by itself (code {code}, see {name}.log); {started} started"
                    )
                    self.report.notes.append(note)
                    self.say(note)
                ended = self.engine.make_run_exited()
                if ended is not None:
                    note = f"t+{self.now():.1f}s make run exited by itself (code {ended}, make-run.log); started again"
                    self.report.notes.append(note)
                    self.say(note)
                    await asyncio.to_thread(self.engine.start_make_run)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), 1.0)

    async def wait_until_settled(self, within: float) -> bool:
        """Every accepted order in a resting status, no backordered order that the free stock could
        serve (its wake-up may still come), and nothing moved for QUIET seconds."""
        deadline = time.monotonic() + within
        last, since = self.progress.movement, time.monotonic()
        while time.monotonic() < deadline:
            await asyncio.sleep(0.5)
            if self.progress.movement != last or self.progress.statuses != self.report.statuses:
                last, since = self.progress.movement, time.monotonic()
                self.report.statuses = Counter(self.progress.statuses)
            all_in = (
                self.progress.total >= len(self.report.intake.accepted) and self.progress.settled == self.progress.total
            )
            if all_in and not self.progress.stranded and time.monotonic() - since >= QUIET:
                self.report.settled_at = since - self.report.intake.first_sent
                return True
        return False


async def run_chaos(options: ChaosOptions, say: Callable[[str], None] = progress_line) -> ChaosReport:
    """The whole run, from a fresh database to the checks; the caller prints the report."""
    var_dir = options.var_dir or Path(tempfile.mkdtemp(prefix="oms-chaos-"))
    var_dir.mkdir(parents=True, exist_ok=True)
    from tests.localstripe_server import LocalStripe  # a dev dependency: the run needs it, the engine not

    orders = build_orders(options.orders, options.seed, SHOPIFY_SECRET)
    stock = plan_stock(orders, options.seed)
    ports = Ports.free()
    localstripe = LocalStripe(port=Ports.free().api, log_file=var_dir / "localstripe.log")
    database_url = create_database(options.postgres_url, options.database_prefix)
    report = ChaosReport(options, make_url(database_url).database or "", var_dir, orders, stock, code=code_version())
    engine = Engine(var_dir, engine_env(var_dir, database_url, "", ports, options.worker_threads), ports)
    stop = asyncio.Event()
    tasks: list[asyncio.Task[None]] = []
    try:
        localstripe.start()
        engine.env["OMS_STRIPE_API_BASE"] = localstripe.url
        say(f"database {report.database}, var dir {var_dir}; starting Temporal, localstripe, two workers, the API")
        await asyncio.to_thread(engine.start_temporal)
        engine.start_worker()
        engine.start_worker()
        engine.start_api()
        await asyncio.to_thread(engine.wait_healthy, 120)
        chaos = Chaos(report, engine, say)
        headers = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
        limits = httpx.Limits(max_connections=options.concurrency + 4)
        async with httpx.AsyncClient(base_url=engine.api_url, headers=headers, timeout=60, limits=limits) as api:
            await seed_stock(api, stock)
            say(f"{sum(stock.values())} units received; sending {len(orders)} orders, faults {options.faults!r}")
            tasks.append(asyncio.create_task(follow(database_url, chaos.progress, stop)))
            tasks.append(asyncio.create_task(chaos.watchdog(stop)))
            report.started = time.monotonic()
            chaos.deadline = report.started + 60 + options.orders * 1.5
            faults = asyncio.create_task(chaos.inject(FAULT_PLANS[options.faults]))
            await send_orders(api, orders, report.intake, concurrency=options.concurrency, room=chaos.room)
            say(f"t+{chaos.now():.1f}s all {len(report.intake.accepted)} orders taken; waiting for the faults to end")
            await faults
            timeout = options.timeout if options.timeout is not None else max(180.0, options.orders / 3)
            say(f"t+{chaos.now():.1f}s waiting for every order to settle (up to {timeout:.0f} s)")
            settled = await chaos.wait_until_settled(timeout)
            report.restock = plan_restock(stock, options.restock) if settled else {}
            if report.restock:
                # Goods in once the backorders have formed: each the stock can serve must be woken.
                report.backordered_before_restock = report.statuses["BACKORDERED"]
                ledger_before = chaos.progress.movement[0]
                await receive_stock(api, report.restock)
                report.restocked_at = chaos.now()
                say(f"t+{report.restocked_at:.1f}s {sum(report.restock.values())} more units received; settling again")
                settled = await chaos.wait_until_settled(timeout)
                report.first_wake = await asyncio.to_thread(first_reservation_after, database_url, ledger_before)
        say(f"t+{chaos.now():.1f}s " + ("settled" if settled else "NOT settled") + "; checking")
        db = await asyncio.to_thread(gather_database, database_url)
        intents = await asyncio.to_thread(gather_gateway, localstripe.url, STRIPE_SECRET)
        received = Counter(stock)
        received.update(report.restock)
        report.checks = run_checks(orders, received, report.intake, db, intents)
    finally:
        stop.set()
        for task in tasks:
            with contextlib.suppress(Exception):
                await task
        await asyncio.to_thread(engine.stop)
        localstripe.stop()
        if options.keep:
            say(f"kept: database {database_url.split('@')[-1]}, var dir {var_dir}")
        else:
            drop_database(options.postgres_url, database_url)
            if options.var_dir is None and report.ok:
                shutil.rmtree(var_dir, ignore_errors=True)
    return report


def parse_args(argv: Sequence[str] | None) -> ChaosOptions:
    parser = argparse.ArgumentParser(prog="python -m bench.chaos", description=__doc__.split("\n\n")[0])
    parser.add_argument("--orders", type=int, default=1000, help="orders to send (default 1000)")
    parser.add_argument("--concurrency", type=int, default=16, help="deliveries in flight (default 16)")
    parser.add_argument("--faults", choices=sorted(FAULT_PLANS), default="full", help="which faults (default full)")
    parser.add_argument("--keep", action="store_true", help="keep the database and the var directory")
    parser.add_argument("--seed", type=int, default=2024, help="draws the order mix and the stock")
    parser.add_argument(
        "--postgres-url",
        default=os.environ.get("OMS_TEST_POSTGRES_URL", DEFAULT_POSTGRES),
        help="a database on the server, as a role with CREATEDB (default $OMS_TEST_POSTGRES_URL or oms_test@localhost)",
    )
    parser.add_argument("--timeout", type=float, default=None, help="seconds to settle after the last order")
    parser.add_argument("--backlog", type=int, default=150, help="orders in flight before intake waits")
    parser.add_argument(
        "--restock", type=float, default=0.1, help="share of the first stock received again after the last order"
    )
    parser.add_argument("--worker-threads", type=int, default=16, help="OMS_WORKER_ACTIVITY_THREADS per worker")
    parser.add_argument("--var-dir", type=Path, default=None, help="where logs and Temporal's file go (a temp dir)")
    args = parser.parse_args(argv)
    if args.orders < 10 or args.concurrency < 1 or args.backlog < 1:
        parser.error("--orders must be at least 10, --concurrency and --backlog at least 1")
    if not 0 <= args.restock <= 10:
        parser.error("--restock is a share of the first stock: 0 (none) to 10")
    return ChaosOptions(
        orders=args.orders,
        concurrency=args.concurrency,
        faults=args.faults,
        keep=args.keep,
        seed=args.seed,
        postgres_url=args.postgres_url,
        timeout=args.timeout,
        backlog=args.backlog,
        restock=args.restock,
        worker_threads=args.worker_threads,
        var_dir=args.var_dir,
    )


def main(argv: Sequence[str] | None = None) -> int:
    options = parse_args(argv)
    try:
        report = asyncio.run(run_chaos(options))
    except KeyboardInterrupt:
        return 130
    print(report.text())
    return 0 if report.ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
