"""The catalogue: a searchable, paged list of SKUs (name, EAN, unit cost, each channel's listing id), and a
form per entry validated by the JSON API's own model (api.routes.catalogue.ProductPut: check digit,
known channels) and saved through services.catalogue.put."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Query, Request, status
from fastapi.responses import Response
from pydantic import ValidationError

from api.deps import CatalogueDep, SettingsDep
from api.paging import PageNumber
from api.routes.catalogue import ProductPut
from api.screens.pages import PAGE_SIZE, FlashQuery, check_form, not_found, read_flash, redirect
from api.screens.pages import page as render
from api.screens.settings.forms import FORM_LEVEL, Admin, field_errors, text
from config import Settings
from domain import limits
from domain.money import Money, MoneyError
from domain.order import CHANNELS
from services.catalogue import IdentifierTaken
from services.errors import NotFound

router = APIRouter()


@router.get("/catalogue")
def list_catalogue(
    request: Request,
    user: Admin,
    catalogue: CatalogueDep,
    settings: SettingsDep,
    q: Annotated[str, Query(max_length=100)] = "",
    page: PageNumber = 1,
    flash_: FlashQuery = None,
) -> Response:
    query = q.strip()
    entries, count = catalogue.page(query=query or None, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE)
    return render(
        request,
        "settings/catalogue.html",
        user,
        entries=entries,
        count=count,
        q=query,
        page=page,
        pages=max(1, -(-count // PAGE_SIZE)),
        query=urlencode({"q": query}) if query else "",
        channels=CHANNELS,
        flash=read_flash(settings, flash_),
    )


@router.get("/catalogue/new")
def new_entry(request: Request, user: Admin) -> Response:
    blank = {"sku": "", "name": "", "ean": "", "unit_cost": "", "unit_cost_currency": "EUR", "vat_category": "standard"}
    return _form(request, user, blank, {}, new=True)


@router.post("/catalogue/new")
async def create_entry(request: Request, user: Admin, catalogue: CatalogueDep, settings: SettingsDep) -> Response:
    form = {key: str(value) for key, value in (await request.form()).items()}
    check_form(user, form.get("form_token"))
    typed = _typed_from(form) | {"sku": text(form, "sku")}
    sku = typed["sku"]
    problem = _sku_problem(sku)
    if problem is None:
        try:
            catalogue.entry(sku)
            problem = f"{sku} is in the catalogue already: open it from the list to change it"
        except NotFound:
            pass
    if problem is not None:
        errors = {"sku": problem}
        try:  # say everything wrong at once
            _valid(typed)
        except ValidationError as exc:
            errors |= field_errors(exc)
        except CostProblem as exc:
            errors[exc.field] = str(exc)
        return _form(request, user, typed, errors, new=True, code=status.HTTP_422_UNPROCESSABLE_CONTENT)
    return _save(request, user, catalogue, settings, sku, typed, new=True)


@router.get("/catalogue/{sku}")
def edit_entry(
    sku: str,
    request: Request,
    user: Admin,
    catalogue: CatalogueDep,
    settings: SettingsDep,
    flash_: FlashQuery = None,
) -> Response:
    try:
        entry = catalogue.entry(sku)
    except NotFound:
        return not_found(request, user, f"catalogue entry {sku}")
    listings = entry["listings"] if isinstance(entry["listings"], dict) else {}
    typed = {"sku": sku, "name": entry["name"], "ean": entry["ean"] or "", "vat_category": entry["vat_category"]}
    cost = entry.get("unit_cost")
    typed |= {
        "unit_cost": cost.format().rsplit(" ", 1)[0] if isinstance(cost, Money) else "",
        "unit_cost_currency": cost.currency if isinstance(cost, Money) else "EUR",
    }
    typed |= {f"listings.{channel}": listings.get(channel, "") for channel in CHANNELS}
    return _form(request, user, typed, {}, new=False, flash=read_flash(settings, flash_))


@router.post("/catalogue/{sku}")
async def save_entry(
    sku: str, request: Request, user: Admin, catalogue: CatalogueDep, settings: SettingsDep
) -> Response:
    form = {key: str(value) for key, value in (await request.form()).items()}
    check_form(user, form.get("form_token"))
    try:
        catalogue.entry(sku)
    except NotFound:
        return not_found(request, user, f"catalogue entry {sku}")
    return _save(request, user, catalogue, settings, sku, _typed_from(form) | {"sku": sku}, new=False)


def _typed_from(form: dict[str, str]) -> dict[str, Any]:
    typed: dict[str, Any] = {
        "name": form.get("name", ""),
        "ean": form.get("ean", ""),
        "unit_cost": form.get("unit_cost", ""),
        "unit_cost_currency": form.get("unit_cost_currency", ""),
        "vat_category": form.get("vat_category", "standard"),
    }
    return typed | {f"listings.{channel}": form.get(f"listings.{channel}", "") for channel in CHANNELS}


def _valid(typed: dict[str, Any]) -> ProductPut:
    listings = {channel: typed[f"listings.{channel}"] for channel in CHANNELS if typed[f"listings.{channel}"].strip()}
    body = {"name": typed["name"].strip(), "ean": typed["ean"], "listings": listings}
    body["vat_category"] = typed.get("vat_category") or "standard"
    cost = _cost(typed)
    if cost is not None:
        body["unit_cost"] = {"amount_minor": cost.amount_minor, "currency": cost.currency}
    return ProductPut.model_validate(body)


class CostProblem(ValueError):
    """The typed unit cost is not an amount in the typed currency."""

    def __init__(self, message: str, field: str) -> None:
        super().__init__(message)
        self.field = field


def _cost(typed: dict[str, Any]) -> Money | None:
    """The typed unit cost ("12.50" and "EUR"), None when blank; CostProblem when not an amount."""
    amount, currency = str(typed.get("unit_cost", "")).strip(), str(typed.get("unit_cost_currency", "")).strip()
    if not amount:
        return None
    try:
        cost = Money.parse(amount, currency.upper())
    except MoneyError as exc:
        field = "unit_cost_currency" if "currency" in str(exc) else "unit_cost"
        raise CostProblem(str(exc), field) from None
    if cost.amount_minor < 0:
        raise CostProblem("a unit cost cannot be negative", "unit_cost")
    return cost


def _save(
    request: Request,
    user: Admin,
    catalogue: CatalogueDep,
    settings: Settings,
    sku: str,
    typed: dict[str, Any],
    *,
    new: bool,
) -> Response:
    unprocessable = status.HTTP_422_UNPROCESSABLE_CONTENT
    try:
        body = _valid(typed)
    except ValidationError as exc:
        return _form(request, user, typed, field_errors(exc), new=new, code=unprocessable)
    except CostProblem as exc:
        return _form(request, user, typed, {exc.field: str(exc)}, new=new, code=unprocessable)
    try:
        catalogue.put(
            sku,
            name=body.name,
            ean=body.ean,
            listings=body.listings,
            unit_cost=body.cost(),
            vat_category=body.vat_category,
        )
    except IdentifierTaken as exc:
        errors = {exc.field or FORM_LEVEL: exc.message}
        return _form(request, user, typed, errors, new=new, code=status.HTTP_409_CONFLICT)
    message = f"{sku} {'added to' if new else 'saved in'} the catalogue"
    return redirect(f"/dashboard/admin/catalogue/{quote(sku, safe='')}", settings, True, message)


def _sku_problem(sku: str) -> str | None:
    if not sku:
        return "required"
    if len(sku) > limits.SKU:
        return f"at most {limits.SKU} characters"
    if "/" in sku:
        return "a SKU with / cannot be reached by its address (the API's /catalogue/{sku} neither)"
    return None


def _form(
    request: Request,
    user: Admin,
    values: dict[str, Any],
    errors: dict[str, str],
    *,
    new: bool,
    code: int = 200,
    **context: Any,
) -> Response:
    values = {f"listings.{channel}": "" for channel in CHANNELS} | values
    return render(
        request,
        "settings/product.html",
        user,
        code=code,
        values=values,
        errors=errors,
        new=new,
        channels=CHANNELS,
        **context,
    )
