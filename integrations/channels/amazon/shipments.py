"""Amazon status out: confirmShipment, one call per package (our shipment)."""

from __future__ import annotations

import hashlib
from typing import Any
from urllib.parse import quote

from domain.channel_notices import ShipmentNotice
from integrations.channels.amazon.client import AmazonClient, iso
from integrations.channels.errors import ChannelRejected

# Amazon's carrier codes (the CarrierCode list of Seller Central and the feeds' amzn-base.xsd), keyed by
# our carrier name in lower case without spaces or punctuation; anything else goes as "Other" + carrierName.
CARRIER_CODES: dict[str, str] = {
    "usps": "USPS",
    "ups": "UPS",
    "fedex": "FedEx",
    "dhl": "DHL",
    "dhlexpress": "DHL",
    "dhlparcel": "DHL",
    "dhlpaket": "DHL",
    "deutschepost": "Deutsche Post",
    "dpd": "DPD",
    "gls": "GLS",
    "hermes": "Hermes Logistik Gruppe",
    "royalmail": "Royal Mail",
    "parcelforce": "Parcelforce",
    "yodel": "Yodel",
    "tnt": "TNT",
    "laposte": "La Poste",
    "chronopost": "Chronopost",
    "posteitaliane": "Poste Italiane",
    "sda": "SDA",
    "canadapost": "Canada Post",
    "ontrac": "OnTrac",
    "lasership": "Lasership",
    "indiapost": "India Post",
    "bluedart": "BlueDart",
    "delhivery": "Delhivery",
    "aramex": "Aramex",
}


def carrier_code(carrier: str) -> str:
    return CARRIER_CODES.get("".join(ch for ch in carrier.lower() if ch.isalnum()), "Other")


def package_reference_id(shipment_id: str) -> str:
    """confirmShipment takes "only positive numeric values": a stable number derived from our shipment id."""
    if shipment_id.isdigit() and int(shipment_id) > 0:
        return shipment_id
    return str(int.from_bytes(hashlib.sha256(shipment_id.encode()).digest()[:8], "big") % 999_999_999 + 1)


class AmazonShipmentConfirmer:
    """Tell Amazon a package left: confirmShipment, one call per package (our shipment)."""

    def __init__(self, client: AmazonClient, marketplace_id: str) -> None:
        self._client = client
        self._marketplace_id = marketplace_id

    def confirm_shipment(self, notice: ShipmentNotice) -> None:
        missing = [line.sku for line in notice.lines if not line.external_line_id]
        if missing or not notice.lines:
            raise ChannelRejected(f"Amazon needs the OrderItemId of every shipped line; missing for {missing}")
        code = carrier_code(notice.carrier)
        detail: dict[str, Any] = {
            "packageReferenceId": notice.extra.get("package_reference_id") or package_reference_id(notice.shipment_id),
            "carrierCode": code,
            "trackingNumber": notice.tracking_number,
            "shipDate": iso(notice.shipped_at),
            "orderItems": [{"orderItemId": line.external_line_id, "quantity": line.quantity} for line in notice.lines],
        }
        if notice.carrier:
            detail["carrierName"] = notice.carrier  # required with "Other", harmless with a known code
        if notice.extra.get("shipping_method"):
            detail["shippingMethod"] = notice.extra["shipping_method"]
        path = f"/orders/v0/orders/{quote(notice.order_external_id, safe='')}/shipmentConfirmation"
        self._client.request("POST", path, body={"marketplaceId": self._marketplace_id, "packageDetail": detail})
