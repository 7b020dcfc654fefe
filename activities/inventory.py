"""Sourcing and reserving stock for an order, exactly once per workflow step."""

from __future__ import annotations

from sqlalchemy.orm import Session
from temporalio import activity
from temporalio.exceptions import ApplicationError

from contracts.errors import ErrorType
from contracts.inventory import (
    Inventory,
    ReleaseStockInput,
    ReleaseStockResult,
    ReservedShipment,
    ReserveStockInput,
    ReserveStockResult,
    SellAtCounterInput,
    SellAtCounterResult,
)
from domain.fulfilment import ShipmentStatus, shipment_kind
from domain.outside_fulfilment import count_the_shelf
from domain.sourcing import Destination, PlannedShipment, PlanOutcome, SourcingPlan, SourcingRequest
from domain.status import OrderStatus
from persistence.db import SessionFactory
from persistence.guarded_writes import inventory
from persistence.guarded_writes.idempotency import run_once
from persistence.guarded_writes.sourcing_inputs import plan_on_stock
from persistence.master_data.channels import policy_for
from persistence.models import Location, ShipmentRecord
from persistence.read_model import backorders, issuing
from persistence.read_model import orders as order_store


def shipment_id_for(order_id: str, location_id: str, round_: int = 1, exchange: str = "") -> str:
    base = f"shipment-{order_id}-{location_id}"
    if exchange:
        return f"{base}-{exchange}"
    return base if round_ == 1 else f"{base}-{round_}"


