"""A requested return's label: asked of the carrier integration (Sendcloud's Returns API) once per
return, from the customer's shipping address back to the location that shipped the goods, with the
RMA as its reference; kept in `return_labels` and on the order's timeline.

- The order did not leave through a carrier integration (no integration configured, or no parcel
  of it was labelled by one): no label, None; the timeline says the customer ships it themselves.
- The carrier does not answer (an outage, a 429, refused keys): the row shows pending with its
  words and the activity raises so Temporal retries with backoff (a 429's Retry-After is the next
  delay). A return the carrier made whose label did not come yet is kept as pending with the
  carrier's id for it, so the retry asks that return again instead of making a second one.
- The carrier refuses (an address it cannot deliver to): final, recorded with its words and on the
  timeline; the activity fails without retrying (a person decides).

A return cancelled or expired has its label cancelled at the carrier (`cancel_return_label`), once:
the outcome is stored under the return's key, so a retry after the carrier was asked answers it
again; a carrier that can no longer cancel it (the parcel is on its way) is recorded with its words.

No database transaction is open while the carrier is asked.
"""

from __future__ import annotations

from datetime import timedelta
from math import ceil
from typing import NoReturn

from sqlalchemy.orm import Session
from temporalio import activity
from temporalio.exceptions import ApplicationError

from contracts.errors import ErrorType
from contracts.return_labels import (
    CancelReturnLabelInput,
    ReturnLabel,
    ReturnLabelCancelled,
    ReturnLabelInput,
    ReturnLabels,
)
from integrations.carriers.base import (
    Carrier,
    CarrierError,
    CarrierRateLimited,
    CarrierRefused,
    ReturnItem,
    ReturnLabelPending,
    ReturnLabelRequest,
)
from integrations.carriers.base import Label as CarrierLabel
from persistence.db import SessionFactory
from persistence.guarded_writes.idempotency import run_once, stored_result
from persistence.models import ReturnLabelRecord
from persistence.read_model import orders as order_store
from persistence.read_model import return_labels as store
from persistence.unit_of_work import UnitOfWork
from services.carrier_labels import recipient_address, sender_address

UNWEIGHED_RETURN_GRAMS = 1000
"""A return from a parcel nobody weighed (a location that confirmed by itself)."""


def return_weight_grams(parcel_weights: list[int] | None, shipped: dict[str, int], returned: dict[str, int]) -> int:
    """What the returned units weigh, as their share of the units in the parcel they left in (rounded
    up: a carrier prices by weight bands, and under-declaring costs a surcharge)."""
    total, units = sum(parcel_weights or []), sum(shipped.values())
    back = sum(min(quantity, shipped.get(sku, 0)) for sku, quantity in returned.items())
    if total <= 0 or units <= 0 or back <= 0:
        return UNWEIGHED_RETURN_GRAMS
    return max(1, ceil(total * back / units))


