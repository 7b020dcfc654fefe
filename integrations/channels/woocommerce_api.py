"""WooCommerce REST API v3 out: stock quantities, shipment confirmations and cancellations.

Endpoints (https://woocommerce.github.io/woocommerce-rest-api-docs/), all under `{shop}/wp-json/wc/v3`
with HTTP Basic auth (consumer key as user, consumer secret as password; HTTPS in production):
- `GET /products?sku=<sku>` finds a product *or a variation*: with `sku` the v3 controller searches both
  post types; a variation comes back with `type: "variation"` and its product in `parent_id`.
- `PUT /products/<id>` or `PUT /products/<parent_id>/variations/<id>` with `manage_stock` and
  `stock_quantity` (WooCommerce refuses a variation on the products endpoint).
- `GET` / `POST /orders/<id>/notes` and `PUT /orders/<id>` with `status`.

Every failure is one of the integrations.channels.base errors; nothing sleeps or retries here: the
Temporal activity around a call owns retries and backoff.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from decimal import Decimal
from types import TracebackType
from typing import Any

import httpx

from integrations.channels.base import (
    CancellationNotice,
    ChannelAuthFailed,
    ChannelRateLimited,
    ChannelRejected,
    ChannelUnavailable,
    ShipmentNotice,
    retry_after_seconds,
)

log = logging.getLogger(__name__)

API_PATH = "/wp-json/wc/v3"
DEFAULT_TIMEOUT = httpx.Timeout(15.0, connect=5.0)
# Statuses a merchant ended the order in: a shipment does not overrule them.
_FINAL_STATUSES = frozenset({"completed", "cancelled", "refunded", "failed", "trash"})


def _error_message(response: httpx.Response) -> str:
    """WooCommerce's own words: {"code": ..., "message": ..., "data": {"status": ...}}."""
    try:
        body = json.loads(response.text, parse_float=Decimal)
    except ValueError:
        body = None
    if isinstance(body, dict) and isinstance(body.get("message"), str):
        code = body.get("code")
        return f"{body['message']} ({code})" if isinstance(code, str) and code else body["message"]
    return f"HTTP {response.status_code}"


class ResourceNotFound(ChannelRejected):
    """404: the product, variation or order is not (or no longer) in the shop."""


def _raise_for(response: httpx.Response, what: str) -> None:
    status = response.status_code
    if status < 400:
        return
    message = f"WooCommerce {what}: {_error_message(response)}"
    if status == 429:
        raise ChannelRateLimited(message, retry_after_seconds(response.headers.get("Retry-After")))
    if status >= 500:
        raise ChannelUnavailable(message)
    if status in (401, 403):
        raise ChannelAuthFailed(message)
    if status == 404:
        raise ResourceNotFound(message)
    raise ChannelRejected(message)


