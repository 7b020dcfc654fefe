"""A packed shipment's carrier label: asked of the carrier (Sendcloud) once, kept with the shipment,
its carrier and tracking number set on it; never a made-up tracking number.

While the carrier does not answer (an outage, a 429, refused keys) the shipment shows the label as
pending with the carrier's words, and the activity raises so Temporal retries it with backoff (a
429's Retry-After becomes the next retry's delay). A refusal of the request itself (an address
the carrier cannot deliver to) is final: the shipment shows it as refused with the carrier's words,
the order's timeline says so, and the activity fails without retrying so the shipment waits for a
person. No database transaction is open while the carrier is asked.

An order edit that changes the address cancels a label made for the old one (`cancel`): at the
carrier first, then the kept label is forgotten (the timeline keeps its tracking number), so the
next `request` announces the shipment anew with the new address. A carrier that no longer lets the
label go refuses for good, and the edit is refused with it.
"""

from __future__ import annotations

from datetime import timedelta
from typing import NoReturn

from sqlalchemy.orm import Session
from temporalio.exceptions import ApplicationError

from contracts.errors import ErrorType
from contracts.shipments import CancelLabelInput, Label, LabelCancelled, LabelInput
from integrations.carriers.base import (
    Carrier,
    CarrierError,
    CarrierRateLimited,
    CarrierRefused,
    LabelRequest,
)
from integrations.carriers.base import Label as CarrierLabel
from persistence.db import SessionFactory
from persistence.guarded_writes.idempotency import run_once, stored_result
from persistence.models import ShipmentRecord
from persistence.read_model import escalations, labels
from persistence.read_model import orders as order_store
from persistence.unit_of_work import UnitOfWork
from services.carrier_labels import recipient_address, sender_address

SANDBOX_PARCEL_GRAMS = 1000
"""A parcel nobody weighed (a location that confirms by itself, in development): 1 kg."""
LABEL_STEP = "label"
"""The escalations' name for a label that is late or refused."""


