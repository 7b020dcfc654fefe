"""Staff catalogue: a name, an EAN and each channel's listing id on top of a SKU (services.catalogue).

A wrong entry misroutes orders, so EANs are check-digit verified here, and an identifier already
taken by another SKU is refused (409).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

from api.deps import CatalogueDep, require
from domain.gtin import gtin_problem
from domain.order import CHANNELS
from domain.staff import Permission, StaffMember

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
    listings: dict[str, str]


@router.get("/{sku}", response_model=ProductPublic, responses={404: {"description": "not in the catalogue"}})
def get_product(sku: Sku, _: Reader, catalogue: CatalogueDep) -> Any:
    return catalogue.entry(sku)


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
    return catalogue.put(sku, name=body.name, ean=body.ean, listings=body.listings)
