"""The steps of a shipment (pick, pack, ship; ready, collect) through the warehouse provider or as
staff confirm them; the handover moves stock out."""

from __future__ import annotations

from sqlalchemy.orm import Session
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.carrier_labels import CarrierLabels
from contracts.errors import ErrorType
from contracts.shipments import (
    AutoStepsRequest,
    CancelLabelInput,
    CloseShipmentInput,
    EscalationInput,
    Label,
    LabelCancelled,
    LabelInput,
    Shipments,
    ShipmentStepDone,
    ShipmentStepRequest,
)
from domain.fulfilment import DONE_STATUS, ShipmentKind, ShipmentStatus, Step, picked_lines, shortfall
from domain.outbound_events import EventType
from domain.status import OrderStatus
from integrations.carriers.base import Carrier
from integrations.channels.registry import SPECS
from integrations.providers import Dispatch, Warehouse
from persistence.db import SessionFactory, readers_of
from persistence.guarded_writes import cancel_claims, inventory, shipment_notices
from persistence.guarded_writes.events_outbox import emit
from persistence.guarded_writes.idempotency import Done, run_once, stored_result
from persistence.models import ShipmentRecord
from persistence.read_model import escalations, issuing, labels
from persistence.read_model import orders as order_store
from persistence.unit_of_work import UnitOfWork
from services.carrier_labels import recipient_address, sender_address


