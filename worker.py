"""The worker process: runs OrderWorkflow and its activities against the configured database.

python worker.py                    (settings from OMS_* environment variables or .env)
python worker.py --locations-only   only the shipments of the queues in OMS_LOCATION_TASK_QUEUES
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import sys
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta
from functools import partial
from typing import Any

from sqlalchemy import Engine, text
from sqlalchemy.exc import OperationalError
from temporalio.client import Client
from temporalio.common import WorkflowIDConflictPolicy
from temporalio.service import RPCError
from temporalio.worker import Worker

from activities.books import BooksActivities
from activities.channel_out import CancellationNoticeActivities, ShipmentNoticeActivities
from activities.channel_pull import ChannelPullActivities
from activities.channel_returns import ChannelReturnActivities, ReturnOpener
from activities.event_delivery import DeliveryPolicy, EventDeliveryActivities
from activities.fulfilment import ShipmentActivities
from activities.goodwill import GoodwillActivities
from activities.inventory import InventoryActivities
from activities.log_context import LogContext
from activities.moneybird_push import MoneybirdActivities
from activities.order_edits import OrderEditActivities
from activities.orders import OrderActivities
from activities.outboxes import OutboxActivities
from activities.payment_links import PaymentLinkActivities
from activities.payments import PaymentActivities
from activities.permanent_failures import PermanentFailures
from activities.return_labels import ReturnLabelActivities
from activities.return_lifecycle import ReturnLifecycleActivities
from activities.returns import ReturnActivities
from activities.stock_feed import StockFeedActivities
from activities.store_credit import StoreCreditActivities
from config import DEFAULT_FEED_WINDOW, Settings, startup_settings
from contracts.channels import StockFeedInput
from contracts.events import EventDeliveryInput
from domain.order import CHANNELS
from integrations.carriers import sendcloud
from integrations.carriers.base import Carrier
from integrations.channels.base import StockFeed
from integrations.channels.registry import ChannelConnections, connect_channels
from integrations.components import report
from integrations.payments import MollieGateway, StripeGateway
from integrations.payments.routing import PaymentGateways
from integrations.providers import PaymentGateway, Warehouse
from integrations.sandbox.payments import SandboxPaymentGateway
from integrations.sandbox.warehouse import SandboxWarehouse
from integrations.staff_confirmed import StaffConfirmedLocations
from integrations.temporal.sandbox import workflow_runner
from ops.books import ensure_books_schedule
from ops.channel_schedules import ensure_pull_schedules
from ops.store_credit import ensure_expiry_schedule
from ops.telemetry import MetricsAddressRefused, orders_taken_on, round_trips_on, worker_runtime
from ops.temporal_setup import connect_temporal, ensure_search_attributes
from persistence.db import SessionFactory, create_db_engine, create_session_factory
from persistence.master_data.catalogue import listing_lookup
from persistence.master_data.channels import PolicyCache
from persistence.read_model.sandbox_stock_feed import SandboxStockFeed
from persistence.round_trips import count_round_trips
from services.gateway import TemporalWorkflows
from services.intake import Intake
from services.logs import configure_logging
from services.moneybird_schedule import ensure_moneybird_schedule
from services.returns import Returns
from services.unit_of_work import units_on
from services.waiting import wait_for
from workflows.books_push import BooksPushWorkflow
from workflows.channel_pull import ChannelPullWorkflow
from workflows.event_delivery import EventDeliveryWorkflow
from workflows.goodwill import GoodwillWorkflow
from workflows.moneybird_push import MoneybirdPushWorkflow
from workflows.order import OrderWorkflow
from workflows.returns import ReturnWorkflow
from workflows.shipment import ShipmentWorkflow
from workflows.stock_feed import StockFeedWorkflow
from workflows.store_credit_expiry import StoreCreditExpiryWorkflow

log = logging.getLogger("oms.worker")


class ConfigurationError(Exception):
    pass


@dataclass
class WorkerParts:
    workflows: list[type]
    activities: list[Callable[..., Any]]


def configured_gateway(settings: Settings) -> PaymentGateways | None:
    """Each channel's payment gateway (OMS_CHANNEL_GATEWAYS, Stripe when not named): the real one
    when its key is set; the sandbox one for the rest where sandboxes are allowed; None when a
    gateway in use has no key and sandboxes are not allowed (build_parts refuses to start)."""
    real: dict[str, PaymentGateway] = {}
    if settings.stripe_secret_key:
        # Up to four requests per step: 5 s each stays inside the activities' 30 s start-to-close timeout.
        real["stripe"] = StripeGateway(
            settings.stripe_secret_key,
            settings.stripe_api_base or None,
            timeout=5.0,
            request_multicapture=settings.stripe_multicapture,
        )
    if settings.mollie_api_key:
        real["mollie"] = MollieGateway(settings.mollie_api_key, settings.mollie_api_url, timeout=5.0)
    missing = [name for name in settings.gateways_in_use if name not in real]
    if missing and not settings.sandbox_enabled:
        return None
    sandbox = SandboxPaymentGateway()
    channels = {channel: real.get(settings.gateway_for(channel), sandbox) for channel in CHANNELS}
    providers: dict[str, PaymentGateway] = {**real, sandbox.provider: sandbox} if settings.sandbox_enabled else real
    default = real.get("stripe", sandbox)
    return PaymentGateways(default, channels=channels, providers=providers)


def configured_warehouse(settings: Settings) -> Warehouse:
    """The sandbox warehouse confirms every step by itself (development, tests); otherwise people
    confirm pick, pack and ship, with the carrier and tracking they enter."""
    if settings.auto_confirm_enabled:
        return SandboxWarehouse()
    return StaffConfirmedLocations()


def configured_carrier(settings: Settings) -> Carrier | None:
    """Sendcloud when both its keys are set: packing a shipment then asks it for the label, and the
    carrier and tracking come from the label. None: staff type them (or the sandbox warehouse)."""
    return sendcloud.connect(settings)


def channel_connections(settings: Settings, session_factory: SessionFactory) -> ChannelConnections:
    """The channel adapters the settings allow (integrations.channels.registry), given what the
    registry may not fetch itself: the catalogue's listing ids and the sandbox's recording feed."""
    return connect_channels(
        settings,
        listings=partial(listing_lookup, session_factory),
        sandbox_feed=partial(SandboxStockFeed, session_factory=session_factory),
    )


def build_parts(
    settings: Settings,
    session_factory: SessionFactory,
    client: Client,
    *,
    gateway: PaymentGateway | PaymentGateways | None = None,
    warehouse: Warehouse | None = None,
    feeds: Mapping[str, StockFeed] | None = None,
    channels: ChannelConnections | None = None,
    carrier: Carrier | None = None,
    return_opener: ReturnOpener | None = None,
) -> WorkerParts:
    """Every workflow and bound activity the order task queue serves. `channels`: the channel
    adapters (integrations.channels.registry); built from the settings when not given.
    `return_opener`: how a channel's own return is opened here; services.returns.Returns when not given."""
    gateways = PaymentGateways.of(gateway) if gateway is not None else configured_gateway(settings)
    channels = channels or channel_connections(settings, session_factory)
    if gateways is None:
        # Without a gateway the sandbox one would approve every unpaid order.
        keys = ", ".join(
            f"OMS_{name.upper()}_{'SECRET_KEY' if name == 'stripe' else 'API_KEY'}" for name in settings.gateways_in_use
        )
        raise ConfigurationError(f"OMS_SANDBOX is off and a payment gateway in use has no key: set {keys}")
    warehouse = warehouse or configured_warehouse(settings)
    policies = PolicyCache()  # this process's: the stock feed and the pulls' intake read through it
    intake = Intake(
        settings, units_on(session_factory, policies), TemporalWorkflows.on(client), on_taken=orders_taken_on(client)
    )
    orders = OrderActivities(session_factory, settings.currency_codes)
    edits = OrderEditActivities(session_factory)
    inventory = InventoryActivities(session_factory)
    payments = PaymentActivities(session_factory, gateways)
    returns = ReturnActivities(session_factory, gateways, settings.store_credit_expiry)
    credit = StoreCreditActivities(session_factory, settings.store_credit_expiry)
    books = BooksActivities(session_factory, settings)
    goodwill = GoodwillActivities(session_factory, gateways, settings.store_credit_expiry)
    lifecycle = ReturnLifecycleActivities(
        session_factory,
        expiry=settings.return_expiry,
        auto_approve=settings.return_auto_approve,
        exchange_out_of_stock=settings.exchange_out_of_stock,
        exchange_wait=settings.backorder_deadline,
    )
    payment_links = PaymentLinkActivities(session_factory, gateways, settings.payment_link_expiry, settings.public_url)
    stock_feed = StockFeedActivities(session_factory, channels.feeds if feeds is None else feeds, client, policies)
    pulls = ChannelPullActivities(session_factory, channels.sources, intake)
    opener = return_opener or Returns(
        units_on(session_factory, policies),
        TemporalWorkflows.on(client),
        task_queue=settings.task_queue,
        expiry=settings.return_expiry,
    )
    channel_returns = ChannelReturnActivities(session_factory, channels.returns, opener)
    notices = ShipmentNoticeActivities(session_factory, channels.confirmers)
    cancellations = CancellationNoticeActivities(session_factory, channels.cancellers)
    outboxes = OutboxActivities(stock_feed, notices, cancellations, session_factory)
    events = EventDeliveryActivities(session_factory, delivery_policy(settings))
    carrier = carrier or configured_carrier(settings)
    shipments = shipment_parts(session_factory, warehouse, carrier)
    return_labels = ReturnLabelActivities(session_factory, carrier)
    moneybird = MoneybirdActivities(settings, session_factory)
    return WorkerParts(
        workflows=[
            OrderWorkflow,
            ReturnWorkflow,
            StockFeedWorkflow,
            EventDeliveryWorkflow,
            ChannelPullWorkflow,
            MoneybirdPushWorkflow,
            GoodwillWorkflow,
            StoreCreditExpiryWorkflow,
            BooksPushWorkflow,
            *shipments.workflows,
        ],
        activities=[
            orders.record_order,
            orders.validate_order,
            orders.change_status,
            edits.record_edit,
            edits.note_edit,
            inventory.reserve_stock,
            inventory.release_stock,
            inventory.sell_at_counter,
            payments.authorize_payment,
            payments.capture_payment,
            payments.void_payment,
            payments.reauthorize_payment,
            payments.charge_difference,
            payments.void_replaced_authorization,
            returns.accept_return,
            returns.refund_return,
            return_labels.create_return_label,
            return_labels.cancel_return_label,
            moneybird.push_to_moneybird,
            credit.issue_store_credit,
            credit.reverse_store_credit,
            credit.expire_store_credit,
            books.push_books,
            goodwill.refund_goodwill,
            goodwill.credit_goodwill,
            goodwill.refuse_goodwill,
            lifecycle.open_return,
            lifecycle.record_return_step,
            lifecycle.receive_return,
            lifecycle.dispose_return,
            lifecycle.note_exchange,
            payment_links.open_payment_link,
            payment_links.check_payment_link,
            payment_links.close_payment_link,
            outboxes.deliver_outboxes,
            events.deliver_events,
            pulls.pull_channel_orders,
            channel_returns.pull_channel_returns,
            channel_returns.handle_channel_return,
            *shipments.activities,
        ],
    )


