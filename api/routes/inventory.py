"""Staff inventory: locations, receipts, adjustments, transfers, safety stock, the stock overview,
the stock view per SKU (with what each channel may sell) and reorder hints (services.locations,
services.stock)."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Response, status
from pydantic import BaseModel, Field

from api.deps import LocationsDep, StockDep, at_location, require
from api.errors import unprocessable
from api.paging import PageDep
from api.schemas import (
    AdjustmentCreate,
    ChannelSentPublic,
    ForecastFigures,
    ForecastPublic,
    HeldRelease,
    InventoryPublic,
    LocationCreate,
    LocationForecast,
    LocationPublic,
    LocationReplace,
    ReceiptCreate,
    SafetyStockPublic,
    SafetyStockUpdate,
    StockAtLocation,
    StockOverview,
    StockRecord,
    TransferCreate,
    TransferPublic,
)
from domain.staff import Permission, StaffMember
from persistence.guarded_writes.inventory import StockRow
from persistence.models import Location

router = APIRouter(tags=["inventory"])

LOCATION_ID = r"^[A-Za-z0-9._-]+$"


class LedgerEntry(BaseModel):
    location_id: str
    kind: str = Field(
        description="receipt, return, adjustment, transfer, safety_stock, reservation, shipment, refurbish "
        "(returned units held), refurbished (released to sellable), write_off, to_supplier, ..."
    )
    on_hand_delta: int
    reserved_delta: int
    held_delta: int = Field(default=0, description="Units into (+) or out of (-) held stock")
    order_id: str | None
    reason: str
    actor: str | None = Field(description="The staff member who made the move; null for an order's moves")
    at: datetime


class LedgerPublic(BaseModel):
    sku: str
    data: list[LedgerEntry]
    count: int


Reader = Annotated[StaffMember, Depends(require(Permission.STOCK_VIEW))]
Counter = Annotated[StaffMember, Depends(require(Permission.STOCK_COUNT))]
"""Receipts and counts: a warehouse user at their own locations only (`at_location`)."""
Admin = Annotated[StaffMember, Depends(require(Permission.SETTINGS))]


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
        group=location.group,
        ship_from_store=location.ship_from_store,
        daily_order_capacity=location.daily_order_capacity,
        cost_base_minor=location.cost_base_minor,
        cost_per_km_minor=location.cost_per_km_minor,
        address_line1=location.address_line1,
        address_line2=location.address_line2,
        city=location.city,
        phone=location.phone,
        email=location.email,
    )


def _record(row: StockRow) -> StockRecord:
    return StockRecord(
        sku=row.sku,
        location_id=row.location_id,
        on_hand=row.on_hand,
        reserved=row.reserved,
        safety_stock=row.safety_stock,
        available=row.available,
        held=row.held,
    )


@router.post(
    "/locations",
    response_model=LocationPublic,
    status_code=status.HTTP_201_CREATED,
    responses={200: {"description": "an existing location was updated; fields left out keep their values"}},
)
def upsert_location(body: LocationCreate, _: Admin, locations: LocationsDep, response: Response) -> Any:
    location, created = locations.save(
        body.location_id, create=body.model_dump(), change=body.model_dump(exclude_unset=True)
    )
    if not created:
        response.status_code = status.HTTP_200_OK
    return _location_public(location)


@router.put(
    "/locations/{location_id}",
    response_model=LocationPublic,
    responses={201: {"description": "the location was created"}},
)
def replace_location(
    location_id: Annotated[str, Path(min_length=1, max_length=64, pattern=LOCATION_ID)],
    body: LocationReplace,
    _: Admin,
    locations: LocationsDep,
    response: Response,
) -> Any:
    """The whole location: fields left out of the body get their defaults."""
    if body.location_id is not None and body.location_id != location_id:
        raise unprocessable(f"location_id {body.location_id!r} in the body does not match {location_id!r} in the path")
    fields = body.model_dump(exclude={"location_id"})
    location, created = locations.save(location_id, create=fields, change=fields)
    if created:
        response.status_code = status.HTTP_201_CREATED
    return _location_public(location)


@router.get("/locations", response_model=list[LocationPublic])
def list_locations(_: Reader, locations: LocationsDep) -> Any:
    return [_location_public(location) for location in locations.all()]


@router.get("/locations/{location_id}", response_model=LocationPublic, responses={404: {"description": "unknown"}})
def get_location(location_id: str, _: Reader, locations: LocationsDep) -> Any:
    return _location_public(locations.get(location_id))


@router.post(
    "/inventory/receipts",
    response_model=StockRecord,
    status_code=status.HTTP_201_CREATED,
    responses={422: {"description": "unknown location or a quantity that is not a whole number > 0"}},
)
def receive_stock(body: ReceiptCreate, member: Counter, stock: StockDep) -> Any:
    at_location(member, Permission.STOCK_COUNT, body.location_id)
    row = stock.receive(
        body.location_id,
        body.sku,
        body.quantity,
        kind=body.kind,
        reason=body.reason,
        reference=body.reference,
        by=member.label,
    )
    return _record(row)


@router.post(
    "/inventory/adjustments",
    response_model=StockRecord,
    status_code=status.HTTP_201_CREATED,
    responses={409: {"description": "would take on-hand below what is reserved"}},
)
def adjust_stock(body: AdjustmentCreate, member: Counter, stock: StockDep) -> Any:
    at_location(member, Permission.STOCK_COUNT, body.location_id)
    return _record(stock.adjust(body.location_id, body.sku, body.delta, reason=body.reason, by=member.label))


@router.post(
    "/inventory/held/release",
    response_model=StockRecord,
    status_code=status.HTTP_201_CREATED,
    responses={
        409: {"description": "fewer units held there than asked (`refusal`: not_enough_held, with `held`)"},
        422: {"description": "unknown location, a bad quantity, or a scrap without a reason"},
    },
)
def release_held_stock(body: HeldRelease, member: Counter, stock: StockDep) -> Any:
    """Returned units held for refurbishing, released by a person at that location (or an admin):
    `sellable` puts them on hand (ledger kind refurbished; the channels' stock feed follows),
    `scrap` writes them off with the reason (counted in the defects per SKU)."""
    at_location(member, Permission.STOCK_COUNT, body.location_id)
    row = stock.release_held(body.location_id, body.sku, body.quantity, to=body.to, reason=body.reason, by=member.label)
    return _record(row)


@router.post(
    "/inventory/transfers",
    response_model=TransferPublic,
    status_code=status.HTTP_201_CREATED,
    responses={
        409: {"description": "the source cannot spare that many (reserved and safety stock never move)"},
        503: {"description": "kept colliding with concurrent stock changes; retry"},
        422: {"description": "unknown location, the same location twice, or a bad quantity"},
    },
)
def transfer_stock(body: TransferCreate, member: Admin, stock: StockDep) -> Any:
    moved = stock.transfer(
        body.from_location_id, body.to_location_id, body.sku, body.quantity, reason=body.reason, by=member.label
    )
    return TransferPublic(
        sku=body.sku, quantity=body.quantity, source=_record(moved.source), destination=_record(moved.destination)
    )


@router.get("/inventory", response_model=StockOverview)
def stock_overview(
    _: Reader,
    stock: StockDep,
    page: PageDep,
    location_id: str | None = None,
    sku: Annotated[str | None, Query(max_length=100, description="SKU prefix (case-sensitive)")] = None,
    below_safety: Annotated[
        bool | None, Query(description="true: only records whose unreserved stock is below their safety stock")
    ] = None,
) -> Any:
    rows, count = stock.overview(
        location_id=location_id, sku_prefix=sku, below_safety=below_safety, limit=page.limit, offset=page.offset
    )
    return StockOverview(data=[_record(row) for row in rows], count=count)


@router.put(
    "/inventory/{sku}/locations/{location_id}",
    response_model=SafetyStockPublic,
    responses={404: {"description": "unknown location, or it holds no stock record for the SKU"}},
)
def set_safety_stock(sku: str, location_id: str, body: SafetyStockUpdate, member: Admin, stock: StockDep) -> Any:
    change = stock.set_safety_stock(location_id, sku, body.safety_stock, by=member.label)
    return SafetyStockPublic(
        **_record(change.row).model_dump(), previous_safety_stock=change.previous, warning=change.warning
    )


@router.get(
    "/inventory/{sku}",
    response_model=InventoryPublic,
    responses={404: {"description": "no location holds a stock record for the SKU"}},
)
def stock_of(sku: str, _: Reader, stock: StockDep) -> Any:
    view = stock.view(sku)
    return InventoryPublic(
        sku=sku,
        available=view.available,
        on_hand=view.on_hand,
        reserved=view.reserved,
        held=view.held,
        locations=[
            StockAtLocation(
                location_id=r.location_id,
                on_hand=r.on_hand,
                reserved=r.reserved,
                safety_stock=r.safety_stock,
                available=r.available,
                held=r.held,
            )
            for r in view.rows
        ],
        channels=view.channels,
        last_sent={
            channel: ChannelSentPublic(quantity=sent.quantity, sent_at=sent.sent_at)
            for channel, sent in view.last_sent.items()
        },
    )


@router.get("/inventory/{sku}/ledger", response_model=LedgerPublic)
def stock_ledger(sku: str, _: Reader, stock: StockDep, page: PageDep, location_id: str | None = None) -> Any:
    """The SKU's stock moves, newest first: receipts, counts, transfers, safety stock changes
    (each with the staff member who made it, `actor`), reservations and shipments (an order's)."""
    rows, count = stock.ledger(sku, location_id=location_id, limit=page.limit, offset=page.offset)
    data = [
        LedgerEntry(
            location_id=row.location_id,
            kind=row.kind,
            on_hand_delta=row.on_hand_delta,
            reserved_delta=row.reserved_delta,
            held_delta=row.held_delta,
            order_id=row.order_id,
            reason=row.reason,
            actor=row.actor or None,
            at=row.created_at,
        )
        for row in rows
    ]
    return LedgerPublic(sku=sku, data=data, count=count)


@router.get(
    "/inventory/{sku}/forecast",
    response_model=ForecastPublic,
    responses={404: {"description": "no location holds a stock record for the SKU"}},
)
def stock_forecast(
    sku: str,
    _: Reader,
    stock: StockDep,
    window_days: Annotated[int, Query(ge=1, le=365, description="Days of shipments to measure")] = 28,
    lead_time_days: Annotated[int, Query(ge=0, le=365, description="Days until a reorder arrives")] = 7,
    cover_days: Annotated[int, Query(ge=1, le=365, description="Days a reorder should last after it arrives")] = 28,
) -> Any:
    forecast = stock.forecast(sku, window_days=window_days, lead_time_days=lead_time_days, cover_days=cover_days)
    return ForecastPublic(
        sku=sku,
        window_days=window_days,
        lead_time_days=lead_time_days,
        cover_days=cover_days,
        since=forecast.since,
        locations=[
            LocationForecast(location_id=location_id, **asdict(figures))
            for location_id, figures in forecast.locations.items()
        ],
        total=ForecastFigures(**asdict(forecast.total)),
    )
