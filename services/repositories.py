"""What the services need from storage, one repository per thing the trade talks about.

Protocols, so a service names what it needs and nothing else: the SQL ones in
persistence.repositories wrap the guarded statements and queries already there, and the fakes in the
service tests keep rows in dictionaries. Rows are the read model's own (OrderRecord, Location, ...):
the services hand them to the API, which turns them into its public shapes.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from datetime import datetime, timedelta
from typing import Protocol

from contracts.invoices import IssuedDocument
from contracts.return_lifecycle import OpenedReturn
from contracts.returns import ReturnRequest
from domain.accounts import Throttle
from domain.carrier_events import CarrierEvent
from domain.channels import ChannelPolicy
from domain.goodwill import GoodwillForm
from domain.marketplace_returns import ChannelRefund
from domain.money import Money
from domain.order import Order
from domain.payment_links import LinkStatus
from domain.routing import RoutingPolicy
from domain.sourcing import SourcingPlan, SourcingRequest
from domain.status import OrderStatus
from domain.store_credit import CreditAccount, CreditEntry, CreditReason
from persistence.guarded_writes.goodwill import Reserved
from persistence.guarded_writes.inventory import StockRow
from persistence.guarded_writes.order_intake import Waiting
from persistence.guarded_writes.stock_ops import Transfer
from persistence.guarded_writes.store_credit import Written
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
    StaffAccount,
    StaffAction,
    StaffSessionRecord,
    StaffToken,
    StockMovement,
    StoreCreditEntry,
)
from persistence.read_model.deliveries import Recorded
from persistence.read_model.financials import Financials
from persistence.read_model.gauges import OperationsFigures
from persistence.read_model.kpi_series import KpiSeriesRows
from persistence.read_model.kpis import KpiRows
from persistence.read_model.labels import LabelParties
from persistence.read_model.overview import StuckNotice
from persistence.read_model.product_performance import PerformanceFilter, PerformanceRow
from persistence.read_model.return_labels import ReturnLabelView
from persistence.read_model.staff_actions import ActionNote
from persistence.read_model.stock_overview import ChannelSent
from persistence.read_model.stock_value import StockValueRows
from persistence.read_model.warehouse_floor import FloorRows


class OrderRepository(Protocol):
    def get(self, order_id: str) -> OrderRecord | None:
        """With its lines, shipments and payments."""

    def status_of(self, order_id: str) -> OrderStatus | None:
        """None: we have no record of the order (the authority on whether it exists here)."""

    def events(self, order_id: str) -> list[OrderEvent]: ...

    def page(
        self,
        *,
        status: str | None = None,
        channel: str | None = None,
        sku: str | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> tuple[list[OrderRecord], int]:
        """Newest first, and how many match in all."""

    def find(self, *, exact: str, email_key: str, postcode_key: str, limit: int) -> tuple[list[OrderRecord], int]:
        """By id, channel id or reference (`exact`), e-mail or postcode key ("" for none): newest
        first, and how many match in all."""

    def claim_cancel(self, order_id: str, at: datetime) -> str | None:
        """Take a cancel under the order row's lock unless goods have left: why not, or None."""

    def forget_cancel_claim(self, order_id: str) -> None: ...

    def add_event(self, order_id: str, kind: str, detail: str, at: datetime) -> None: ...

    def record(self, order: Order, received_at: datetime) -> bool:
        """Record the order as RECEIVED, as its workflow's first step would; False: it was there."""

    def reserve_goodwill(
        self,
        *,
        goodwill_id: str,
        order_id: str,
        form: GoodwillForm,
        amount: Money,
        reason: str,
        given_by: str,
        at: datetime,
    ) -> Reserved | None:
        """Check goodwill under the order's lock and hold it (persistence.guarded_writes.goodwill);
        None: no such order. GoodwillRefused / RefundOnChannel say why not."""

    def versions(self, order_id: str) -> list[OrderVersionRecord]:
        """Oldest first; empty for an order never edited."""

    def known_skus(self, skus: Iterable[str]) -> set[str]:
        """Those of `skus` some location holds a stock record for."""


