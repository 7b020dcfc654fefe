"""A fake unit of work with fake repositories and a fake workflow gateway, for service tests
(cosmicpython's handler tests): rows in dictionaries, workflows as a script of answers.

Repositories write at once; `FakeUnitOfWork.commit` counts commits and may be scripted to fail
(`FakeUnits.commit_failures`), and writes a service stages through `FakeUnitOfWork.stage` (new
locations) are dropped when it does not commit."""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from contracts.goodwill import GoodwillInput
from contracts.invoices import IssuedDocument
from contracts.order_edits import EditOrderRequest, EditOrderResult
from contracts.order_workflow import CancelRequest, DeliveredNotice, OrderState, OrderWorkflowInput, ReleaseRequest
from contracts.return_lifecycle import (
    DisposeReturnRequest,
    OpenedReturn,
    ReceiveReturnRequest,
    ReturnDecision,
    ReturnView,
    ReturnWorkflowInput,
)
from contracts.returns import ReturnAccepted, ReturnRequest
from contracts.shipments import ShipmentProgress, StepConfirmation
from domain.channels import ChannelPolicy, channel_policy_from_dict
from domain.marketplace_returns import ChannelRefund
from domain.money import Money
from domain.order import CHANNELS, Order
from domain.payment_links import LinkStatus
from domain.status import OrderStatus
from persistence.guarded_writes.goodwill import Reserved
from persistence.guarded_writes.inventory import StockRow
from persistence.guarded_writes.order_intake import Waiting
from persistence.guarded_writes.stock_ops import Transfer
from persistence.master_data.catalogue import KEEP_COST, CostChange
from persistence.models import (
    ChannelMessage,
    Escalation,
    Location,
    OrderEvent,
    OrderRecord,
    OrderVersionRecord,
    PaymentLinkRecord,
    PaymentRecord,
    ReturnRecord,
    ShipmentLabel,
    ShipmentRecord,
    StockMovement,
)
from persistence.read_model.financials import Financials
from persistence.read_model.gauges import OperationsFigures
from persistence.read_model.kpi_series import KpiSeriesRows
from persistence.read_model.kpis import NO_DURATIONS, KpiRows
from persistence.read_model.labels import LabelParties
from persistence.read_model.overview import StuckNotice
from persistence.read_model.product_performance import PerformanceFilter, PerformanceRow
from persistence.read_model.return_labels import ReturnLabelView
from persistence.read_model.stock_overview import ChannelSent
from persistence.read_model.stock_value import StockValueRows
from persistence.read_model.warehouse_floor import FloorRows
from services.gateway import EngineUnavailable
from services.unit_of_work import AbstractUnitOfWork

Failure = Callable[[], None]
"""Run when a commit is attempted: raise to make the commit fail (it may change the store first,
as the transaction that won would have)."""


def order_record(
    order_id: str = "order-webshop-1", status: OrderStatus = OrderStatus.RECEIVED, **fields: Any
) -> OrderRecord:
    values: dict[str, Any] = {
        "channel": order_id.split("-")[1],
        "external_id": order_id.rsplit("-", 1)[-1],
        "status": status.value,
        "currency": "EUR",
        "total_minor": 1000,
        "placed_at": datetime(2026, 1, 1),
        "received_at": datetime(2026, 1, 1),
        "fulfilled_by": "us",
    }
    return OrderRecord(order_id=order_id, **{**values, **fields})


