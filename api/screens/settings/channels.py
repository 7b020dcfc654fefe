"""Channel settings: sells-from, safety stock, currencies, when returns are refunded and the routing
policy, saved through services.channel_settings.replace as PUT /channels/{channel} saves them; and a
routing preview: for an address and some lines, where the real sourcing would ship from now, by the saved policy or the
one being edited (ChannelSettings.preview, the reserving activity's own planning)."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request, status
from fastapi.responses import Response
from starlette.datastructures import FormData

from api.deps import ChannelSettingsDep, LocationsDep, SettingsDep
from api.screens.pages import FlashQuery, check_form, not_found, page, read_flash, redirect
from api.screens.settings.forms import FORM_LEVEL, Admin, decimal, text, whole_number
from domain import limits
from domain.channels import DEFAULT_SHOP, ChannelPolicy, channel_policy_from_dict
from domain.order import CHANNELS
from domain.routing import Fallback, PartialPolicy, RoutingConfigError, policy_from_dict, policy_to_dict
from domain.sourcing import Destination, PlanOutcome
from services.errors import Unprocessable

router = APIRouter()

PARTIAL = tuple(policy.value for policy in PartialPolicy)
LAST_RESORTS = tuple(fallback.value for fallback in Fallback if fallback is not Fallback.NEXT_RULE)
PREVIEW_ROWS = 5
_COUNTRY = re.compile(r"^[A-Z]{2}$")

OUTCOME_WORDS = {
    PlanOutcome.SHIP: "ships now",
    PlanOutcome.PARTIAL: "ships what is there now; the rest is backordered",
    PlanOutcome.BACKORDER: "is backordered until stock arrives",
    PlanOutcome.HOLD: "is held for a person",
    PlanOutcome.CANCEL: "is cancelled",
}


@router.get("/channels")
def list_channels(
    request: Request,
    user: Admin,
    channels: ChannelSettingsDep,
    settings: SettingsDep,
    flash_: FlashQuery = None,
) -> Response:
    return page(request, "settings/channels.html", user, policies=channels.all(), flash=read_flash(settings, flash_))


@router.get("/channels/{channel}")
def edit_channel(
    channel: str,
    request: Request,
    user: Admin,
    channels: ChannelSettingsDep,
    locations: LocationsDep,
    settings: SettingsDep,
    flash_: FlashQuery = None,
) -> Response:
    if channel not in CHANNELS:
        return not_found(request, user, f"channel {channel}")
    typed = _typed(channels.get(channel)) | {"to_country": "NL"}
    return _page(request, user, channel, typed, {}, locations, flash=read_flash(settings, flash_))


@router.post("/channels/{channel}")
async def post_channel(
    channel: str,
    request: Request,
    user: Admin,
    channels: ChannelSettingsDep,
    locations: LocationsDep,
    settings: SettingsDep,
) -> Response:
    """Save the settings, or (action=preview) plan the preview's order by them without saving."""
    form = await request.form()
    check_form(user, _one(form, "form_token"))
    if channel not in CHANNELS:
        return not_found(request, user, f"channel {channel}")
    typed, config, errors = _posted_policy(channel, form)
    preview_wanted = _one(form, "action") == "preview"
    if preview_wanted:
        preview_typed, order, preview_errors = _posted_order(form)
        typed |= preview_typed
        errors |= preview_errors
    if errors:
        return _page(request, user, channel, typed, errors, locations, code=status.HTTP_422_UNPROCESSABLE_CONTENT)
    try:
        if preview_wanted:
            demand, values, destination = order
            preview = channels.preview(channel, demand, destination, unit_values=values, config=config)
            return _page(request, user, channel, typed, {}, locations, preview=preview)
        channels.replace(channel, config)
    except Unprocessable as exc:
        code = status.HTTP_422_UNPROCESSABLE_CONTENT
        return _page(request, user, channel, typed, {FORM_LEVEL: exc.message}, locations, code=code)
    return redirect(f"/dashboard/admin/channels/{quote(channel)}", settings, True, f"{channel} settings saved")


def _page(
    request: Request,
    user: Admin,
    channel: str,
    typed: dict[str, Any],
    errors: dict[str, str],
    locations: LocationsDep,
    *,
    code: int = 200,
    **context: Any,
) -> Response:
    known = locations.all()
    ids = [location.location_id for location in known]
    # A location named in sells_from that we do not know (a typo through the API) stays visible, to be unticked.
    strangers = sorted(set(typed["sells_from"]) - set(ids))
    return page(
        request,
        "settings/channel.html",
        user,
        code=code,
        channel=channel,
        values=typed,
        errors=errors,
        locations=known,
        strangers=strangers,
        stores=[location for location in known if location.kind == "store"],
        partials=PARTIAL,
        last_resorts=LAST_RESORTS,
        rows=range(PREVIEW_ROWS),
        outcome_words=OUTCOME_WORDS,
        **context,
    )


def _typed(policy: ChannelPolicy) -> dict[str, Any]:
    """The stored policy as the form shows it."""
    routing = policy_to_dict(policy.routing)
    return {
        "sells_from_mode": "all" if policy.sells_from is None else "some",
        "sells_from": list(policy.sells_from or ()),
        "safety_stock": policy.safety_stock,
        "currencies": ", ".join(policy.currencies or ()),
        "shop": policy.shop,
        "refund_timing": policy.refund_timing.value,
        "partial": routing["partial"],
        "when_nothing_fits": routing["when_nothing_fits"],
        "auto_cancel_after_days": routing["auto_cancel_after_days"],
        "rules": json.dumps(routing["rules"], indent=2),
    }


