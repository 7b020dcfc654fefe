"""Shipments for warehouse and store staff: pick lists, step confirmations, late steps
(services.shipments: a confirmation is an update on the shipment's workflow, refused before anything
reaches its history when it is out of order, from the wrong location or impossible).
"""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Response, status
from pydantic import BaseModel, ConfigDict, Field, StrictInt, model_validator

from api.deps import LabelsDep, ShipmentsDep, at_location, at_shipment, require, within_scope
from api.errors import unprocessable
from api.paging import LongPageDep
from contracts.shipments import StepConfirmation
from domain.carrier_events import CARRIER_STATUSES
from domain.fulfilment import Step
from domain.staff import Permission, StaffMember
from services.carrier_labels import LabelDocument
from services.shipments import ShipmentView

router = APIRouter(tags=["shipments"])

Viewer = Annotated[StaffMember, Depends(require(Permission.SHIPMENTS_VIEW))]
"""Pick lists and late steps: a warehouse user sees their locations' only."""
ShipmentViewer = Annotated[StaffMember, Depends(at_shipment(Permission.SHIPMENTS_VIEW))]
"""One shipment and its labels: a warehouse user only at the shipment's locations (else 403)."""
StepConfirmer = Annotated[StaffMember, Depends(at_shipment(Permission.SHIPMENT_STEPS))]
"""Step confirmations: at the shipment's locations, and where the person says they work."""


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")
    location_id: str = Field(min_length=1, max_length=64, description="Where the person confirming works")
    confirmed_by: str = Field(default="", max_length=200)


class PickedLine(BaseModel):
    model_config = ConfigDict(extra="forbid")
    sku: str = Field(min_length=1, max_length=100)
    quantity: StrictInt = Field(ge=0)


class PickedBody(_Body):
    lines: list[PickedLine] | None = Field(
        default=None, description="Units picked per SKU; omitted: everything on the pick list. Fewer is a short pick."
    )


class PackedBody(_Body):
    parcels: StrictInt = Field(default=1, ge=1, le=1000)
    parcel_weights_grams: list[Annotated[StrictInt, Field(ge=1, le=1_000_000)]] | None = Field(
        default=None,
        description="What each parcel weighs, in grams, one per parcel: a carrier label (Sendcloud) is priced by it",
    )

    @model_validator(mode="after")
    def _one_weight_per_parcel(self) -> PackedBody:
        if self.parcel_weights_grams is not None and len(self.parcel_weights_grams) != self.parcels:
            raise ValueError(f"parcel_weights_grams needs one weight per parcel ({self.parcels})")
        return self


class ShippedBody(_Body):
    carrier: str | None = Field(
        default=None, min_length=1, max_length=64, description="Typed only without a carrier label"
    )
    tracking_number: str | None = Field(
        default=None, min_length=1, max_length=100, description="Typed only without a carrier label"
    )
    label_ref: str | None = Field(default=None, max_length=200)


class ReturnLabelPublic(BaseModel):
    shipment_id: str
    carrier: str
    tracking_number: str
    tracking_url: str
    label_url: str


class ShipmentPublic(BaseModel):
    shipment_id: str
    order_id: str
    location_id: str
    kind: str
    status: str
    lines: dict[str, int]
    next_step: str | None = None
    short_lines: dict[str, int] | None = None
    parcels: int | None = None
    carrier: str | None = None
    tracking_number: str | None = None
    transfer_to: str | None = None
    fulfilment_cost_minor: int | None = None
    created_at: datetime
    picked_at: datetime | None = None
    packed_at: datetime | None = None
    shipped_at: datetime | None = None
    ready_at: datetime | None = None
    collected_at: datetime | None = None
    cancelled_at: datetime | None = None
    delivered_at: datetime | None = None
    escalated: list[str] = []
    label: str | None = Field(
        default=None,
        description="The carrier label: null without a carrier integration, pending (the shipment waits for the "
        "carrier), ready, or refused (a person decides: label_problem has the carrier's words)",
    )
    label_problem: str | None = None
    label_url: str | None = Field(default=None, description="The label PDF, once it is ready")


class ShipmentsPublic(BaseModel):
    data: list[ShipmentPublic]
    count: int


class EscalationPublic(BaseModel):
    order_id: str
    shipment_id: str
    location_id: str
    step: str
    due_at: datetime
    raised_at: datetime
    resolved_at: datetime | None


