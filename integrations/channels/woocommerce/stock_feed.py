"""WooCommerce stock out: `manage_stock` and `stock_quantity` on the product or variation carrying a SKU.

- `GET /products?sku=<sku>` finds a product *or a variation*: with `sku` the v3 controller searches both
  post types; a variation comes back with `type: "variation"` and its product in `parent_id`.
- `PUT /products/<id>` or `PUT /products/<parent_id>/variations/<id>` with `manage_stock` and
  `stock_quantity` (WooCommerce refuses a variation on the products endpoint).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from integrations.channels.errors import ChannelUnavailable
from integrations.channels.woocommerce.client import ResourceNotFound, WooCommerceClient

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ProductRef:
    """Where a SKU's stock lives: a product, or a variation of `parent_id`."""

    id: int
    parent_id: int | None = None

    @property
    def path(self) -> str:
        if self.parent_id:
            return f"/products/{self.parent_id}/variations/{self.id}"
        return f"/products/{self.id}"


def find_by_sku(client: WooCommerceClient, sku: str) -> ProductRef | None:
    """The product or variation whose SKU is exactly `sku`, or None when the shop has none.

    WooCommerce splits `sku` on commas and matches case-insensitively, so the answer is filtered to
    the exact SKU.
    """
    found = client.call("GET", "/products", params={"sku": sku, "per_page": 10})
    if not isinstance(found, list):
        raise ChannelUnavailable("WooCommerce GET /products: expected a list")
    for product in found:
        if isinstance(product, dict) and product.get("sku") == sku and isinstance(product.get("id"), int):
            is_variation = product.get("type") == "variation"
            parent = product.get("parent_id")
            return ProductRef(product["id"], parent if is_variation and isinstance(parent, int) else None)
    return None


class WooCommerceStockFeed:
    """StockFeed: WooCommerce may sell `quantity` of a SKU (`manage_stock` on, `stock_quantity` set).

    A SKU the shop does not list is skipped (logged): the engine stocks more than one channel sells,
    and that is no error to retry. Ids are cached per SKU; a cached product that has since been
    deleted is looked up once more. `sequence` guards against an older push overtaking a newer one
    within this process; across processes the caller pushes in order.
    """

    def __init__(self, client: WooCommerceClient) -> None:
        self._client = client
        self._refs: dict[str, ProductRef] = {}
        self._sequences: dict[str, int] = {}

    def push(self, sku: str, quantity: int, sequence: int) -> None:
        if sequence < self._sequences.get(sku, sequence):
            log.info("woocommerce stock push for %s skipped: sequence %d is older than one sent", sku, sequence)
            return
        ref = self._ref(sku, fresh=False)
        if ref is None:
            return
        # Available-to-promise below zero means nothing to sell; WooCommerce would show a negative stock.
        body = {"manage_stock": True, "stock_quantity": max(0, quantity)}
        try:
            self._client.call("PUT", ref.path, body=body)
        except ResourceNotFound:
            self._refs.pop(sku, None)
            ref = self._ref(sku, fresh=True)  # deleted or recreated since we cached its id
            if ref is None:
                return
            self._client.call("PUT", ref.path, body=body)
        self._sequences[sku] = sequence

    def _ref(self, sku: str, *, fresh: bool) -> ProductRef | None:
        if not fresh and sku in self._refs:
            return self._refs[sku]
        ref = find_by_sku(self._client, sku)
        if ref is None:
            log.info("woocommerce does not list SKU %s: stock push skipped", sku)
            return None
        self._refs[sku] = ref
        return ref
