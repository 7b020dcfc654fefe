"""The product catalogue: EANs and channel listing ids on top of our SKUs, both ways.

Inbound, a channel names a product its own way (Bol.com by EAN, Amazon by SellerSKU); outbound, a
stock update needs the channel's listing id (a Bol.com offer id). Both directions read here.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from enum import Enum
from typing import Final, Literal

from sqlalchemy import delete, func, or_, select
from sqlalchemy.orm import Session

from domain.money import Money
from domain.vat import STANDARD
from persistence.db import SessionFactory
from persistence.models import ChannelListing, Product, StockLevel, utcnow
from persistence.unit_of_work import UnitOfWork

SkuResolver = Callable[[str], str | None]


class Keep(Enum):
    """A unit cost left as it is: a `PUT /catalogue/{sku}` that does not name one (a client from
    before costs were kept must not wipe the cost an admin entered)."""

    COST = "keep"


KEEP_COST: Final = Keep.COST
CostChange = Money | None | Literal[Keep.COST]
"""A new unit cost, None to clear it (not known), or KEEP_COST."""


class CatalogueConflict(ValueError):
    """An EAN or listing id already belongs to another SKU; `field` says which of the entry's
    identifiers ("ean", or "listings.<channel>"), so a form can show it next to that field."""

    def __init__(self, message: str, field: str = "") -> None:
        super().__init__(message)
        self.field = field


def sku_for_ean(session: Session, ean: str) -> str | None:
    return session.scalar(select(Product.sku).where(Product.ean == ean))


def sku_for_listing(session: Session, channel: str, listing_id: str) -> str | None:
    return session.scalar(
        select(ChannelListing.sku).where(ChannelListing.channel == channel, ChannelListing.listing_id == listing_id)
    )


def listing_for_sku(session: Session, channel: str, sku: str) -> str | None:
    return session.scalar(
        select(ChannelListing.listing_id).where(ChannelListing.channel == channel, ChannelListing.sku == sku)
    )


def is_stocked(session: Session, sku: str) -> bool:
    return session.scalar(select(StockLevel.sku).where(StockLevel.sku == sku).limit(1)) is not None


def resolve_identifier(session: Session, channel: str, identifier: str) -> str | None:
    """A channel's product identifier → our SKU: its listing mapping first, then an EAN in the
    catalogue, then the identifier itself when a location stocks a SKU of that name."""
    if not identifier:
        return None
    return (
        sku_for_listing(session, channel, identifier)
        or sku_for_ean(session, identifier)
        or (identifier if is_stocked(session, identifier) else None)
    )


def resolver_for(session_factory: SessionFactory, channel: str) -> SkuResolver:
    """A SkuResolver for one channel's adapter, memoised for the life of the resolver (one pull)."""
    seen: dict[str, str | None] = {}

    def resolve(identifier: str) -> str | None:
        if identifier not in seen:
            with UnitOfWork(session_factory) as uow:
                seen[identifier] = resolve_identifier(uow.session, channel, identifier)
        return seen[identifier]

    return resolve


def listing_lookup(session_factory: SessionFactory, channel: str) -> SkuResolver:
    """Our SKU → the channel's listing id (None: not listed there), for stock feeds."""

    def lookup(sku: str) -> str | None:
        with UnitOfWork(session_factory) as uow:
            return listing_for_sku(uow.session, channel, sku)

    return lookup


def save_product(
    session: Session,
    sku: str,
    *,
    name: str,
    ean: str | None,
    listings: Mapping[str, str],
    unit_cost: CostChange = KEEP_COST,
    vat_category: str | None = None,
) -> None:
    """Create or replace one SKU's catalogue entry (a unit cost of None: not known; KEEP_COST: as it
    was, none for a new SKU; a VAT category of None: as it was, standard for a new SKU);
    CatalogueConflict when an EAN or listing id is already another SKU's. The caller commits."""
    if ean:
        owner = sku_for_ean(session, ean)
        if owner not in (None, sku):
            raise CatalogueConflict(f"EAN {ean} already belongs to {owner}", "ean")
    for channel, listing_id in listings.items():
        owner = sku_for_listing(session, channel, listing_id)
        if owner not in (None, sku):
            raise CatalogueConflict(f"{channel} listing {listing_id} already belongs to {owner}", f"listings.{channel}")
    product = session.get(Product, sku)
    if product is None:
        product = Product(sku=sku, name=name, ean=ean or None)
        session.add(product)
    else:
        product.name, product.ean, product.updated_at = name, ean or None, utcnow()
    if vat_category is not None:
        product.vat_category = vat_category
    if unit_cost is not KEEP_COST:
        product.unit_cost_minor = None if unit_cost is None else unit_cost.amount_minor
        product.unit_cost_currency = None if unit_cost is None else unit_cost.currency
    session.execute(delete(ChannelListing).where(ChannelListing.sku == sku))
    session.flush()
    for channel, listing_id in sorted(listings.items()):
        session.add(ChannelListing(channel=channel, sku=sku, listing_id=listing_id))


def product_view(session: Session, sku: str) -> dict[str, object] | None:
    product = session.get(Product, sku)
    if product is None:
        return None
    listings = {
        channel: listing_id
        for channel, listing_id in session.execute(
            select(ChannelListing.channel, ChannelListing.listing_id).where(ChannelListing.sku == sku)
        )
    }
    return _entry(product, listings)


def _entry(product: Product, listings: dict[str, str]) -> dict[str, object]:
    """{sku, name, ean, vat_category, listings, unit_cost}: unit_cost a Money, or None when not known."""
    cost = None
    if product.unit_cost_minor is not None and product.unit_cost_currency is not None:
        cost = Money(product.unit_cost_minor, product.unit_cost_currency)
    return {
        "sku": product.sku,
        "name": product.name,
        "ean": product.ean,
        "vat_category": product.vat_category or STANDARD,
        "listings": listings,
        "unit_cost": cost,
    }


def list_products(
    session: Session, *, query: str | None, limit: int, offset: int
) -> tuple[list[dict[str, object]], int]:
    """One page of catalogue entries by SKU ({sku, name, ean, listings}), and how many match in all.
    `query` matches part of the SKU, the name or the EAN, whatever the case."""
    matching = select(Product)
    if query:
        pattern = "%" + query.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        matching = matching.where(
            or_(
                func.lower(Product.sku).like(pattern, escape="\\"),
                func.lower(Product.name).like(pattern, escape="\\"),
                func.lower(func.coalesce(Product.ean, "")).like(pattern, escape="\\"),
            )
        )
    count = session.scalar(select(func.count()).select_from(matching.subquery())) or 0
    products = list(session.scalars(matching.order_by(Product.sku).limit(limit).offset(offset)))
    listings: dict[str, dict[str, str]] = {}
    if products:
        rows = session.execute(
            select(ChannelListing.sku, ChannelListing.channel, ChannelListing.listing_id).where(
                ChannelListing.sku.in_([product.sku for product in products])
            )
        )
        for sku, channel, listing_id in rows:
            listings.setdefault(sku, {})[channel] = listing_id
    entries = [_entry(p, listings.get(p.sku, {})) for p in products]
    return entries, count