class EscalationsPublic(BaseModel):
    data: list[EscalationPublic]
    count: int


def _public(view: ShipmentView) -> ShipmentPublic:
    record, progress = view.record, view.progress
    if record.status in CARRIER_STATUSES:
        progress = None  # its workflow ended at the handover; the carrier's reports came after
    return ShipmentPublic(
        shipment_id=record.shipment_id,
        order_id=record.order_id,
        location_id=record.location_id,
        kind=record.kind,
        status=progress.status if progress else record.status,
        lines=progress.lines if progress else dict(record.lines),
        next_step=progress.next_step if progress else None,
        short_lines=record.short_lines,
        parcels=record.parcels,
        carrier=record.carrier,
        tracking_number=record.tracking_number,
        transfer_to=record.transfer_to,
        fulfilment_cost_minor=record.fulfilment_cost_minor,
        created_at=record.created_at,
        picked_at=record.picked_at,
        packed_at=record.packed_at,
        shipped_at=record.shipped_at,
        ready_at=record.ready_at,
        collected_at=record.collected_at,
        cancelled_at=record.cancelled_at,
        delivered_at=record.delivered_at,
        escalated=progress.escalated if progress else [],
        label=record.label_status,
        label_problem=record.label_problem,
        label_url=f"/shipments/{record.shipment_id}/label" if record.label_status == "ready" else None,
    )


@router.get("/shipments", response_model=ShipmentsPublic)
def list_shipments(
    member: Viewer,
    shipments: ShipmentsDep,
    page: LongPageDep,
    location_id: str | None = None,
    status_: Annotated[str | None, Query(alias="status")] = None,
    open_only: Annotated[bool, Query(alias="open")] = False,
) -> Any:
    """A location's pick list: `?location_id=AMS&open=true` is what still has to be done there."""
    """A warehouse user's list holds their locations' shipments only; another location is 403."""
    rows = shipments.pick_list(
        location_id=location_id,
        status=status_,
        open_only=open_only,
        limit=page.limit,
        offset=page.offset,
        location_ids=within_scope(member, Permission.SHIPMENTS_VIEW, location_id),
    )
    return ShipmentsPublic(data=[_public(ShipmentView(row, None)) for row in rows], count=len(rows))


@router.get("/shipments/{shipment_id}", response_model=ShipmentPublic, responses={404: {"description": "unknown"}})
async def get_shipment(shipment_id: str, _: ShipmentViewer, shipments: ShipmentsDep) -> Any:
    return _public(await shipments.view(shipment_id))


_PDF: dict[int | str, dict[str, Any]] = {
    200: {"content": {"application/pdf": {}}, "description": "the label document"},
    404: {"description": "unknown shipment, or no label (yet)"},
}


@router.get("/shipments/{shipment_id}/label", response_class=Response, responses=_PDF)
def get_label(shipment_id: str, _: ShipmentViewer, labels: LabelsDep) -> Response:
    """The carrier label printed when the shipment was packed (Sendcloud), to stick on the parcel."""
    return _document(labels.document(shipment_id))


@router.post(
    "/shipments/{shipment_id}/return-label",
    response_model=ReturnLabelPublic,
    status_code=status.HTTP_201_CREATED,
    responses={
        200: {"description": "the return label made before"},
        404: {"description": "unknown shipment"},
        409: {"description": "not shipped, or no carrier integration"},
        422: {"description": "the carrier refused it (its words)"},
        503: {"description": "the carrier did not answer: retry after Retry-After"},
    },
)
async def create_return_label(shipment_id: str, _: ShipmentViewer, labels: LabelsDep, response: Response) -> Any:
    """A return label for a shipped parcel (Sendcloud's Returns API), for the customer to send it back."""
    made = await labels.return_label(shipment_id)
    if not made.created:
        response.status_code = status.HTTP_200_OK
    return ReturnLabelPublic(
        shipment_id=made.shipment_id,
        carrier=made.carrier,
        tracking_number=made.tracking_number,
        tracking_url=made.tracking_url,
        label_url=f"/shipments/{shipment_id}/return-label",
    )


@router.get("/shipments/{shipment_id}/return-label", response_class=Response, responses=_PDF)
def get_return_label(shipment_id: str, _: ShipmentViewer, labels: LabelsDep) -> Response:
    return _document(labels.document(shipment_id, "return"))


