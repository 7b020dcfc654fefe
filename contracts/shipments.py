"""What goes in and out of a ShipmentWorkflow and its steps (pick, pack, ship, ready, collect),
staff confirmations, SLA escalations and the close of a shipment that did not leave."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from temporalio import activity

from domain.fulfilment import DEFAULT_PICKUP_EXPIRY, ShipmentStatus, shipment_kind, sla_for

if TYPE_CHECKING:
    from contracts.inventory import ReservedShipment
    from contracts.order_workflow import FulfilmentOptions
    from domain.order import Order


@dataclass
class ShipmentWorkflowInput:
    order_id: str
    shipment_id: str
    location_id: str
    location_kind: str
    lines: dict[str, int]
    kind: str
    """domain.fulfilment.ShipmentKind."""
    pickup_location_id: str | None = None
    auto_confirm: bool = True
    sla_seconds: dict[str, int] = field(default_factory=dict)
    pickup_expiry_seconds: int = DEFAULT_PICKUP_EXPIRY

    @classmethod
    def of(cls, order: Order, shipment: ReservedShipment, options: FulfilmentOptions) -> ShipmentWorkflowInput:
        """The input of a reserved shipment's workflow: the order's first shipments and an
        exchange's replacement start the same ShipmentWorkflow from the same facts."""
        kind = shipment_kind(shipment.location_id, order.pickup_location_id, shipment.transfer_to)
        return cls(
            order_id=order.order_id,
            shipment_id=shipment.shipment_id,
            location_id=shipment.location_id,
            location_kind=shipment.location_kind,
            lines=dict(shipment.lines),
            kind=kind.value,
            pickup_location_id=order.pickup_location_id,
            auto_confirm=options.auto_confirm,
            sla_seconds=sla_for(shipment.location_kind, options.slas or None),
            pickup_expiry_seconds=options.pickup_expiry_seconds,
        )


@dataclass
class StepConfirmation:
    """What a warehouse or store user confirms: the step, where, and what it found."""

    step: str
    location_id: str
    quantities: dict[str, int] | None = None
    """pick: units picked per SKU (SKUs left out were picked in full); fewer than asked is a short pick."""
    parcels: int | None = None
    carrier: str | None = None
    tracking_number: str | None = None
    label_ref: str | None = None
    confirmed_by: str = ""
    parcel_weights_grams: list[int] | None = None
    """pack: what each parcel weighs (a carrier label is priced by it)."""


@dataclass
class ShipmentProgress:
    """The live state of a shipment, answered by its workflow's query and confirmation updates."""

    shipment_id: str
    order_id: str
    location_id: str
    kind: str
    status: ShipmentStatus
    next_step: str | None
    lines: dict[str, int]
    carrier: str | None = None
    tracking_number: str | None = None
    escalated: list[str] = field(default_factory=list)
    label: str | None = None
    """The carrier label: None without a carrier integration, pending, ready or refused."""
    label_problem: str | None = None


@dataclass
class ShipmentOutcome:
    shipment_id: str
    status: ShipmentStatus
    """SHIPPED or COLLECTED (handed over), WITHDRAWN, EXPIRED, or CANCELLED (nothing found to pick)."""
    handed_over: dict[str, int] = field(default_factory=dict)
    short: dict[str, int] = field(default_factory=dict)
    """Units the pick did not find: written off there, to be sourced elsewhere."""
    released: dict[str, int] = field(default_factory=dict)
    carrier: str | None = None
    tracking_number: str | None = None
    cancelled_order: bool = False
    """The handover found the order cancelled (taken by the API before the workflow heard of it)."""


@dataclass
class ShipmentStepRequest:
    order_id: str
    shipment_id: str
    location_id: str
    step: str
    lines: dict[str, int]
    idempotency_key: str
    at: datetime
    confirmation: StepConfirmation | None = None
    """None: ask the warehouse provider (auto-confirm); else what staff confirmed."""
    due_at: datetime | None = None
    handover: bool = False
    """The goods leave our stock at this step (ship, or collect over the counter)."""


@dataclass
class AutoStepsRequest:
    order_id: str
    shipment_id: str
    location_id: str
    steps: list[str]
    handover_step: str
    lines: dict[str, int]
    idempotency_key: str
    at: datetime


@dataclass
class ShipmentStepDone:
    status: ShipmentStatus
    lines: dict[str, int]
    """What the shipment carries after this step (a short pick carries less)."""
    short: dict[str, int] = field(default_factory=dict)
    carrier: str | None = None
    tracking_number: str | None = None
    label_ref: str | None = None
    label_pending: bool = False
    """Packed with a carrier integration: the label is to be asked for before it can ship."""


@dataclass
class LabelInput:
    order_id: str
    shipment_id: str
    location_id: str
    at: datetime


@dataclass
class Label:
    carrier: str
    tracking_number: str
    label_ref: str


@dataclass
class CancelLabelInput:
    order_id: str
    shipment_id: str
    reason: str
    """For the order's timeline, e.g. "the order's address changed (version 2)"."""
    idempotency_key: str
    at: datetime


@dataclass
class LabelCancelled:
    cancelled: bool
    """True: the shipment's carrier label was cancelled at the carrier and is no longer kept (a new
    one is to be asked for); False: the shipment had no carrier label to cancel."""
    tracking_number: str = ""
    """The cancelled label's tracking number (for the timeline)."""


@dataclass
class CloseShipmentInput:
    order_id: str
    shipment_id: str
    location_id: str
    lines: dict[str, int]
    status: ShipmentStatus
    """WITHDRAWN or EXPIRED: the pick request is withdrawn and the reservation released."""
    reason: str
    idempotency_key: str
    at: datetime


@dataclass
class EscalationInput:
    order_id: str
    shipment_id: str
    location_id: str
    step: str
    due_at: datetime
    idempotency_key: str
    at: datetime


class Shipments:
    """The shipment activities a ShipmentWorkflow calls (activities.fulfilment implements them)."""

    @activity.defn
    def perform_step(self, data: ShipmentStepRequest) -> ShipmentStepDone:
        raise NotImplementedError

    @activity.defn
    def perform_steps_automatically(self, data: AutoStepsRequest) -> ShipmentStepDone:
        raise NotImplementedError

    @activity.defn
    def close_shipment(self, data: CloseShipmentInput) -> None:
        raise NotImplementedError

    @activity.defn
    def escalate(self, data: EscalationInput) -> None:
        raise NotImplementedError

    @activity.defn
    def request_label(self, data: LabelInput) -> Label:
        raise NotImplementedError

    @activity.defn
    def cancel_label(self, data: CancelLabelInput) -> LabelCancelled:
        """A shipment's outbound carrier label cancelled at the carrier (an order edit changed the
        address): ApplicationError CARRIER_REFUSED (final) when the carrier no longer lets it go."""
        raise NotImplementedError
