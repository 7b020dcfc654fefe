"""The warehouse floor, on a phone or a handheld scanner's browser: a location's pick list, picking by
scanning EAN or SKU, packing, shipping (carrier label or typed tracking), the packing slip.

A scanner types the code and presses Enter: each scan is one post, counted against the pick list on
the server and carried back in the page's address (no state kept between scans, a reload counts
nothing twice). A wrong item or one unit too many is refused at once, next to the field. Every step
is confirmed through services.shipments, as the JSON API does, with the person's label as
`confirmed_by`; the shipment's workflow has the last word (its refusals are shown on the page)."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from typing import Annotated, Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Depends, Form, Query, Request, status
from fastapi.responses import HTMLResponse, Response

from api.deps import FloorDep, LabelsDep, SettingsDep, ShipmentsDep, StockDep
from api.screens.pages import (
    FlashQuery,
    FormToken,
    NotYours,
    SignedIn,
    check_form,
    not_found,
    page,
    read_flash,
    redirect,
    screen,
    workflow_answer,
)
from config import Settings
from contracts.shipments import StepConfirmation
from domain.fulfilment import ShipmentKind, Step
from domain.limits import LEDGER_REASON, MAX_UNITS
from domain.picking import ScanRefused, clean_counts, count_scan, missing_units, read_scan
from domain.staff import Permission
from persistence.models import Location
from services.errors import NotFound, ServiceError
from services.shipments import Shipments
from services.warehouse import FloorShipment, WarehouseFloor

router = APIRouter(prefix="/dashboard/warehouse", include_in_schema=False, default_response_class=HTMLResponse)

Staff = Annotated[SignedIn, Depends(screen(Permission.SHIPMENT_STEPS))]
MAX_PARCELS = 50
MAX_WEIGHT_GRAMS = 1_000_000


def now() -> datetime:
    return datetime.now(UTC)


# -- shared with the counter -----------------------------------------------------------------


def places(user: SignedIn, floor: WarehouseFloor, kinds: frozenset[str] | None = None) -> list[Location]:
    """The locations where the person confirms shipment steps (of the given kinds)."""
    every = floor.locations()
    mine = set(user.member.locations_for(Permission.SHIPMENT_STEPS, [place.location_id for place in every]))
    return [place for place in every if place.location_id in mine and (kinds is None or place.kind in kinds)]


def must_work_at(user: SignedIn, location_id: str) -> None:
    if not user.member.may_at(Permission.SHIPMENT_STEPS, location_id):
        raise NotYours(f"you do not confirm shipment steps at {location_id}")


def unknown_location(
    request: Request, user: SignedIn, floor: WarehouseFloor, location_id: str, what: str
) -> Response | None:
    """A location's page: a 403 unless the person works there, then the 404 page (naming it as
    `what`) when there is no such location; None when the page may be drawn."""
    must_work_at(user, location_id)
    if location_id not in {place.location_id for place in floor.locations()}:
        return not_found(request, user, f"{what} {location_id}")
    return None


def may_see(user: SignedIn, shipment: FloorShipment) -> None:
    """Staff of the location that sends it, or of the store it is collected at."""
    involved = {shipment.record.location_id, shipment.pickup_location or shipment.record.location_id}
    if not any(user.member.may_at(Permission.SHIPMENT_STEPS, place) for place in involved):
        raise NotYours(f"shipment {shipment.shipment_id} is not handled at a location of yours")


async def load(floor: WarehouseFloor, shipment_id: str) -> FloorShipment | None:
    try:
        return await asyncio.to_thread(floor.shipment, shipment_id, now())
    except NotFound:
        return None


async def confirmed(shipments: Shipments, shipment_id: str, confirmation: StepConfirmation) -> tuple[int, str]:
    """Confirm a step: (0, "") when it is recorded, else the status code and the reason to show."""
    return await workflow_answer(shipments.confirm(shipment_id, confirmation))


# -- the pick list ---------------------------------------------------------------------------


@router.get("")
def choose_location(request: Request, user: Staff, floor: FloorDep) -> Response:
    mine = places(user, floor)
    if len(mine) == 1:
        return redirect(f"/dashboard/warehouse/{quote(mine[0].location_id, safe='')}")
    return page(request, "warehouse/locations.html", user, places=mine, area="warehouse", title="Pick & pack")


@router.get("/{location_id}")
def pick_list(
    location_id: str,
    request: Request,
    user: Staff,
    floor: FloorDep,
    stock: StockDep,
    settings: SettingsDep,
    flash_: FlashQuery = None,
) -> Response:
    if (refused := unknown_location(request, user, floor, location_id, "location")) is not None:
        return refused
    moment = now()
    counts_stock = user.member.may_at(Permission.STOCK_COUNT, location_id)
    return page(
        request,
        "warehouse/pick_list.html",
        user,
        location_id=location_id,
        shipments=floor.pick_list(location_id, moment),
        now=moment,
        flash=read_flash(settings, flash_),
        may_set_bins=counts_stock,
        held=stock.held_at(location_id) if counts_stock else [],
    )


@router.post("/{location_id}/bins")
def set_bin(
    location_id: str,
    user: Staff,
    floor: FloorDep,
    settings: SettingsDep,
    form_token: FormToken = "",
    sku: Annotated[str, Form(max_length=200)] = "",
    bin: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    """Note where a SKU lies at the location (stock-count staff of that location)."""
    check_form(user, form_token)
    if not user.member.may_at(Permission.STOCK_COUNT, location_id):
        raise NotYours(f"you do not count stock at {location_id}")
    target = f"/dashboard/warehouse/{quote(location_id, safe='')}"
    try:
        floor.set_bin(location_id, sku.strip(), bin)
    except ServiceError as exc:
        return redirect(target, settings, False, f"bin not set: {exc.message}")
    text = f"{sku.strip()} lies in {bin.strip()}" if bin.strip() else f"{sku.strip()} has no bin now"
    return redirect(target, settings, True, text)


@router.post("/{location_id}/held")
def release_held(
    location_id: str,
    user: Staff,
    stock: StockDep,
    settings: SettingsDep,
    form_token: FormToken = "",
    sku: Annotated[str, Form(max_length=200)] = "",
    quantity: Annotated[str, Form(max_length=20)] = "",
    to: Annotated[str, Form(max_length=20)] = "",
    reason: Annotated[str, Form(max_length=500)] = "",
) -> Response:
    """Release units held for refurbishing (stock-count staff of that location): to sellable stock,
    or written off with a reason; the same rules as POST /inventory/held/release."""
    check_form(user, form_token)
    if not user.member.may_at(Permission.STOCK_COUNT, location_id):
        raise NotYours(f"you do not count stock at {location_id}")
    target = f"/dashboard/warehouse/{quote(location_id, safe='')}"
    units = int(quantity) if quantity.strip().isdigit() else 0
    if not 0 < units <= MAX_UNITS:
        return redirect(target, settings, False, f"nothing released: {quantity.strip() or 'no'} units is not a count")
    if len(reason.strip()) > LEDGER_REASON:
        return redirect(target, settings, False, f"nothing released: say why in at most {LEDGER_REASON} characters")
    try:
        row = stock.release_held(location_id, sku.strip(), units, to=to, reason=reason, by=user.member.label)
    except ServiceError as exc:
        return redirect(target, settings, False, f"nothing released: {exc.message}")
    done = "back on sale" if to == "sellable" else "written off"
    return redirect(target, settings, True, f"{units} x {row.sku} {done}; {row.held} still held")


# -- one shipment ----------------------------------------------------------------------------


def _counts_from(text: str) -> dict[str, Any]:
    try:
        loaded = json.loads(text) if text else {}
    except (ValueError, RecursionError):  # whatever was typed into the address: nothing counted
        return {}
    return loaded if isinstance(loaded, dict) else {}


def _here(shipment_id: str, **query: str) -> str:
    address = f"/dashboard/warehouse/shipments/{quote(shipment_id, safe='')}"
    wanted = {key: value for key, value in query.items() if value}
    return address + (f"?{urlencode(wanted)}" if wanted else "")


def _shipment_page(
    request: Request,
    user: SignedIn,
    shipment: FloorShipment,
    *,
    code: int = 200,
    counts: dict[str, int] | None = None,
    needs_weights: bool = False,
    parcels: int = 1,
    **context: Any,
) -> Response:
    counted = counts if counts is not None else {line.sku: 0 for line in shipment.lines}
    missing = missing_units(shipment.requested, counted)
    return page(
        request,
        "warehouse/shipment.html",
        user,
        code=code,
        s=shipment,
        now=now(),
        counts=counted,
        counts_json=json.dumps(counted, separators=(",", ":")),
        missing=missing,
        missing_units=sum(missing.values()),
        picked_units=sum(counted.values()),
        needs_weights=needs_weights,
        parcels=parcels,
        may_confirm=shipment.step_location is not None
        and user.member.may_at(Permission.SHIPMENT_STEPS, shipment.step_location),
        label_url=_here(shipment.shipment_id) + "/label.pdf" if shipment.record.label_status == "ready" else None,
        **{"flash": None, "error": None, "field_errors": {}, "typed": {}, "last": None} | context,
    )


@router.get("/shipments/{shipment_id}")
async def shipment_page(
    shipment_id: str,
    request: Request,
    user: Staff,
    floor: FloorDep,
    labels: LabelsDep,
    settings: SettingsDep,
    counts: Annotated[str, Query(max_length=20_000)] = "",
    last: Annotated[str, Query(max_length=200)] = "",
    parcels: Annotated[str, Query(max_length=20)] = "1",
    flash_: FlashQuery = None,
) -> Response:
    shipment = await load(floor, shipment_id)
    if shipment is None:
        return not_found(request, user, f"shipment {shipment_id}")
    may_see(user, shipment)
    needs_weights = shipment.step is Step.PACK and await asyncio.to_thread(labels.needs_weights, shipment_id)
    return _shipment_page(
        request,
        user,
        shipment,
        counts=clean_counts(shipment.requested, _counts_from(counts)),
        needs_weights=needs_weights,
        parcels=_parcel_count(parcels) or 1,
        last=last or None,
        flash=read_flash(settings, flash_),
    )


async def _for_step(
    floor: WarehouseFloor, user: SignedIn, form_token: str, shipment_id: str, step: Step, settings: Settings
) -> FloorShipment | Response:
    """What every step's post does first: the form's token checked, then the shipment, if it waits
    for `step` at a location of the person's; else where to go instead."""
    check_form(user, form_token)
    shipment = await load(floor, shipment_id)
    if shipment is None:
        return redirect("/dashboard/warehouse", settings, False, f"no shipment {shipment_id}")
    may_see(user, shipment)
    if shipment.step is not step or shipment.step_location is None:
        waits = f"it waits for {shipment.step.value}" if shipment.step else f"it is {shipment.record.status}"
        return redirect(_here(shipment_id), settings, False, f"this shipment takes no {step.value} now: {waits}")
    must_work_at(user, shipment.step_location)
    return shipment


