"""The repositories services use (services.repositories), over one session: each method calls the
guarded statement or query this package already has, so there is one way to move stock or read an
order whether an activity or a service asks. The session belongs to the unit of work that made them."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.exc import DataError
from sqlalchemy.orm import Session

from contracts.invoices import IssuedDocument
from contracts.return_lifecycle import OpenedReturn
from contracts.returns import ReturnRequest
from domain.carrier_events import CarrierEvent
from domain.channels import ChannelPolicy
from domain.goodwill import GoodwillForm
from domain.limits import INTEGER_MAX
from domain.marketplace_returns import ChannelRefund
from domain.money import Money
from domain.order import Order
from domain.payment_links import LinkStatus
from domain.routing import RoutingPolicy
from domain.sourcing import SourcingPlan, SourcingRequest
from domain.status import OrderStatus
from domain.store_credit import CreditAccount, CreditEntry, CreditReason
from persistence.conflicts import translated
from persistence.guarded_writes import cancel_claims, held_stock, inventory, order_intake, order_payments, stock_ops
from persistence.guarded_writes import goodwill as goodwill_store
from persistence.guarded_writes import store_credit as credit_store
from persistence.guarded_writes.goodwill import Reserved
from persistence.guarded_writes.held_stock import SELLABLE
from persistence.guarded_writes.inventory import StockRow, TooMuchStock
from persistence.guarded_writes.order_intake import Waiting
from persistence.guarded_writes.sourcing_inputs import plan_on_stock
from persistence.guarded_writes.stock_ops import Transfer
from persistence.guarded_writes.stock_outbox import note_stock_change
from persistence.guarded_writes.store_credit import Written
from persistence.master_data import bins, catalogue, locations
from persistence.master_data import channels as channel_store
from persistence.master_data.catalogue import KEEP_COST, CostChange
from persistence.master_data.channels import PolicyCache
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
    StaffAction,
    StockMovement,
    StoreCreditEntry,
)
from persistence.read_model import (
    channel_messages,
    deliveries,
    escalations,
    financials,
    gauges,
    issuing,
    kpi_series,
    kpis,
    labels,
    order_versions,
    overview,
    payment_changes,
    payment_links,
    product_performance,
    return_labels,
    return_lifecycle,
    returns,
    returns_desk,
    shipments,
    staff_actions,
    stock_overview,
    stock_value,
    warehouse_floor,
)
from persistence.read_model import invoices as invoice_store
from persistence.read_model import orders as order_store
from persistence.read_model.deliveries import Recorded
from persistence.read_model.financials import Financials
from persistence.read_model.gauges import OperationsFigures
from persistence.read_model.kpi_series import KpiSeriesRows
from persistence.read_model.kpis import KpiRows
from persistence.read_model.labels import LabelParties
from persistence.read_model.overview import StuckNotice
from persistence.read_model.product_performance import PerformanceFilter, PerformanceRow
from persistence.read_model.staff_actions import ActionNote
from persistence.read_model.stock_overview import ChannelSent
from persistence.read_model.stock_value import StockValueRows
from persistence.read_model.warehouse_floor import FloorRows


class SqlOrders:
    def __init__(self, session: Session) -> None:
        self._session = session

    def get(self, order_id: str) -> OrderRecord | None:
        return order_store.get_order(self._session, order_id)

    def status_of(self, order_id: str) -> OrderStatus | None:
        return order_store.recorded_status(self._session, order_id)

    def events(self, order_id: str) -> list[OrderEvent]:
        return order_store.order_events(self._session, order_id)

    def page(
        self,
        *,
        status: str | None = None,
        channel: str | None = None,
        sku: str | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> tuple[list[OrderRecord], int]:
        return order_store.list_orders(
            self._session, status=status, channel=channel, sku=sku, limit=limit, offset=offset
        )

    def find(self, *, exact: str, email_key: str, postcode_key: str, limit: int) -> tuple[list[OrderRecord], int]:
        return order_store.find_orders(
            self._session, exact=exact, email_key=email_key, postcode_key=postcode_key, limit=limit
        )

    def claim_cancel(self, order_id: str, at: datetime) -> str | None:
        return cancel_claims.claim_cancel(self._session, order_id, at)

    def forget_cancel_claim(self, order_id: str) -> None:
        cancel_claims.forget_cancel_claim(self._session, order_id)

    def add_event(self, order_id: str, kind: str, detail: str, at: datetime) -> None:
        order_store.add_event(self._session, order_id, kind, detail, at)

    def record(self, order: Order, received_at: datetime) -> bool:
        return order_store.record_order(self._session, order, received_at)

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
        return goodwill_store.reserve(
            self._session,
            goodwill_id=goodwill_id,
            order_id=order_id,
            form=form,
            amount=amount,
            reason=reason,
            given_by=given_by,
            at=at,
        )

    def versions(self, order_id: str) -> list[OrderVersionRecord]:
        return order_versions.versions(self._session, order_id)

    def known_skus(self, skus: Iterable[str]) -> set[str]:
        return inventory.known_skus(self._session, skus)


class SqlReturns:
    def __init__(self, session: Session) -> None:
        self._session = session

    def for_order(self, order_id: str) -> list[ReturnRecord]:
        return returns.returns_for(self._session, order_id)

    def returned_so_far(self, order_id: str) -> dict[str, int]:
        return returns.returned_so_far(self._session, order_id)

    def shipped_units(self, order_id: str) -> dict[str, int]:
        return returns.shipped_units(self._session, order_id)

    def label(self, return_id: str) -> return_labels.ReturnLabelView | None:
        return return_labels.return_label_for(self._session, return_id)

    def label_document(self, return_id: str) -> tuple[bytes, str] | None:
        return return_labels.label_document(self._session, return_id)

    def find(self, return_id_or_rma: str) -> ReturnRecord | None:
        return return_lifecycle.find(self._session, return_id_or_rma)

    def difference_payment(self, record: ReturnRecord) -> PaymentRecord | None:
        if record.difference_minor is None:
            return None
        return order_payments.difference_payment(self._session, record.return_id)

    def replacement_shipments(self, record: ReturnRecord) -> list[ShipmentRecord]:
        return return_lifecycle.replacement_shipments(self._session, record)

    def page(self, *, state: str | None, limit: int, offset: int) -> tuple[list[ReturnRecord], int]:
        return return_lifecycle.listed(self._session, state=state, limit=limit, offset=offset)

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
        return return_lifecycle.open_return(
            self._session,
            order=order,
            request=request,
            at=at,
            window_closes_at=None,
            check_window=False,
            expiry=expiry,
            auto_approve=True,
            return_id=return_id,
            shipped=shipped,
        )

    def expected_at(self, location_ids: Collection[str], *, limit: int) -> list[ReturnRecord]:
        return returns_desk.expected_at(self._session, location_ids, limit=limit)

    def to_dispose_at(self, location_ids: Collection[str], *, limit: int) -> list[ReturnRecord]:
        return returns_desk.to_dispose_at(self._session, location_ids, limit=limit)

    def record_channel_refund(self, refund: ChannelRefund, order_id: str, at: datetime) -> bool:
        new = returns.record_channel_refund(self._session, refund, order_id, at)
        if new:  # the channel gave the money back: the credit note for it
            issuing.credit_refund(
                self._session,
                order_id,
                refund.return_id,
                refund.amount,
                at,
                description=f"Refund on {refund.channel}",
                return_id=refund.return_id,
                units=refund.units,
            )
        return new


class SqlShipments:
    def __init__(self, session: Session) -> None:
        self._session = session

    def get(self, shipment_id: str) -> ShipmentRecord | None:
        return shipments.get_shipment(self._session, shipment_id)

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
        return shipments.list_shipments(
            self._session,
            location_id=location_id,
            status=status,
            open_only=open_only,
            limit=limit,
            offset=offset,
            location_ids=location_ids,
        )

    def notified_at(self, order_id: str) -> dict[str, datetime]:
        return shipments.notified_at(self._session, order_id)

    def escalations(
        self,
        *,
        open_only: bool,
        location_id: str | None = None,
        limit: int = 100,
        offset: int = 0,
        location_ids: Collection[str] | None = None,
    ) -> tuple[list[Escalation], int]:
        return escalations.list_escalations(
            self._session,
            open_only=open_only,
            location_id=location_id,
            limit=limit,
            offset=offset,
            location_ids=location_ids,
        )

    def label(self, shipment_id: str, purpose: str) -> ShipmentLabel | None:
        return labels.stored_label(self._session, shipment_id, purpose)

    def label_parties(self, shipment_id: str) -> LabelParties | None:
        return labels.label_parties(self._session, shipment_id)

    def keep_label(self, label: ShipmentLabel) -> ShipmentLabel:
        existing = labels.stored_label(self._session, label.shipment_id, label.purpose)
        if existing is not None:
            return existing
        self._session.add(label)
        return label

    def open_at(self, location_id: str) -> FloorRows:
        return warehouse_floor.open_at(self._session, location_id)

    def expired_at(self, location_id: str, limit: int) -> FloorRows:
        return warehouse_floor.expired_at(self._session, location_id, limit)

    def on_the_floor(self, shipment_id: str) -> FloorRows | None:
        return warehouse_floor.one(self._session, shipment_id)

    def set_bin(self, location_id: str, sku: str, bin_: str | None) -> bool:
        return bins.set_bin(self._session, location_id, sku, bin_)


class SqlDeliveries:
    def __init__(self, session: Session) -> None:
        self._session = session

    def record(self, event: CarrierEvent, now: datetime) -> Recorded:
        return deliveries.record_carrier_event(self._session, event, now)


class SqlStock:
    def __init__(self, session: Session) -> None:
        self._session = session

    def change_on_hand(
        self, location_id: str, sku: str, delta: int, *, kind: str, reason: str, actor: str = ""
    ) -> StockRow:
        with _counts_that_fit():
            return inventory.adjust_on_hand(
                self._session, location_id, sku, delta, kind=kind, reason=reason, actor=actor
            )

    def transfer(
        self, from_location_id: str, to_location_id: str, sku: str, quantity: int, *, reason: str, actor: str = ""
    ) -> Transfer:
        with translated(), _counts_that_fit():
            return stock_ops.transfer(
                self._session, from_location_id, to_location_id, sku, quantity, reason=reason, actor=actor
            )

    def set_safety_stock(
        self, location_id: str, sku: str, safety_stock: int, *, actor: str = ""
    ) -> tuple[StockRow, int]:
        return stock_ops.set_safety_stock(self._session, location_id, sku, safety_stock, actor=actor)

    def release_held(
        self, location_id: str, sku: str, quantity: int, *, to: str, reason: str, actor: str, at: datetime
    ) -> StockRow:
        release = held_stock.release_to_sellable if to == SELLABLE else held_stock.scrap_held
        with _counts_that_fit():
            return release(self._session, location_id, sku, quantity, at=at, reason=reason, actor=actor)

    def page(
        self, *, location_id: str | None, sku_prefix: str | None, below_safety: bool | None, limit: int, offset: int
    ) -> tuple[list[StockRow], int]:
        return stock_overview.overview(
            self._session,
            location_id=location_id,
            sku_prefix=sku_prefix,
            below_safety=below_safety,
            limit=limit,
            offset=offset,
        )

    def for_sku(self, sku: str) -> list[StockRow]:
        return stock_overview.stock_for_sku(self._session, sku)

    def held_at(self, location_id: str) -> list[StockRow]:
        return stock_overview.held_at(self._session, location_id)

    def last_sent(self, sku: str) -> dict[str, ChannelSent]:
        return stock_overview.last_sent(self._session, sku)

    def shipped_since(self, sku: str, since: datetime) -> dict[str, int]:
        return stock_overview.shipped_since(self._session, sku, since)

    def ledger(self, sku: str, *, location_id: str | None, limit: int, offset: int) -> tuple[list[StockMovement], int]:
        return stock_overview.ledger(self._session, sku, location_id=location_id, limit=limit, offset=offset)

    def note_change(self, sku: str) -> None:
        note_stock_change(self._session, sku)


@contextmanager
def _counts_that_fit() -> Iterator[None]:
    """A count the database cannot hold, refused as the stock record refuses one past its limit."""
    try:
        yield
    except DataError as exc:
        raise TooMuchStock(f"the resulting quantity is larger than the database can store ({INTEGER_MAX})") from exc


class SqlLocations:
    def __init__(self, session: Session) -> None:
        self._session = session

    def get(self, location_id: str) -> Location | None:
        return self._session.get(Location, location_id)

    def add(self, location: Location) -> None:
        self._session.add(location)

    def all(self) -> list[Location]:
        return list(self._session.scalars(select(Location).order_by(Location.location_id)))

    def kind(self, location_id: str) -> str | None:
        return locations.location_kind(self._session, location_id)


class SqlCatalogue:
    def __init__(self, session: Session) -> None:
        self._session = session

    def entry(self, sku: str) -> dict[str, object] | None:
        return catalogue.product_view(self._session, sku)

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
        with translated():  # another request took the EAN or a listing between our check and our write
            catalogue.save_product(
                self._session,
                sku,
                name=name,
                ean=ean,
                listings=listings,
                unit_cost=unit_cost,
                vat_category=vat_category,
            )

    def page(self, *, query: str | None, limit: int, offset: int) -> tuple[list[dict[str, object]], int]:
        return catalogue.list_products(self._session, query=query, limit=limit, offset=offset)


class SqlSourcing:
    def __init__(self, session: Session) -> None:
        self._session = session

    def plan(self, request: SourcingRequest, at: datetime, routing: RoutingPolicy | None) -> SourcingPlan:
        return plan_on_stock(self._session, request, at, routing)


class SqlChannels:
    def __init__(self, session: Session, cache: PolicyCache) -> None:
        self._session = session
        self._cache = cache

    def policy(self, channel: str) -> ChannelPolicy:
        return channel_store.policy_for(self._session, channel)

    def policies(self) -> list[ChannelPolicy]:
        return self._cache.all(self._session)

    def save(self, policy: ChannelPolicy) -> None:
        channel_store.save_policy(self._session, policy)
        self._cache.forget()


class SqlMessages:
    def __init__(self, session: Session) -> None:
        self._session = session

    def add(
        self, channel: str, kind: str, body: str, *, external_id: str | None, order_id: str | None, outcome: str
    ) -> None:
        channel_messages.add_message(
            self._session, channel, kind, body, external_id=external_id, order_id=order_id, outcome=outcome
        )

    def for_order(self, order_id: str) -> list[ChannelMessage]:
        return channel_messages.messages_for_order(self._session, order_id)


class SqlIntake:
    def __init__(self, session: Session) -> None:
        self._session = session

    def take_in(
        self, *, order_id: str, channel: str, workflow_input: str, received_at: datetime, first_try: datetime
    ) -> bool:
        return order_intake.take_in(
            self._session,
            order_id=order_id,
            channel=channel,
            workflow_input=workflow_input,
            received_at=received_at,
            first_try=first_try,
        )

    def waiting(self, order_id: str) -> Waiting | None:
        return order_intake.waiting(self._session, order_id)

    def anything_due(self, now: datetime) -> bool:
        return order_intake.anything_due(self._session, now)

    def claim_due(self, now: datetime, lease: timedelta, limit: int) -> list[Waiting]:
        return order_intake.claim_due(self._session, now, lease, limit)

    def mark_started(self, order_ids: list[str], at: datetime) -> None:
        order_intake.mark_started(self._session, order_ids, at)

    def put_off(self, order_id: str, until: datetime, error: str) -> None:
        order_intake.put_off(self._session, order_id, until, error)

    def forget_started(self, before: datetime) -> int:
        return order_intake.forget_started(self._session, before)

    def backlog(self) -> tuple[int, datetime | None]:
        return order_intake.backlog(self._session)


class SqlStaffActions:
    def __init__(self, session: Session) -> None:
        self._session = session

    def record(self, note: ActionNote) -> None:
        staff_actions.record_action(self._session, note)

    def page(
        self, *, actor: str | None, since: datetime | None, until: datetime | None, limit: int, offset: int
    ) -> tuple[list[StaffAction], int]:
        return staff_actions.list_actions(
            self._session, actor=actor, since=since, until=until, limit=limit, offset=offset
        )

    def actors(self) -> list[str]:
        return staff_actions.actors(self._session)


class SqlReports:
    def __init__(self, session: Session) -> None:
        self._session = session

    def kpis(self, since: datetime, until: datetime, channel: str | None) -> KpiRows:
        return kpis.kpi_rows(self._session, since, until, channel)

    def kpi_series(self, since: datetime, until: datetime, channel: str | None) -> KpiSeriesRows:
        return kpi_series.kpi_series(self._session, since, until, channel)

    def performance(self, wanted: PerformanceFilter) -> list[PerformanceRow]:
        return product_performance.performance(self._session, wanted)

    def financials(self, since: datetime | None, until: datetime | None) -> Financials:
        return financials.financials(self._session, since, until)

    def stock_value(self, location_id: str | None) -> StockValueRows:
        return stock_value.stock_value(self._session, location_id)

    def orders_by_status(self) -> dict[str, int]:
        return overview.orders_by_status(self._session)

    def orders_by_channel(self, since: datetime) -> dict[str, int]:
        return overview.orders_by_channel(self._session, since)

    def waiting_for_a_person(self) -> list[OrderRecord]:
        return overview.waiting_for_a_person(self._session)

    def stuck_notices(self) -> list[StuckNotice]:
        return overview.stuck_notices(self._session)

    def operations_figures(self) -> OperationsFigures:
        return gauges.operations_figures(self._session)


class SqlPayments:
    def __init__(self, session: Session) -> None:
        self._session = session

    def by_provider_ref(self, provider: str, provider_ref: str) -> PaymentRecord | None:
        return payment_changes.payment_by_ref(self._session, provider, provider_ref)

    def documents_of(self, order_id: str) -> list[IssuedDocument]:
        return invoice_store.for_order(self._session, order_id)

    def document_numbered(self, number: str) -> IssuedDocument | None:
        return invoice_store.by_number(self._session, number)

    def note_given_back(
        self, payment: PaymentRecord, ref: str, kind: str, amount_minor: int, detail: str, at: datetime
    ) -> bool:
        return payment_changes.note_given_back(self._session, payment, ref, kind, amount_minor, detail, at)

    def note_provider_status(self, payment: PaymentRecord, status: str, detail: str, at: datetime) -> bool:
        return payment_changes.note_provider_status(self._session, payment, status, detail, at)

    def links_of(self, owner: str) -> list[PaymentLinkRecord]:
        return payment_links.links_of(self._session, owner)

    def open_links(self, provider: str, amount: Money | None) -> list[PaymentLinkRecord]:
        return payment_links.open_links(self._session, provider, amount)

    def link(self, link_id: str, *, for_update: bool = False) -> PaymentLinkRecord | None:
        return payment_links.link(self._session, link_id, for_update=for_update)

    def settle_link(
        self, link: PaymentLinkRecord, seen: LinkStatus, provider_payment: str | None, at: datetime
    ) -> bool:
        return payment_links.settle_link(self._session, link, seen, provider_payment, at)[1]


class SqlStoreCredit:
    def __init__(self, session: Session) -> None:
        self._session = session

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
    ) -> Written:
        return credit_store.issue(
            self._session,
            account,
            entry_id=entry_id,
            amount=amount,
            at=at,
            reason=reason,
            note=note,
            expires_at=expires_at,
            order_id=order_id,
            actor=actor,
        )

    def spend(self, account: CreditAccount, *, entry_id: str, amount: Money, at: datetime, order_id: str) -> Written:
        return credit_store.spend(self._session, account, entry_id=entry_id, amount=amount, at=at, order_id=order_id)

    def reverse_order(
        self, order_id: str, *, entry_id: str, at: datetime, amount: Money | None = None
    ) -> list[Written]:
        return credit_store.reverse_order_spends(self._session, order_id, entry_id=entry_id, at=at, amount=amount)

    def account(self, shop: str, customer_key: str) -> CreditAccount | None:
        row = credit_store.find_account(self._session, shop, customer_key)
        return credit_store.domain_account(row) if row is not None else None

    def entries(self, account: CreditAccount) -> list[CreditEntry]:
        row = credit_store.find_account(self._session, account.shop, account.customer)
        return credit_store.ledger(self._session, row.id) if row is not None else []

    def rows(self, account: CreditAccount) -> list[StoreCreditEntry]:
        row = credit_store.find_account(self._session, account.shop, account.customer)
        return credit_store.ledger_rows(self._session, row.id) if row is not None else []

    def accounts_expiring(self, before: datetime) -> list[CreditAccount]:
        rows = credit_store.accounts_with_expiring_credit(self._session, before)
        return [credit_store.domain_account(row) for row in rows]

    def expire(self, account: CreditAccount, at: datetime) -> list[Written]:
        return credit_store.expire(self._session, account, at)

    def issued_for_order(self, order_id: str, reasons: Collection[CreditReason]) -> int:
        return credit_store.issued_for_order(self._session, order_id, [reason.value for reason in reasons])

    def spent_on_order(self, order_id: str) -> Money | None:
        spends = credit_store.spends_for_order(self._session, order_id)
        if not spends:
            return None
        total = spends[0][1].amount
        for _, entry in spends[1:]:
            total = total + entry.amount
        return total
