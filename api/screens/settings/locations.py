"""Locations: the list, and a form for every field the JSON API takes (api.schemas.LocationFields),
saved through services.locations as PUT /locations/{id} saves them (the whole location)."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request, status
from fastapi.responses import Response
from pydantic import ValidationError

from api.deps import LocationsDep, SettingsDep
from api.schemas import LocationCreate, LocationFields, LocationReplace
from api.screens.pages import FlashQuery, check_form, not_found, page, read_flash, redirect
from api.screens.settings.forms import Admin, decimal, field_errors, text, whole_number
from config import Settings
from persistence.models import Location
from services.carrier_labels import sender_address
from services.errors import NotFound

router = APIRouter()

KINDS = ("warehouse", "store", "dropship")
TEXT_FIELDS = (
    "name",
    "kind",
    "country",
    "postcode",
    "group",
    "address_line1",
    "address_line2",
    "city",
    "phone",
    "email",
)
NUMBER_FIELDS = ("priority", "daily_order_capacity", "cost_base_minor", "cost_per_km_minor")
DECIMAL_FIELDS = ("latitude", "longitude")
CHECKBOXES = ("active", "ship_from_store")


def _typed(location: Location | None) -> dict[str, Any]:
    """The form's values as a person would type them: a saved location's, or a new one's defaults."""
    if location is None:
        defaults = {name: info.default for name, info in LocationFields.model_fields.items() if not info.is_required()}
        return {**{name: "" for name in TEXT_FIELDS}, **defaults, "kind": "warehouse", "location_id": ""}
    names = (*TEXT_FIELDS, *NUMBER_FIELDS, *DECIMAL_FIELDS, *CHECKBOXES, "location_id")
    return {name: getattr(location, name) for name in names}


def _posted(form: dict[str, str]) -> tuple[dict[str, Any], dict[str, Any]]:
    """What was typed (to show again) and the body the API's model validates."""
    typed: dict[str, Any] = {name: form.get(name, "") for name in (*TEXT_FIELDS, *NUMBER_FIELDS, *DECIMAL_FIELDS)}
    typed |= {name: name in form for name in CHECKBOXES}
    typed["location_id"] = text(form, "location_id")
    body: dict[str, Any] = {name: text(form, name) for name in TEXT_FIELDS}
    body |= {name: whole_number(form.get(name, "")) for name in NUMBER_FIELDS}
    body |= {name: decimal(form.get(name, "")) for name in DECIMAL_FIELDS}
    body |= {name: typed[name] for name in CHECKBOXES}
    # Blank means the model's default (unlimited capacity stays None; a blank priority is 100).
    return typed, {name: value for name, value in body.items() if value is not None}


def _form(
    request: Request, user: Admin, values: dict[str, Any], errors: dict[str, str], *, new: bool, code: int = 200
) -> Response:
    return page(request, "settings/location.html", user, code=code, values=values, errors=errors, new=new, kinds=KINDS)


@router.get("/locations")
def list_locations(
    request: Request,
    user: Admin,
    locations: LocationsDep,
    settings: SettingsDep,
    flash_: FlashQuery = None,
) -> Response:
    rows = [(location, sender_address(location).missing()) for location in locations.all()]
    return page(request, "settings/locations.html", user, rows=rows, flash=read_flash(settings, flash_))


@router.get("/locations/new")
def new_location(request: Request, user: Admin) -> Response:
    return _form(request, user, _typed(None), {}, new=True)


@router.post("/locations/new")
async def create_location(request: Request, user: Admin, locations: LocationsDep, settings: SettingsDep) -> Response:
    form = {key: str(value) for key, value in (await request.form()).items()}
    check_form(user, form.get("form_token"))
    typed, body = _posted(form)
    try:
        valid = LocationCreate.model_validate({**body, "location_id": typed["location_id"]})
    except ValidationError as exc:
        return _form(request, user, typed, field_errors(exc), new=True, code=status.HTTP_422_UNPROCESSABLE_CONTENT)
    try:
        locations.get(valid.location_id)
    except NotFound:
        fields = valid.model_dump()
        location, _ = locations.save(valid.location_id, create=fields, change=fields)
        return _saved(location.location_id, f"location {location.location_id} created", settings)
    taken = {"location_id": f"{valid.location_id} exists already: open it from the list to change it"}
    return _form(request, user, typed, taken, new=True, code=status.HTTP_409_CONFLICT)


@router.get("/locations/{location_id}")
def edit_location(
    location_id: str,
    request: Request,
    user: Admin,
    locations: LocationsDep,
    settings: SettingsDep,
    flash_: FlashQuery = None,
) -> Response:
    try:
        location = locations.get(location_id)
    except NotFound:
        return not_found(request, user, f"location {location_id}")
    return page(
        request,
        "settings/location.html",
        user,
        values=_typed(location),
        errors={},
        new=False,
        kinds=KINDS,
        missing=sender_address(location).missing(),
        flash=read_flash(settings, flash_),
    )


@router.post("/locations/{location_id}")
async def save_location(
    location_id: str, request: Request, user: Admin, locations: LocationsDep, settings: SettingsDep
) -> Response:
    form = {key: str(value) for key, value in (await request.form()).items()}
    check_form(user, form.get("form_token"))
    try:
        locations.get(location_id)
    except NotFound:
        return not_found(request, user, f"location {location_id}")
    typed, body = _posted(form)
    typed["location_id"] = location_id
    try:
        valid = LocationReplace.model_validate(body)
    except ValidationError as exc:
        return _form(request, user, typed, field_errors(exc), new=False, code=status.HTTP_422_UNPROCESSABLE_CONTENT)
    fields = valid.model_dump(exclude={"location_id"})
    locations.save(location_id, create=fields, change=fields)
    return _saved(location_id, f"location {location_id} saved", settings)


def _saved(location_id: str, message: str, settings: Settings) -> Response:
    return redirect(f"/dashboard/admin/locations/{quote(location_id)}", settings, True, message)