@router.post("/shipments/{shipment_id}/scan")
async def scan(
    shipment_id: str,
    request: Request,
    user: Staff,
    floor: FloorDep,
    settings: SettingsDep,
    form_token: FormToken = "",
    code: Annotated[str, Form(max_length=500)] = "",
    units: Annotated[str, Form(max_length=20)] = "1",
    counts: Annotated[str, Form(max_length=20_000)] = "",
) -> Response:
    """Count one scan (or "3x CODE", or the units field) against the pick list."""
    shipment = await _for_step(floor, user, form_token, shipment_id, Step.PICK, settings)
    if isinstance(shipment, Response):
        return shipment
    counted = clean_counts(shipment.requested, _counts_from(counts))
    try:
        how_many = int(units.strip() or "1")
    except ValueError:
        how_many = 0
    try:
        sku, counted = count_scan(shipment.requested, counted, read_scan(code, how_many), shipment.eans)
    except (ScanRefused, ValueError) as refused:
        return _shipment_page(
            request, user, shipment, code=status.HTTP_422_UNPROCESSABLE_CONTENT, counts=counted, scan_error=str(refused)
        )
    return redirect(_here(shipment_id, counts=json.dumps(counted, separators=(",", ":")), last=sku))


@router.post("/shipments/{shipment_id}/pick")
async def confirm_pick(
    shipment_id: str,
    request: Request,
    user: Staff,
    floor: FloorDep,
    shipments: ShipmentsDep,
    settings: SettingsDep,
    form_token: FormToken = "",
    counts: Annotated[str, Form(max_length=20_000)] = "",
) -> Response:
    shipment = await _for_step(floor, user, form_token, shipment_id, Step.PICK, settings)
    if isinstance(shipment, Response):
        return shipment
    counted = clean_counts(shipment.requested, _counts_from(counts))
    assert shipment.step_location is not None  # _for_step
    confirmation = StepConfirmation(
        Step.PICK.value, shipment.step_location, quantities=counted, confirmed_by=user.member.label
    )
    code, why = await confirmed(shipments, shipment_id, confirmation)
    if code:
        return _shipment_page(request, user, shipment, code=code, counts=counted, error=f"Pick {why}")
    missing = missing_units(shipment.requested, counted)
    if not any(counted.values()):
        text = "Nothing was picked: this shipment ends here and the order sources all of it again."
        return redirect(f"/dashboard/warehouse/{quote(shipment.step_location, safe='')}", settings, True, text)
    if missing:
        gone = ", ".join(f"{sku} x{units}" for sku, units in sorted(missing.items()))
        text = f"Short pick confirmed: {gone} written off here; the order sources them again once this has left."
    else:
        text = "Picked in full."
    return redirect(_here(shipment_id), settings, True, text)


