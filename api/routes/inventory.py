"""Staff inventory: locations, receipts, adjustments, transfers, safety stock, the stock overview,
the stock view per SKU (with what each channel may sell) and reorder hints."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Path, Query, Response, status
from sqlalchemy import select
from sqlalchemy.exc import DataError, IntegrityError, OperationalError
from sqlalchemy.orm import Session

from api.deps import SessionDep, StaffUser
from api.errors import unprocessable
from api.paging import PageDep
from api.schemas import (
    AdjustmentCreate,
    ChannelSentPublic,
    ForecastFigures,
    ForecastPublic,
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
from domain.channels import available_to_promise
from domain.replenishment import ReorderHint, reorder_hint
from persistence import inventory, stock_ops
from persistence.channels import all_policies
from persistence.inventory import StockRow
from persistence.models import Location, utcnow

router = APIRouter(tags=["inventory"])

LOCATION_ID = r"^[A-Za-z0-9._-]+$"
_NO_STOCK = "no location holds a stock record for {sku}"
_TOO_LARGE = "the resulting quantity is larger than the database can store (2147483647)"
_ATTEMPTS = 3
_RETRYABLE = {"40P01", "40001"}  # deadlock detected, serialization failure


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
    )


def _record(row: StockRow) -> StockRecord:
    return StockRecord(
        sku=row.sku,
        location_id=row.location_id,
        on_hand=row.on_hand,
        reserved=row.reserved,
        safety_stock=row.safety_stock,
        available=row.available,
    )


def _conflict(exc: inventory.StockError) -> HTTPException:
    return HTTPException(status.HTTP_409_CONFLICT, {"message": str(exc), **exc.numbers})


def _save_location(session: Session, location_id: str, *, create: dict[str, Any], change: dict[str, Any]) -> bool:
    """Create the location from ``create``, or set ``change`` on the existing one; True when created.
    A create that loses a race with another create of the same id becomes an update."""
    for fields in (create, change):
        fields.pop("location_id", None)
        if "country" in fields:
            fields["country"] = fields["country"].upper()
    for _attempt in range(2):
        location = session.get(Location, location_id)
        if location is None:
            session.add(Location(location_id=location_id, **create))
        else:
            for name, value in change.items():
                setattr(location, name, value)
        try:
            session.commit()
        except IntegrityError:
            session.rollback()
            continue
        return location is None
    raise HTTPException(status.HTTP_409_CONFLICT, f"location {location_id!r} is being changed concurrently; retry")


@router.post(
    "/locations",
    response_model=LocationPublic,
    status_code=status.HTTP_201_CREATED,
    responses={200: {"description": "an existing location was updated; fields left out keep their values"}},
)
def upsert_location(body: LocationCreate, _: StaffUser, session: SessionDep, response: Response) -> Any:
    created = _save_location(
        session, body.location_id, create=body.model_dump(), change=body.model_dump(exclude_unset=True)
    )
    if not created:
        response.status_code = status.HTTP_200_OK
    return _location_public(_existing(session, body.location_id))


@router.put(
    "/locations/{location_id}",
    response_model=LocationPublic,
    responses={201: {"description": "the location was created"}},
)
def replace_location(
    location_id: Annotated[str, Path(min_length=1, max_length=64, pattern=LOCATION_ID)],
    body: LocationReplace,
    _: StaffUser,
    session: SessionDep,
    response: Response,
) -> Any:
    """The whole location: fields left out of the body get their defaults."""
    if body.location_id is not None and body.location_id != location_id:
        raise unprocessable(f"location_id {body.location_id!r} in the body does not match {location_id!r} in the path")
    fields = body.model_dump(exclude={"location_id"})
    if _save_location(session, location_id, create=dict(fields), change=dict(fields)):
        response.status_code = status.HTTP_201_CREATED
    return _location_public(_existing(session, location_id))


def _existing(session: Session, location_id: str) -> Location:
    location = session.get(Location, location_id)
    if location is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"unknown location {location_id!r}")
    return location


@router.get("/locations", response_model=list[LocationPublic])
def list_locations(_: StaffUser, session: SessionDep) -> Any:
    return [_location_public(loc) for loc in session.scalars(select(Location).order_by(Location.location_id))]


@router.get("/locations/{location_id}", response_model=LocationPublic, responses={404: {"description": "unknown"}})
def get_location(location_id: str, _: StaffUser, session: SessionDep) -> Any:
    return _location_public(_existing(session, location_id))


@contextmanager
def _stock_change(session: Session) -> Iterator[None]:
    """Commit the stock change made inside, or roll it back and answer why: 422 for a reference that
    does not hold, 409 with the numbers when stock cannot allow it. Other errors pass through."""
    try:
        yield
        session.commit()
    except (inventory.UnknownLocation, stock_ops.SameLocation, inventory.TooMuchStock) as exc:
        session.rollback()
        raise unprocessable(str(exc)) from None
    except (inventory.BelowReserved, inventory.InsufficientStock) as exc:
        session.rollback()
        raise _conflict(exc) from None
    except DataError:
        session.rollback()
        raise unprocessable(_TOO_LARGE) from None


def _change_on_hand(session: Session, location_id: str, sku: str, delta: int, *, kind: str, reason: str) -> StockRow:
    with _stock_change(session):
        row = inventory.adjust_on_hand(session, location_id, sku, delta, kind=kind, reason=reason)
    return row


@router.post(
    "/inventory/receipts",
    response_model=StockRecord,
    status_code=status.HTTP_201_CREATED,
    responses={422: {"description": "unknown location or a quantity that is not a whole number > 0"}},
)
def receive_stock(body: ReceiptCreate, _: StaffUser, session: SessionDep) -> Any:
    reason = f"{body.reason} (ref {body.reference})" if body.reference else body.reason
    row = _change_on_hand(session, body.location_id, body.sku, body.quantity, kind=body.kind, reason=reason)
    return _record(row)


@router.post(
    "/inventory/adjustments",
    response_model=StockRecord,
    status_code=status.HTTP_201_CREATED,
    responses={409: {"description": "would take on-hand below what is reserved"}},
)
def adjust_stock(body: AdjustmentCreate, _: StaffUser, session: SessionDep) -> Any:
    kind = "receipt" if body.delta > 0 else "adjustment"
    return _record(_change_on_hand(session, body.location_id, body.sku, body.delta, kind=kind, reason=body.reason))


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
def transfer_stock(body: TransferCreate, _: StaffUser, session: SessionDep) -> Any:
    for attempt in range(1, _ATTEMPTS + 1):
        try:
            with _stock_change(session):
                moved = stock_ops.transfer(
                    session, body.from_location_id, body.to_location_id, body.sku, body.quantity, reason=body.reason
                )
        except OperationalError as exc:
            # PostgreSQL broke a lock cycle with a reservation touching the same two locations in the
            # other order: nothing was written, so try again with fresh stock.
            session.rollback()
            if getattr(exc.orig, "sqlstate", None) not in _RETRYABLE:
                raise
            if attempt == _ATTEMPTS:
                raise HTTPException(
                    status.HTTP_503_SERVICE_UNAVAILABLE,
                    "the transfer kept colliding with concurrent stock changes; retry",
                    headers={"Retry-After": "1"},
                ) from None
            continue
        return TransferPublic(
            sku=body.sku, quantity=body.quantity, source=_record(moved.source), destination=_record(moved.destination)
        )
    raise AssertionError("unreachable")


@router.get("/inventory", response_model=StockOverview)
def stock_overview(
    _: StaffUser,
    session: SessionDep,
    page: PageDep,
    location_id: str | None = None,
    sku: Annotated[str | None, Query(max_length=100, description="SKU prefix (case-sensitive)")] = None,
    below_safety: Annotated[
        bool | None, Query(description="true: only records whose unreserved stock is below their safety stock")
    ] = None,
) -> Any:
    if location_id is not None and not stock_ops.location_exists(session, location_id):
        raise unprocessable(f"unknown location {location_id!r}")
    rows, count = stock_ops.overview(
        session,
        location_id=location_id,
        sku_prefix=sku,
        below_safety=below_safety,
        limit=page.limit,
        offset=page.offset,
    )
    return StockOverview(data=[_record(row) for row in rows], count=count)


@router.put(
    "/inventory/{sku}/locations/{location_id}",
    response_model=SafetyStockPublic,
    responses={404: {"description": "unknown location, or it holds no stock record for the SKU"}},
)
def set_safety_stock(sku: str, location_id: str, body: SafetyStockUpdate, _: StaffUser, session: SessionDep) -> Any:
    try:
        row, previous = stock_ops.set_safety_stock(session, location_id, sku, body.safety_stock)
        session.commit()
    except (inventory.UnknownLocation, stock_ops.NoStockRecord) as exc:
        session.rollback()
        raise HTTPException(status.HTTP_404_NOT_FOUND, str(exc)) from None
    unreserved = row.on_hand - row.reserved
    warning = None
    if row.safety_stock > unreserved:
        warning = (
            f"safety stock {row.safety_stock} is more than the {unreserved} unreserved units "
            f"({row.on_hand} on hand - {row.reserved} reserved): available at {location_id} is 0 "
            "(available to promise never goes below 0)"
        )
    return SafetyStockPublic(**_record(row).model_dump(), previous_safety_stock=previous, warning=warning)


@router.get(
    "/inventory/{sku}",
    response_model=InventoryPublic,
    responses={404: {"description": "no location holds a stock record for the SKU"}},
)
def stock_of(sku: str, _: StaffUser, session: SessionDep) -> Any:
    rows = inventory.stock_for_sku(session, sku)
    if not rows:
        raise HTTPException(status.HTTP_404_NOT_FOUND, _NO_STOCK.format(sku=sku))
    channels = available_to_promise({r.location_id: r.available for r in rows}, all_policies(session))
    sent = stock_ops.last_sent(session, sku)
    return InventoryPublic(
        sku=sku,
        available=sum(row.available for row in rows),
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
        channels=channels,
        last_sent={channel: ChannelSentPublic(quantity=s.quantity, sent_at=s.sent_at) for channel, s in sent.items()},
    )


def _figures(hint: ReorderHint, *, on_hand: int, reserved: int, safety_stock: int, available: int) -> dict[str, Any]:
    return {
        "on_hand": on_hand,
        "reserved": reserved,
        "safety_stock": safety_stock,
        "available": available,
        "shipped_in_window": hint.shipped_in_window,
        "velocity_per_day": round(float(hint.velocity_per_day), 4),
        "days_of_cover": None if hint.days_of_cover is None else round(float(hint.days_of_cover), 1),
        "reorder_point": hint.reorder_point,
        "reorder_now": hint.reorder_now,
        "suggested_quantity": hint.suggested_quantity,
    }


@router.get(
    "/inventory/{sku}/forecast",
    response_model=ForecastPublic,
    responses={404: {"description": "no location holds a stock record for the SKU"}},
)
def stock_forecast(
    sku: str,
    _: StaffUser,
    session: SessionDep,
    window_days: Annotated[int, Query(ge=1, le=365, description="Days of shipments to measure")] = 28,
    lead_time_days: Annotated[int, Query(ge=0, le=365, description="Days until a reorder arrives")] = 7,
    cover_days: Annotated[int, Query(ge=1, le=365, description="Days a reorder should last after it arrives")] = 28,
) -> Any:
    rows = inventory.stock_for_sku(session, sku)
    if not rows:
        raise HTTPException(status.HTTP_404_NOT_FOUND, _NO_STOCK.format(sku=sku))
    since = utcnow() - timedelta(days=window_days)
    shipped = stock_ops.shipped_since(session, sku, since)
    locations = []
    for row in rows:
        hint = reorder_hint(
            shipped=shipped.get(row.location_id, 0),
            window_days=window_days,
            free_stock=row.on_hand - row.reserved,
            safety_stock=row.safety_stock,
            lead_time_days=lead_time_days,
            cover_days=cover_days,
        )
        figures = _figures(
            hint, on_hand=row.on_hand, reserved=row.reserved, safety_stock=row.safety_stock, available=row.available
        )
        locations.append(LocationForecast(location_id=row.location_id, **figures))
    totals = {
        "on_hand": sum(r.on_hand for r in rows),
        "reserved": sum(r.reserved for r in rows),
        "safety_stock": sum(r.safety_stock for r in rows),
        "available": sum(r.available for r in rows),
    }
    total = reorder_hint(
        shipped=sum(shipped.values()),
        window_days=window_days,
        free_stock=totals["on_hand"] - totals["reserved"],
        safety_stock=totals["safety_stock"],
        lead_time_days=lead_time_days,
        cover_days=cover_days,
        available=totals["available"],
    )
    return ForecastPublic(
        sku=sku,
        window_days=window_days,
        lead_time_days=lead_time_days,
        cover_days=cover_days,
        since=since,
        locations=locations,
        total=ForecastFigures(**_figures(total, **totals)),
    )