def shipment_parts(session_factory: SessionFactory, warehouse: Warehouse, carrier: Carrier | None) -> WorkerParts:
    """What a location's own task queue serves: its ShipmentWorkflows and their steps."""
    steps = ShipmentActivities(session_factory, warehouse, carrier)
    return WorkerParts(
        workflows=[ShipmentWorkflow],
        activities=[
            steps.perform_step,
            steps.perform_steps_automatically,
            steps.close_shipment,
            steps.escalate,
            steps.request_label,
            steps.cancel_label,
        ],
    )


def build_worker(
    client: Client,
    settings: Settings,
    session_factory: SessionFactory,
    *,
    executor: ThreadPoolExecutor,
    gateway: PaymentGateway | PaymentGateways | None = None,
    warehouse: Warehouse | None = None,
    feeds: Mapping[str, StockFeed] | None = None,
    channels: ChannelConnections | None = None,
    carrier: Carrier | None = None,
    activities: Sequence[Callable[..., Any]] = (),
    return_opener: ReturnOpener | None = None,
) -> Worker:
    """`activities`: more, or in place of those of the same name (a test's recording stand-in)."""
    parts = build_parts(
        settings,
        session_factory,
        client,
        gateway=gateway,
        warehouse=warehouse,
        feeds=feeds,
        channels=channels,
        carrier=carrier,
        return_opener=return_opener,
    )
    return Worker(
        client,
        task_queue=settings.task_queue,
        workflows=parts.workflows,
        activities=list({_activity_name(each): each for each in (*parts.activities, *activities)}.values()),
        activity_executor=executor,
        max_concurrent_activities=settings.worker_activity_threads,
        max_cached_workflows=settings.worker_cached_workflows,
        # On SIGTERM, let running activities finish instead of cancelling them mid-step.
        graceful_shutdown_timeout=timedelta(seconds=30),
        interceptors=[PermanentFailures(), LogContext()],
        workflow_runner=workflow_runner(),
    )


