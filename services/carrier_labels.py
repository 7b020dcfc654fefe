"""Carrier labels for staff: a shipment's label document (printed at pack), and a return label for
a shipped parcel through the carrier's returns service (Sendcloud's Returns API), kept like the
label and served the same way. The returns lifecycle itself (receiving, refunds) is `services.returns`.

The carrier is asked with no unit of work open; what it answers is kept in one short one after.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from domain.fulfilment import ShipmentKind, ShipmentStatus
from integrations.carriers.base import (
    Carrier,
    CarrierError,
    CarrierRateLimited,
    CarrierRefused,
    PostalAddress,
    ReturnLabelRequest,
)
from persistence.models import Location, OrderRecord, ShipmentLabel
from persistence.read_model.labels import OUTBOUND, RETURN
from services.errors import Conflict, NotFound, Unavailable, Unprocessable
from services.unit_of_work import UnitOfWorkFactory

UNWEIGHED_RETURN_GRAMS = 1000
"""A return whose outbound parcels nobody weighed (a location that confirmed by itself)."""


@dataclass(frozen=True)
class LabelDocument:
    content: bytes
    media_type: str
    filename: str


@dataclass(frozen=True)
class ReturnLabel:
    shipment_id: str
    carrier: str
    tracking_number: str
    tracking_url: str
    created: bool
    """False: it had been made before (asking again answers the same label)."""


class CarrierLabels:
    def __init__(self, units: UnitOfWorkFactory, carrier: Carrier | None) -> None:
        self._units = units
        self._carrier = carrier

    def needs_weights(self, shipment_id: str) -> bool:
        """A parcel to the customer packed where the carrier prints its label: staff must weigh it."""
        if self._carrier is None:
            return False
        with self._units(read_only=True) as uow:
            record = uow.shipments.get(shipment_id)
            return record is not None and record.kind == ShipmentKind.DELIVERY

    def document(self, shipment_id: str, purpose: str = OUTBOUND) -> LabelDocument:
        """NotFound when the shipment has no such label (yet)."""
        with self._units(read_only=True) as uow:
            label = uow.shipments.label(shipment_id, purpose)
            if label is None:
                what = "return label" if purpose == RETURN else "carrier label"
                raise NotFound(f"shipment {shipment_id} has no {what}")
            suffix = "-return" if purpose == RETURN else ""
            return LabelDocument(label.document, label.media_type, f"{shipment_id}{suffix}.pdf")

    def return_label_document(self, return_id: str) -> LabelDocument:
        """A requested return's label (activities.return_labels made it); NotFound when it has none."""
        with self._units(read_only=True) as uow:
            found = uow.returns.label_document(return_id)
        if found is None:
            raise NotFound(f"return {return_id} has no return label")
        content, media_type = found
        return LabelDocument(content, media_type, f"{return_id}-label.pdf")

    async def return_label(self, shipment_id: str) -> ReturnLabel:
        """NotFound; Conflict (not shipped, no carrier integration); Unprocessable (the carrier's
        refusal, in its words); Unavailable (the carrier did not answer: retry)."""
        kept, request = await asyncio.to_thread(self._prepare, shipment_id)
        if kept is not None:
            return _public(kept, created=False)
        assert request is not None and self._carrier is not None
        try:
            label = await asyncio.to_thread(self._carrier.return_label_for, request)
        except CarrierRefused as refused:
            raise Unprocessable(str(refused)) from None
        except CarrierRateLimited as limited:
            raise Unavailable(str(limited), retry_after=max(1, round(limited.retry_after or 30))) from None
        except CarrierError as failed:
            raise Unavailable(str(failed), retry_after=30) from None
        row = ShipmentLabel(
            shipment_id=shipment_id,
            purpose=RETURN,
            carrier=label.carrier,
            tracking_number=label.tracking_number,
            reference=label.reference,
            tracking_url=label.tracking_url,
            media_type=label.media_type,
            document=label.document,
        )
        return await asyncio.to_thread(self._keep, row)

    def _prepare(self, shipment_id: str) -> tuple[ShipmentLabel | None, ReturnLabelRequest | None]:
        with self._units(read_only=True) as uow:
            kept = uow.shipments.label(shipment_id, RETURN)
            if kept is not None:
                return kept, None
            parties = uow.shipments.label_parties(shipment_id)
            if parties is None or parties.order is None or parties.sender is None:
                raise NotFound(f"no shipment {shipment_id}")
            if parties.shipment.status != ShipmentStatus.SHIPPED:
                raise Conflict(f"shipment {shipment_id} is {parties.shipment.status}: only a shipped parcel comes back")
            if self._carrier is None:
                raise Conflict("no carrier integration is configured: return labels come from Sendcloud")
            weights = parties.shipment.parcel_weights_grams or []
            return None, ReturnLabelRequest(
                shipment_id=shipment_id,
                order_reference=parties.order.reference or parties.order.order_id,
                customer=recipient_address(parties.order),
                returns_to=sender_address(parties.sender),
                weight_grams=sum(weights) or UNWEIGHED_RETURN_GRAMS,
            )

    def _keep(self, row: ShipmentLabel) -> ReturnLabel:
        with self._units() as uow:
            kept = uow.shipments.keep_label(row)
            created = kept is row
            result = _public(kept, created=created)
            uow.commit()
        return result


def _public(label: ShipmentLabel, *, created: bool) -> ReturnLabel:
    return ReturnLabel(label.shipment_id, label.carrier, label.tracking_number, label.tracking_url, created)


def recipient_address(order: OrderRecord) -> PostalAddress:
    """The order's shipping address and the customer's e-mail, as a label needs them."""
    address = order.shipping_address or {}
    return PostalAddress(
        name=str(address.get("name") or ""),
        line1=str(address.get("line1") or ""),
        line2=str(address.get("line2") or ""),
        postcode=str(address.get("postcode") or ""),
        city=str(address.get("city") or ""),
        country=str(address.get("country") or ""),
        phone=str(address.get("phone") or ""),
        email=order.customer_email,
    )


def sender_address(location: Location) -> PostalAddress:
    """The location's address on its labels (and where its returns come back to)."""
    return PostalAddress(
        name=location.name,
        company=location.name,
        line1=location.address_line1,
        line2=location.address_line2,
        postcode=location.postcode,
        city=location.city,
        country=location.country,
        phone=location.phone,
        email=location.email,
    )
