"""Bol.com status out: `POST /retailer/shipments` with bol's transporter code and the track & trace."""

from __future__ import annotations

import logging

from domain.channel_notices import ShipmentNotice
from integrations.channels.bol.client import BolClient
from integrations.channels.errors import ChannelRejected

log = logging.getLogger("oms.channels.bol")

MAX_ITEMS_PER_SHIPMENT = 100  # ShipmentRequest.orderItems: 1..100

# Bol transporter codes (v10 docs, "transporterCode"): our carrier names → bol's.
TRANSPORTER_CODES = frozenset(
    {
        "BRIEFPOST", "UPS", "TNT", "TNT-EXTRA", "TNT_BRIEF", "TNT-EXPRESS", "DYL", "DPD-NL", "DPD-BE", "BPOST_BE",
        "BPOST_BRIEF", "DHLFORYOU", "GLS", "FEDEX_NL", "FEDEX_BE", "OTHER", "DHL", "DHL_DE", "DHL-GLOBAL-MAIL",
        "TSN", "FIEGE", "TRANSMISSION", "PARCEL-NL", "LOGOIX", "PACKS",
    }
)  # fmt: skip
_CARRIER_ALIASES = {
    "POSTNL": "TNT",
    "POST NL": "TNT",
    "DHL PARCEL": "DHL",
    "DHL FOR YOU": "DHLFORYOU",
    "DHL DE": "DHL_DE",
    "DHL GERMANY": "DHL_DE",
    "DPD": "DPD-NL",
    "DPD NL": "DPD-NL",
    "DPD BE": "DPD-BE",
    "BPOST": "BPOST_BE",
    "FEDEX": "FEDEX_NL",
    "PARCEL.NL": "PARCEL-NL",
}


def transporter_code(carrier: str) -> str:
    """Bol's code for one of our carrier names; OTHER when bol has none for it."""
    name = " ".join(carrier.strip().upper().split())
    if name in TRANSPORTER_CODES:
        return name
    return _CARRIER_ALIASES.get(name) or _CARRIER_ALIASES.get(name.replace("_", " ").replace("-", " ")) or "OTHER"


class BolShipmentConfirmer:
    """`ShipmentConfirmer` over `POST /retailer/shipments`.

    Bol answers 202 with a ProcessStatus and processes the shipment later. We return once it is
    accepted and do not poll `/shared/process-status/{id}` (that would sleep inside an activity);
    `BolClient.process_status` is there for a later check. A retried call for items bol already
    marked shipped fails in that later process, not here, so a retry is harmless.
    """

    def __init__(self, client: BolClient) -> None:
        self._client = client

    def confirm_shipment(self, notice: ShipmentNotice) -> None:
        quantities: dict[str, int] = {}
        for line in notice.lines:
            if not line.external_line_id:
                raise ChannelRejected(f"shipment {notice.shipment_id}: line {line.sku} has no bol orderItemId")
            if line.quantity > 0:
                quantities[line.external_line_id] = quantities.get(line.external_line_id, 0) + line.quantity
        if not quantities:
            raise ChannelRejected(f"shipment {notice.shipment_id}: nothing to confirm")
        transport = {
            "transporterCode": transporter_code(notice.carrier),
            "trackAndTrace": notice.tracking_number or None,
        }
        items = [{"orderItemId": item_id, "quantity": quantity} for item_id, quantity in quantities.items()]
        for start in range(0, len(items), MAX_ITEMS_PER_SHIPMENT):
            status = self._client.create_shipment(
                {
                    "orderItems": items[start : start + MAX_ITEMS_PER_SHIPMENT],
                    "shipmentReference": notice.shipment_id[:90] or None,
                    "transport": transport,
                }
            )
            log.info("bol accepted shipment %s (process %s)", notice.shipment_id, status.get("processStatusId"))
