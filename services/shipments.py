"""Shipments for warehouse and store staff: pick lists, a shipment's live state, step confirmations,
late steps.

A confirmation is an update on the shipment's workflow: its validator refuses a step out of order,
from the wrong location or with impossible quantities before anything reaches the history, and the
answer comes once the step is recorded. No unit of work is open meanwhile (on SQLite it would be the
write lock the worker's step waits for)."""

from __future__ import annotations

import asyncio
from collections.abc import Collection
from dataclasses import dataclass

from contracts.errors import ErrorType
from contracts.shipments import ShipmentProgress, StepConfirmation
from domain.fulfilment import RefusalKind, ShipmentStatus
from persistence.models import Escalation, ShipmentRecord
from services.errors import Conflict, NotFound, refused
from services.gateway import (
    EngineError,
    EngineUnavailable,
    UpdateFailed,
    WorkflowGateway,
    WorkflowNotFound,
)
from services.unit_of_work import UnitOfWorkFactory

STARTING_POLL = 0.2
_UNPROCESSABLE = frozenset({RefusalKind.WRONG_LOCATION.value, RefusalKind.INVALID.value})


@dataclass(frozen=True)
class ShipmentView:
    record: ShipmentRecord
    progress: ShipmentProgress | None
    """The workflow's live answer; None when it could not be asked (the record says)."""


class Shipments:
    def __init__(self, units: UnitOfWorkFactory, workflows: WorkflowGateway, *, starting_grace: float = 10.0) -> None:
        self._units = units
        self._workflows = workflows
        self._starting_grace = starting_grace
        """Seconds a confirmation waits for the workflow of a shipment just recorded."""

    def pick_list(
        self,
        *,
        location_id: str | None,
        status: str | None,
        open_only: bool,
        limit: int,
        offset: int,
        location_ids: Collection[str] | None = None,
    ) -> list[ShipmentRecord]:
        """`location_ids`: only shipments from (or to be collected at) one of these (a warehouse
        user's own locations); None: everywhere."""
        with self._units(read_only=True) as uow:
            return uow.shipments.page(
                location_id=location_id,
                status=status,
                open_only=open_only,
                limit=limit,
                offset=offset,
                location_ids=location_ids,
            )

    def escalations(
        self,
        *,
        open_only: bool,
        location_id: str | None,
        limit: int,
        offset: int,
        location_ids: Collection[str] | None = None,
    ) -> tuple[list[Escalation], int]:
        """Shipment steps that missed their deadline (open ones until the step is done)."""
        with self._units(read_only=True) as uow:
            return uow.shipments.escalations(
                open_only=open_only, location_id=location_id, limit=limit, offset=offset, location_ids=location_ids
            )

    async def record(self, shipment_id: str) -> ShipmentRecord:
        """The shipment as recorded (NotFound): where it ships from and goes to, for a location check."""
        return await self._recorded(shipment_id)

    async def view(self, shipment_id: str) -> ShipmentView:
        record = await self._recorded(shipment_id)
        try:
            progress: ShipmentProgress | None = await self._workflows.shipment_progress(shipment_id)
        except (EngineError, EngineUnavailable):
            progress = None  # shipped before shipments had workflows, or the engine is away
        return ShipmentView(record, progress)

    async def confirm(self, shipment_id: str, confirmation: StepConfirmation) -> ShipmentView:
        """NotFound; Conflict or Unprocessable with the refusal's kind; EngineUnavailable."""
        record = await self._recorded(shipment_id)
        try:
            progress = await self._confirm_once_started(record, confirmation)
        except UpdateFailed as exc:
            if exc.error_type == ErrorType.CONFIRMATION_REFUSED:
                kind = exc.refusal or RefusalKind.OUT_OF_ORDER.value
                raise refused(exc.refused_because, kind, _UNPROCESSABLE) from None
            raise Conflict(f"confirmation refused: {exc.reason}") from None
        except WorkflowNotFound:
            message = f"shipment {shipment_id} is not waiting for confirmations (finished or unknown)"
            raise Conflict(message) from None
        except EngineError:
            raise EngineUnavailable() from None
        return ShipmentView(await self._recorded(shipment_id), progress)

    async def _confirm_once_started(self, record: ShipmentRecord, confirmation: StepConfirmation) -> ShipmentProgress:
        """The pick list shows a shipment as soon as sourcing records it; its workflow starts a moment
        later. A confirmation in between waits for it (a short, bounded wait) instead of being told
        the shipment takes no confirmations."""
        waited = 0.0
        while True:
            try:
                return await self._workflows.confirm_step(record.shipment_id, confirmation)
            except WorkflowNotFound:
                if record.status != ShipmentStatus.RESERVED or waited >= self._starting_grace:
                    raise
            await asyncio.sleep(STARTING_POLL)
            waited += STARTING_POLL

    async def _recorded(self, shipment_id: str) -> ShipmentRecord:
        """The shipment's row, read in its own short unit of work."""

        def read() -> ShipmentRecord | None:
            with self._units(read_only=True) as uow:
                return uow.shipments.get(shipment_id)

        record = await asyncio.to_thread(read)
        if record is None:
            raise NotFound(f"no shipment {shipment_id}")
        return record
