"""The engine's own Prometheus metrics: what happens (orders taken, counted as intake records them)
and what is waiting (read from the read model when Prometheus scrapes, never kept in memory).

Counters are this process's (prometheus_client's default registry): the API runs one uvicorn
process per container, and the worker, whose pulls take orders too, adds to the same counter name
through the Temporal runtime's meter on its own metrics port (worker.py), so
`sum by (channel) (oms_orders_taken_total)` counts every order taken, whichever process took it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from datetime import UTC, datetime

from prometheus_client import Counter, disable_created_metrics
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from persistence.read_model.gauges import OperationsFigures
from services.unit_of_work import UnitOfWorkFactory

log = logging.getLogger("oms.metrics")
disable_created_metrics()  # type: ignore[no-untyped-call]  # a `_created` series per counter says nothing Prometheus does not know

OrderTaken = Callable[[str], None]
"""Called with the channel each time intake records an order new to us (never for a duplicate)."""

ORDERS_TAKEN_NAME = "oms_orders_taken"
ORDERS_TAKEN_HELP = "Orders taken from a channel (a repeated delivery is not counted)"
ORDERS_TAKEN = Counter(ORDERS_TAKEN_NAME, ORDERS_TAKEN_HELP, ["channel"])


def count_taken(channel: str) -> None:
    ORDERS_TAKEN.labels(channel=channel).inc()


DB_ROUND_TRIPS_NAME = "oms_db_round_trips"
DB_ROUND_TRIPS_HELP = "Round trips to the database (persistence.round_trips): statements, begins, commits, rollbacks"
DB_ROUND_TRIPS = Counter(DB_ROUND_TRIPS_NAME, DB_ROUND_TRIPS_HELP, ["kind"])


def count_round_trip(kind: str) -> None:
    DB_ROUND_TRIPS.labels(kind=kind).inc()


class ReadModelGauges(Collector):
    """What is waiting, read at scrape time: orders per status, open holds, each outbox's backlog
    and the age of its oldest row per channel, open escalations. One read-only unit of work per
    scrape; when the database does not answer, `oms_read_model_up` says 0 and nothing else is
    reported (a missing figure, never a wrong one)."""

    def __init__(self, units: UnitOfWorkFactory, clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self._units = units
        self._clock = clock

    def collect(self) -> Iterable[GaugeMetricFamily]:
        up = GaugeMetricFamily("oms_read_model_up", "1 when the read model answered this scrape, else 0")
        try:
            with self._units(read_only=True) as uow:
                figures = uow.reports.operations_figures()
        except Exception as exc:  # a scrape must answer whatever the database does
            log.warning("metrics: the read model did not answer (%s)", type(exc).__name__)
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        yield from self._families(figures, self._clock())

    @staticmethod
    def _families(figures: OperationsFigures, now: datetime) -> Iterable[GaugeMetricFamily]:
        orders = GaugeMetricFamily("oms_orders", "Orders in the read model per status", labels=["status"])
        for status, count in sorted(figures.orders_by_status.items()):
            orders.add_metric([status], count)
        yield orders
        yield GaugeMetricFamily("oms_holds_open", "Orders on hold, waiting for a person", value=figures.holds_open)
        pending = GaugeMetricFamily(
            "oms_outbox_pending", "Undelivered outbox rows per outbox and channel", labels=["outbox", "channel"]
        )
        age = GaugeMetricFamily(
            "oms_outbox_oldest_age_seconds",
            "Age of the oldest undelivered outbox row per outbox and channel (0: none waiting)",
            labels=["outbox", "channel"],
        )
        for backlog in figures.outboxes:
            labels = [backlog.outbox, backlog.channel]
            pending.add_metric(labels, backlog.pending)
            waited = (now - backlog.oldest).total_seconds() if backlog.oldest is not None else 0.0
            age.add_metric(labels, max(waited, 0.0))
        yield pending
        yield age
        escalations = GaugeMetricFamily(
            "oms_escalations_open", "Shipment steps past their deadline, not done yet", labels=["location_id", "step"]
        )
        for (location, step), count in sorted(figures.escalations_open.items()):
            escalations.add_metric([location, step], count)
        yield escalations