def _parcel_count(typed: str) -> int:
    """The number of parcels typed, or 0 when it is not one from 1 to MAX_PARCELS."""
    try:
        count = int(typed.strip())
    except ValueError:
        return 0
    return count if 1 <= count <= MAX_PARCELS else 0


def _parcel_weights(raw: list[str], parcels: int, needed: bool) -> tuple[list[int] | None, str | None]:
    """The weights typed, one per parcel: (weights, None), or (None, what is wrong)."""
    typed = [value.strip() for value in raw]
    if not any(typed):
        return None, "weigh each parcel: the carrier label is priced by its weight" if needed else None
    if len(typed) != parcels:
        return None, f"one weight per parcel ({parcels})"
    weights: list[int] = []
    for number, value in enumerate(typed, start=1):
        if not value:
            return None, f"weigh every parcel: parcel {number} has no weight"
        try:
            grams = int(value)
        except ValueError:
            return None, f"parcel {number}: the weight in whole grams"
        if not 1 <= grams <= MAX_WEIGHT_GRAMS:
            return None, f"parcel {number}: between 1 and {MAX_WEIGHT_GRAMS} grams"
        weights.append(grams)
    return weights, None


@router.post("/shipments/{shipment_id}/pack")
async def confirm_pack(
    shipment_id: str,
    request: Request,
    user: Staff,
    floor: FloorDep,
    shipments: ShipmentsDep,
    labels: LabelsDep,
    settings: SettingsDep,
    form_token: FormToken = "",
    parcels: Annotated[str, Form(max_length=20)] = "1",
) -> Response:
    shipment = await _for_step(floor, user, form_token, shipment_id, Step.PACK, settings)
    if isinstance(shipment, Response):
        return shipment
    form = await request.form()
    raw_weights = [str(value)[:20] for value in form.getlist("weight")][:MAX_PARCELS]
    needed = await asyncio.to_thread(labels.needs_weights, shipment_id)
    count = _parcel_count(parcels)
    errors: dict[str, str] = {}
    weights: list[int] | None = None
    if not count:
        errors["parcels"] = f"1 to {MAX_PARCELS} parcels"
    else:
        weights, problem = _parcel_weights(raw_weights, count, needed)
        if problem:
            errors["weight"] = problem
    if errors:
        return _shipment_page(
            request,
            user,
            shipment,
            code=status.HTTP_422_UNPROCESSABLE_CONTENT,
            needs_weights=needed,
            parcels=count or 1,
            field_errors=errors,
            typed={"weights": raw_weights, "parcels": parcels},
        )
    assert shipment.step_location is not None  # _for_step
    confirmation = StepConfirmation(
        Step.PACK.value,
        shipment.step_location,
        parcels=count,
        parcel_weights_grams=weights,
        confirmed_by=user.member.label,
    )
    code, why = await confirmed(shipments, shipment_id, confirmation)
    if code:
        return _shipment_page(
            request,
            user,
            shipment,
            code=code,
            needs_weights=needed,
            parcels=count,
            error=f"Pack {why}",
            typed={"weights": raw_weights, "parcels": parcels},
        )
    text = f"Packed in {count} parcel{'s' if count != 1 else ''}."
    if needed:
        text += " The carrier label is being asked for: it appears here once the carrier answers."
    return redirect(_here(shipment_id), settings, True, text)