class ReturnRepository(Protocol):
    def for_order(self, order_id: str) -> list[ReturnRecord]: ...

    def returned_so_far(self, order_id: str) -> dict[str, int]:
        """Units accepted back per SKU."""

    def shipped_units(self, order_id: str) -> dict[str, int]:
        """Units that left to the customer per SKU (shipped, or collected at a store)."""

    def label(self, return_id: str) -> ReturnLabelView | None:
        """The return's label (ready, pending, refused or none), None when none was asked for."""

    def label_document(self, return_id: str) -> tuple[bytes, str] | None:
        """(PDF, media type) of the return's ready label."""

    def find(self, return_id_or_rma: str) -> ReturnRecord | None:
        """A return of the lifecycle by its id or its RMA (as rma_number writes it)."""

    def difference_payment(self, record: ReturnRecord) -> PaymentRecord | None:
        """The payment that took the return's exchange difference, if its exchange charged one."""

    def replacement_shipments(self, record: ReturnRecord) -> list[ShipmentRecord]:
        """The shipments an exchange's replacement went out as, oldest first (none for another return)."""

    def page(self, *, state: str | None, limit: int, offset: int) -> tuple[list[ReturnRecord], int]:
        """Returns of the lifecycle, newest first, and how many there are."""

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
        """Record a channel's return (domain.returns.ReturnRefused); the one recorded when it exists."""

    def expected_at(self, location_ids: Collection[str], *, limit: int) -> list[ReturnRecord]:
        """Returns REQUESTED (or EXPIRED) whose goods left from one of these locations, oldest first."""

    def to_dispose_at(self, location_ids: Collection[str], *, limit: int) -> list[ReturnRecord]:
        """Returns RECEIVED at one of these locations, waiting for their dispositions."""

    def record_channel_refund(self, refund: ChannelRefund, order_id: str, at: datetime) -> bool:
        """A refund the channel made, as a return REFUND_ON_CHANNEL; False when recorded already."""


class ShipmentRepository(Protocol):
    def get(self, shipment_id: str) -> ShipmentRecord | None: ...

    def page(
        self,
        *,
        location_id: str | None,
        status: str | None,
        open_only: bool,
        limit: int,
        offset: int,
        location_ids: Collection[str] | None = None,
    ) -> list[ShipmentRecord]: ...

    def notified_at(self, order_id: str) -> dict[str, datetime]:
        """Shipment id → when its channel accepted the shipment confirmation."""

    def escalations(
        self,
        *,
        open_only: bool,
        location_id: str | None = None,
        limit: int = 100,
        offset: int = 0,
        location_ids: Collection[str] | None = None,
    ) -> tuple[list[Escalation], int]: ...

    def label(self, shipment_id: str, purpose: str) -> ShipmentLabel | None:
        """A carrier label kept for the shipment (purpose: outbound or return), with its document."""

    def label_parties(self, shipment_id: str) -> LabelParties | None:
        """The shipment, the location that sends it and the order it goes to."""

    def keep_label(self, label: ShipmentLabel) -> ShipmentLabel:
        """Keep a label; one already kept for the shipment and purpose wins."""

    def open_at(self, location_id: str) -> FloorRows:
        """What the warehouse floor and the counter still have to do at a location, with the facts shown beside it."""

    def expired_at(self, location_id: str, limit: int) -> FloorRows:
        """Pickups at the store that were not collected in time, latest first."""

    def on_the_floor(self, shipment_id: str) -> FloorRows | None:
        """One shipment with the facts a picker and a packing slip show."""

    def set_bin(self, location_id: str, sku: str, bin_: str | None) -> bool:
        """Where a SKU lies at a location; False without a stock record there."""


class DeliveryRepository(Protocol):
    def record(self, event: CarrierEvent, now: datetime) -> Recorded:
        """A carrier's report on a parcel, once (persistence.read_model.deliveries)."""


class StockRepository(Protocol):
    """Stock records and their ledger. Changes raise persistence.guarded_writes.inventory's StockErrors."""

    def change_on_hand(
        self, location_id: str, sku: str, delta: int, *, kind: str, reason: str, actor: str = ""
    ) -> StockRow: ...

    def transfer(
        self, from_location_id: str, to_location_id: str, sku: str, quantity: int, *, reason: str, actor: str = ""
    ) -> Transfer:
        """May raise persistence.conflicts.LockCycle: nothing was written, try again."""

    def set_safety_stock(
        self, location_id: str, sku: str, safety_stock: int, *, actor: str = ""
    ) -> tuple[StockRow, int]:
        """The new record and the previous safety stock; `actor`: who changed it, for the ledger."""

    def release_held(
        self, location_id: str, sku: str, quantity: int, *, to: str, reason: str, actor: str, at: datetime
    ) -> StockRow:
        """Held units to sellable stock (`to` "sellable") or written off ("scrap"); raises
        persistence.guarded_writes.held_stock.NotEnoughHeld when fewer are held."""

    def page(
        self, *, location_id: str | None, sku_prefix: str | None, below_safety: bool | None, limit: int, offset: int
    ) -> tuple[list[StockRow], int]: ...

    def for_sku(self, sku: str) -> list[StockRow]: ...

    def held_at(self, location_id: str) -> list[StockRow]:
        """The location's records with units held for refurbishing, by SKU."""

    def last_sent(self, sku: str) -> dict[str, ChannelSent]: ...

    def shipped_since(self, sku: str, since: datetime) -> dict[str, int]: ...

    def ledger(self, sku: str, *, location_id: str | None, limit: int, offset: int) -> tuple[list[StockMovement], int]:
        """Newest first, and how many rows there are."""

    def note_change(self, sku: str) -> None:
        """The stock feed sends the SKU's available-to-promise again (same transaction)."""


