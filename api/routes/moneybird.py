"""The books (admins): push the invoices and credit notes Moneybird does not hold yet, now.

The push is the daily schedule's (services.moneybird_schedule), triggered: it runs in the worker, never in the API's
request, and never beside another push (a trigger during a run is buffered until that run ends)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, status
from pydantic import BaseModel
from temporalio.client import ScheduleOverlapPolicy
from temporalio.service import RPCError, RPCStatusCode

from api.deps import StateDep, require
from api.errors import http_error
from domain.staff import Permission, StaffMember
from services.gateway import EngineUnavailable
from services.moneybird_schedule import MONEYBIRD_SCHEDULE_ID, ensure_moneybird_schedule

router = APIRouter(prefix="/books", tags=["books"])

Admins = Annotated[StaffMember, Depends(require(Permission.SETTINGS))]
_PROBLEM = {"application/json": {"schema": {"$ref": "#/components/schemas/Problem"}}}


class PushTriggered(BaseModel):
    schedule_id: str
    """The Temporal Schedule whose run books the documents (its runs are listed in the Temporal UI)."""


@router.post(
    "/moneybird/push",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=PushTriggered,
    responses={
        409: {"description": "Moneybird is not enabled (OMS_MONEYBIRD_ENABLED)", "content": _PROBLEM},
        503: {"description": "the workflow engine (Temporal) is unreachable; retry later", "content": _PROBLEM},
    },
)
async def push_to_moneybird(_: Admins, state: StateDep) -> Any:
    settings = state.settings
    if not settings.moneybird_enabled:
        raise HTTPException(
            status.HTTP_409_CONFLICT,
            {"message": "Moneybird is not enabled: set OMS_MONEYBIRD_ENABLED", "refusal": "moneybird_not_enabled"},
        )
    try:
        client = await state.temporal.client()
        handle = client.get_schedule_handle(MONEYBIRD_SCHEDULE_ID)
        try:
            await handle.trigger(overlap=ScheduleOverlapPolicy.BUFFER_ONE)
        except RPCError as exc:
            if exc.status is not RPCStatusCode.NOT_FOUND:
                raise
            # No worker has started with Moneybird enabled yet: the schedule is made here instead.
            await ensure_moneybird_schedule(client, settings)
            await handle.trigger(overlap=ScheduleOverlapPolicy.BUFFER_ONE)
    except EngineUnavailable as exc:
        raise http_error(exc) from None
    except RPCError:
        raise http_error(EngineUnavailable()) from None
    return PushTriggered(schedule_id=MONEYBIRD_SCHEDULE_ID)