@router.post("/shipments/{shipment_id}/ship")
async def confirm_ship(
    shipment_id: str,
    request: Request,
    user: Staff,
    floor: FloorDep,
    shipments: ShipmentsDep,
    settings: SettingsDep,
    form_token: FormToken = "",
    carrier: Annotated[str, Form(max_length=500)] = "",
    tracking_number: Annotated[str, Form(max_length=500)] = "",
) -> Response:
    shipment = await _for_step(floor, user, form_token, shipment_id, Step.SHIP, settings)
    if isinstance(shipment, Response):
        return shipment
    typed = {"carrier": carrier.strip(), "tracking_number": tracking_number.strip()}
    with_label = shipment.record.label_status in ("ready", "pending")
    errors: dict[str, str] = {}
    if not with_label:
        if not typed["carrier"]:
            errors["carrier"] = "the carrier that takes the parcel"
        elif len(typed["carrier"]) > 64:
            errors["carrier"] = "at most 64 characters"
        if not typed["tracking_number"]:
            errors["tracking_number"] = "the tracking number on the parcel"
        elif len(typed["tracking_number"]) > 100:
            errors["tracking_number"] = "at most 100 characters"
    if errors:
        return _shipment_page(
            request, user, shipment, code=status.HTTP_422_UNPROCESSABLE_CONTENT, field_errors=errors, typed=typed
        )
    assert shipment.step_location is not None  # _for_step
    confirmation = StepConfirmation(
        Step.SHIP.value,
        shipment.step_location,
        carrier=None if with_label else typed["carrier"],
        tracking_number=None if with_label else typed["tracking_number"],
        confirmed_by=user.member.label,
    )
    code, why = await confirmed(shipments, shipment_id, confirmation)
    if code:
        return _shipment_page(request, user, shipment, code=code, error=f"Ship {why}", typed=typed)
    if shipment.record.kind == ShipmentKind.TRANSFER_COLLECT:
        text = f"Handed to the carrier: on its way to {shipment.pickup_location} for pickup."
    else:
        text = f"Handed to the carrier: {shipment.shipment_id} has left."
    return redirect(f"/dashboard/warehouse/{quote(shipment.step_location, safe='')}", settings, True, text)