class CarrierLabels:
    def __init__(self, session_factory: SessionFactory, carrier: Carrier | None) -> None:
        self._session_factory = session_factory
        self._carrier = carrier

    def request(self, data: LabelInput) -> Label:
        kept = self._kept(data.shipment_id)
        if kept is not None:
            return kept
        if self._carrier is None:  # the worker lost its carrier settings: a person decides
            self._refused(data, "no carrier integration is configured (OMS_SENDCLOUD_PUBLIC_KEY/SECRET_KEY)")
        request = self._label_request(data)
        try:
            label = self._carrier.label_for(request)
        except CarrierRefused as refused:
            self._refused(data, str(refused))
        except CarrierRateLimited as limited:
            self._note_problem(data, str(limited))
            wait = timedelta(seconds=limited.retry_after) if limited.retry_after is not None else None
            raise ApplicationError(str(limited), type=ErrorType.CARRIER_UNAVAILABLE, next_retry_delay=wait) from None
        except CarrierError as failed:
            self._note_problem(data, str(failed))
            raise ApplicationError(str(failed), type=ErrorType.CARRIER_UNAVAILABLE) from None
        return self._keep(data, label)

    def cancel(self, data: CancelLabelInput) -> LabelCancelled:
        """Cancel the shipment's outbound label at the carrier, then forget it here; once per key
        (a retry after the carrier said yes does not ask again). No label kept: nothing to do."""
        stored = stored_result(self._session_factory, data.idempotency_key, LabelCancelled)
        if stored is not None:
            return stored
        kept = self._kept(data.shipment_id)
        if kept is None and self._label_being_made(data.shipment_id):
            # A label asked for the old address may come any moment: the edit waits for it (refused, try again).
            words = "its carrier label is being made (or the carrier is away): try again once it is there"
            raise ApplicationError(words, type=ErrorType.CARRIER_UNAVAILABLE, non_retryable=True)
        if kept is None:
            return LabelCancelled(False)
        if self._carrier is None:
            words = "no carrier integration is configured (OMS_SENDCLOUD_PUBLIC_KEY/SECRET_KEY) to cancel it"
            raise ApplicationError(words, type=ErrorType.CARRIER_REFUSED, non_retryable=True)
        try:
            self._carrier.cancel_label(kept.label_ref)
        except CarrierRefused as refused:
            raise ApplicationError(str(refused), type=ErrorType.CARRIER_REFUSED, non_retryable=True) from None
        except CarrierRateLimited as limited:
            wait = timedelta(seconds=limited.retry_after) if limited.retry_after is not None else None
            raise ApplicationError(str(limited), type=ErrorType.CARRIER_UNAVAILABLE, next_retry_delay=wait) from None
        except CarrierError as failed:
            raise ApplicationError(str(failed), type=ErrorType.CARRIER_UNAVAILABLE) from None
        return run_once(self._session_factory, data.idempotency_key, lambda s: _forget(s, data, kept), LabelCancelled)

    def _label_being_made(self, shipment_id: str) -> bool:
        with UnitOfWork(self._session_factory) as uow:
            record = uow.session.get(ShipmentRecord, shipment_id)
            return record is not None and record.label_status == "pending"

    def _kept(self, shipment_id: str) -> Label | None:
        with UnitOfWork(self._session_factory) as uow:
            summary = labels.label_summary(uow.session, shipment_id)
        return Label(*summary) if summary else None

    def _label_request(self, data: LabelInput) -> LabelRequest:
        with UnitOfWork(self._session_factory) as uow:
            parties = labels.label_parties(uow.session, data.shipment_id)
            if parties is None or parties.order is None or parties.sender is None:
                raise ApplicationError(
                    f"shipment {data.shipment_id} is not recorded", type=ErrorType.UNKNOWN_SHIPMENT, non_retryable=True
                )
            sender, order, shipment = parties.sender, parties.order, parties.shipment
            request = LabelRequest(
                shipment_id=shipment.shipment_id,
                order_reference=order.reference or order.order_id,
                sender=sender_address(sender),
                recipient=recipient_address(order),
                parcel_weights_grams=tuple(
                    shipment.parcel_weights_grams or [SANDBOX_PARCEL_GRAMS] * (shipment.parcels or 1)
                ),
            )
        missing = request.sender.missing()
        if missing:
            self._refused(
                data,
                f"{data.location_id} has no sender address for its labels ({', '.join(missing)}): "
                f"set it with PUT /locations/{data.location_id}",
            )
        return request

    def _keep(self, data: LabelInput, label: CarrierLabel) -> Label:
        with UnitOfWork(self._session_factory) as uow:
            session = uow.session
            kept = labels.keep_label(
                session,
                data.shipment_id,
                labels.OUTBOUND,
                carrier=label.carrier,
                tracking_number=label.tracking_number,
                reference=label.reference,
                tracking_url=label.tracking_url,
                media_type=label.media_type,
                document=label.document,
                at=data.at,
            )
            record = _shipment(session, data.shipment_id)
            record.carrier, record.tracking_number = kept.carrier, kept.tracking_number
            record.label_ref = kept.reference
            record.label_status, record.label_problem = "ready", None
            escalations.resolve(session, data.shipment_id, LABEL_STEP, data.at)
            printed = f"{data.shipment_id}: {kept.carrier} {kept.tracking_number}"
            order_store.add_event(session, data.order_id, "label_printed", printed, data.at)
            result = Label(kept.carrier, kept.tracking_number, kept.reference)
            uow.commit()
        return result

    def _note_problem(self, data: LabelInput, problem: str) -> None:
        """Why the label is still pending, on the shipment for staff to see (the retry goes on)."""
        with UnitOfWork(self._session_factory) as uow:
            record = _shipment(uow.session, data.shipment_id)
            if record.label_status != "ready":
                record.label_status, record.label_problem = "pending", problem
                uow.commit()

    def _refused(self, data: LabelInput, words: str) -> NoReturn:
        with UnitOfWork(self._session_factory) as uow:
            record = _shipment(uow.session, data.shipment_id)
            if record.label_status != "refused":
                record.label_status, record.label_problem = "refused", words
                refusal = f"{data.shipment_id}: {words}"
                order_store.add_event(uow.session, data.order_id, "label_refused", refusal, data.at)
                uow.commit()
        raise ApplicationError(words, type=ErrorType.CARRIER_REFUSED, non_retryable=True)


def _forget(session: Session, data: CancelLabelInput, cancelled: Label) -> LabelCancelled:
    """The cancelled label no longer kept: the shipment waits for a new one (label pending)."""
    stored = labels.stored_label(session, data.shipment_id)
    if stored is not None:
        session.delete(stored)
    record = _shipment(session, data.shipment_id)
    record.carrier = record.tracking_number = record.label_ref = None
    record.label_status, record.label_problem = "pending", None
    words = f"{data.shipment_id}: {cancelled.carrier} {cancelled.tracking_number} cancelled ({data.reason})"
    order_store.add_event(session, data.order_id, "label_cancelled", words, data.at)
    return LabelCancelled(True, cancelled.tracking_number)


def _shipment(session: Session, shipment_id: str) -> ShipmentRecord:
    record = session.get(ShipmentRecord, shipment_id)
    if record is None:
        unknown = f"shipment {shipment_id} is not recorded"
        raise ApplicationError(unknown, type=ErrorType.UNKNOWN_SHIPMENT, non_retryable=True)
    return record