def _activity_name(method: Callable[..., Any]) -> str:
    definition = getattr(method, "__temporal_activity_definition", None)
    return definition.name if definition is not None else method.__name__


def stock_feed_workflow_id(task_queue: str) -> str:
    return f"stock-feed-{task_queue}"


async def start_stock_feed(client: Client, task_queue: str, window: timedelta = DEFAULT_FEED_WINDOW) -> None:
    """The one stock-feed workflow of this task queue; a second worker finds it already running.
    `window`: how long each of its activities runs passes and waits for work (OMS_STOCK_FEED_WINDOW)."""
    await client.start_workflow(
        StockFeedWorkflow.run,
        StockFeedInput(wait_for_work_seconds=window.total_seconds()),
        id=stock_feed_workflow_id(task_queue),
        task_queue=task_queue,
        id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
        static_summary="delivers available-to-promise to every channel and wakes backorders",
    )


def delivery_policy(settings: Settings) -> DeliveryPolicy:
    return DeliveryPolicy(
        timeout=settings.event_http_timeout,
        first_retry=settings.event_retry_first,
        window=settings.event_retry_window,
        concurrency=settings.event_endpoint_concurrency,
        retention=settings.event_retention,
    )


def event_delivery_workflow_id(task_queue: str) -> str:
    return f"event-delivery-{task_queue}"