class FakeOrders:
    def __init__(self) -> None:
        self.records: dict[str, OrderRecord] = {}
        self.timeline: list[tuple[str, str, str]] = []
        self.cancel_claims: set[str] = set()
        self.claim_refusals: dict[str, str] = {}
        """order id → why a cancel cannot be claimed (goods have left)."""

    def add(self, record: OrderRecord) -> None:
        self.records[record.order_id] = record

    def versions(self, order_id: str) -> list[OrderVersionRecord]:
        return []

    def known_skus(self, skus: Iterable[str]) -> set[str]:
        return set(skus)

    def get(self, order_id: str) -> OrderRecord | None:
        return self.records.get(order_id)

    def status_of(self, order_id: str) -> OrderStatus | None:
        record = self.records.get(order_id)
        return None if record is None else OrderStatus(record.status)

    def events(self, order_id: str) -> list[OrderEvent]:
        return [
            OrderEvent(order_id=order_id, kind=kind, detail=detail)
            for oid, kind, detail in self.timeline
            if oid == order_id
        ]

    def page(
        self,
        *,
        status: str | None = None,
        channel: str | None = None,
        sku: str | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> tuple[list[OrderRecord], int]:
        rows = [r for r in self.records.values() if status in (None, r.status) and channel in (None, r.channel)]
        return rows[offset : offset + limit], len(rows)

    def find(self, *, exact: str, email_key: str, postcode_key: str, limit: int) -> tuple[list[OrderRecord], int]:
        rows = [
            r
            for r in self.records.values()
            if exact in (r.order_id, r.external_id, r.reference)
            or (email_key and r.email_key == email_key)
            or (postcode_key and r.postcode_key == postcode_key)
        ]
        return rows[:limit], len(rows)

    def claim_cancel(self, order_id: str, at: datetime) -> str | None:
        refusal = self.claim_refusals.get(order_id)
        if refusal is None and order_id in self.records:
            self.cancel_claims.add(order_id)
        return refusal

    def forget_cancel_claim(self, order_id: str) -> None:
        self.cancel_claims.discard(order_id)

    def add_event(self, order_id: str, kind: str, detail: str, at: datetime) -> None:
        self.timeline.append((order_id, kind, detail))

    def reserve_goodwill(self, **_: Any) -> Reserved | None:
        raise NotImplementedError("goodwill is tested on the real databases")

    def record(self, order: Order, received_at: datetime) -> bool:
        if order.order_id in self.records:
            return False
        self.add(order_record(order.order_id, channel=order.channel, status=OrderStatus.RECEIVED))
        return True


class FakeReturns:
    def __init__(self) -> None:
        self.records: list[ReturnRecord] = []

    def for_order(self, order_id: str) -> list[ReturnRecord]:
        return [r for r in self.records if r.order_id == order_id]

    def returned_so_far(self, order_id: str) -> dict[str, int]:
        units: dict[str, int] = {}
        for record in self.for_order(order_id):
            for sku, quantity in record.lines.items():
                units[sku] = units.get(sku, 0) + quantity
        return units

    def shipped_units(self, order_id: str) -> dict[str, int]:
        return {}

    def label(self, return_id: str) -> ReturnLabelView | None:
        return None

    def label_document(self, return_id: str) -> tuple[bytes, str] | None:
        return None

    def find(self, return_id_or_rma: str) -> ReturnRecord | None:
        return next((r for r in self.records if return_id_or_rma in (r.return_id, r.rma)), None)

    def difference_payment(self, record: ReturnRecord) -> PaymentRecord | None:
        return None

    def replacement_shipments(self, record: ReturnRecord) -> list[ShipmentRecord]:
        return []

    def page(self, *, state: str | None, limit: int, offset: int) -> tuple[list[ReturnRecord], int]:
        found = [r for r in self.records if r.state is not None and (state is None or r.state == state)]
        return found[offset : offset + limit], len(found)

    def open_channel_return(
        self,
        order: Order,
        request: ReturnRequest,
        *,
        return_id: str,
        at: datetime,
        expiry: timedelta,
        shipped: dict[str, int] | None,
    ) -> OpenedReturn:
        raise NotImplementedError("the real database opens returns (tests/workflow/test_return_lifecycle.py)")

    def expected_at(self, location_ids: Collection[str], *, limit: int) -> list[ReturnRecord]:
        return []

    def to_dispose_at(self, location_ids: Collection[str], *, limit: int) -> list[ReturnRecord]:
        found = [r for r in self.records if r.state == "RECEIVED" and r.location_id in location_ids]
        return found[:limit]

    def record_channel_refund(self, refund: ChannelRefund, order_id: str, at: datetime) -> bool:
        if any(r.return_id == refund.return_id for r in self.records):
            return False
        self.records.append(
            ReturnRecord(
                return_id=refund.return_id,
                order_id=order_id,
                status="REFUND_ON_CHANNEL",
                lines=dict(refund.units),
                currency=refund.amount.currency,
                refund_minor=refund.amount.amount_minor,
                created_at=at,
            )
        )
        return True


class FakeShipments:
    def __init__(self) -> None:
        self.records: dict[str, ShipmentRecord] = {}
        self.notified: dict[str, dict[str, datetime]] = {}
        self.late: list[Escalation] = []
        self.labels: dict[tuple[str, str], ShipmentLabel] = {}

    def get(self, shipment_id: str) -> ShipmentRecord | None:
        return self.records.get(shipment_id)

    def page(
        self,
        *,
        location_id: str | None,
        status: str | None,
        open_only: bool,
        limit: int,
        offset: int,
        location_ids: Collection[str] | None = None,
    ) -> list[ShipmentRecord]:
        rows = [r for r in self.records.values() if location_id in (None, r.location_id)]
        rows = [r for r in rows if location_ids is None or r.location_id in location_ids]
        return rows[offset : offset + limit]

    def notified_at(self, order_id: str) -> dict[str, datetime]:
        return dict(self.notified.get(order_id, {}))

    def escalations(
        self,
        *,
        open_only: bool,
        location_id: str | None = None,
        limit: int = 100,
        offset: int = 0,
        location_ids: Collection[str] | None = None,
    ) -> tuple[list[Escalation], int]:
        return self.late[offset : offset + limit], len(self.late)

    def label(self, shipment_id: str, purpose: str) -> ShipmentLabel | None:
        return self.labels.get((shipment_id, purpose))

    def label_parties(self, shipment_id: str) -> LabelParties | None:
        return None

    def keep_label(self, label: ShipmentLabel) -> ShipmentLabel:
        return self.labels.setdefault((label.shipment_id, label.purpose), label)

    def open_at(self, location_id: str) -> FloorRows:
        return FloorRows([r for r in self.records.values() if location_id in (r.location_id, r.transfer_to)])

    def expired_at(self, location_id: str, limit: int) -> FloorRows:
        return FloorRows([])

    def on_the_floor(self, shipment_id: str) -> FloorRows | None:
        record = self.records.get(shipment_id)
        return None if record is None else FloorRows([record])

    def set_bin(self, location_id: str, sku: str, bin_: str | None) -> bool:
        return False


class FakeStock:
    """Stock records by (location, sku). A method's next answers can be scripted as exceptions
    (`refusals[name]`), raised in turn before it does anything."""

    def __init__(self) -> None:
        self.rows: dict[tuple[str, str], StockRow] = {}
        self.moves: list[tuple[str, str, int, str, str]] = []
        self.actors: list[str] = []
        """Who made each move (change_on_hand, set_safety_stock), in order."""
        self.noted: list[str] = []
        self.sent: dict[str, dict[str, ChannelSent]] = {}
        self.shipped: dict[str, dict[str, int]] = {}
        self.refusals: dict[str, list[Exception]] = {}

    def put(
        self, location_id: str, sku: str, on_hand: int, reserved: int = 0, safety_stock: int = 0, held: int = 0
    ) -> None:
        self.rows[(location_id, sku)] = StockRow(location_id, sku, on_hand, reserved, safety_stock, held)

    def _refuse(self, method: str) -> None:
        pending = self.refusals.get(method)
        if pending:
            raise pending.pop(0)

    def change_on_hand(
        self, location_id: str, sku: str, delta: int, *, kind: str, reason: str, actor: str = ""
    ) -> StockRow:
        self._refuse("change_on_hand")
        row = self.rows.get((location_id, sku), StockRow(location_id, sku, 0, 0, 0))
        self.put(location_id, sku, row.on_hand + delta, row.reserved, row.safety_stock, row.held)
        self.moves.append((location_id, sku, delta, kind, reason))
        self.actors.append(actor)
        return self.rows[(location_id, sku)]

    def transfer(
        self, from_location_id: str, to_location_id: str, sku: str, quantity: int, *, reason: str, actor: str = ""
    ) -> Transfer:
        self._refuse("transfer")
        source = self.change_on_hand(from_location_id, sku, -quantity, kind="transfer", reason=reason, actor=actor)
        destination = self.change_on_hand(to_location_id, sku, quantity, kind="transfer", reason=reason, actor=actor)
        return Transfer(source, destination)

    def set_safety_stock(
        self, location_id: str, sku: str, safety_stock: int, *, actor: str = ""
    ) -> tuple[StockRow, int]:
        self._refuse("set_safety_stock")
        self.actors.append(actor)
        row = self.rows[(location_id, sku)]
        self.put(location_id, sku, row.on_hand, row.reserved, safety_stock, row.held)
        return self.rows[(location_id, sku)], row.safety_stock

    def release_held(
        self, location_id: str, sku: str, quantity: int, *, to: str, reason: str, actor: str, at: datetime
    ) -> StockRow:
        self._refuse("release_held")
        row = self.rows[(location_id, sku)]
        on_hand = row.on_hand + quantity if to == "sellable" else row.on_hand
        self.put(location_id, sku, on_hand, row.reserved, row.safety_stock, row.held - quantity)
        self.moves.append((location_id, sku, quantity, f"held to {to}", reason))
        self.actors.append(actor)
        return self.rows[(location_id, sku)]

    def page(
        self, *, location_id: str | None, sku_prefix: str | None, below_safety: bool | None, limit: int, offset: int
    ) -> tuple[list[StockRow], int]:
        rows = sorted(self.rows.values(), key=lambda r: (r.sku, r.location_id))
        rows = [r for r in rows if location_id in (None, r.location_id) and r.sku.startswith(sku_prefix or "")]
        return rows[offset : offset + limit], len(rows)

    def for_sku(self, sku: str) -> list[StockRow]:
        return sorted((r for r in self.rows.values() if r.sku == sku), key=lambda r: r.location_id)

    def held_at(self, location_id: str) -> list[StockRow]:
        return sorted((r for r in self.rows.values() if r.location_id == location_id and r.held), key=lambda r: r.sku)

    def last_sent(self, sku: str) -> dict[str, ChannelSent]:
        return dict(self.sent.get(sku, {}))

    def shipped_since(self, sku: str, since: datetime) -> dict[str, int]:
        return dict(self.shipped.get(sku, {}))

    def ledger(self, sku: str, *, location_id: str | None, limit: int, offset: int) -> tuple[list[StockMovement], int]:
        return [], 0

    def note_change(self, sku: str) -> None:
        self.noted.append(sku)


class FakeLocations:
    def __init__(self, uow: Callable[[], FakeUnitOfWork]) -> None:
        self.saved: dict[str, Location] = {}
        self._uow = uow

    def get(self, location_id: str) -> Location | None:
        return self.saved.get(location_id)

    def add(self, location: Location) -> None:
        """Kept when the unit of work commits, as a database keeps an INSERT."""
        self._uow().stage(lambda: self.saved.__setitem__(location.location_id, location))

    def all(self) -> list[Location]:
        return [self.saved[key] for key in sorted(self.saved)]

    def kind(self, location_id: str) -> str | None:
        location = self.saved.get(location_id)
        return None if location is None else location.kind


class FakeCatalogue:
    def __init__(self) -> None:
        self.entries: dict[str, dict[str, object]] = {}
        self.refusals: list[Exception] = []

    def entry(self, sku: str) -> dict[str, object] | None:
        return self.entries.get(sku)

    def save(
        self,
        sku: str,
        *,
        name: str,
        ean: str | None,
        listings: Mapping[str, str],
        unit_cost: CostChange = KEEP_COST,
        vat_category: str | None = None,
    ) -> None:
        if self.refusals:
            raise self.refusals.pop(0)
        before = self.entries.get(sku, {})
        cost = before.get("unit_cost") if unit_cost is KEEP_COST else unit_cost
        category = vat_category or before.get("vat_category") or "standard"
        self.entries[sku] = {
            "sku": sku,
            "name": name,
            "ean": ean,
            "vat_category": category,
            "listings": dict(listings),
            "unit_cost": cost,
        }

    def page(self, *, query: str | None, limit: int, offset: int) -> tuple[list[dict[str, object]], int]:
        wanted = (query or "").lower()
        matching = [
            entry
            for sku, entry in sorted(self.entries.items())
            if not wanted or any(wanted in str(entry.get(key) or "").lower() for key in ("sku", "name", "ean"))
        ]
        return matching[offset : offset + limit], len(matching)


class FakeChannels:
    def __init__(self) -> None:
        self.stored: dict[str, ChannelPolicy] = {}

    def policy(self, channel: str) -> ChannelPolicy:
        return self.stored.get(channel) or channel_policy_from_dict(channel, {})

    def policies(self) -> list[ChannelPolicy]:
        return [self.policy(channel) for channel in CHANNELS]

    def save(self, policy: ChannelPolicy) -> None:
        self.stored[policy.channel] = policy


class FakeMessages:
    def __init__(self) -> None:
        self.kept: list[ChannelMessage] = []

    def add(
        self, channel: str, kind: str, body: str, *, external_id: str | None, order_id: str | None, outcome: str
    ) -> None:
        message = ChannelMessage(channel=channel, kind=kind, body=body, external_id=external_id, order_id=order_id)
        message.outcome = outcome
        self.kept.append(message)

    def for_order(self, order_id: str) -> list[ChannelMessage]:
        return [m for m in self.kept if m.order_id == order_id]


class FakeIntake:
    """The order intake in memory (persistence.guarded_writes.order_intake says what each does)."""

    def __init__(self, orders: FakeOrders) -> None:
        self.orders = orders
        self.rows: dict[str, Waiting] = {}
        self.due: dict[str, datetime] = {}

    def take_in(
        self, *, order_id: str, channel: str, workflow_input: str, received_at: datetime, first_try: datetime
    ) -> bool:
        if order_id in self.rows or order_id in self.orders.records:
            return False
        self.rows[order_id] = Waiting(order_id, workflow_input, received_at, None, 0)
        self.due[order_id] = first_try
        return True

    def waiting(self, order_id: str) -> Waiting | None:
        return self.rows.get(order_id)

    def anything_due(self, now: datetime) -> bool:
        return any(row.started_at is None and self.due[row.order_id] <= now for row in self.rows.values())

    def claim_due(self, now: datetime, lease: timedelta, limit: int) -> list[Waiting]:
        due = [row for row in self.rows.values() if row.started_at is None and self.due[row.order_id] <= now]
        claimed = [replace(row, attempts=row.attempts + 1) for row in due[:limit]]
        for row in claimed:
            self.rows[row.order_id] = row
            self.due[row.order_id] = now + lease
        return claimed

    def mark_started(self, order_ids: list[str], at: datetime) -> None:
        for order_id in order_ids:
            if self.rows[order_id].started_at is None:
                self.rows[order_id] = replace(self.rows[order_id], started_at=at)

    def put_off(self, order_id: str, until: datetime, error: str) -> None:
        self.due[order_id] = until

    def forget_started(self, before: datetime) -> int:
        gone = [row.order_id for row in self.rows.values() if row.started_at is not None and row.started_at < before]
        for order_id in gone:
            del self.rows[order_id]
        return len(gone)

    def backlog(self) -> tuple[int, datetime | None]:
        waiting = [row.received_at for row in self.rows.values() if row.started_at is None]
        return len(waiting), min(waiting, default=None)


class FakeReports:
    def __init__(self) -> None:
        self.rows = KpiRows(orders_by_status={}, processing=NO_DURATIONS, shipments=0, fulfilment_cost_by_currency={})
        self.asked: list[tuple[datetime, datetime, str | None]] = []

    def kpis(self, since: datetime, until: datetime, channel: str | None) -> KpiRows:
        self.asked.append((since, until, channel))
        return self.rows

    def kpi_series(self, since: datetime, until: datetime, channel: str | None) -> KpiSeriesRows:
        self.asked.append((since, until, channel))
        return KpiSeriesRows([], [], [], [], [], [], [], [], [], [])

    def performance(self, wanted: PerformanceFilter) -> list[PerformanceRow]:
        self.asked.append((wanted.since, wanted.until, wanted.channel))
        return []

    def financials(self, since: datetime | None, until: datetime | None) -> Financials:
        return Financials()

    def stock_value(self, location_id: str | None) -> StockValueRows:
        return StockValueRows()

    def orders_by_status(self) -> dict[str, int]:
        return dict(self.rows.orders_by_status)

    def orders_by_channel(self, since: datetime) -> dict[str, int]:
        return {}

    def waiting_for_a_person(self) -> list[OrderRecord]:
        return []

    def stuck_notices(self) -> list[StuckNotice]:
        return []

    def operations_figures(self) -> OperationsFigures:
        return OperationsFigures(orders_by_status=dict(self.rows.orders_by_status))


class FakeUnitOfWork(AbstractUnitOfWork):
    def __init__(self, units: FakeUnits, read_only: bool) -> None:
        self._units = units
        self.read_only = read_only
        self.committed = False
        self._staged: list[Callable[[], None]] = []
        store = units.store
        self.orders = store.orders
        self.returns = store.returns
        self.shipments = store.shipments
        self.stock = store.stock
        self.locations = store.locations
        self.catalogue = store.catalogue
        self.channels = store.channels
        self.messages = store.messages
        self.reports = store.reports
        self.payments = store.payments
        self.intake = store.intake

    def __enter__(self) -> FakeUnitOfWork:
        self._units.current = self
        return super().__enter__()

    def stage(self, write: Callable[[], None]) -> None:
        self._staged.append(write)

    def commit(self) -> None:
        if self.read_only:
            raise AssertionError("a write in a read-only unit of work")
        if self._units.commit_failures:
            self._staged.clear()
            self._units.commit_failures.pop(0)()
        for write in self._staged:
            write()
        self._staged.clear()
        self.committed = True
        self._units.commits += 1

    def rollback(self) -> None:
        self._staged.clear()


class FakePayments:
    """Payment links by owner (a return, an order); the rest of the payment repository is not used
    by the services these fakes serve."""

    def __init__(self) -> None:
        self.links: list[PaymentLinkRecord] = []

    def by_provider_ref(self, provider: str, provider_ref: str) -> PaymentRecord | None:
        return None

    def documents_of(self, order_id: str) -> list[IssuedDocument]:
        return []

    def document_numbered(self, number: str) -> IssuedDocument | None:
        return None

    def note_given_back(
        self, payment: PaymentRecord, ref: str, kind: str, amount_minor: int, detail: str, at: datetime
    ) -> bool:
        raise NotImplementedError

    def note_provider_status(self, payment: PaymentRecord, status: str, detail: str, at: datetime) -> bool:
        raise NotImplementedError

    def links_of(self, owner: str) -> list[PaymentLinkRecord]:
        return [link for link in self.links if link.owner == owner]

    def open_links(self, provider: str, amount: Money | None) -> list[PaymentLinkRecord]:
        raise NotImplementedError

    def link(self, link_id: str, *, for_update: bool = False) -> PaymentLinkRecord | None:
        return next((link for link in self.links if link.link_id == link_id), None)

    def settle_link(
        self, link: PaymentLinkRecord, seen: LinkStatus, provider_payment: str | None, at: datetime
    ) -> bool:
        raise NotImplementedError


@dataclass
class FakeStore:
    orders: FakeOrders = field(default_factory=FakeOrders)
    returns: FakeReturns = field(default_factory=FakeReturns)
    shipments: FakeShipments = field(default_factory=FakeShipments)
    stock: FakeStock = field(default_factory=FakeStock)
    locations: FakeLocations = field(init=False)
    catalogue: FakeCatalogue = field(default_factory=FakeCatalogue)
    channels: FakeChannels = field(default_factory=FakeChannels)
    messages: FakeMessages = field(default_factory=FakeMessages)
    reports: FakeReports = field(default_factory=FakeReports)
    payments: FakePayments = field(default_factory=FakePayments)
    intake: FakeIntake = field(init=False)

    def __post_init__(self) -> None:
        self.intake = FakeIntake(self.orders)


class FakeUnits:
    """The factory services get: every unit of work it opens shares one store."""

    def __init__(self) -> None:
        self.store = FakeStore()
        self.store.locations = FakeLocations(lambda: self._current())
        self.opened: list[FakeUnitOfWork] = []
        self.current: FakeUnitOfWork | None = None
        self.commits = 0
        self.commit_failures: list[Failure] = []

    def __call__(self, *, read_only: bool = False) -> FakeUnitOfWork:
        uow = FakeUnitOfWork(self, read_only)
        self.opened.append(uow)
        return uow

    def _current(self) -> FakeUnitOfWork:
        assert self.current is not None, "a repository used outside a unit of work"
        return self.current


def fail_with(exc: Exception, before: Failure | None = None) -> Failure:
    """A commit failure: `before` changes the store as the winning transaction did, then `exc`."""

    def failure() -> None:
        if before is not None:
            before()
        raise exc

    return failure


class FakeWorkflows:
    """The workflow gateway as a script: what each workflow answers, and what it was sent.
    `failures[method]`: exceptions raised in turn by that method before it does anything."""

    def __init__(self) -> None:
        self.reachable = True
        self.running: set[str] = set()
        self.states: dict[str, OrderState] = {}
        self.progress: dict[str, ShipmentProgress] = {}
        self.returns: dict[str, ReturnAccepted] = {}
        self.failures: dict[str, list[Exception]] = {}
        self.started: list[tuple[OrderWorkflowInput, str, CancelRequest | None]] = []
        self.signals: list[tuple[str, str, CancelRequest | ReleaseRequest]] = []
        self.return_requests: list[tuple[str, ReturnRequest]] = []
        self.confirmations: list[tuple[str, StepConfirmation]] = []
        self.delivered: list[tuple[str, DeliveredNotice]] = []
        self.started_returns: list[ReturnWorkflowInput] = []
        self.return_views: dict[str, ReturnView] = {}
        self.return_steps: list[tuple[str, str, object]] = []
        self.edits: dict[str, EditOrderResult] = {}
        self.edit_requests: list[tuple[str, EditOrderRequest]] = []

    def _call(self, method: str) -> None:
        if not self.reachable:
            raise EngineUnavailable()
        pending = self.failures.get(method)
        if pending:
            raise pending.pop(0)

    async def connect(self) -> None:
        self._call("connect")

    async def start_order(
        self, data: OrderWorkflowInput, *, task_queue: str, cancel: CancelRequest | None = None
    ) -> bool:
        self._call("start_order")
        if data.order.order_id in self.running:
            return False
        self.running.add(data.order.order_id)
        self.started.append((data, task_queue, cancel))
        return True

    async def start_goodwill(self, data: GoodwillInput, *, task_queue: str) -> bool:
        self._call("start_goodwill")
        if data.goodwill_id in self.running:
            return False
        self.running.add(data.goodwill_id)
        return True

    async def order_state(self, order_id: str) -> OrderState:
        self._call("order_state")
        return self.states[order_id]

    async def cancel_order(self, order_id: str, request: CancelRequest) -> None:
        self._call("cancel_order")
        self.signals.append(("cancel", order_id, request))

    async def release_order(self, order_id: str, request: ReleaseRequest) -> None:
        self._call("release_order")
        self.signals.append(("release", order_id, request))

    async def order_delivered(self, order_id: str, notice: DeliveredNotice) -> None:
        self._call("order_delivered")
        self.delivered.append((order_id, notice))

    async def request_return(self, order_id: str, request: ReturnRequest) -> ReturnAccepted:
        self._call("request_return")
        self.return_requests.append((order_id, request))
        return self.returns[order_id]

    async def start_return(self, data: ReturnWorkflowInput, *, task_queue: str) -> bool:
        self._call("start_return")
        self.started_returns.append(data)
        return True

    async def return_view(self, return_id: str) -> ReturnView:
        self._call("return_view")
        return self.return_views[return_id]

    async def return_step(
        self, return_id: str, step: str, arg: ReturnDecision | ReceiveReturnRequest | DisposeReturnRequest
    ) -> ReturnView:
        self._call("return_step")
        self.return_steps.append((return_id, step, arg))
        return self.return_views[return_id]

    async def edit_order(self, order_id: str, request: EditOrderRequest) -> EditOrderResult:
        self._call("edit_order")
        self.edit_requests.append((order_id, request))
        return self.edits[order_id]

    async def shipment_progress(self, shipment_id: str) -> ShipmentProgress:
        self._call("shipment_progress")
        return self.progress[shipment_id]

    async def confirm_step(self, shipment_id: str, confirmation: StepConfirmation) -> ShipmentProgress:
        self._call("confirm_step")
        self.confirmations.append((shipment_id, confirmation))
        return self.progress[shipment_id]
