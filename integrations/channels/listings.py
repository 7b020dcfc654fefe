"""How a stock feed names a SKU on its channel, as the channel's spec says (`spec.ListingIds`).

The catalogue (`PUT /catalogue/{sku}`) keeps each channel's listing id for a SKU; the registry wraps
a channel's feed so the feed itself only ever sees the name the channel knows.
"""

from __future__ import annotations

from integrations.channels.base import SkuResolver, StockFeed
from integrations.channels.spec import ListingIds


class ListedAs:
    """A stock feed that names each SKU the way the channel lists it (the catalogue's listing id,
    e.g. an Amazon SellerSKU that differs from ours), falling back to our SKU."""

    def __init__(self, feed: StockFeed, listing_for: SkuResolver) -> None:
        self.feed = feed
        self._listing_for = listing_for

    def push(self, sku: str, quantity: int, sequence: int) -> None:
        self.feed.push(self._listing_for(sku) or sku, quantity, sequence)


class OnlyListed:
    """A stock feed for a channel that sells only what the catalogue lists there (a bol.com offer id):
    each SKU goes by its listing id, and a SKU without one is skipped (not offered there)."""

    def __init__(self, feed: StockFeed, listing_for: SkuResolver) -> None:
        self.feed = feed
        self._listing_for = listing_for

    def push(self, sku: str, quantity: int, sequence: int) -> None:
        listing_id = self._listing_for(sku)
        if listing_id:
            self.feed.push(listing_id, quantity, sequence)


def named_by(listing_ids: ListingIds, feed: StockFeed, listing_for: SkuResolver) -> StockFeed:
    """`feed` naming SKUs as `listing_ids` says."""
    match listing_ids:
        case ListingIds.OUR_SKU:
            return feed
        case ListingIds.REQUIRED:
            return OnlyListed(feed, listing_for)
        case ListingIds.PREFERRED:
            return ListedAs(feed, listing_for)
