"""The store counter: click & collect orders ready for pickup at this store, handed over with a
confirmation; expired ones listed.

Handing over is the collect step of the shipment (services.shipments, as the JSON API's
`/collected`): the payment for it is taken then. It asks once more before it goes, so the parcel
of another customer with a similar name does not leave the shop."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Depends, Form, Query, Request, status
from fastapi.responses import HTMLResponse, Response

from api.deps import FloorDep, SettingsDep, ShipmentsDep
from api.screens.pages import FlashQuery, FormToken, SignedIn, check_form, not_found, page, read_flash, redirect, screen
from api.screens.warehouse import confirmed, load, must_work_at, now, places, unknown_location
from contracts.shipments import StepConfirmation
from domain.fulfilment import ShipmentStatus, Step
from domain.staff import Permission
from services.warehouse import FloorShipment, WarehouseFloor

router = APIRouter(prefix="/dashboard/counter", include_in_schema=False, default_response_class=HTMLResponse)

Staff = Annotated[SignedIn, Depends(screen(Permission.SHIPMENT_STEPS))]
STORES = frozenset({"store"})


def _counter(location_id: str, search: str = "") -> str:
    address = f"/dashboard/counter/{quote(location_id, safe='')}"
    return address + (f"?{urlencode({'q': search})}" if search else "")


@router.get("")
def choose_store(request: Request, user: Staff, floor: FloorDep) -> Response:
    mine = places(user, floor, STORES)
    if len(mine) == 1:
        return redirect(_counter(mine[0].location_id))
    return page(request, "warehouse/locations.html", user, places=mine, area="counter", title="Counter")


@router.get("/{location_id}")
def counter_page(
    location_id: str,
    request: Request,
    user: Staff,
    floor: FloorDep,
    settings: SettingsDep,
    q: Annotated[str, Query(max_length=200)] = "",
    flash_: FlashQuery = None,
) -> Response:
    if (refused := unknown_location(request, user, floor, location_id, "store")) is not None:
        return refused
    moment = now()
    return page(
        request,
        "counter/counter.html",
        user,
        location_id=location_id,
        counter=floor.counter(location_id, moment, q),
        q=q.strip(),
        now=moment,
        flash=read_flash(settings, flash_),
    )


async def _pickup(
    request: Request, floor: WarehouseFloor, user: SignedIn, location_id: str, shipment_id: str
) -> FloorShipment | Response:
    """The store's pickup, if it is one; else the 404 page every counter action answers alike."""
    must_work_at(user, location_id)
    shipment = await load(floor, shipment_id)
    if shipment is None or shipment.pickup_location != location_id:
        return not_found(request, user, f"pickup {shipment_id} at {location_id}")
    return shipment


def _handover_page(
    request: Request, user: SignedIn, location_id: str, shipment: FloorShipment, code: int = 200, **context: object
) -> Response:
    return page(
        request,
        "counter/handover.html",
        user,
        code=code,
        location_id=location_id,
        s=shipment,
        **{"error": None, "check_error": None} | context,
    )


@router.get("/{location_id}/handover/{shipment_id}")
async def handover_page(
    location_id: str, shipment_id: str, request: Request, user: Staff, floor: FloorDep, settings: SettingsDep
) -> Response:
    shipment = await _pickup(request, floor, user, location_id, shipment_id)
    if isinstance(shipment, Response):
        return shipment
    if shipment.record.status != ShipmentStatus.READY_FOR_PICKUP:
        text = f"{shipment.order_number} is not waiting on the pickup shelf (it is {shipment.record.status})"
        return redirect(_counter(location_id), settings, False, text)
    return _handover_page(request, user, location_id, shipment)


@router.post("/{location_id}/handover/{shipment_id}")
async def hand_over(
    location_id: str,
    shipment_id: str,
    request: Request,
    user: Staff,
    floor: FloorDep,
    shipments: ShipmentsDep,
    settings: SettingsDep,
    form_token: FormToken = "",
    checked: Annotated[str, Form(max_length=10)] = "",
) -> Response:
    """The customer takes the order over the counter: the collect step, once the person has ticked
    that they checked the order number and the customer's name."""
    check_form(user, form_token)
    shipment = await _pickup(request, floor, user, location_id, shipment_id)
    if isinstance(shipment, Response):
        return shipment
    if checked != "yes":
        return _handover_page(
            request,
            user,
            location_id,
            shipment,
            code=status.HTTP_422_UNPROCESSABLE_CONTENT,
            check_error="Tick this once you have checked the order number and the customer's name.",
        )
    confirmation = StepConfirmation(Step.COLLECT.value, location_id, confirmed_by=user.member.label)
    code, why = await confirmed(shipments, shipment_id, confirmation)
    if code:
        return _handover_page(request, user, location_id, shipment, code=code, error=f"Hand-over {why}")
    text = f"Handed over: {shipment.order_number} to {shipment.customer_name or 'the customer'}."
    return redirect(_counter(location_id), settings, True, text)


@router.post("/{location_id}/ready/{shipment_id}")
async def put_on_shelf(
    location_id: str,
    shipment_id: str,
    request: Request,
    user: Staff,
    floor: FloorDep,
    shipments: ShipmentsDep,
    settings: SettingsDep,
    form_token: FormToken = "",
) -> Response:
    check_form(user, form_token)
    shipment = await _pickup(request, floor, user, location_id, shipment_id)
    if isinstance(shipment, Response):
        return shipment
    if shipment.step is not Step.READY:
        text = f"{shipment.order_number} is not waiting to be put on the pickup shelf (it is {shipment.record.status})"
        return redirect(_counter(location_id), settings, False, text)
    confirmation = StepConfirmation(Step.READY.value, location_id, confirmed_by=user.member.label)
    code, why = await confirmed(shipments, shipment_id, confirmation)
    if code:
        return redirect(_counter(location_id), settings, False, f"Put on the shelf {why}")
    return redirect(_counter(location_id), settings, True, f"On the pickup shelf: {shipment.order_number}.")
