"""Amazon stock out: patchListingsItem on `fulfillment_availability` (Listings Items API 2021-08-01)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal
from urllib.parse import quote

from integrations.channels.amazon.client import AmazonClient
from integrations.channels.errors import ChannelRejected

_NO_LISTING: Any = object()


class AmazonListingsStockFeed:
    """How many of a SKU Amazon may sell from our stock: patchListingsItem on `fulfillment_availability`.

    `op` "replace" sets the attribute to exactly {DEFAULT, quantity}; "merge" (added June 2025,
    https://developer-docs.amazon.com/sp-api/docs/merge-a-listing) changes the quantity only and keeps
    a handling time (`lead_time_to_ship_max_days`) or `restock_date` set in Seller Central.
    A SKU with no listing (404) is skipped: not every SKU we stock is sold on Amazon. Submissions are
    processed asynchronously: ACCEPTED means queued; later issues surface in Seller Central.
    """

    def __init__(
        self,
        client: AmazonClient,
        seller_id: str,
        marketplace_ids: Sequence[str],
        *,
        op: Literal["replace", "merge"] = "replace",
        product_type: str = "PRODUCT",
    ) -> None:
        if not seller_id or not marketplace_ids:
            raise ValueError("the Listings Items API needs the seller id and at least one marketplace id")
        self._client = client
        self._seller_id = seller_id
        self._marketplaces = ",".join(marketplace_ids)
        self._op = op
        self._product_type = product_type

    def push(self, sku: str, quantity: int, sequence: int) -> None:
        # `sequence` needs no field at Amazon: the caller pushes each SKU's quantities in order.
        body = {
            "productType": self._product_type,
            "patches": [
                {
                    "op": self._op,
                    "path": "/attributes/fulfillment_availability",
                    "value": [{"fulfillment_channel_code": "DEFAULT", "quantity": max(0, quantity)}],
                }
            ],
        }
        path = f"/listings/2021-08-01/items/{quote(self._seller_id, safe='')}/{quote(sku, safe='')}"
        params = {"marketplaceIds": self._marketplaces, "issueLocale": "en_US"}
        answer = self._client.request("PATCH", path, params=params, body=body, missing=_NO_LISTING)
        if answer is _NO_LISTING:
            return
        if isinstance(answer, dict) and answer.get("status") == "INVALID":
            issues = [f"{i.get('code')}: {i.get('message')}" for i in answer.get("issues") or [] if isinstance(i, dict)]
            raise ChannelRejected(f"listing {sku} refused the quantity: " + ("; ".join(issues) or "INVALID"))