class ReturnLabelActivities(ReturnLabels):
    def __init__(self, session_factory: SessionFactory, carrier: Carrier | None) -> None:
        self._session_factory = session_factory
        self._carrier = carrier

    @activity.defn
    def create_return_label(self, data: ReturnLabelInput) -> ReturnLabel | None:
        request = self._prepare(data)
        if request is None or isinstance(request, ReturnLabel):
            return request
        assert self._carrier is not None  # _prepare answers None without one
        try:
            label = self._carrier.return_label_for(request)
        except CarrierRefused as refused:
            self._refused(data, str(refused))
        except ReturnLabelPending as pending:
            self._note_problem(data, str(pending), announced=pending.announced)
            raise _retry(str(pending), pending.retry_after) from None
        except CarrierRateLimited as limited:
            self._note_problem(data, str(limited))
            raise _retry(str(limited), limited.retry_after) from None
        except CarrierError as failed:
            self._note_problem(data, str(failed))
            raise _retry(str(failed), None) from None
        return self._keep(data, label)

    @activity.defn
    def cancel_return_label(self, data: CancelReturnLabelInput) -> ReturnLabelCancelled:
        """Once per return: the stored outcome when the carrier was asked before; no transaction
        is open while it is asked."""
        key = f"{data.return_id}:cancel-label"
        done = stored_result(self._session_factory, key, ReturnLabelCancelled)
        if done is not None:
            return done
        with UnitOfWork(self._session_factory) as uow:
            row = store.stored(uow.session, data.return_id)
            live = row is not None and row.status in (store.READY, store.PENDING) and bool(row.reference)
            reference = row.reference if row is not None and live else None
        if reference is None:
            return ReturnLabelCancelled(store.NONE)  # no label made through a carrier: nothing to cancel
        words = self._ask_to_cancel(reference)
        return run_once(
            self._session_factory, key, lambda session: _cancelled(session, data, words), ReturnLabelCancelled
        )

    def _ask_to_cancel(self, reference: str) -> str:
        """Ask the carrier to cancel the return made under `reference`: "" once asked, else why it
        cannot be (final); raises the retry while the carrier does not answer."""
        if self._carrier is None:
            return "no carrier integration is configured now: cancel it with the carrier by hand"
        try:
            self._carrier.cancel_return_label(reference)
        except CarrierRefused as refused:
            return str(refused)
        except CarrierRateLimited as limited:
            raise _retry(str(limited), limited.retry_after) from None
        except CarrierError as failed:
            raise _retry(str(failed), None) from None
        return ""

    def _prepare(self, data: ReturnLabelInput) -> ReturnLabelRequest | ReturnLabel | None:
        """The kept answer (a label, or None), or the request to make, recorded as pending first."""
        with UnitOfWork(self._session_factory) as uow:
            session = uow.session
            row = store.stored(session, data.return_id)
            if row is not None and row.status != store.PENDING:
                return _answer(data, row)
            source = store.return_source(session, data.order_id, data.lines, data.location_id)
            if self._carrier is None or source is None:
                if row is None or not row.reference:
                    _without_label(uow, data)
                    return None
                lost = True  # the worker lost its carrier settings after the carrier made the return
            else:
                lost = False
                row = store.keep(session, data.return_id, order_id=data.order_id, rma=data.rma, at=data.at)
                row.shipment_id, row.location_id = source.shipment.shipment_id, source.location.location_id
                request = ReturnLabelRequest(
                    shipment_id=source.shipment.shipment_id,
                    order_reference=source.order.reference or source.order.order_id,
                    customer=recipient_address(source.order),
                    returns_to=sender_address(source.location),
                    weight_grams=return_weight_grams(
                        source.shipment.parcel_weights_grams, source.shipment.lines or {}, data.lines
                    ),
                    reference=data.rma,
                    items=tuple(
                        ReturnItem(sku, quantity, source.titles.get(sku, ""))
                        for sku, quantity in sorted(data.lines.items())
                    ),
                    announced=row.reference or "",
                )
                location_id = source.location.location_id
                uow.commit()
        if lost:
            self._refused(
                data, f"the carrier made the return for {data.rma}, but no carrier integration is configured now"
            )
        missing = request.returns_to.missing()
        if missing:
            self._refused(
                data,
                f"{location_id} has no address for its return labels ({', '.join(missing)}): "
                f"set it with PUT /locations/{location_id}",
            )
        return request

    def _keep(self, data: ReturnLabelInput, label: CarrierLabel) -> ReturnLabel:
        with UnitOfWork(self._session_factory) as uow:
            row = store.keep(uow.session, data.return_id, order_id=data.order_id, rma=data.rma, at=data.at)
            if row.status != store.READY:
                row.status, row.problem = store.READY, None
                row.carrier, row.tracking_number, row.reference = label.carrier, label.tracking_number, label.reference
                row.tracking_url, row.media_type, row.document = label.tracking_url, label.media_type, label.document
                row.updated_at = data.at
                by = self._carrier.name.title() if self._carrier is not None else "the carrier"
                made = f"return label {label.tracking_number} by {by} ({label.carrier}) for {data.rma}"
                order_store.add_event(uow.session, data.order_id, "return_label", made, data.at)
            answer = ReturnLabel(row.carrier or "", row.tracking_number or "", store.label_url(data.return_id))
            uow.commit()
        return answer

    def _note_problem(self, data: ReturnLabelInput, problem: str, *, announced: str | None = None) -> None:
        """Why the label is still pending (the retry goes on), and the return the carrier made."""
        with UnitOfWork(self._session_factory) as uow:
            row = store.keep(uow.session, data.return_id, order_id=data.order_id, rma=data.rma, at=data.at)
            if row.status == store.PENDING:
                row.problem = problem
                row.reference = announced or row.reference
                row.updated_at = data.at
                uow.commit()

    def _refused(self, data: ReturnLabelInput, words: str) -> NoReturn:
        with UnitOfWork(self._session_factory) as uow:
            row = store.keep(uow.session, data.return_id, order_id=data.order_id, rma=data.rma, at=data.at)
            if row.status == store.PENDING:
                row.status, row.problem, row.updated_at = store.REFUSED, words, data.at
                refusal = f"return label for {data.rma} refused: {words}"
                order_store.add_event(uow.session, data.order_id, "return_label_refused", refusal, data.at)
                uow.commit()
            words = row.problem or words
        raise ApplicationError(words, type=ErrorType.CARRIER_REFUSED, non_retryable=True)


def _cancelled(session: Session, data: CancelReturnLabelInput, refused: str) -> ReturnLabelCancelled:
    """The carrier's answer to the cancellation, on the label and the timeline. A return the carrier
    did not know is as good as cancelled: no label of it can be used."""
    row = store.stored(session, data.return_id)
    assert row is not None, data.return_id
    label = f"return label {row.tracking_number or row.reference} for {data.rma}"
    row.updated_at = data.at
    if refused:
        row.problem = refused
        detail = f"{label} could not be cancelled (the return was {data.why}): {refused}"
        order_store.add_event(session, data.order_id, "return_label_not_cancelled", detail, data.at)
        return ReturnLabelCancelled(store.REFUSED)
    row.status, row.problem = store.CANCELLED, None
    order_store.add_event(
        session, data.order_id, "return_label_cancelled", f"{label} cancelled: the return was {data.why}", data.at
    )
    return ReturnLabelCancelled(store.CANCELLED)


def _answer(data: ReturnLabelInput, row: ReturnLabelRecord) -> ReturnLabel | None:
    """What a return whose label was settled before answers again."""
    if row.status == store.READY:
        return ReturnLabel(row.carrier or "", row.tracking_number or "", store.label_url(data.return_id))
    if row.status == store.REFUSED:
        raise ApplicationError(row.problem or "refused", type=ErrorType.CARRIER_REFUSED, non_retryable=True)
    return None


def _without_label(uow: UnitOfWork, data: ReturnLabelInput) -> None:
    """No carrier integration for this order: recorded once, and the timeline says so."""
    row = store.keep(uow.session, data.return_id, order_id=data.order_id, rma=data.rma, at=data.at)
    row.status, row.location_id = store.NONE, data.location_id
    shipped = f"{data.rma}: no carrier integration for this order: the customer ships the return themselves"
    order_store.add_event(uow.session, data.order_id, "return_without_label", shipped, data.at)
    uow.commit()


def _retry(message: str, wait: float | None) -> ApplicationError:
    delay = timedelta(seconds=wait) if wait is not None else None
    return ApplicationError(message, type=ErrorType.CARRIER_UNAVAILABLE, next_retry_delay=delay)
