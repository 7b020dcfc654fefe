"""Stock value per location: units on hand times the SKU's unit cost (products.unit_cost_*), per
location and currency, by SQL. A SKU without a cost is never valued at zero: its units are counted
apart ("no cost") and the SKUs listed, so a total is never quietly short of them.

On hand is what the location holds to sell (reserved units included: they are still ours until
they ship); held returned units waiting for a person (StockLevel.held) are kept out of on_hand, so
out of the value as well.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from persistence.models import Product, StockLevel

LISTED_WITHOUT_COST = 200
"""SKUs without a cost listed by name (the most units first); the counts cover all of them."""


@dataclass(frozen=True)
class LocationValue:
    location_id: str
    currency: str
    skus: int
    units: int
    value_minor: int


@dataclass(frozen=True)
class Uncosted:
    location_id: str
    skus: int
    units: int


@dataclass(frozen=True)
class UncostedSku:
    sku: str
    units: int
    """On hand over every location."""
    locations: int


@dataclass(frozen=True)
class StockValueRows:
    valued: list[LocationValue] = field(default_factory=list)
    uncosted: list[Uncosted] = field(default_factory=list)
    uncosted_skus: list[UncostedSku] = field(default_factory=list)
    uncosted_sku_count: int = 0


def stock_value(session: Session, location_id: str | None = None) -> StockValueRows:
    held = [StockLevel.on_hand > 0]
    if location_id:
        held.append(StockLevel.location_id == location_id)
    valued = session.execute(
        select(
            StockLevel.location_id,
            Product.unit_cost_currency,
            func.count(),
            func.sum(StockLevel.on_hand),
            func.sum(StockLevel.on_hand * Product.unit_cost_minor),
        )
        .join(Product, Product.sku == StockLevel.sku)
        .where(*held, Product.unit_cost_minor.is_not(None))
        .group_by(StockLevel.location_id, Product.unit_cost_currency)
        .order_by(StockLevel.location_id, Product.unit_cost_currency)
    ).all()
    no_cost = (Product.sku.is_(None)) | (Product.unit_cost_minor.is_(None))
    uncosted = session.execute(
        select(StockLevel.location_id, func.count(), func.sum(StockLevel.on_hand))
        .outerjoin(Product, Product.sku == StockLevel.sku)
        .where(*held, no_cost)
        .group_by(StockLevel.location_id)
        .order_by(StockLevel.location_id)
    ).all()
    units = func.sum(StockLevel.on_hand)
    skus = session.execute(
        select(StockLevel.sku, units, func.count())
        .outerjoin(Product, Product.sku == StockLevel.sku)
        .where(*held, no_cost)
        .group_by(StockLevel.sku)
        .order_by(units.desc(), StockLevel.sku)
        .limit(LISTED_WITHOUT_COST)
    ).all()
    count = session.scalar(
        select(func.count(func.distinct(StockLevel.sku)))
        .outerjoin(Product, Product.sku == StockLevel.sku)
        .where(*held, no_cost)
    )
    return StockValueRows(
        valued=[LocationValue(loc, str(cur), int(n), int(u or 0), int(v or 0)) for loc, cur, n, u, v in valued],
        uncosted=[Uncosted(loc, int(n), int(u or 0)) for loc, n, u in uncosted],
        uncosted_skus=[UncostedSku(sku, int(u or 0), int(n)) for sku, u, n in skus],
        uncosted_sku_count=int(count or 0),
    )
