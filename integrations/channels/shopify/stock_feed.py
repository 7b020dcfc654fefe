"""Shopify stock out: `inventorySetQuantities` sets the *available* quantity of the variant carrying a SKU.

Reference: https://shopify.dev/docs/api/admin-graphql (mutations/inventorySetQuantities).
"""

from __future__ import annotations

import logging
import re
import uuid
from typing import Any

from pydantic import Field

from integrations.channels.errors import ChannelRejected
from integrations.channels.shopify.client import (
    AnswerModel,
    Connection,
    Ref,
    ShopifyAdminClient,
    ShopifyUserErrors,
    at_least,
    parse_answer,
    shopify_gid,
)

log = logging.getLogger("oms.channels.shopify")

# Versions from which `inventorySetQuantities` wants `changeFromQuantity` instead of `ignoreCompareQuantity`
# (2026-01 accepts it, 2026-04 requires it together with an `@idempotent` key).
CHANGE_FROM_QUANTITY_SINCE = "2026-01"
IDEMPOTENT_REQUIRED_SINCE = "2026-04"
_PLAIN_SEARCH_VALUE = re.compile(r"^[A-Za-z0-9_./-]+$")


class InventoryItemRef(Ref):
    pass


class VariantNode(AnswerModel):
    id: str
    sku: str | None = None
    inventory_item: InventoryItemRef | None = Field(default=None, alias="inventoryItem")


VARIANT_BY_SKU = """
query OmsVariantBySku($query: String!) {
  productVariants(first: 10, query: $query) {
    nodes { id sku inventoryItem { id } }
  }
}
"""

SET_AVAILABLE = """
mutation OmsSetAvailable($input: InventorySetQuantitiesInput!) {
  inventorySetQuantities(input: $input)%(directive)s {
    inventoryAdjustmentGroup { id }
    userErrors { code field message }
  }
}
"""


def sku_search(sku: str) -> str:
    """Shopify search syntax for one SKU: quoted and escaped unless plain (letters, digits, ``-_./``)."""
    if _PLAIN_SEARCH_VALUE.fullmatch(sku):
        return f"sku:{sku}"
    escaped = sku.replace("\\", "\\\\").replace('"', '\\"')
    return f'sku:"{escaped}"'


class ShopifyStockFeed:
    """`StockFeed` for Shopify: the variant's *available* quantity at one location becomes ours.

    We are the source of truth for what may be sold, so the level is set absolutely (no compare
    check) with reason "correction" and ``gid://oms/StockFeed/<sequence>`` as the reference document
    shown in the shop's inventory history. A SKU no variant carries is not listed on Shopify: the push
    is skipped (logged), as there is nothing to tell. A SKU on several variants is refused: each would
    be told the full quantity and the shop could oversell. Lookups are cached per SKU (hits only, so a
    SKU listed later is found); a refused set forgets the entry in case the variant was replaced.
    Negative ATP is sent as 0.
    """

    def __init__(self, client: ShopifyAdminClient, location_id: str | int) -> None:
        self._client = client
        self.location_id = shopify_gid("Location", location_id)
        self._inventory_items: dict[str, str] = {}

    def push(self, sku: str, quantity: int, sequence: int) -> None:
        item = self.inventory_item_for(sku)
        if item is None:
            log.info("shopify stock: no variant has SKU %s, skipped", sku)
            return
        try:
            self._client.graphql(*self._set_available(item, max(quantity, 0), sequence))
        except ShopifyUserErrors:
            self._inventory_items.pop(sku, None)
            raise

    def inventory_item_for(self, sku: str) -> str | None:
        """The inventory item gid of the one variant with exactly this SKU, or None when unlisted."""
        cached = self._inventory_items.get(sku)
        if cached:
            return cached
        data = self._client.graphql(VARIANT_BY_SKU, {"query": sku_search(sku)})
        variants = parse_answer(Connection[VariantNode], data.get("productVariants") or {}, "variant list").nodes
        # Search matches loosely (case, tokens): only an exact SKU counts.
        items = {v.inventory_item.id for v in variants if (v.sku or "").strip() == sku.strip() and v.inventory_item}
        if len(items) > 1:
            raise ChannelRejected(f"SKU {sku} is on {len(items)} Shopify variants; give each its own SKU")
        if not items:
            return None
        found: str = items.pop()
        self._inventory_items[sku] = found
        return found

    def _set_available(self, item: str, quantity: int, sequence: int) -> tuple[str, dict[str, Any]]:
        version = self._client.api_version
        line: dict[str, Any] = {"inventoryItemId": item, "locationId": self.location_id, "quantity": quantity}
        request: dict[str, Any] = {
            "name": "available",
            "reason": "correction",
            "referenceDocumentUri": f"gid://oms/StockFeed/{sequence}",
            "quantities": [line],
        }
        directive = ""
        if at_least(version, CHANGE_FROM_QUANTITY_SINCE):
            line["changeFromQuantity"] = None  # null = no compare-and-swap: we are the source of truth
        else:
            request["ignoreCompareQuantity"] = True
        if at_least(version, IDEMPOTENT_REQUIRED_SINCE):
            # Same push retried → same key → applied once; a different push never shares a key.
            key = uuid.uuid5(uuid.NAMESPACE_URL, f"oms:{self.location_id}:{item}:{quantity}:{sequence}")
            directive = f' @idempotent(key: "{key}")'
        return SET_AVAILABLE % {"directive": directive}, {"input": request}
