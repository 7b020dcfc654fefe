"""Sendcloud as the engine's `Carrier`: a packed shipment announced once, its label and tracking
number taken from Sendcloud's answer, never made up.

Announcing is made idempotent with Sendcloud's `external_reference_id` (unique per account: a
second shipment with the same reference is refused with 409): before announcing, we look for a
shipment under the reference; one already announced is the label (a retried step after a worker
died mid-call). An announcement the carrier failed (status ANNOUNCEMENT_FAILED) keeps its reference
for ever, so the next try announces under the next one (`<shipment id>~2`, `~3`, ...), each looked
for first: however often the step is retried, at most one label exists.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from integrations.carriers.base import (
    CarrierRefused,
    CarrierUnavailable,
    Label,
    LabelRequest,
    PostalAddress,
    ReturnLabelRequest,
)
from integrations.carriers.sendcloud.client import SendcloudClient

MAX_ANNOUNCEMENTS = 10
"""Failed announcements of one shipment after which we stop trying new references (a person looks)."""
FAILED = frozenset({"ANNOUNCEMENT_FAILED"})
GONE = frozenset({"CANCELLED", "CANCELLATION_REQUESTED", "BEING_CANCELLED"})


def kilograms(grams: int) -> str:
    """Sendcloud's weight string, exact: 1320 g → "1.320"."""
    return f"{grams // 1000}.{grams % 1000:03d}"


def sendcloud_address(address: PostalAddress) -> dict[str, str]:
    fields = {
        "name": address.name,
        "company_name": address.company,
        "address_line_1": address.line1,
        "address_line_2": address.line2,
        "postal_code": address.postcode,
        "city": address.city,
        "country_code": address.country.upper(),
        "phone_number": address.phone,
        "email": address.email,
    }
    return {key: value for key, value in fields.items() if value}


class SendcloudCarrier:
    name = "sendcloud"

    def __init__(self, client: SendcloudClient, *, shipping_option: str, return_option: str) -> None:
        self.client = client
        self.shipping_option = shipping_option
        self.return_option = return_option

    def close(self) -> None:
        self.client.close()

    def label_for(self, request: LabelRequest) -> Label:
        for attempt in range(1, MAX_ANNOUNCEMENTS + 1):
            reference = request.shipment_id if attempt == 1 else f"{request.shipment_id}~{attempt}"
            found = self.client.shipments_with_reference(reference)
            fresh = not found
            shipment = found[0] if found else self.client.announce(self._announcement(request, reference))
            if shipment is None:  # 409: announced between our look and our request (a concurrent try)
                again = self.client.shipments_with_reference(reference)
                if not again:
                    raise CarrierUnavailable(f"Sendcloud: {reference} is taken but cannot be found yet")
                shipment, fresh = again[0], False
            statuses = {str((parcel.get("status") or {}).get("code", "")) for parcel in _parcels(shipment)}
            if statuses & (FAILED | GONE):
                if fresh:
                    raise _announcement_failure(shipment)
                continue  # an earlier try's failed (or cancelled) announcement: the next reference
            return self._label(shipment)
        raise CarrierUnavailable(f"Sendcloud: {MAX_ANNOUNCEMENTS} announcements of {request.shipment_id} failed")

    def _announcement(self, request: LabelRequest, reference: str) -> dict[str, Any]:
        return {
            "from_address": sendcloud_address(request.sender),
            "to_address": sendcloud_address(request.recipient),
            "ship_with": {"type": "shipping_option_code", "properties": {"shipping_option_code": self.shipping_option}},
            "order_number": request.order_reference,
            "external_reference_id": reference,
            "reference": request.shipment_id,
            "label_details": {"mime_type": "application/pdf", "dpi": 72},
            "parcels": [
                {"weight": {"value": kilograms(grams), "unit": "kg"}} for grams in request.parcel_weights_grams
            ],
        }

    def _label(self, shipment: Mapping[str, Any]) -> Label:
        parcels = _parcels(shipment)
        tracking = [str(parcel.get("tracking_number") or "") for parcel in parcels]
        carrier = str((shipment.get("carrier") or {}).get("code") or "")
        if not parcels or not all(tracking) or not carrier:
            raise CarrierUnavailable("Sendcloud announced the shipment without a tracking number or carrier yet")
        ids = [int(parcel["id"]) for parcel in parcels]
        links = [doc.get("link", "") for doc in parcels[0].get("documents") or [] if doc.get("type") == "label"]
        document = self.client.label_document(ids, links[0] if links else "")
        return Label(
            carrier=carrier,
            tracking_number=tracking[0],
            reference=f"sendcloud:{shipment.get('id', '')}",
            document=document,
            tracking_url=str(parcels[0].get("tracking_url") or ""),
            parcel_refs=tuple(str(parcel_id) for parcel_id in ids),
        )

    def return_label_for(self, request: ReturnLabelRequest) -> Label:
        body = {
            "from_address": sendcloud_address(request.customer),
            "to_address": sendcloud_address(request.returns_to),
            "ship_with": {"type": "shipping_option_code", "shipping_option_code": self.return_option},
            "weight": {"value": request.weight_grams / 1000, "unit": "kg"},
            "order_number": request.order_reference,
            "external_reference": f"{request.shipment_id}:return",
        }
        created = self.client.announce_return(body)
        returned = self.client.get_return(int(created["return_id"]))
        tracking = str(returned.get("tracking_number") or "")
        if not tracking:
            raise CarrierUnavailable("Sendcloud announced the return without a tracking number yet")
        label = returned.get("label") or {}
        link = str(label.get("label_printer") or "") if isinstance(label, Mapping) else ""
        parcel_id = int(created["parcel_id"])
        return Label(
            carrier=self.return_option.split(":", 1)[0],
            tracking_number=tracking,
            reference=f"sendcloud-return:{created['return_id']}",
            document=self.client.label_document([parcel_id], link),
            tracking_url=str(returned.get("tracking_url") or ""),
            parcel_refs=(str(parcel_id),),
        )


def _parcels(shipment: Mapping[str, Any]) -> list[dict[str, Any]]:
    parcels = shipment.get("parcels")
    return [parcel for parcel in parcels if isinstance(parcel, dict)] if isinstance(parcels, list) else []


def _announcement_failure(shipment: Mapping[str, Any]) -> Exception:
    """The carrier did not take the announcement: its 4xx words are final, anything else is retried."""
    errors = [error for error in shipment.get("errors") or [] if isinstance(error, Mapping)]
    words = "; ".join(str(error.get("detail") or error.get("code") or "") for error in errors) or "no details"
    if any(str(error.get("status", "")).startswith("4") for error in errors):
        return CarrierRefused(f"Sendcloud: the carrier refused the shipment: {words}")
    return CarrierUnavailable(f"Sendcloud: the carrier did not take the shipment: {words}")