class InventoryActivities(Inventory):
    def __init__(self, session_factory: SessionFactory) -> None:
        self._session_factory = session_factory

    @activity.defn
    def reserve_stock(self, data: ReserveStockInput) -> ReserveStockResult:
        """Plan from fresh stock with the channel's routing rules and reserve the plan in one
        transaction; a lost race reserves nothing and reports a conflict, and the workflow re-plans."""
        try:
            return run_once(
                self._session_factory, data.idempotency_key, lambda s: self._reserve(s, data), ReserveStockResult
            )
        except inventory.InsufficientStock as exc:
            return ReserveStockResult(ReserveStockResult.CONFLICT, str(exc))

    def _reserve(self, session: Session, data: ReserveStockInput) -> ReserveStockResult:
        policy = policy_for(session, data.channel) if data.channel else None
        routing = policy.routing if policy else None
        request = SourcingRequest(data.demand, data.unit_values, data.destination or Destination(country=""))
        plan = plan_on_stock(session, request, data.at, routing)
        if data.exchange:
            return self._reserve_replacement(session, data, plan)
        order_store.add_event(session, data.order_id, "sourcing", _describe(plan), data.at)
        auto_cancel = routing.auto_cancel_after_days if routing else None
        if plan.outcome is PlanOutcome.HOLD:
            order_store.set_status(
                session, data.order_id, OrderStatus.ON_HOLD, hold_reason=plan.explanation, at=data.at
            )
            return ReserveStockResult(ReserveStockResult.HOLD, plan.explanation)
        if plan.outcome is PlanOutcome.CANCEL:
            return ReserveStockResult(ReserveStockResult.CANCEL, plan.explanation)
        if plan.outcome is PlanOutcome.BACKORDER or not plan.shipments:
            order_store.set_status(
                session, data.order_id, OrderStatus.BACKORDERED, hold_reason=plan.explanation, at=data.at
            )
            backorders.wait_for(session, data.order_id, data.demand, data.at)
            return ReserveStockResult(
                ReserveStockResult.INSUFFICIENT,
                plan.explanation,
                unfilled=dict(data.demand),
                auto_cancel_after_days=auto_cancel,
            )
        shipments = [self._record_shipment(session, data, planned) for planned in plan.shipments]
        unfilled = dict(plan.unfilled)
        if unfilled:
            backorders.wait_for(session, data.order_id, unfilled, data.at)
        else:
            backorders.forget(session, data.order_id)
        order_store.set_status(session, data.order_id, OrderStatus.RESERVED, detail=plan.explanation, at=data.at)
        # Stock last: every other write is already done, so the stock rows stay locked only until
        # the commit. Locks are taken in one global order (location, then SKU inside reserve) so
        # two multi-location orders cannot deadlock on PostgreSQL; the shipments keep the plan's order.
        for planned in sorted(plan.shipments, key=lambda p: p.location_id):
            inventory.reserve(session, planned.location_id, dict(planned.lines), data.order_id)
        return ReserveStockResult(
            ReserveStockResult.PARTIAL if unfilled else ReserveStockResult.RESERVED,
            plan.explanation,
            shipments=shipments,
            unfilled=unfilled,
            auto_cancel_after_days=auto_cancel,
        )

    def _reserve_replacement(self, session: Session, data: ReserveStockInput, plan: SourcingPlan) -> ReserveStockResult:
        """An exchange's replacement: reserved whole as new shipments of the (shipped) order, or not
        at all; the order's status and backorders are not the exchange's to change."""
        whole = plan.outcome not in (PlanOutcome.HOLD, PlanOutcome.CANCEL, PlanOutcome.BACKORDER)
        if not whole or not plan.shipments or plan.unfilled:
            order_store.add_event(
                session, data.order_id, "exchange_sourcing", f"replacement not in stock: {_describe(plan)}", data.at
            )
            return ReserveStockResult(ReserveStockResult.INSUFFICIENT, plan.explanation, unfilled=dict(data.demand))
        order_store.add_event(session, data.order_id, "exchange_sourcing", _describe(plan), data.at)
        shipments = [self._record_shipment(session, data, planned) for planned in plan.shipments]
        for planned in sorted(plan.shipments, key=lambda p: p.location_id):
            inventory.reserve(session, planned.location_id, dict(planned.lines), data.order_id)
        return ReserveStockResult(ReserveStockResult.RESERVED, plan.explanation, shipments=shipments)

    @staticmethod
    def _record_shipment(session: Session, data: ReserveStockInput, planned: PlannedShipment) -> ReservedShipment:
        """The read model's row for one planned shipment, and what the workflow needs to run it."""
        lines = dict(planned.lines)
        shipment_id = shipment_id_for(data.order_id, planned.location_id, data.round, data.exchange)
        location = session.get(Location, planned.location_id)  # loaded by sourcing: no query
        session.add(
            ShipmentRecord(
                shipment_id=shipment_id,
                order_id=data.order_id,
                location_id=planned.location_id,
                status=ShipmentStatus.RESERVED,
                lines=lines,
                fulfilment_cost_minor=planned.cost_minor,
                transfer_to=planned.transfer_to,
                kind=shipment_kind(
                    planned.location_id,
                    data.destination.pickup_location_id if data.destination else None,
                    planned.transfer_to,
                ).value,
                created_at=data.at,
            )
        )
        return ReservedShipment(
            shipment_id,
            planned.location_id,
            lines,
            transfer_to=planned.transfer_to,
            cost_minor=planned.cost_minor,
            location_kind=location.kind if location else "warehouse",
            task_queue=location.task_queue if location else None,
        )

    @activity.defn
    def release_stock(self, data: ReleaseStockInput) -> ReleaseStockResult:
        def effect(session: Session) -> ReleaseStockResult:
            inventory.release(session, data.location_id, data.demand, data.order_id)
            record = session.get(ShipmentRecord, data.shipment_id)
            if record is not None:
                record.status = ShipmentStatus.CANCELLED
                record.cancelled_at = data.at
            backorders.forget(session, data.order_id)
            order_store.add_event(
                session,
                data.order_id,
                "stock_released",
                f"{sum(data.demand.values())} units at {data.location_id}",
                data.at,
            )
            return ReleaseStockResult(released=True)

        return run_once(self._session_factory, data.idempotency_key, effect, ReleaseStockResult)

    @activity.defn
    def sell_at_counter(self, data: SellAtCounterInput) -> SellAtCounterResult:
        """Take a counter sale off the store's stock once, with its timeline events in the same
        transaction. A store we do not know, a location that is not a store or more units than a
        counter sells is for a person to fix (the API refuses the last two for a store it knows;
        this holds whatever else starts one), so retrying cannot help."""

        def effect(session: Session) -> SellAtCounterResult:
            sale = inventory.sell_at_counter(session, data.order_id, data.location_id, data.lines)
            units = sum(sale.taken.values())
            order_store.add_event(
                session, data.order_id, "counter_sale", f"{units} units off the record at {data.location_id}", data.at
            )
            for sku, short in sale.short.items():
                note = count_the_shelf(data.location_id, sku, short, recorded=sku not in sale.unrecorded)
                order_store.add_event(session, data.order_id, "stock_discrepancy", note, data.at)
            issuing.invoice_counter_sale(session, data.order_id, data.at)  # the till took the money
            return SellAtCounterResult(taken=dict(sale.taken), short=dict(sale.short))

        try:
            return run_once(self._session_factory, data.idempotency_key, effect, SellAtCounterResult)
        except (inventory.UnknownLocation, inventory.CounterSaleRefused) as exc:
            raise ApplicationError(str(exc), type=ErrorType.UNKNOWN_STORE, non_retryable=True) from exc


def _describe(plan: SourcingPlan) -> str:
    rule = f"rule {plan.rule!r}: " if plan.rule else ""
    return f"{rule}{plan.outcome.value}: {plan.explanation}"
