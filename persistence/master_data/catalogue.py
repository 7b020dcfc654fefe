"""The product catalogue: EANs and channel listing ids on top of our SKUs, both ways.

Inbound, a channel names a product its own way (Bol.com by EAN, Amazon by SellerSKU); outbound, a
stock update needs the channel's listing id (a Bol.com offer id). Both directions read here.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from persistence.db import SessionFactory
from persistence.models import ChannelListing, Product, StockLevel, utcnow
from persistence.unit_of_work import UnitOfWork

SkuResolver = Callable[[str], str | None]


class CatalogueConflict(ValueError):
    """An EAN or listing id already belongs to another SKU."""


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


def save_product(session: Session, sku: str, *, name: str, ean: str | None, listings: Mapping[str, str]) -> None:
    """Create or replace one SKU's catalogue entry; CatalogueConflict when an EAN or listing id is
    already another SKU's. The caller commits."""
    if ean:
        owner = sku_for_ean(session, ean)
        if owner not in (None, sku):
            raise CatalogueConflict(f"EAN {ean} already belongs to {owner}")
    for channel, listing_id in listings.items():
        owner = sku_for_listing(session, channel, listing_id)
        if owner not in (None, sku):
            raise CatalogueConflict(f"{channel} listing {listing_id} already belongs to {owner}")
    product = session.get(Product, sku)
    if product is None:
        session.add(Product(sku=sku, name=name, ean=ean or None))
    else:
        product.name, product.ean, product.updated_at = name, ean or None, utcnow()
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
    return {"sku": product.sku, "name": product.name, "ean": product.ean, "listings": listings}
