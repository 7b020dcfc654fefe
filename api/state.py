"""What the app builds once in its lifespan and every request shares: the composition root of the
API (settings, database, the Temporal connection, the channel-policy cache and the services)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

from sqlalchemy import Engine
from sqlalchemy.orm import Session
from temporalio.client import Client

from config import Settings
from integrations.carriers import sendcloud
from integrations.temporal.client import connect
from integrations.temporal.codec import EncryptionCodec
from persistence.db import SessionFactory, create_session_factory
from persistence.master_data.channels import PolicyCache
from services.accounts import Accounts
from services.carrier_labels import CarrierLabels
from services.catalogue import Catalogue
from services.channel_refunds import ChannelRefunds
from services.channel_settings import ChannelSettings
from services.dashboard import Dashboard
from services.deliveries import Deliveries
from services.gateway import EngineUnavailable, TemporalWorkflows
from services.goodwill import GoodwillDesk
from services.intake import Intake
from services.intake_sweeper import IntakeSweeper
from services.invoices import Invoices
from services.locations import Locations
from services.metrics import ReadModelGauges
from services.order_actions import OrderActions
from services.order_edits import OrderEdits
from services.order_views import OrderViews
from services.payload_audit import PayloadAudit
from services.payment_updates import PaymentUpdates, mollie_links, mollie_reader
from services.reports import Reports
from services.return_screens import ReturnScreens
from services.returns import Returns
from services.self_service_returns import SelfServiceReturns
from services.shipments import Shipments
from services.staff_audit import StaffAudit
from services.stock import Stock
from services.store_credit import CreditAccounts
from services.tracking import TrackingLinks
from services.unit_of_work import SqlUnitsOfWork
from services.waiting import reason
from services.warehouse import WarehouseFloor

T = TypeVar("T")
log = logging.getLogger("oms.api")


class TemporalUnavailable(EngineUnavailable):
    pass


class TemporalConnection:
    """Connects on first use and keeps the client: the API starts (and answers 503) while Temporal
    is still coming up, and recovers without a restart once it is there. While it cannot connect it
    says so once in the log, tries again at most every few seconds (a request in between gets its
    503 at once), and never lets one try hang the requests behind it."""

    CONNECT_TIMEOUT = 5.0
    MAX_RETRY_DELAY = 5.0

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._client: Client | None = None
        self._lock = asyncio.Lock()
        self._failures = 0
        self._next_try = 0.0

    async def client(self) -> Client:
        if self._client is None:
            async with self._lock:
                if self._client is None:
                    self._client = await self._connect()
        return self._client

    async def warm_up(self) -> None:
        """Connect now, at start: when Temporal is not there yet the log says so at once."""
        with contextlib.suppress(TemporalUnavailable):
            await self.client()

    async def _connect(self) -> Client:
        address = self._settings.temporal_address
        if time.monotonic() < self._next_try:
            raise TemporalUnavailable()  # it was not reachable a moment ago
        try:
            client = await asyncio.wait_for(connect(self._settings), self.CONNECT_TIMEOUT)
        except Exception as exc:  # the SDK reports a refused connection as a RuntimeError
            if self._failures == 0:
                log.warning("Temporal at %s is not reachable (%s); answering 503 until it is", address, reason(exc))
            self._failures += 1
            self._next_try = time.monotonic() + min(self.MAX_RETRY_DELAY, 0.25 * 2**self._failures)
            raise TemporalUnavailable() from exc
        if self._failures:
            log.info("connected to Temporal at %s", address)
        self._failures = 0
        return client


@dataclass(frozen=True)
class Services:
    """Every use case the routes call, built once: they hold no state of their own between calls."""

    intake: Intake
    intake_sweeper: IntakeSweeper
    """Starts what intake took but did not start (run by the app's lifespan)."""
    order_actions: OrderActions
    order_edits: OrderEdits
    returns: Returns
    shipments: Shipments
    labels: CarrierLabels
    deliveries: Deliveries
    stock: Stock
    locations: Locations
    catalogue: Catalogue
    channel_settings: ChannelSettings
    order_views: OrderViews
    tracking: TrackingLinks
    audit: PayloadAudit
    reports: Reports
    dashboard: Dashboard
    payment_updates: PaymentUpdates
    staff_audit: StaffAudit
    """Who did what: the audit list (api.staff_audit writes it, admins read it)."""
    gauges: ReadModelGauges
    """What is waiting, read from the read model when GET /metrics is scraped."""
    floor: WarehouseFloor
    accounts: Accounts
    credit: CreditAccounts
    goodwill: GoodwillDesk
    return_screens: ReturnScreens
    self_service_returns: SelfServiceReturns
    channel_refunds: ChannelRefunds
    invoices: Invoices
    """Issued invoices and credit notes: lists, PDF and e-invoice XML (staff, and the tracking link)."""
    """Refunds a channel made itself (Shopify's refunds/create), recorded once."""

    @classmethod
    def build(cls, settings: Settings, units: SqlUnitsOfWork, workflows: TemporalWorkflows) -> Services:
        tracking = TrackingLinks(settings, units)
        returns = Returns(units, workflows, task_queue=settings.task_queue, expiry=settings.return_expiry)
        audit = PayloadAudit(settings, units)
        return cls(
            intake=Intake(settings, units, workflows, audit=audit),
            intake_sweeper=IntakeSweeper(settings, units, workflows),
            order_actions=OrderActions(units, workflows),
            order_edits=OrderEdits(units, workflows),
            returns=returns,
            shipments=Shipments(units, workflows),
            labels=CarrierLabels(units, sendcloud.connect(settings)),
            deliveries=Deliveries(units, workflows),
            stock=Stock(units),
            locations=Locations(units),
            catalogue=Catalogue(units),
            channel_settings=ChannelSettings(units),
            order_views=OrderViews(units, tracking),
            tracking=tracking,
            audit=audit,
            reports=Reports(units),
            dashboard=Dashboard(units),
            payment_updates=PaymentUpdates(
                units, mollie_reader(settings), mollie_links(settings), workflows.payment_link_changed
            ),
            gauges=ReadModelGauges(units),
            floor=WarehouseFloor(units, settings),
            accounts=Accounts(units),
            channel_refunds=ChannelRefunds(units),
            invoices=Invoices(settings, units),
            staff_audit=StaffAudit(units),
            credit=CreditAccounts(units, settings.store_credit_expiry),
            goodwill=GoodwillDesk(units, workflows, settings.task_queue),
            return_screens=ReturnScreens(units),
            self_service_returns=SelfServiceReturns(settings, units, returns),
        )


@dataclass
class AppState:
    settings: Settings
    engine: Engine
    session_factory: SessionFactory
    readers: SessionFactory = field(init=False)
    """Read-only sessions: on SQLite they take no write lock (see persistence.db)."""
    temporal: TemporalConnection = field(init=False)
    policies: PolicyCache = field(init=False)
    """The channel policies this process has read lately (stock views compute ATP with them)."""
    services: Services = field(init=False)
    codec: EncryptionCodec = field(init=False)
    """The payload codec every Temporal client of ours uses, for the codec endpoint (api.routes.codec)."""

    def __post_init__(self) -> None:
        self.readers = create_session_factory(self.engine, read_only=True)
        self.codec = EncryptionCodec(self.settings.payload_key_ring)
        self.temporal = TemporalConnection(self.settings)
        self.policies = PolicyCache()
        units = SqlUnitsOfWork(self.session_factory, self.readers, self.policies)
        self.services = Services.build(self.settings, units, TemporalWorkflows(self.temporal.client))

    async def read(self, work: Callable[[Session], T]) -> T:
        """`work` in a read-only session on a worker thread, the session closed when it returns:
        never on the event loop (a SQLite busy wait there would stop every request), never with a
        transaction still open across an await. For the health check; everything else reads
        through the services' units of work."""

        def run() -> T:
            with self.readers() as session:
                return work(session)

        return await asyncio.to_thread(run)
