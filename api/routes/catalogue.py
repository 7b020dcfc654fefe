"""Staff catalogue: a name, an EAN and each channel's listing id on top of a SKU.

Channels that name products their own way (Bol.com by EAN, Amazon by SellerSKU, a Bol.com offer id
for stock updates) are matched to our SKUs through these entries, so a wrong one misroutes orders:
EANs are check-digit verified and an identifier already taken by another SKU is refused (409).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Path, status
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator
from sqlalchemy.exc import IntegrityError

from api.deps import SessionDep, StaffUser
from domain.gtin import gtin_problem
from domain.order import CHANNELS
from persistence.catalogue import CatalogueConflict, product_view, save_product
from persistence.stock_outbox import note_stock_change

router = APIRouter(prefix="/catalogue", tags=["catalogue"])

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
def get_product(sku: Sku, _: StaffUser, session: SessionDep) -> Any:
    view = product_view(session, sku)
    if view is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"{sku} is not in the catalogue")
    return view


@router.put(
    "/{sku}",
    response_model=ProductPublic,
    responses={
        409: {"description": "the EAN or a listing id already belongs to another SKU"},
        422: {"description": "a bad EAN check digit, an unknown channel, a missing name"},
    },
)
def put_product(sku: Sku, body: ProductPut, _: StaffUser, session: SessionDep) -> Any:
    """Create or replace the SKU's catalogue entry."""
    for attempt in range(2):
        try:
            save_product(session, sku, name=body.name, ean=body.ean, listings=body.listings)
            if body.listings:
                # A channel that now knows the product gets its stock from the feed at once.
                note_stock_change(session, sku)
            session.commit()
            break
        except CatalogueConflict as exc:
            session.rollback()
            raise HTTPException(status.HTTP_409_CONFLICT, str(exc)) from None
        except IntegrityError:
            # Another request took the same EAN or listing id between our check and our write:
            # the second pass finds it and names the owner.
            session.rollback()
            if attempt:
                raise HTTPException(
                    status.HTTP_409_CONFLICT, f"{sku}'s catalogue entry changed meanwhile; retry"
                ) from None
    return product_view(session, sku)
