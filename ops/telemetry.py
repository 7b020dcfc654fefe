"""The worker's Temporal runtime: the SDK's own metrics (task slots, schedule-to-start latency,
activity and workflow-task failures, polls, requests to the server) served in Prometheus format on
OMS_WORKER_METRICS_ADDRESS (its own port; empty: none), and the Rust core's log lines forwarded to
Python logging, so they come out structured like every other line (services.logs)."""

from __future__ import annotations

import logging

from temporalio import activity
from temporalio.client import Client
from temporalio.common import MetricCounter
from temporalio.runtime import (
    LogForwardingConfig,
    LoggingConfig,
    PrometheusConfig,
    Runtime,
    TelemetryConfig,
    TelemetryFilter,
)

from config import Settings
from persistence.round_trips import RoundTrip
from services.metrics import (
    DB_ROUND_TRIPS_HELP,
    DB_ROUND_TRIPS_NAME,
    ORDERS_TAKEN_HELP,
    ORDERS_TAKEN_NAME,
    OrderTaken,
)

CORE_LOGGER = "temporalio.core"


class MetricsAddressRefused(Exception):
    """The metrics address cannot be served (taken, or not host:port): said in one line."""


def worker_runtime(settings: Settings) -> Runtime:
    metrics = None
    if settings.worker_metrics_address:
        # Prometheus's conventions: counters end in _total, durations are seconds named _seconds.
        metrics = PrometheusConfig(
            bind_address=settings.worker_metrics_address,
            counters_total_suffix=True,
            unit_suffix=True,
            durations_as_seconds=True,
        )
    logs = LoggingConfig(
        filter=TelemetryFilter(core_level="WARN", other_level="ERROR"),
        forwarding=LogForwardingConfig(logger=logging.getLogger(CORE_LOGGER)),
    )
    try:
        return Runtime(telemetry=TelemetryConfig(metrics=metrics, logging=logs))
    except ValueError as exc:  # the exporter binds its port at once
        raise MetricsAddressRefused(f"OMS_WORKER_METRICS_ADDRESS={settings.worker_metrics_address}: {exc}") from None


def orders_taken_on(client: Client) -> OrderTaken:
    """services.metrics' orders-taken counter, on the worker's metrics port: the pulled channels'
    orders are taken in the worker, whose own registry nobody scrapes."""
    runtime = client.service_client.config.runtime or Runtime.default()
    counter = runtime.metric_meter.create_counter(ORDERS_TAKEN_NAME, ORDERS_TAKEN_HELP)

    def taken(channel: str) -> None:
        counter.add(1, {"channel": channel})

    return taken


def round_trips_on(client: Client) -> RoundTrip:
    """services.metrics' database round-trip counter, on the worker's metrics port, per activity
    type (`activity`; "-" outside an activity): which step asks the database most."""
    runtime = client.service_client.config.runtime or Runtime.default()
    counter = runtime.metric_meter.create_counter(DB_ROUND_TRIPS_NAME, DB_ROUND_TRIPS_HELP)
    counters: dict[tuple[str, str], MetricCounter] = {}

    def counted(kind: str) -> None:
        step = activity.info().activity_type if activity.in_activity() else "-"
        each = counters.get((kind, step))
        if each is None:
            each = counters[(kind, step)] = counter.with_additional_attributes({"kind": kind, "activity": step})
        each.add(1)

    return counted
