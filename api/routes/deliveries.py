"""Where parcels are after the handover (services.deliveries): Sendcloud's parcel status webhook,
and staff marking a parcel delivered when no carrier integration tells us.

The webhook answers 2xx to everything it verified and understood, also to a report it cannot use
(an unknown parcel, another action): Sendcloud retries anything else. A bad signature is 401, a
body that is not a parcel status change 400/422, a body over OMS_WEBHOOK_BODY_LIMIT 413."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Request, status
from pydantic import BaseModel, ConfigDict, Field

from api.deps import DeliveriesDep, SettingsDep, at_shipment
from api.errors import unprocessable
from api.metrics import WebhookRoute
from api.routes.webhooks import parse_json_object
from api.schemas import UtcTime
from domain.carrier_events import Outcome
from domain.staff import Permission, StaffMember
from integrations.carriers.sendcloud import webhooks as sendcloud
from persistence.read_model.deliveries import Recorded

router = APIRouter(tags=["deliveries"])
webhooks = APIRouter(prefix="/webhooks", tags=["webhooks"], route_class=WebhookRoute)
"""The carriers' webhooks: a refused delivery is counted under its webhook (api.metrics)."""

_REASONS: dict[Outcome, str] = {
    Outcome.MOVED: "the shipment took the reported status",
    Outcome.KEPT: "recorded; the shipment is already as far or further along",
    Outcome.REPEATED: "this report was recorded before",
    Outcome.NOT_HANDED_OVER: "recorded; the shipment has not been handed over yet",
    Outcome.NOT_A_DELIVERY: "recorded; a parcel to a pickup store finishes with the store's own steps",
    Outcome.UNKNOWN_PARCEL: "ignored: no shipment of ours has this parcel",
}


class CarrierEventAnswer(BaseModel):
    outcome: str = Field(description="moved, kept, repeated, not_handed_over, not_a_delivery, unknown_parcel, ignored")
    reason: str
    shipment_id: str | None = None
    status: str | None = Field(default=None, description="The shipment's status after the report")
    order_delivered_at: datetime | None = None


def _answer(recorded: Recorded) -> CarrierEventAnswer:
    return CarrierEventAnswer(
        outcome=recorded.outcome.value,
        reason=_REASONS[recorded.outcome],
        shipment_id=recorded.shipment_id,
        status=recorded.status,
        order_delivered_at=recorded.order_delivered_at,
    )


@webhooks.post(
    "/sendcloud",
    response_model=CarrierEventAnswer,
    responses={
        400: {"description": "a signed body that is not a JSON object"},
        401: {"description": f"bad or missing {sendcloud.SIGNATURE_HEADER}"},
        422: {"description": "a signed parcel_status_changed we cannot read (the message names the field)"},
    },
)
async def sendcloud_webhook(request: Request, settings: SettingsDep, deliveries: DeliveriesDep) -> Any:
    """Sendcloud's `parcel_status_changed`, verified with `Sendcloud-Signature` (hex HMAC-SHA256 of
    the raw body with the integration's secret key): the parcel's shipment moves forward only."""
    raw = await request.body()
    signature = request.headers.get(sendcloud.SIGNATURE_HEADER)
    if not sendcloud.verify_signature(settings.sendcloud_secret_key, raw, signature):
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "invalid Sendcloud webhook signature")
    payload = parse_json_object(raw)
    action = sendcloud.action_of(payload)
    if action != sendcloud.PARCEL_STATUS_CHANGED:
        return CarrierEventAnswer(outcome="ignored", reason=f"action {action[:60]!r} is not a parcel status change")
    try:
        event = sendcloud.to_carrier_event(payload)
    except sendcloud.MalformedEvent as exc:
        raise unprocessable(str(exc)) from None
    return _answer(await deliveries.report(event))


class DeliveredBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    delivered_at: UtcTime | None = Field(default=None, description="When it arrived; omitted: now")
    confirmed_by: str = Field(default="", max_length=200)


@router.post(
    "/shipments/{shipment_id}/delivered",
    response_model=CarrierEventAnswer,
    tags=["shipments"],
    responses={
        404: {"description": "unknown shipment"},
        409: {"description": "not handed over yet, a parcel to a pickup store, or returned to sender"},
        422: {"description": "a time before the shipment left, or in the future"},
    },
)
async def mark_delivered(
    shipment_id: str,
    member: Annotated[StaffMember, Depends(at_shipment(Permission.SHIPMENT_STEPS))],
    deliveries: DeliveriesDep,
    body: DeliveredBody | None = None,
) -> Any:
    """Staff record a parcel as delivered (no carrier integration reports it): the order's
    delivered_at and its returns window follow, as for a carrier's report."""
    body = body or DeliveredBody()
    recorded = await deliveries.mark_delivered(shipment_id, body.delivered_at, body.confirmed_by or member.label)
    return _answer(recorded)


router.include_router(webhooks)
