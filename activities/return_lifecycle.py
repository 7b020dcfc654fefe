"""A return's steps, each recorded once (run_once keys per return and step): opened against what is
left to claim, approved, received, disposed of (stock booked), settled; refused as business errors
the workflow answers with (never retried)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import TypeVar

from sqlalchemy.orm import Session
from temporalio import activity
from temporalio.exceptions import ApplicationError

from contracts.errors import ErrorType
from contracts.return_lifecycle import (
    DisposedReturn,
    DisposeReturnInput,
    ExchangeNoted,
    ExchangeNoteInput,
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

R = TypeVar("R")


def _refused(exc: ReturnRefused | ReturnStepRefused) -> ApplicationError:
    kind = exc.kind.value
    error_type = ErrorType.RETURN_REFUSED if isinstance(exc, ReturnRefused) else ErrorType.RETURN_STEP_REFUSED
    return ApplicationError(str(exc), kind, type=error_type, non_retryable=True)


class ReturnLifecycleActivities(ReturnLifecycle):
    def __init__(
        self,
        session_factory: SessionFactory,
        *,
        expiry: timedelta = timedelta(days=30),
        auto_approve: bool = False,
        exchange_out_of_stock: str = "refund",
        exchange_wait: timedelta | None = timedelta(days=14),
    ) -> None:
        """`expiry`, `auto_approve`, `exchange_out_of_stock`, `exchange_wait`: OMS_RETURN_EXPIRY,
        OMS_RETURN_AUTO_APPROVE, OMS_EXCHANGE_OUT_OF_STOCK and OMS_BACKORDER_DEADLINE, as of each opening."""
        self._session_factory = session_factory
        self._expiry = expiry
        self._auto_approve = auto_approve
        self._out_of_stock = exchange_out_of_stock
        self._exchange_wait = None if exchange_wait is None else int(exchange_wait.total_seconds())

    @activity.defn
    def open_return(self, data: OpenReturnInput) -> OpenedReturn:
        """Checked against what left and what open returns claim, recorded, priced on request: one
        transaction under the order's lock, so two requests never both take the last units."""

        def effect(session: Session) -> OpenedReturn:
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

        opened = self._recorded_step(data.key, effect, OpenedReturn)
        opened.exchange_out_of_stock, opened.exchange_wait_seconds = self._out_of_stock, self._exchange_wait
        return opened

    def _recorded_step(self, key: str, effect: Callable[[Session], R], result_type: type[R]) -> R:
        """One step of a return, recorded once under `key`; a refusal of the rules (the database's
        view of the return) fails it as a business error, never retried."""

        def refused_as_business_error(session: Session) -> R:
            try:
                return effect(session)
            except (ReturnRefused, ReturnStepRefused) as refused:
                raise _refused(refused) from None

        return run_once(self._session_factory, key, refused_as_business_error, result_type)

    @activity.defn
    def record_return_step(self, data: ReturnStepInput) -> ReturnStepDone:
        target = ReturnState(data.state)

        def effect(session: Session) -> ReturnStepDone:
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
            return ReturnStepDone(refund)

        return self._recorded_step(f"{data.return_id}:{target.value}", effect, ReturnStepDone)

    @activity.defn
    def receive_return(self, data: ReceiveReturnInput) -> ReceivedReturn:
        def effect(session: Session) -> ReceivedReturn:
            receipt, refund, over = lifecycle.receive(
                session,
                order=data.order,
                return_id=data.return_id,
                location_id=data.location_id,
                lines=data.lines,
                person=data.by,
                at=data.at,
            )
            received = {sku: {c.value: n for c, n in units.items()} for sku, units in receipt.by_condition.items()}
            return ReceivedReturn(received, dict(receipt.short), refund, over)

        return self._recorded_step(f"{data.return_id}:RECEIVED", effect, ReceivedReturn)

    @activity.defn
    def dispose_return(self, data: DisposeReturnInput) -> DisposedReturn:
        def effect(session: Session) -> DisposedReturn:
            sellable = lifecycle.dispose(
                session,
                order_id=data.order_id,
                return_id=data.return_id,
                lines=data.lines,
                person=data.by,
                at=data.at,
            )
            return DisposedReturn(sellable)

        return self._recorded_step(f"{data.return_id}:DISPOSED", effect, DisposedReturn)

    @activity.defn
    def note_exchange(self, data: ExchangeNoteInput) -> ExchangeNoted:
        """Record what became of an exchange (once per return, kind and key)."""

        def effect(session: Session) -> ExchangeNoted:
            lifecycle.note_exchange(
                session,
                order_id=data.order_id,
                return_id=data.return_id,
                kind=data.kind,
                detail=data.detail,
                at=data.at,
                shipment_id=data.shipment_id,
            )
            return ExchangeNoted(data.kind)

        key = f"{data.return_id}:{data.kind}" + (f":{data.key}" if data.key else "")
        return run_once(self._session_factory, key, effect, ExchangeNoted)
