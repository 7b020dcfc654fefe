"""Staff inventory: locations, stock adjustments and the stock view per SKU."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, Response, status
from sqlalchemy import select

from api.deps import SessionDep, StaffUser
from api.errors import unprocessable
from api.schemas import (
    AdjustmentCreate,
    InventoryPublic,
    LocationCreate,
    LocationPublic,
    StockAtLocation,
)
from domain.order import CHANNELS
from persistence import inventory
from persistence.models import Location

router = APIRouter(tags=["inventory"])


def _location_public(location: Location) -> LocationPublic:
    return LocationPublic(
        location_id=location.location_id,
        name=location.name,
        kind=location.kind,
        country=location.country,
        postcode=location.postcode,
        latitude=location.latitude,
        longitude=location.longitude,
        priority=location.priority,
        active=location.active,
    )


@router.post(
    "/locations",
    response_model=LocationPublic,
    status_code=status.HTTP_201_CREATED,
    responses={200: {"description": "an existing location was updated"}},
)
def upsert_location(body: LocationCreate, _: StaffUser, session: SessionDep, response: Response) -> Any:
    location = session.get(Location, body.location_id)
    fields = body.model_dump()
    fields["country"] = fields["country"].upper()
    if location is None:
        location = Location(**fields)
        session.add(location)
    else:
        for name, value in fields.items():
            setattr(location, name, value)
        response.status_code = status.HTTP_200_OK
    session.commit()
    return _location_public(location)


@router.get("/locations", response_model=list[LocationPublic])
def list_locations(_: StaffUser, session: SessionDep) -> Any:
    return [_location_public(loc) for loc in session.scalars(select(Location).order_by(Location.location_id))]


@router.post(
    "/inventory/adjustments",
    response_model=StockAtLocation,
    status_code=status.HTTP_201_CREATED,
    responses={409: {"description": "would take on-hand below what is reserved"}},
)
def adjust_stock(body: AdjustmentCreate, _: StaffUser, session: SessionDep) -> Any:
    try:
        row = inventory.adjust_on_hand(
            session,
            body.location_id,
            body.sku,
            body.delta,
            kind="receipt" if body.delta > 0 else "adjustment",
            reason=body.reason,
        )
    except inventory.UnknownLocation as exc:
        raise unprocessable(str(exc)) from None
    except inventory.BelowReserved as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, {"message": str(exc), **exc.numbers}) from None
    session.commit()
    return StockAtLocation(
        location_id=row.location_id,
        on_hand=row.on_hand,
        reserved=row.reserved,
        safety_stock=row.safety_stock,
        available=row.available,
    )


@router.get("/inventory/{sku}", response_model=InventoryPublic)
def stock_of(sku: str, _: StaffUser, session: SessionDep) -> Any:
    rows = inventory.stock_for_sku(session, sku)
    if not rows:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no location holds a stock record for {sku}")
    available = sum(row.available for row in rows)
    return InventoryPublic(
        sku=sku,
        available=available,
        on_hand=sum(row.on_hand for row in rows),
        reserved=sum(row.reserved for row in rows),
        locations=[
            StockAtLocation(
                location_id=r.location_id,
                on_hand=r.on_hand,
                reserved=r.reserved,
                safety_stock=r.safety_stock,
                available=r.available,
            )
            for r in rows
        ],
        # Every channel sells from every location until per-channel sourcing arrives.
        channels=dict.fromkeys(CHANNELS, available),
    )