def _document(label: LabelDocument) -> Response:
    return Response(
        label.content,
        media_type=label.media_type,
        headers={"Content-Disposition": f'inline; filename="{label.filename}"', "Cache-Control": "no-store"},
    )


@router.get("/escalations", response_model=EscalationsPublic, tags=["shipments"])
def get_escalations(
    member: Viewer,
    shipments: ShipmentsDep,
    page: LongPageDep,
    location_id: str | None = None,
    open_only: Annotated[bool, Query(alias="open")] = True,
) -> Any:
    """Shipment steps that missed their deadline (open ones until the step is done)."""
    rows, total = shipments.escalations(
        open_only=open_only,
        location_id=location_id,
        limit=page.limit,
        offset=page.offset,
        location_ids=within_scope(member, Permission.SHIPMENTS_VIEW, location_id),
    )
    return EscalationsPublic(
        data=[
            EscalationPublic(
                order_id=row.order_id,
                shipment_id=row.shipment_id,
                location_id=row.location_id,
                step=row.step,
                due_at=row.due_at,
                raised_at=row.raised_at,
                resolved_at=row.resolved_at,
            )
            for row in rows
        ],
        count=total,
    )


_REFUSALS: dict[int | str, dict[str, Any]] = {
    404: {"description": "unknown shipment"},
    409: {"description": "not the step the shipment waits for, or the shipment is finished"},
    422: {"description": "wrong location, or quantities/parcels/tracking that cannot be right"},
}


async def _confirm(
    shipments: ShipmentsDep, shipment_id: str, member: StaffMember, body: _Body, step: Step, **fields: Any
) -> Any:
    """The confirmation, by the person the body names or else the member; from a location of theirs."""
    at_location(member, Permission.SHIPMENT_STEPS, body.location_id)
    who = body.confirmed_by or member.label
    confirmation = StepConfirmation(step.value, body.location_id, confirmed_by=who, **fields)
    return _public(await shipments.confirm(shipment_id, confirmation))


@router.post("/shipments/{shipment_id}/picked", response_model=ShipmentPublic, responses=_REFUSALS)
async def confirm_picked(shipment_id: str, body: PickedBody, member: StepConfirmer, shipments: ShipmentsDep) -> Any:
    quantities: dict[str, int] | None = None
    if body.lines is not None:
        quantities = {}
        for line in body.lines:
            quantities[line.sku] = quantities.get(line.sku, 0) + line.quantity
    return await _confirm(shipments, shipment_id, member, body, Step.PICK, quantities=quantities)


@router.post("/shipments/{shipment_id}/packed", response_model=ShipmentPublic, responses=_REFUSALS)
async def confirm_packed(
    shipment_id: str, body: PackedBody, member: StepConfirmer, shipments: ShipmentsDep, labels: LabelsDep
) -> Any:
    """With a carrier integration, the parcels' weights are needed: the label is asked for at once."""
    if body.parcel_weights_grams is None and await asyncio.to_thread(labels.needs_weights, shipment_id):
        raise unprocessable("parcel_weights_grams is needed: the carrier label is priced by each parcel's weight")
    return await _confirm(
        shipments,
        shipment_id,
        member,
        body,
        Step.PACK,
        parcels=body.parcels,
        parcel_weights_grams=body.parcel_weights_grams,
    )


@router.post("/shipments/{shipment_id}/shipped", response_model=ShipmentPublic, responses=_REFUSALS)
async def confirm_shipped(shipment_id: str, body: ShippedBody, member: StepConfirmer, shipments: ShipmentsDep) -> Any:
    return await _confirm(
        shipments,
        shipment_id,
        member,
        body,
        Step.SHIP,
        carrier=body.carrier,
        tracking_number=body.tracking_number,
        label_ref=body.label_ref,
    )


@router.post("/shipments/{shipment_id}/ready", response_model=ShipmentPublic, responses=_REFUSALS)
async def confirm_ready(shipment_id: str, body: _Body, member: StepConfirmer, shipments: ShipmentsDep) -> Any:
    return await _confirm(shipments, shipment_id, member, body, Step.READY)


@router.post("/shipments/{shipment_id}/collected", response_model=ShipmentPublic, responses=_REFUSALS)
async def confirm_collected(shipment_id: str, body: _Body, member: StepConfirmer, shipments: ShipmentsDep) -> Any:
    return await _confirm(shipments, shipment_id, member, body, Step.COLLECT)
