"""Sendcloud as the engine's `Carrier`: a packed shipment announced once, its label and tracking
number taken from Sendcloud's answer, never made up.

Announcing is made idempotent with Sendcloud's `external_reference_id` (unique per account: a
second shipment with the same reference is refused with 409): before announcing, we look for a
shipment under the reference; one already announced is the label (a retried step after a worker
died mid-call). An announcement the carrier failed (status ANNOUNCEMENT_FAILED) keeps its reference
for ever, so the next try announces under the next one (`<shipment id>~2`, `~3`, ...), each looked
for first: however often the step is retried, at most one label exists.

A return label goes through the Returns API under our reference (the RMA) as its
`external_reference`, which Sendcloud keeps unique (`return_label_for`); a return cancelled or
expired has its label cancelled there (`cancel_return_label`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from integrations.carriers.base import (
    CarrierError,
    CarrierRateLimited,
    CarrierRefused,
    CarrierUnavailable,
    Label,
    LabelRequest,
    PostalAddress,
    ReturnLabelPending,
    ReturnLabelRequest,
)
from integrations.carriers.sendcloud.client import SendcloudClient

MAX_ANNOUNCEMENTS = 10
"""Failed announcements of one shipment after which we stop trying new references (a person looks)."""
FAILED = frozenset({"ANNOUNCEMENT_FAILED"})
GONE = frozenset({"CANCELLED", "CANCELLATION_REQUESTED", "BEING_CANCELLED"})
RETURN_PREFIX = "sendcloud-return:"


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
        """Through the Returns API (`POST /returns/announce-synchronously`, then `GET /returns/{id}`
        for its tracking number and label). Our reference is the return's `external_reference`,
        which Sendcloud keeps unique ("External reference has already been used in another return":
        a 400, so a return is never made twice). Once made, a label that does not come raises
        ReturnLabelPending with the return's id, and the retry asks that return again."""
        if request.announced:
            return_id, parcel_id = _announced_ids(request.announced)
        else:
            created = self.client.announce_return(self._return_body(request))
            try:
                return_id, parcel_id = int(created["return_id"]), int(created["parcel_id"])
            except (KeyError, TypeError, ValueError):
                raise CarrierUnavailable("Sendcloud announced a return without its return_id and parcel_id") from None
        announced = f"{RETURN_PREFIX}{return_id}:{parcel_id}"
        try:
            return self._return_label(return_id, parcel_id)
        except CarrierRefused:
            raise
        except CarrierError as failed:
            wait = failed.retry_after if isinstance(failed, CarrierRateLimited) else None
            raise ReturnLabelPending(str(failed), announced, wait) from None

    def cancel_return_label(self, reference: str) -> bool:
        """Through the Returns API (`PATCH /returns/{id}/cancel`): Sendcloud passes the request on
        to the carrier; a return it does not know (404) is False, one it can no longer cancel is
        refused in its words."""
        if not reference.startswith(RETURN_PREFIX):
            raise CarrierRefused(f"Sendcloud: {reference!r} is not a return this integration announced")
        return self.client.cancel_return(_return_id(reference))

    def cancel_label(self, reference: str) -> bool:
        """Through `POST /shipments/{id}/cancel` (https://sendcloud.dev/api/v3/shipments/cancel-a-shipment):
        cancelled at once (200) or queued with the carrier (202); either way the label is not to be
        used. A shipment Sendcloud does not know (404) is False; one the carrier no longer lets go
        (a 4xx) is refused in Sendcloud's words. A later label for the same shipment is announced
        under the next reference (`label_for` skips a cancelled one)."""
        shipment_id = reference.removeprefix("sendcloud:")
        if not reference.startswith("sendcloud:") or not shipment_id:
            raise CarrierRefused(f"Sendcloud: {reference!r} is not a label this integration announced")
        return self.client.cancel_shipment(shipment_id)

    def _return_body(self, request: ReturnLabelRequest) -> dict[str, Any]:
        body: dict[str, Any] = {
            "from_address": sendcloud_address(request.customer),
            "to_address": sendcloud_address(request.returns_to),
            "ship_with": {"type": "shipping_option_code", "shipping_option_code": self.return_option},
            "weight": {"value": request.weight_grams / 1000, "unit": "kg"},
            "order_number": request.order_reference,
            "external_reference": request.external_reference,
        }
        if request.items:
            body["parcel_items"] = [
                {"sku": item.sku, "quantity": item.quantity, "description": item.description or item.sku}
                for item in request.items
            ]
        return body

    def _return_label(self, return_id: int, parcel_id: int) -> Label:
        returned = self.client.get_return(return_id)
        tracking = str(returned.get("tracking_number") or "")
        if not tracking:
            raise CarrierUnavailable(f"Sendcloud return {return_id} has no tracking number yet")
        label = returned.get("label") or {}
        link = str(label.get("label_printer") or "") if isinstance(label, Mapping) else ""
        option = returned.get("shipping_option")
        code = str(option.get("code") or "") if isinstance(option, Mapping) else ""
        return Label(
            carrier=(code or self.return_option).split(":", 1)[0],
            tracking_number=tracking,
            reference=f"{RETURN_PREFIX}{return_id}",
            document=self.client.label_document([parcel_id], link),
            tracking_url=str(returned.get("tracking_url") or ""),
            parcel_refs=(str(parcel_id),),
        )


def _return_id(reference: str) -> int:
    """Sendcloud's return id in a reference we kept: `sendcloud-return:<id>` (a label made) or
    `sendcloud-return:<id>:<parcel id>` (made, its label not come yet)."""
    try:
        return int(reference.removeprefix(RETURN_PREFIX).split(":")[0])
    except ValueError:
        raise CarrierRefused(f"Sendcloud: {reference!r} is not a return this integration announced") from None


def _announced_ids(announced: str) -> tuple[int, int]:
    """The (return id, parcel id) an earlier try kept: `sendcloud-return:<return id>:<parcel id>`."""
    try:
        return_id, parcel_id = announced.removeprefix(RETURN_PREFIX).split(":")
        return int(return_id), int(parcel_id)
    except ValueError:
        raise CarrierRefused(f"Sendcloud: {announced!r} is not a return this integration announced") from None


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
