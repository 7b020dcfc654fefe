"""The numbers: orders by status, processing time (intake to shipped), delivery time per carrier
(shipped to delivered), fulfilment cost, returns and defects per SKU (services.reports)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel

from api.deps import ReportsDep, require
from api.schemas import Money, UtcTime
from domain.staff import Permission, StaffMember

router = APIRouter(prefix="/kpis", tags=["kpis"])


class ProcessingTime(BaseModel):
    count: int
    average_seconds: float | None
    p50_seconds: float | None
    p90_seconds: float | None
    max_seconds: float | None


class DeliveryTime(ProcessingTime):
    carrier: str


class ReturnsKpi(BaseModel):
    count: int
    """Returns accepted in the window, whenever their order was received."""
    units: int
    refunded: list[Money]
    """What those returns refunded, per currency (zero where a marketplace refunds on its side)."""


class DefectsKpi(BaseModel):
    sku: str
    units: int
    """Units written off in the window: scrapped on return, or after refurbishing failed."""
    reasons: dict[str, int]
    """Units per write-off reason, most first (the top three)."""


class KpisPublic(BaseModel):
    since: datetime
    until: datetime
    channel: str | None
    orders: int
    orders_by_status: dict[str, int]
    processing_time: ProcessingTime
    """From intake to the moment the last parcel shipped, for orders received in the window."""
    shipments: int
    fulfilment_cost: list[Money]
    """Expected cost of the parcels (locations' cost profiles), per order currency."""
    returns: ReturnsKpi
    delivery_time: list[DeliveryTime] = []
    """Per carrier, from the handover to the delivery its carrier (or a person) reported, for the
    parcels of orders received in the window that were delivered."""
    defects: list[DefectsKpi] = []
    """The SKUs most written off in the window (top ten), whenever their order was received; with a
    channel, only the write-offs of that channel's returns."""


@router.get("", response_model=KpisPublic)
def kpis(
    _: Annotated[StaffMember, Depends(require(Permission.KPIS))],
    reports: ReportsDep,
    since: UtcTime | None = None,
    until: UtcTime | None = None,
    channel: Annotated[str | None, Query(max_length=20)] = None,
) -> Any:
    """Orders received in [since, until) (default: the last 7 days)."""
    report = reports.kpis(since, until, channel)
    rows = report.rows
    return KpisPublic(
        since=report.since,
        until=report.until,
        channel=channel,
        orders=report.orders,
        orders_by_status=rows.orders_by_status,
        processing_time=ProcessingTime(**report.processing.__dict__),
        shipments=rows.shipments,
        fulfilment_cost=[
            Money(amount_minor=v, currency=c) for c, v in sorted(rows.fulfilment_cost_by_currency.items())
        ],
        returns=ReturnsKpi(
            count=rows.returns,
            units=rows.returned_units,
            refunded=[Money(amount_minor=v, currency=c) for c, v in sorted(rows.refunded_by_currency.items())],
        ),
        delivery_time=[
            DeliveryTime(carrier=carrier, **stats.__dict__)
            for carrier, stats in sorted(report.delivery_by_carrier.items())
        ],
        defects=[DefectsKpi(sku=d.sku, units=d.units, reasons=d.reasons) for d in rows.defects],
    )