@router.post("/shipments/{shipment_id}/ready")
async def confirm_ready(
    shipment_id: str,
    request: Request,
    user: Staff,
    floor: FloorDep,
    shipments: ShipmentsDep,
    settings: SettingsDep,
    form_token: FormToken = "",
) -> Response:
    shipment = await _for_step(floor, user, form_token, shipment_id, Step.READY, settings)
    if isinstance(shipment, Response):
        return shipment
    assert shipment.step_location is not None  # _for_step
    confirmation = StepConfirmation(Step.READY.value, shipment.step_location, confirmed_by=user.member.label)
    code, why = await confirmed(shipments, shipment_id, confirmation)
    if code:
        return _shipment_page(request, user, shipment, code=code, error=f"Ready {why}")
    text = f"On the pickup shelf: {shipment.order_number} waits for its customer at the counter."
    return redirect(f"/dashboard/warehouse/{quote(shipment.step_location, safe='')}", settings, True, text)


@router.get("/shipments/{shipment_id}/label.pdf", response_class=Response)
async def label_document(
    shipment_id: str, request: Request, user: Staff, floor: FloorDep, labels: LabelsDep
) -> Response:
    """The carrier label, for the browser to print (the JSON API's needs a bearer token)."""
    shipment = await load(floor, shipment_id)
    if shipment is None:
        return not_found(request, user, f"shipment {shipment_id}")
    may_see(user, shipment)
    try:
        label = await asyncio.to_thread(labels.document, shipment_id)
    except NotFound:
        return not_found(request, user, f"carrier label for {shipment_id} (yet)")
    return Response(
        label.content,
        media_type=label.media_type,
        headers={"Content-Disposition": f'inline; filename="{label.filename}"', "Cache-Control": "no-store"},
    )


@router.get("/shipments/{shipment_id}/slip")
async def packing_slip(shipment_id: str, request: Request, user: Staff, floor: FloorDep) -> Response:
    """The packing slip to print and put in the parcel."""
    shipment = await load(floor, shipment_id)
    if shipment is None:
        return not_found(request, user, f"shipment {shipment_id}")
    may_see(user, shipment)
    return page(request, "warehouse/slip.html", user, s=shipment, printed_at=now())
