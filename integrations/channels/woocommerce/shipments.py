"""WooCommerce status out: a customer note with carrier and tracking, and status `completed` once
everything shipped (`GET` / `POST /orders/<id>/notes`, `PUT /orders/<id>`)."""

from __future__ import annotations

from domain.channel_notices import ShipmentNotice
from integrations.channels.errors import ChannelRejected, ChannelUnavailable
from integrations.channels.woocommerce.client import WooCommerceClient

# Statuses a merchant ended the order in: a shipment does not overrule them.
FINAL_STATUSES = frozenset({"completed", "cancelled", "refunded", "failed", "trash"})


def order_path(external_id: str) -> str:
    """`/orders/<id>`; WooCommerce order ids are numbers, anything else is refused before a call."""
    if not (external_id.isascii() and external_id.isdigit()):
        raise ChannelRejected(f"WooCommerce order ids are numbers, got {external_id!r}")
    return f"/orders/{external_id}"


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
        path = order_path(notice.order_external_id)
        if not self._already_noted(path, notice):
            note = {"note": shipment_note(notice), "customer_note": True}
            self._client.call("POST", f"{path}/notes", body=note)
        if notice.extra.get("order_complete") == "true":
            order = self._client.call("GET", path)
            status = order.get("status") if isinstance(order, dict) else None
            if status not in FINAL_STATUSES:
                self._client.call("PUT", path, body={"status": "completed"})

    def _already_noted(self, path: str, notice: ShipmentNotice) -> bool:
        key = notice.tracking_number or notice.shipment_id
        notes = self._client.call("GET", f"{path}/notes", params={"type": "customer"})
        if not isinstance(notes, list):
            raise ChannelUnavailable(f"WooCommerce GET {path}/notes: expected a list")
        return any(isinstance(note, dict) and key in str(note.get("note", "")) for note in notes)
