"""Staff catalogue: a name, an EAN, each channel's listing id and a unit cost on top of a SKU (services.catalogue).

A wrong entry misroutes orders, so EANs are check-digit verified here, and an identifier already
taken by another SKU is refused (409).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

from api.deps import CatalogueDep, require
from api.schemas import Money, MoneyBody
from domain import money
from domain.gtin import gtin_problem
from domain.order import CHANNELS
from domain.staff import Permission, StaffMember
from persistence.master_data.catalogue import KEEP_COST

router = APIRouter(prefix="/catalogue", tags=["catalogue"])

Reader = Annotated[StaffMember, Depends(require(Permission.STOCK_VIEW))]
Writer = Annotated[StaffMember, Depends(require(Permission.SETTINGS))]

Sku = Annotated[str, Path(min_length=1, max_length=100, description="Our SKU")]
ListingId = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]


class ProductPut(BaseModel):
    """The whole entry: listings left out are removed, a missing EAN clears it."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=300)
    ean: str | None = Field(default=None, description="GTIN-8, -12 (UPC-A), -13 (EAN) or -14; check digit verified")
    listings: dict[str, ListingId] = Field(
        default_factory=dict, description='How each channel names this SKU, e.g. {"bol": "<offer id>"}'
    )
    unit_cost: MoneyBody | None = Field(
        default=None,
        description='What one unit cost us, e.g. {"amount_minor": 1250, "currency": "EUR"}: the stock value '
        "report values the SKU's stock by it; left out, the SKU is reported apart as having no cost",
    )
    vat_category: Literal["standard", "reduced", "zero"] = Field(
        default="standard",
        description="The VAT rate its invoices charge (NL: 21 %, 9 %, 0 %); left out, kept as it was "
        "(standard for a new SKU)",
    )

    @field_validator("unit_cost")
    @classmethod
    def _a_cost(cls, cost: MoneyBody | None) -> MoneyBody | None:
        if cost is None:
            return None
        if cost.amount_minor < 0:
            raise ValueError("a unit cost cannot be negative")
        money.currency_exponent(cost.currency)  # MoneyError (a ValueError): not a currency we know
        return cost

    def cost(self) -> money.Money | None:
        return None if self.unit_cost is None else money.Money(self.unit_cost.amount_minor, self.unit_cost.currency)

    @field_validator("ean")
    @classmethod
    def _valid_gtin(cls, ean: str | None) -> str | None:
        ean = (ean or "").strip()
        if not ean:
            return None
        problem = gtin_problem(ean)
        if problem:
            raise ValueError(problem)
        return ean

    @field_validator("listings")
    @classmethod
    def _known_channels(cls, listings: dict[str, str]) -> dict[str, str]:
        unknown = sorted(set(listings) - set(CHANNELS))
        if unknown:
            raise ValueError(f"unknown channel {', '.join(unknown)}; one of {', '.join(CHANNELS)}")
        return listings


class ProductPublic(BaseModel):
    sku: str
    name: str
    ean: str | None
    vat_category: str = "standard"
    listings: dict[str, str]
    unit_cost: Money | None = None
    """None: no cost known (the stock value report lists it apart)."""


def _public(entry: dict[str, object]) -> ProductPublic:
    cost = entry.get("unit_cost")
    return ProductPublic(
        sku=str(entry["sku"]),
        name=str(entry["name"]),
        ean=entry["ean"] if isinstance(entry["ean"], str) else None,
        vat_category=str(entry.get("vat_category") or "standard"),
        listings=entry["listings"] if isinstance(entry["listings"], dict) else {},
        unit_cost=Money(amount_minor=cost.amount_minor, currency=cost.currency)
        if isinstance(cost, money.Money)
        else None,
    )


@router.get("/{sku}", response_model=ProductPublic, responses={404: {"description": "not in the catalogue"}})
def get_product(sku: Sku, _: Reader, catalogue: CatalogueDep) -> Any:
    return _public(catalogue.entry(sku))


@router.put(
    "/{sku}",
    response_model=ProductPublic,
    responses={
        409: {"description": "the EAN or a listing id already belongs to another SKU"},
        422: {"description": "a bad EAN check digit, an unknown channel, a missing name"},
    },
)
def put_product(sku: Sku, body: ProductPut, _: Writer, catalogue: CatalogueDep) -> Any:
    """Create or replace the SKU's catalogue entry."""
    cost = body.cost() if "unit_cost" in body.model_fields_set else KEEP_COST  # not named: kept as it was
    category = body.vat_category if "vat_category" in body.model_fields_set else None  # the same
    entry = catalogue.put(
        sku, name=body.name, ean=body.ean, listings=body.listings, unit_cost=cost, vat_category=category
    )
    return _public(entry)