async def start_event_delivery(client: Client, task_queue: str, window: timedelta = DEFAULT_FEED_WINDOW) -> None:
    """The one event-delivery workflow of this task queue, like the stock feed's; a second worker
    finds it already running. `window`: how long each activity runs passes (OMS_EVENT_DELIVERY_WINDOW)."""
    await client.start_workflow(
        EventDeliveryWorkflow.run,
        EventDeliveryInput(window_seconds=window.total_seconds()),
        id=event_delivery_workflow_id(task_queue),
        task_queue=task_queue,
        id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
        static_summary="delivers outbound events to subscribed systems (Standard Webhooks)",
    )


def _database_answers(engine: Engine) -> None:
    with engine.connect() as connection:
        connection.execute(text("SELECT 1"))


async def wait_until_ready(
    settings: Settings, engine: Engine, channels: ChannelConnections, *, locations_only: bool = False
) -> Client:
    """Temporal and the database, each waited for while it is not there yet (services.waiting: one log
    line, no traceback), then what every worker expects on the server. No task is taken before both
    answer, so it does not matter which of the three an orchestrator starts first."""
    runtime = worker_runtime(settings)  # serves the SDK's metrics from here on
    client = await wait_for(
        f"Temporal at {settings.temporal_address}",
        lambda: connect_temporal(settings, runtime=runtime),
        retry_on=(RuntimeError, RPCError),  # the SDK reports a refused connection as a RuntimeError
        log=log,
    )

    async def prepare() -> None:
        await ensure_search_attributes(client, settings.temporal_namespace)
        if not locations_only:
            await ensure_moneybird_schedule(client, settings)
            await start_stock_feed(client, settings.task_queue, settings.stock_feed_window)
            await start_event_delivery(client, settings.task_queue, settings.event_delivery_window)
            await ensure_pull_schedules(client, settings, channels.sources)
            await ensure_expiry_schedule(client, settings)
            await ensure_books_schedule(client, settings)

    await wait_for(f"Temporal at {settings.temporal_address}", prepare, retry_on=(RPCError,), log=log)
    await wait_for(
        f"the database at {engine.url!r}",  # the URL's repr hides its password
        lambda: asyncio.to_thread(_database_answers, engine),
        retry_on=(OperationalError,),
        log=log,
    )
    return client