def _one(form: FormData, name: str) -> str:
    value = form.get(name)
    return value if isinstance(value, str) else ""


def _posted_policy(channel: str, form: FormData) -> tuple[dict[str, Any], dict[str, Any], dict[str, str]]:
    """What was typed, the config it makes (the JSON API's shape) and an error per field. Each part
    is checked alone by the domain's own parser, so its message lands next to its field."""
    fields = {name: _one(form, name) for name in ("safety_stock", "currencies", "shop", "partial", "when_nothing_fits")}
    fields["refund_timing"] = _one(form, "refund_timing") or "at_receipt"
    fields |= {name: _one(form, name) for name in ("auto_cancel_after_days", "rules", "sells_from_mode")}
    picked = [value for value in form.getlist("sells_from") if isinstance(value, str)]
    typed: dict[str, Any] = fields | {"sells_from": picked}
    errors: dict[str, str] = {}
    sells_from = None if fields["sells_from_mode"] != "some" else picked
    safety = whole_number(fields["safety_stock"])
    currencies = [code.strip() for code in fields["currencies"].split(",") if code.strip()] or None
    auto_cancel = whole_number(fields["auto_cancel_after_days"])
    routing: dict[str, Any] = {
        "partial": fields["partial"].strip(),
        "when_nothing_fits": fields["when_nothing_fits"].strip(),
        "auto_cancel_after_days": auto_cancel,
    }
    if fields["rules"].strip():
        try:
            routing["rules"] = json.loads(fields["rules"])
        except json.JSONDecodeError as exc:
            errors["rules"] = f"not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})"
    config = {
        "sells_from": sells_from,
        "safety_stock": 0 if safety is None else safety,
        "currencies": currencies,
        "shop": fields["shop"].strip() or DEFAULT_SHOP,
        "refund_timing": fields["refund_timing"],
    }

    def check(name: str, parse: Callable[[dict[str, Any]], object], part: dict[str, Any]) -> None:
        try:
            parse({name: part[name]})
        except RoutingConfigError as exc:
            errors.setdefault(name, str(exc))

    for name in ("sells_from", "safety_stock", "currencies", "shop", "refund_timing"):
        check(name, lambda alone: channel_policy_from_dict(channel, alone), config)
    for name in routing:
        check(name, policy_from_dict, routing)
    return typed, config | {"routing": routing}, errors


def _posted_order(
    form: FormData,
) -> tuple[dict[str, Any], tuple[dict[str, int], dict[str, int], Destination], dict[str, str]]:
    """The preview's order: its destination and lines, what was typed, and an error per field."""
    names = ["to_country", "to_latitude", "to_longitude", "pickup"]
    for row in range(PREVIEW_ROWS):
        names += [f"sku_{row}", f"quantity_{row}", f"value_{row}"]
    typed: dict[str, Any] = {name: _one(form, name) for name in names}
    errors: dict[str, str] = {}
    country = text(typed, "to_country").upper()
    if not _COUNTRY.match(country):
        errors["to_country"] = "two letters (ISO 3166-1 alpha-2), e.g. NL"
    latitude = _coordinate(typed, "to_latitude", 90, errors)
    longitude = _coordinate(typed, "to_longitude", 180, errors)
    if (latitude is None) != (longitude is None) and not errors.keys() & {"to_latitude", "to_longitude"}:
        errors["to_latitude" if latitude is None else "to_longitude"] = "give both coordinates, or neither"
    demand: dict[str, int] = {}
    values: dict[str, int] = {}
    for row in range(PREVIEW_ROWS):
        sku, quantity, value = (text(typed, f"{name}_{row}") for name in ("sku", "quantity", "value"))
        if not (sku or quantity or value):
            continue
        if not sku or len(sku) > limits.SKU:
            errors[f"sku_{row}"] = "which SKU?" if not sku else f"at most {limits.SKU} characters"
        units = whole_number(quantity)
        if not isinstance(units, int) or not 1 <= units <= limits.MAX_LINE_QUANTITY:
            errors[f"quantity_{row}"] = f"a whole number from 1 to {limits.MAX_LINE_QUANTITY}"
            units = 0
        worth = whole_number(value)
        if worth is not None and (not isinstance(worth, int) or not 0 <= worth <= limits.MAX_AMOUNT_MINOR):
            errors[f"value_{row}"] = "cents, a whole number >= 0"
            worth = 0
        demand[sku] = demand.get(sku, 0) + units
        values[sku] = max(values.get(sku, 0), worth if isinstance(worth, int) else 0)
    if not demand and "sku_0" not in errors:
        errors["sku_0"] = "at least one line: a SKU and a quantity"
    pickup = text(typed, "pickup") or None
    destination = Destination(country, latitude, longitude, pickup_location_id=pickup)
    return typed, (demand, values, destination), errors


def _coordinate(typed: dict[str, Any], name: str, bound: float, errors: dict[str, str]) -> float | None:
    value = decimal(typed[name])
    if value is None:
        return None
    if isinstance(value, str) or not -bound <= value <= bound:
        errors[name] = f"a number from -{bound} to {bound}"
        return None
    return value