class LocationRepository(Protocol):
    def get(self, location_id: str) -> Location | None: ...

    def add(self, location: Location) -> None: ...

    def all(self) -> list[Location]:
        """Sorted by id."""

    def kind(self, location_id: str) -> str | None: ...


class CatalogueRepository(Protocol):
    def entry(self, sku: str) -> dict[str, object] | None:
        """{sku, name, ean, listings}, or None when the SKU is not in the catalogue."""

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
        """`unit_cost` KEEP_COST and `vat_category` None leave them as they were. Raises
        persistence.master_data.catalogue.CatalogueConflict when the EAN or a listing is another SKU's."""

    def page(self, *, query: str | None, limit: int, offset: int) -> tuple[list[dict[str, object]], int]:
        """Entries by SKU whose SKU, name or EAN contains `query` (any case), and how many match."""


class SourcingRepository(Protocol):
    def plan(self, request: SourcingRequest, at: datetime, routing: RoutingPolicy | None) -> SourcingPlan:
        """Where the order would ship from now, planned exactly as the reserving activity plans
        (persistence.guarded_writes.sourcing_inputs.plan_on_stock); nothing is reserved."""


class ChannelRepository(Protocol):
    def policy(self, channel: str) -> ChannelPolicy: ...

    def policies(self) -> list[ChannelPolicy]:
        """Every channel's, from the process's PolicyCache."""

    def save(self, policy: ChannelPolicy) -> None: ...


class MessageRepository(Protocol):
    def add(
        self, channel: str, kind: str, body: str, *, external_id: str | None, order_id: str | None, outcome: str
    ) -> None: ...

    def for_order(self, order_id: str) -> list[ChannelMessage]:
        """Oldest first."""


class IntakeRepository(Protocol):
    """Orders taken whose workflow may not have started yet (persistence.guarded_writes.order_intake)."""

    def take_in(
        self, *, order_id: str, channel: str, workflow_input: str, received_at: datetime, first_try: datetime
    ) -> bool:
        """False: we have the order already (in the intake, or recorded as an order)."""

    def waiting(self, order_id: str) -> Waiting | None: ...

    def anything_due(self, now: datetime) -> bool: ...

    def claim_due(self, now: datetime, lease: timedelta, limit: int) -> list[Waiting]:
        """Claimed for one sweeper until now + lease; commit at once."""

    def mark_started(self, order_ids: list[str], at: datetime) -> None: ...

    def put_off(self, order_id: str, until: datetime, error: str) -> None: ...

    def forget_started(self, before: datetime) -> int: ...

    def backlog(self) -> tuple[int, datetime | None]:
        """Rows not started, and when the oldest was taken."""


class StaffActionRepository(Protocol):
    """The audit list (persistence.read_model.staff_actions)."""

    def record(self, note: ActionNote) -> None: ...

    def page(
        self, *, actor: str | None, since: datetime | None, until: datetime | None, limit: int, offset: int
    ) -> tuple[list[StaffAction], int]:
        """Newest first, and how many match."""

    def actors(self) -> list[str]: ...


class ReportRepository(Protocol):
    """The read model's figures behind the KPI report and the dashboard's first page."""

    def kpis(self, since: datetime, until: datetime, channel: str | None) -> KpiRows: ...

    def kpi_series(self, since: datetime, until: datetime, channel: str | None) -> KpiSeriesRows:
        """Each KPI chart's per-day (or per-location, per-reason) rows: orders received in the window."""
        ...

    def performance(self, wanted: PerformanceFilter) -> list[PerformanceRow]:
        """Sold and returned per period, channel, SKU and currency (persistence.read_model.product_performance)."""
        ...

    def financials(self, since: datetime | None, until: datetime | None) -> Financials:
        """The money figures now (since/until None) or for [since, until) (persistence.read_model.financials)."""
        ...

    def stock_value(self, location_id: str | None) -> StockValueRows:
        """On hand times unit cost per location and currency; SKUs without a cost apart."""
        ...

    def orders_by_status(self) -> dict[str, int]: ...

    def orders_by_channel(self, since: datetime) -> dict[str, int]: ...

    def waiting_for_a_person(self) -> list[OrderRecord]: ...

    def stuck_notices(self) -> list[StuckNotice]: ...

    def operations_figures(self) -> OperationsFigures:
        """What is waiting right now (orders per status, holds, outbox backlogs, open escalations),
        for the metrics endpoint."""
        ...


