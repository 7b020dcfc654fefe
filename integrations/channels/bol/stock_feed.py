"""Bol.com stock out: `PUT /retailer/offers/{offer-id}/stock`."""

from __future__ import annotations

from integrations.channels.bol.client import BolClient

MAX_STOCK = 999  # UpdateOfferStockRequest.amount: 0..999


class BolStockFeed:
    """`StockFeed` over `PUT /retailer/offers/{offer-id}/stock`: it is handed the offer id (bol's spec
    says listing ids are required, so the registry names each SKU by the catalogue's offer id and
    skips the SKUs bol does not offer).

    `managedByRetailer` (docs): false lets bol subtract *all* open orders from the amount; true only
    orders placed after this update. Our available-to-promise already excludes units reserved for
    the orders we hold, so true is the default: false would count those orders twice.
    """

    def __init__(self, client: BolClient, *, managed_by_retailer: bool = True) -> None:
        self._client = client
        self._managed_by_retailer = managed_by_retailer

    def push(self, offer_id: str, quantity: int, sequence: int) -> None:
        amount = min(max(quantity, 0), MAX_STOCK)
        self._client.update_offer_stock(offer_id, amount, managed_by_retailer=self._managed_by_retailer)