class ShipmentActivities(Shipments):
    """The steps of a ShipmentWorkflow: each records what happened once per step key."""

    def __init__(self, session_factory: SessionFactory, warehouse: Warehouse, carrier: Carrier | None = None) -> None:
        self._session_factory = session_factory
        self._warehouse = warehouse
        self._carrier = carrier
        self._labels = CarrierLabels(session_factory, carrier)

    @activity.defn
    def perform_step(self, data: ShipmentStepRequest) -> ShipmentStepDone:
        """Record a confirmed step; without a confirmation (auto-confirm) ask the warehouse
        provider first, with no transaction open (it dedupes by shipment)."""
        stored = stored_result(self._session_factory, data.idempotency_key, ShipmentStepDone)
        if stored is not None:
            return stored
        dispatch = self._dispatch(data)
        return run_once(
            self._session_factory, data.idempotency_key, lambda s: self._record(s, data, dispatch), ShipmentStepDone
        )

    @activity.defn
    def perform_steps_automatically(self, data: AutoStepsRequest) -> ShipmentStepDone:
        """A location that confirms by itself (the sandbox warehouse, a WMS that answers at once):
        every step in one activity, recorded in one transaction, each with its own timestamp row."""
        stored = stored_result(self._session_factory, data.idempotency_key, ShipmentStepDone)
        if stored is not None:
            return stored
        steps = list(data.steps)
        unlabelled = self._why_no_label(data.shipment_id) if self._carrier is not None else None
        labelled_here = self._carrier is not None and unlabelled is None
        if labelled_here and data.handover_step == Step.SHIP and Step.PACK in steps:
            steps = steps[: steps.index(Step.PACK) + 1]  # the carrier's label comes first (the workflow asks)
        dispatch: Dispatch | None = None
        for step in map(Step, steps):
            dispatch = self._ask_warehouse(step, data.shipment_id, data.location_id, data.lines) or dispatch

        def effect(session: Session) -> ShipmentStepDone:
            result = ShipmentStepDone(ShipmentStatus.RESERVED, dict(data.lines))
            for step in steps:
                request = ShipmentStepRequest(
                    data.order_id,
                    data.shipment_id,
                    data.location_id,
                    step,
                    dict(result.lines),
                    data.idempotency_key,
                    data.at,
                    handover=step == data.handover_step,
                )
                result = self._record(session, request, dispatch, ask_carrier=labelled_here)
                if result.status == ShipmentStatus.STOPPED_BY_CANCEL:
                    break
            if unlabelled:
                order_store.add_event(session, data.order_id, "label_skipped", unlabelled, data.at)
            return result

        return run_once(self._session_factory, data.idempotency_key, effect, ShipmentStepDone)

    def _dispatch(self, data: ShipmentStepRequest) -> Dispatch | None:
        """Who carries the parcel and its tracking number: the carrier's label when it has one (never
        typed), else what staff typed, else (a location confirming by itself) the warehouse provider."""
        step, confirmation = Step(data.step), data.confirmation
        labelled = self._labelled(data.shipment_id) if step is Step.SHIP else None
        if labelled is not None:
            return labelled
        if confirmation is None:
            return self._ask_warehouse(step, data.shipment_id, data.location_id, data.lines)
        if step is not Step.SHIP:
            return None
        assert confirmation.carrier and confirmation.tracking_number  # the workflow's validator checked
        label_ref = confirmation.label_ref or f"label:{data.shipment_id}"
        return Dispatch(confirmation.carrier, confirmation.tracking_number, label_ref)

    def _labelled(self, shipment_id: str) -> Dispatch | None:
        """The dispatch a carrier label made for this shipment, if it has one."""
        with UnitOfWork(readers_of(self._session_factory)) as uow:
            summary = labels.label_summary(uow.session, shipment_id)
        return Dispatch(*summary) if summary else None

    def _ask_warehouse(self, step: Step, shipment_id: str, location_id: str, lines: dict[str, int]) -> Dispatch | None:
        """The warehouse provider's side of a step it confirms by itself; ship answers the dispatch."""
        if step is Step.PICK:
            self._warehouse.request_pick(shipment_id, location_id, lines)
        elif step is Step.PACK:
            self._warehouse.confirm_pack(shipment_id)
        elif step is Step.SHIP:
            return self._warehouse.dispatch(shipment_id, location_id)
        return None

    def _why_no_label(self, shipment_id: str) -> str | None:
        """A location that confirms by itself (development's sandbox warehouse; production refuses
        it) ships what the carrier could not label with its own provider, rather than stall: why,
        when sender or recipient lack what a label needs. Staff-confirmed shipments are held instead."""
        with UnitOfWork(readers_of(self._session_factory)) as uow:  # reads only: no write lock on SQLite
            parties = labels.label_parties(uow.session, shipment_id)
            if parties is None or parties.sender is None or parties.order is None:
                return None  # the label step reports it
            sender, recipient = sender_address(parties.sender).missing(), recipient_address(parties.order).missing()
            location_id = parties.sender.location_id
        if not (sender or recipient):
            return None
        gaps = [f"sender {location_id}: {', '.join(sender)}"] * bool(sender)
        gaps += [f"recipient: {', '.join(recipient)}"] * bool(recipient)
        return "shipped without a carrier label (the location confirms by itself); missing " + "; ".join(gaps)

    def _record(
        self, session: Session, data: ShipmentStepRequest, dispatch: Dispatch | None, *, ask_carrier: bool = True
    ) -> ShipmentStepDone:
        record = session.get(ShipmentRecord, data.shipment_id)
        if record is None:
            raise ApplicationError(
                f"shipment {data.shipment_id} is not recorded", type=ErrorType.UNKNOWN_SHIPMENT, non_retryable=True
            )
        step, confirmation, at = Step(data.step), data.confirmation, data.at
        if data.handover and not cancel_claims.handover_allowed(session, data.order_id):
            order_store.add_event(session, data.order_id, "handover_stopped", f"{data.shipment_id}: cancelled", at)
            return ShipmentStepDone(ShipmentStatus.STOPPED_BY_CANCEL, dict(data.lines))
        if data.handover and cancel_claims.withdrawn_by_edit(session, data.shipment_id):
            order_store.add_event(session, data.order_id, "handover_stopped", f"{data.shipment_id}: order edited", at)
            return ShipmentStepDone(ShipmentStatus.STOPPED_BY_CANCEL, dict(data.lines))
        lines, status = dict(data.lines), DONE_STATUS[step]
        short: dict[str, int] = {}
        if step is Step.PICK:
            lines, short = self._record_pick(session, record, data)
            status = status if lines else ShipmentStatus.CANCELLED
        else:
            self._note_step(session, record, data, dispatch)
        if data.handover and lines:
            inventory.ship(session, data.location_id, lines, data.order_id)
        if (data.handover and lines) or step is Step.COLLECT:  # a transfer's collection tells the channel too
            enqueued = shipment_notices.enqueue_notice(session, record, SPECS, lines=lines)
            if enqueued.by_hand:  # the channel cannot be told of it: a person must, and the timeline says so
                order_store.add_event(session, record.order_id, "channel_not_notified", enqueued.by_hand, enqueued.at)
        if confirmation is not None and confirmation.confirmed_by:
            record.confirmed_by = {**(record.confirmed_by or {}), step.value: confirmation.confirmed_by}
        record.status = status
        if data.handover and lines and issuing.money_collected_elsewhere(session, data.order_id):
            # The channel (or store credit) took the money: what left is invoiced as it leaves.
            session.flush()
            issuing.invoice_shipments(session, data.order_id, at)
        if confirmation is not None:  # only staff-confirmed steps wait long enough to be escalated
            escalations.resolve(session, data.shipment_id, step.value, at)
        label_pending = step is Step.PACK and ask_carrier and self._asks_carrier(record)
        if label_pending:
            record.label_status, record.label_problem = "pending", None
        return ShipmentStepDone(
            status, lines, short, record.carrier, record.tracking_number, record.label_ref, label_pending=label_pending
        )

    def _asks_carrier(self, record: ShipmentRecord) -> bool:
        """A parcel to the customer, packed where a carrier integration prints its label."""
        return self._carrier is not None and record.kind == ShipmentKind.DELIVERY and record.label_status != "ready"

    @staticmethod
    def _record_pick(
        session: Session, record: ShipmentRecord, data: ShipmentStepRequest
    ) -> tuple[dict[str, int], dict[str, int]]:
        """What was picked and what was not found: the missing units are written off there."""
        confirmation, at = data.confirmation, data.at
        lines = dict(data.lines)
        picked = picked_lines(lines, confirmation.quantities if confirmation else None)
        short = shortfall(lines, picked)
        if short:
            inventory.write_off_missing(session, data.location_id, short, data.order_id)
            missing = ", ".join(f"{sku} x{units}" for sku, units in sorted(short.items()))
            order_store.add_event(
                session, data.order_id, "short_pick", f"{data.location_id} did not find {missing}{_by(data)}", at
            )
            record.short_lines = short
        record.lines, record.picked_at = picked, at
        order_store.set_status(
            session,
            data.order_id,
            OrderStatus.IN_FULFILMENT,
            detail=f"picked at {data.location_id}{_by(data)}",
            at=at,
            only_from=OrderStatus.RESERVED,
        )
        return picked, short

    @staticmethod
    def _note_step(
        session: Session, record: ShipmentRecord, data: ShipmentStepRequest, dispatch: Dispatch | None
    ) -> None:
        """Pack, ship, ready or collect: its time on the shipment and its line on the timeline."""
        step, confirmation, at = Step(data.step), data.confirmation, data.at
        if step is Step.PACK:
            record.packed_at = at
            record.parcels = confirmation.parcels if confirmation and confirmation.parcels else 1
            if confirmation and confirmation.parcel_weights_grams:
                record.parcel_weights_grams = list(confirmation.parcel_weights_grams)
            order_store.add_event(
                session, data.order_id, "packed", f"{data.shipment_id}: {record.parcels} parcel(s){_by(data)}", at
            )
        elif step is Step.SHIP:
            assert dispatch is not None
            record.shipped_at = at
            record.carrier, record.tracking_number, record.label_ref = (
                dispatch.carrier,
                dispatch.tracking_number,
                dispatch.label_ref,
            )
            order_store.add_event(
                session, data.order_id, "shipped", f"{dispatch.carrier} {dispatch.tracking_number}{_by(data)}", at
            )
            shipped = {
                "order_id": data.order_id,
                "shipment_id": record.shipment_id,
                "location_id": record.location_id,
                "carrier": dispatch.carrier,
                "tracking_number": dispatch.tracking_number,
                "lines": [{"sku": sku, "quantity": n} for sku, n in sorted(record.lines.items())],
            }
            emit(session, EventType.SHIPMENT_SHIPPED, shipped, ordering_key=data.order_id, at=at)
        elif step is Step.READY:
            record.ready_at = at
            order_store.add_event(session, data.order_id, "ready_for_pickup", f"{data.shipment_id}{_by(data)}", at)
        else:
            record.collected_at = at
            order_store.add_event(session, data.order_id, "collected", f"{data.shipment_id}{_by(data)}", at)

    @activity.defn
    def close_shipment(self, data: CloseShipmentInput) -> None:
        """Withdraw the pick request at the location, then release what the shipment still holds."""
        if stored_result(self._session_factory, data.idempotency_key, Done) is not None:
            return
        self._warehouse.withdraw(data.shipment_id, data.location_id)

        def effect(session: Session) -> Done:
            if data.lines:
                inventory.release(session, data.location_id, data.lines, data.order_id)
            record = session.get(ShipmentRecord, data.shipment_id)
            if record is not None:
                record.status, record.cancelled_at = data.status, data.at
            escalations.resolve(session, data.shipment_id, None, data.at)
            units = sum(data.lines.values())
            order_store.add_event(
                session,
                data.order_id,
                f"shipment_{data.status.lower()}",
                f"{data.shipment_id}: {data.reason}; {units} units released at {data.location_id}",
                data.at,
            )
            return Done()

        run_once(self._session_factory, data.idempotency_key, effect, Done)

    @activity.defn
    def escalate(self, data: EscalationInput) -> None:
        """A step is late: flag it for ops (the escalations list) and note it on the order."""

        def effect(session: Session) -> Done:
            escalations.raise_once(session, data)
            order_store.add_event(
                session,
                data.order_id,
                "escalation",
                f"{data.step} at {data.location_id} for {data.shipment_id} was due {data.due_at.isoformat()}",
                data.at,
            )
            return Done()

        run_once(self._session_factory, data.idempotency_key, effect, Done)

    @activity.defn
    def request_label(self, data: LabelInput) -> Label:
        """The packed shipment's carrier label (activities.carrier_labels): asked once, kept."""
        return self._labels.request(data)

    @activity.defn
    def cancel_label(self, data: CancelLabelInput) -> LabelCancelled:
        """The shipment's outbound label cancelled at the carrier, once per key (activities.carrier_labels)."""
        return self._labels.cancel(data)


def _by(data: ShipmentStepRequest) -> str:
    """ " by <person>" for the timeline when staff confirmed the step (empty for the engine's own)."""
    who = data.confirmation.confirmed_by if data.confirmation is not None else ""
    return f" by {who}" if who else ""