class WooCommerceClient:
    """A small sync client for the calls the engine makes (activities run in threads)."""

    def __init__(
        self,
        base_url: str,
        consumer_key: str,
        consumer_secret: str,
        *,
        timeout: httpx.Timeout | float = DEFAULT_TIMEOUT,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self._http = httpx.Client(
            base_url=base_url.rstrip("/") + API_PATH,
            auth=httpx.BasicAuth(consumer_key, consumer_secret),
            timeout=timeout,
            transport=transport,
            headers={"Accept": "application/json", "User-Agent": "oms-woocommerce/1"},
        )

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> WooCommerceClient:
        return self

    def __exit__(self, *_: type[BaseException] | BaseException | TracebackType | None) -> None:
        self.close()

    def call(self, method: str, path: str, *, params: dict[str, Any] | None = None, body: Any = None) -> Any:
        """One request; the JSON answer with exact decimals, or a ChannelError."""
        what = f"{method} {path}"
        try:
            response = self._http.request(method, path, params=params, json=body)
        except httpx.TransportError as exc:  # connect/read timeouts, refused connections, broken streams
            raise ChannelUnavailable(f"WooCommerce {what}: {type(exc).__name__}") from exc
        _raise_for(response, what)
        try:
            return json.loads(response.text, parse_float=Decimal)
        except ValueError as exc:  # a maintenance page or a security plugin answering HTML
            raise ChannelUnavailable(f"WooCommerce {what}: the answer is not JSON") from exc


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


def shipment_note(notice: ShipmentNotice) -> str:
    """The customer-facing note; it names the tracking number, which is how a repeat is recognised."""
    if notice.extra.get("collected") == "true":
        return f"Collected at the store (shipment {notice.shipment_id})."
    if not notice.tracking_number:
        return f"Shipped with {notice.carrier or 'our own delivery'} (shipment {notice.shipment_id})."
    return f"Shipped with {notice.carrier}, tracking number: {notice.tracking_number} (shipment {notice.shipment_id})."


class WooCommerceShipmentConfirmer:
    """ShipmentConfirmer: a customer note with carrier and tracking (WooCommerce e-mails it to the
    customer), then status `completed` once the whole order has shipped.

    WooCommerce has no shipment object in its core API, so the note is the confirmation. "Everything
    shipped" is the caller's knowledge, passed as `notice.extra["order_complete"] == "true"`; a split
    order's earlier shipments only add their note. Idempotent: an existing customer note naming the
    tracking number (or, without one, the shipment id) means this notice was already sent; and an
    order the merchant already ended (completed, cancelled, refunded) keeps its status.
    """

    def __init__(self, client: WooCommerceClient) -> None:
        self._client = client

    def confirm_shipment(self, notice: ShipmentNotice) -> None:
        if not (notice.order_external_id.isascii() and notice.order_external_id.isdigit()):
            raise ChannelRejected(f"WooCommerce order ids are numbers, got {notice.order_external_id!r}")
        order_path = f"/orders/{notice.order_external_id}"
        if not self._already_noted(order_path, notice):
            note = {"note": shipment_note(notice), "customer_note": True}
            self._client.call("POST", f"{order_path}/notes", body=note)
        if notice.extra.get("order_complete") == "true":
            order = self._client.call("GET", order_path)
            status = order.get("status") if isinstance(order, dict) else None
            if status not in _FINAL_STATUSES:
                self._client.call("PUT", order_path, body={"status": "completed"})

    def _already_noted(self, order_path: str, notice: ShipmentNotice) -> bool:
        key = notice.tracking_number or notice.shipment_id
        notes = self._client.call("GET", f"{order_path}/notes", params={"type": "customer"})
        if not isinstance(notes, list):
            raise ChannelUnavailable(f"WooCommerce GET {order_path}/notes: expected a list")
        return any(isinstance(note, dict) and key in str(note.get("note", "")) for note in notes)


class WooCommerceCanceller:
    """ChannelCanceller: status `cancelled` (`PUT /orders/<id>`), unless the order already ended
    (completed, cancelled, refunded, failed, trash), as the shipment confirmer does: a merchant's
    own ending stands, and a retried delivery finds the order cancelled and does nothing.

    WooCommerce puts the units of a cancelled order back on its own stock (when the order had
    reduced it), which our stock feed must then correct: `touches_stock`. Setting the status
    refunds nothing: money WooCommerce's gateway took stays for the merchant to refund there.
    """

    touches_stock = True

    def __init__(self, client: WooCommerceClient) -> None:
        self._client = client

    def cancel_order(self, notice: CancellationNotice) -> None:
        if not (notice.order_external_id.isascii() and notice.order_external_id.isdigit()):
            raise ChannelRejected(f"WooCommerce order ids are numbers, got {notice.order_external_id!r}")
        order_path = f"/orders/{notice.order_external_id}"
        order = self._client.call("GET", order_path)
        status = order.get("status") if isinstance(order, dict) else None
        if status in _FINAL_STATUSES:
            log.info("woocommerce order %s already ended (%s): not cancelled", notice.order_external_id, status)
            return
        self._client.call("PUT", order_path, body={"status": "cancelled"})
