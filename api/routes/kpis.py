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
from persistence.read_model.after_sales import AfterSalesRows, ChannelCredit

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


class SkuReturnsKpi(BaseModel):
    sku: str
    units_shipped: int
    units_returned: int
    return_rate: float | None
    """units_returned / units_shipped (0.125 is one in eight); null when none shipped."""
    returns: int
    """The returns those units came back on."""
    top_reasons: dict[str, int]
    """Units returned per reason (domain.returns.ReturnReason), most first (the top three)."""


class ChannelReturnsKpi(BaseModel):
    channel: str
    units_shipped: int
    units_returned: int
    return_rate: float | None
    returns: int
    top_reasons: dict[str, int]


class ChannelRefundsKpi(BaseModel):
    channel: str
    currency: str
    gateway: Money
    """Refunded for returns through our payment gateway."""
    on_channel: Money
    """Refunded for returns by the channel that took the money."""
    goodwill: Money
    """Goodwill refunded through our payment gateway."""
    total: Money


class ChannelCreditKpi(BaseModel):
    channel: str | None
    """The channel of the order the credit was for; null for credit given by hand without one."""
    currency: str
    issued: Money
    entries: int
    by_reason: dict[str, Money]
    """Per reason (return, exchange, goodwill, refund, adjustment), most first."""


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
    returns_by_sku: list[SkuReturnsKpi] = []
    """Of the orders received in the window that shipped: the ten SKUs with the most units returned
    (whenever), against the units shipped of them."""
    returns_by_channel: list[ChannelReturnsKpi] = []
    """The same, per channel (every channel that shipped in the window)."""
    refunds_by_channel: list[ChannelRefundsKpi] = []
    """Refunds made in the window, per channel and currency (never one currency added to another)."""
    store_credit_issued_by_channel: list[ChannelCreditKpi] = []
    """Store credit issued in the window, per channel and currency, with its reasons."""
    exchanges: int = 0
    """Returns to be resolved by an exchange, asked for in the window (not rejected, cancelled or expired)."""


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
        **_after_sales(rows.after_sales),
    )


def _after_sales(rows: AfterSalesRows) -> dict[str, Any]:
    credit: dict[tuple[str | None, str], list[ChannelCredit]] = {}
    for entry in rows.credit_issued:
        credit.setdefault((entry.channel, entry.currency), []).append(entry)
    return {
        "returns_by_sku": [
            SkuReturnsKpi(
                sku=r.sku,
                units_shipped=r.units_shipped,
                units_returned=r.units_returned,
                return_rate=r.rate,
                returns=r.returns,
                top_reasons=r.reasons,
            )
            for r in rows.returns_by_sku
        ],
        "returns_by_channel": [
            ChannelReturnsKpi(
                channel=r.channel,
                units_shipped=r.units_shipped,
                units_returned=r.units_returned,
                return_rate=r.rate,
                returns=r.returns,
                top_reasons=r.reasons,
            )
            for r in rows.returns_by_channel
        ],
        "refunds_by_channel": [
            ChannelRefundsKpi(
                channel=r.channel,
                currency=r.currency,
                gateway=Money(amount_minor=r.gateway_minor, currency=r.currency),
                on_channel=Money(amount_minor=r.on_channel_minor, currency=r.currency),
                goodwill=Money(amount_minor=r.goodwill_minor, currency=r.currency),
                total=Money(amount_minor=r.total_minor, currency=r.currency),
            )
            for r in rows.refunds_by_channel
        ],
        "store_credit_issued_by_channel": [
            ChannelCreditKpi(
                channel=channel,
                currency=currency,
                issued=Money(amount_minor=sum(e.amount_minor for e in entries), currency=currency),
                entries=sum(e.entries for e in entries),
                by_reason={e.reason: Money(amount_minor=e.amount_minor, currency=currency) for e in entries},
            )
            for (channel, currency), entries in credit.items()
        ],
        "exchanges": rows.exchanges,
    }