async def run_worker(settings: Settings, *, locations_only: bool = False) -> None:
    if locations_only and not settings.location_queues:
        # It would poll nothing and look healthy while the locations' shipments wait.
        raise ConfigurationError("--locations-only serves the queues in OMS_LOCATION_TASK_QUEUES, and none is set")
    pool = settings.worker_db_pool
    engine = create_db_engine(
        settings.resolved_database_url, pool_size=pool.size, max_overflow=pool.max_overflow, pre_ping=False
    )
    session_factory = create_session_factory(engine)
    channels = channel_connections(settings, session_factory)
    client = await wait_until_ready(settings, engine, channels, locations_only=locations_only)
    count_round_trips(engine, round_trips_on(client))
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    with ThreadPoolExecutor(max_workers=settings.worker_activity_threads) as executor:
        workers = [
            location_worker(client, settings, session_factory, queue, executor=executor)
            for queue in settings.location_queues
        ]
        if not locations_only:
            workers.insert(0, build_worker(client, settings, session_factory, executor=executor, channels=channels))
        async with contextlib.AsyncExitStack() as running:
            for worker in workers:
                await running.enter_async_context(worker)
            queues = [worker.task_queue for worker in workers]
            log.info("worker polling task queues %s on %s", queues, settings.temporal_address)
            log.info("%s", report(settings))
            await stop.wait()
    channels.close()
    engine.dispose()


def location_worker(
    client: Client,
    settings: Settings,
    session_factory: SessionFactory,
    task_queue: str,
    *,
    executor: ThreadPoolExecutor,
) -> Worker:
    """A worker for one location's task queue (OMS_LOCATION_TASK_QUEUES), e.g. next to a store's
    or a 3PL's systems: it runs that location's shipments and nothing else."""
    parts = shipment_parts(session_factory, configured_warehouse(settings), configured_carrier(settings))
    return Worker(
        client,
        task_queue=task_queue,
        workflows=parts.workflows,
        activities=parts.activities,
        activity_executor=executor,
        max_concurrent_activities=settings.worker_activity_threads,
        max_cached_workflows=settings.worker_cached_workflows,
        graceful_shutdown_timeout=timedelta(seconds=30),
        interceptors=[PermanentFailures(), LogContext()],
        workflow_runner=workflow_runner(),
    )


def main() -> None:
    # Temporal's sandbox re-imports the workflow modules for every workflow run; with
    # PYTHONDONTWRITEBYTECODE set (common in containers) each of those imports compiles from source.
    # Keeping bytecode caches measured about a fifth of the worker's CPU per order.
    sys.dont_write_bytecode = False
    settings = startup_settings("worker")
    configure_logging(settings)
    try:
        asyncio.run(run_worker(settings, locations_only="--locations-only" in sys.argv[1:]))
    except (ConfigurationError, MetricsAddressRefused) as exc:
        raise SystemExit(f"worker: {exc}") from None


if __name__ == "__main__":
    main()