class PaymentRepository(Protocol):
    """Payments as their provider reports them outside our own steps (its webhooks)."""

    def by_provider_ref(self, provider: str, provider_ref: str) -> PaymentRecord | None: ...

    def documents_of(self, order_id: str) -> list[IssuedDocument]:
        """The order's invoices and credit notes, as issued, oldest first."""
        ...

    def document_numbered(self, number: str) -> IssuedDocument | None: ...

    def note_given_back(
        self, payment: PaymentRecord, ref: str, kind: str, amount_minor: int, detail: str, at: datetime
    ) -> bool:
        """Counted as refunded and on the timeline, once per provider `ref`; True when new."""

    def note_provider_status(self, payment: PaymentRecord, status: str, detail: str, at: datetime) -> bool:
        """On the timeline once per payment and status; True when new."""

    def links_of(self, owner: str) -> list[PaymentLinkRecord]:
        """The payment links a return opened, oldest first."""

    def open_links(self, provider: str, amount: Money | None) -> list[PaymentLinkRecord]:
        """The provider's links (of `amount`, when given) still waiting for the customer."""

    def link(self, link_id: str, *, for_update: bool = False) -> PaymentLinkRecord | None:
        """A link (locked for a write when `for_update`)."""

    def settle_link(
        self, link: PaymentLinkRecord, seen: LinkStatus, provider_payment: str | None, at: datetime
    ) -> bool:
        """Record what the provider shows (persistence.read_model.payment_links); True when it changed."""


class AccountRepository(Protocol):
    def user(self, user_id: str) -> StaffAccount | None: ...

    def user_by_email(self, email: str) -> StaffAccount | None:
        """By the lower-cased address (domain.accounts.normal_email)."""

    def users(self) -> list[StaffAccount]: ...

    def user_count(self) -> int: ...

    def enabled_admins(self) -> list[str]: ...

    def add_user(self, user: StaffAccount) -> None: ...

    def session(self, id_hash: str) -> StaffSessionRecord | None: ...

    def add_session(self, record: StaffSessionRecord) -> None: ...

    def revoke_sessions(self, user_id: str, at: datetime, *, keep: str | None = None) -> None: ...

    def forget_sessions(self, ended_before: datetime) -> None: ...

    def token(self, token_id: str) -> StaffToken | None: ...

    def token_by_hash(self, token_hash: str) -> StaffToken | None: ...

    def tokens(self, user_id: str | None = None) -> list[tuple[StaffToken, str]]:
        """With the owner's e-mail, newest first."""

    def add_token(self, token: StaffToken) -> None: ...

    def revoke_tokens(self, user_id: str, at: datetime) -> None: ...

    def throttle(self, key: str, *, for_update: bool = False) -> Throttle: ...

    def forget_throttles(self, quiet_since: datetime) -> None: ...

    def save_throttle(self, key: str, throttle: Throttle) -> None: ...


class StoreCreditRepository(Protocol):
    """Store credit ledgers (persistence.guarded_writes.store_credit): each write takes the
    account's lock, checks the entry against the ledger and appends it; a repeated entry id
    answers the entry written first (Written.new False). CreditRefused says why not."""

    def issue(
        self,
        account: CreditAccount,
        *,
        entry_id: str,
        amount: Money,
        at: datetime,
        reason: CreditReason,
        note: str = "",
        expires_at: datetime | None = None,
        order_id: str = "",
        actor: str = "",
    ) -> Written: ...

    def spend(
        self, account: CreditAccount, *, entry_id: str, amount: Money, at: datetime, order_id: str
    ) -> Written: ...

    def reverse_order(
        self, order_id: str, *, entry_id: str, at: datetime, amount: Money | None = None
    ) -> list[Written]: ...

    def account(self, shop: str, customer_key: str) -> CreditAccount | None: ...

    def entries(self, account: CreditAccount) -> list[CreditEntry]:
        """Oldest first, as the rules replay them."""

    def rows(self, account: CreditAccount) -> list[StoreCreditEntry]:
        """Newest first, with who issued credit by hand: for support's screens."""

    def accounts_expiring(self, before: datetime) -> list[CreditAccount]: ...

    def expire(self, account: CreditAccount, at: datetime) -> list[Written]: ...

    def issued_for_order(self, order_id: str, reasons: Collection[CreditReason]) -> int:
        """Minor units of credit issued from `order_id` for these reasons (given back in place of money)."""

    def spent_on_order(self, order_id: str) -> Money | None:
        """What store credit paid of the order (None: nothing)."""
