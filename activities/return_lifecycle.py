"""A return's steps, each recorded once (run_once keys per return and step): opened against what is
left to claim, approved, received, disposed of (stock booked), settled; refused as business errors
the workflow answers with (never retried)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.orm import Session
from temporalio import activity
from temporalio.exceptions import ApplicationError

from contracts.errors import ErrorType
from contracts.return_lifecycle import (
    DisposedReturn,
    DisposeReturnInput,
    OpenedReturn,
    OpenReturnInput,
    ReceivedReturn,
    ReceiveReturnInput,
    ReturnLifecycle,
    ReturnStepDone,
    ReturnStepInput,
)
from domain.return_lifecycle import ReturnState, ReturnStepRefused
from domain.returns import ReturnRefused
from persistence.db import SessionFactory
from persistence.guarded_writes.idempotency import run_once
from persistence.read_model import return_lifecycle as lifecycle


def _refused(exc: ReturnRefused | ReturnStepRefused) -> ApplicationError:
    kind = exc.kind.value
    error_type = ErrorType.RETURN_REFUSED if isinstance(exc, ReturnRefused) else ErrorType.RETURN_STEP_REFUSED
    return ApplicationError(str(exc), kind, type=error_type, non_retryable=True)


class ReturnLifecycleActivities(ReturnLifecycle):
    def __init__(
        self, session_factory: SessionFactory, *, expiry: timedelta = timedelta(days=30), auto_approve: bool = False
    ) -> None:
        """`expiry`, `auto_approve`: OMS_RETURN_EXPIRY and OMS_RETURN_AUTO_APPROVE, as of each opening."""
        self._session_factory = session_factory
        self._expiry = expiry
        self._auto_approve = auto_approve

    @activity.defn
    def open_return(self, data: OpenReturnInput) -> OpenedReturn:
        """Checked against what left and what open returns claim, recorded, priced on request: one
        transaction under the order's lock, so two requests never both take the last units."""

        def effect(session: Session) -> OpenedReturn:
            try:
                return lifecycle.open_return(
                    session,
                    order=data.order,
                    request=data.request,
                    at=data.at,
                    window_closes_at=data.window_closes_at,
                    check_window=data.check_window,
                    expiry=self._expiry,
                    auto_approve=self._auto_approve,
                    return_id=data.return_id,
                    shipped=data.shipped,
                    restock_at=data.restock_at,
                )
            except ReturnRefused as refused:
                raise _refused(refused) from None

        return run_once(self._session_factory, data.key, effect, OpenedReturn)

    @activity.defn
    def record_return_step(self, data: ReturnStepInput) -> ReturnStepDone:
        target = ReturnState(data.state)

        def effect(session: Session) -> ReturnStepDone:
            try:
                refund = lifecycle.step(
                    session,
                    order=data.order,
                    return_id=data.return_id,
                    target=target,
                    person=data.by,
                    reason=data.reason,
                    at=data.at,
                    expiry=self._expiry,
                )
            except ReturnStepRefused as refused:
                raise _refused(refused) from None
            return ReturnStepDone(refund)

        return run_once(self._session_factory, f"{data.return_id}:{target.value}", effect, ReturnStepDone)

    @activity.defn
    def receive_return(self, data: ReceiveReturnInput) -> ReceivedReturn:
        def effect(session: Session) -> ReceivedReturn:
            try:
                receipt, refund, over = lifecycle.receive(
                    session,
                    order=data.order,
                    return_id=data.return_id,
                    location_id=data.location_id,
                    lines=data.lines,
                    person=data.by,
                    at=data.at,
                )
            except ReturnStepRefused as refused:
                raise _refused(refused) from None
            received = {sku: {c.value: n for c, n in units.items()} for sku, units in receipt.by_condition.items()}
            return ReceivedReturn(received, dict(receipt.short), refund, over)

        return run_once(self._session_factory, f"{data.return_id}:RECEIVED", effect, ReceivedReturn)

    @activity.defn
    def dispose_return(self, data: DisposeReturnInput) -> DisposedReturn:
        def effect(session: Session) -> DisposedReturn:
            try:
                sellable = lifecycle.dispose(
                    session,
                    order_id=data.order_id,
                    return_id=data.return_id,
                    lines=data.lines,
                    person=data.by,
                    at=data.at,
                )
            except ReturnStepRefused as refused:
                raise _refused(refused) from None
            return DisposedReturn(sellable)

        return run_once(self._session_factory, f"{data.return_id}:DISPOSED", effect, DisposedReturn)
