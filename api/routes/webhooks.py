"""Channel webhooks: each verifies its own signature over the raw body before reading it, then keeps
the body (redacted) with what became of it, malformed or not (api.audit), and hands the order to
intake (services.intake). Which headers carry the signature and the topic is the channel's spec's to
say (`spec.WebhookSpec`)."""

from __future__ import annotations

import json
import logging
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qs

from fastapi import APIRouter, HTTPException, Request, status
from fastapi.responses import JSONResponse
from pydantic import ValidationError

from api.audit import kept_payload
from api.deps import AuditDep, ChannelRefundsDep, IntakeDep, OrderEditsDep, PaymentUpdatesDep, SettingsDep
from api.errors import from_validation_error, unprocessable
from api.metrics import WebhookRoute
from api.schemas import OrderAccepted, RefundRecorded
from api.taken import accepted
from domain.money import MoneyError
from domain.order import InvalidOrder, order_id_for
from integrations.channels import shopify, woocommerce
from integrations.channels.shopify.refunds import REFUND_TOPICS, to_refund
from integrations.providers import PaymentGatewayUnavailable, PaymentRejected
from services.channel_refunds import ChannelRefunds
from services.errors import NotFound
from services.order_edits import ChannelEdit, OrderEdits
from services.payload_audit import KeptPayload

# Each refusal is counted per channel and reason (oms_webhook_rejections_total) by the route class.
router = APIRouter(prefix="/webhooks", tags=["webhooks"], route_class=WebhookRoute)


class _NotJson(ValueError):
    """NaN, Infinity and -Infinity: Python's json reads them, JSON (RFC 8259) has no such numbers."""


def _no_constants(name: str) -> object:
    raise _NotJson(f"{name} is not a JSON number")


def parse_json_object(raw: bytes) -> dict[str, Any]:
    """Decode a JSON object with exact decimals (no float ever holds a price); 400 for anything JSON
    does not allow or no parser should build (NaN, a number of thousands of digits, deep nesting)."""
    try:
        payload = json.loads(raw, parse_float=Decimal, parse_constant=_no_constants)
    except (UnicodeDecodeError, json.JSONDecodeError, _NotJson) as exc:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, f"malformed JSON: {exc}") from None
    except ValueError:  # Python refuses to build an integer of more than 4300 digits
        raise HTTPException(status.HTTP_400_BAD_REQUEST, "malformed JSON: an integer of 4300+ digits") from None
    except RecursionError:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, "malformed JSON: nested too deeply") from None
    if not isinstance(payload, dict):
        raise HTTPException(status.HTTP_400_BAD_REQUEST, "malformed JSON: expected an object")
    return payload


@router.post(
    "/shopify",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=OrderAccepted,
    responses={
        200: {"description": "a topic we do not act on (acknowledged, so Shopify does not retry it)"},
        400: {"description": "a signed body that is not a JSON object"},
        401: {"description": f"bad or missing {shopify.WEBHOOK.signature_header}"},
        422: {"description": "a signed order we cannot take as it is (the message names the field)"},
    },
)
async def shopify_webhook(
    request: Request,
    settings: SettingsDep,
    intake: IntakeDep,
    edits: OrderEditsDep,
    audit: AuditDep,
    refunds: ChannelRefundsDep,
) -> Any:
    """`orders/create` and `orders/cancelled` start or cancel the order, `orders/edited` changes it;
    `refunds/create` (a refund made in Shopify's admin) is recorded on its order once, answered with
    a `RefundRecorded`."""
    raw = await request.body()
    signature = request.headers.get(shopify.WEBHOOK.signature_header)
    if not shopify.verify_signature(settings.shopify_webhook_secret, raw, signature):
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "invalid Shopify webhook signature")
    topic = request.headers.get(shopify.WEBHOOK.topic_header, shopify.WEBHOOK.default_topic)
    async with kept_payload(audit, shopify.CHANNEL, topic, raw) as kept:
        payload = parse_json_object(raw)
        if topic in shopify.EDIT_TOPICS:
            return await _shopify_edit(payload, edits, kept)
        if topic in REFUND_TOPICS:
            return await _shopify_refund(payload, settings.currency_codes[0], refunds, kept)
        if topic not in shopify.ORDER_TOPICS | shopify.CANCEL_TOPICS:
            kept.outcome = "ignored"
            return _ignored(topic)
        kept.names(payload.get("id"))
        try:
            order = shopify.to_order(payload)
        except ValidationError as exc:
            raise from_validation_error(exc, "not a Shopify order") from None
        except (MoneyError, InvalidOrder) as exc:
            raise unprocessable(str(exc)) from None
        # Cancelled on Shopify (the signed body says so; the topic is unsigned): our saga undoes what
        # was done; once shipped it is refused (returns).
        cancel = shopify.cancellation(payload)
        uncancelled = cancel is None and topic in shopify.CANCEL_TOPICS
        # The order and its payload's audit row in one transaction; this odd one's outcome says
        # more, so it is kept on its own as before.
        taken = await intake.take(order, cancel_reason=cancel, kept=None if uncancelled else kept)
        kept.outcome = taken.outcome
        if uncancelled:
            kept.outcome += f" ({topic} with no cancelled_at in the body: taken as the order, not cancelled)"
        return accepted(taken, intake)


async def _shopify_edit(payload: dict[str, Any], edits: OrderEdits, kept: KeptPayload) -> Any:
    """Shopify's own order edit (orders/edited), made here too as an edit by Shopify; one we cannot
    take goes on the order's timeline for a person, and Shopify hears 202 either way (a retry
    would not change it). An order we do not have is acknowledged and ignored."""
    try:
        edit = shopify.to_order_edit(payload)
    except shopify.NotAnOrderEdit as exc:
        raise unprocessable(f"not a Shopify order edit: {exc}") from None
    kept.names(edit.order_external_id)
    order_id = order_id_for(shopify.CHANNEL, edit.order_external_id)
    reason = "edited on Shopify" + (f": {edit.staff_note}" if edit.staff_note else "")
    change = ChannelEdit(f"shopify order edit {edit.edit_id}", edit.removals, edit.additions, reason)
    try:
        kept.outcome = await edits.edit_from_channel(order_id, shopify.CHANNEL, change)
    except NotFound:
        kept.outcome = "ignored: no such order"
        return _ignored("orders/edited of an order we do not have")
    return JSONResponse(
        OrderAccepted(order_id=order_id, duplicate=kept.outcome.startswith("duplicate")).model_dump(),
        status_code=status.HTTP_202_ACCEPTED,
    )


@router.post(
    "/woocommerce",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=OrderAccepted,
    responses={
        200: {"description": "the ping sent when the webhook is saved, or a topic/status we do not act on"},
        400: {"description": "a signed body that is not a JSON object"},
        401: {"description": f"bad or missing {woocommerce.WEBHOOK.signature_header}"},
        422: {"description": "a signed order we cannot take as it is (the message names the field)"},
    },
)
async def woocommerce_webhook(request: Request, settings: SettingsDep, intake: IntakeDep, audit: AuditDep) -> Any:
    raw = await request.body()
    if woocommerce.is_ping(raw, request.headers):
        # Unsigned by WooCommerce itself; it activates the webhook only after a 200.
        return JSONResponse({"ping": "ok"}, status_code=status.HTTP_200_OK)
    signature = request.headers.get(woocommerce.WEBHOOK.signature_header)
    if not woocommerce.verify_signature(settings.woocommerce_webhook_secret, raw, signature):
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "invalid WooCommerce webhook signature")
    topic = request.headers.get(woocommerce.WEBHOOK.topic_header, woocommerce.WEBHOOK.default_topic)
    async with kept_payload(audit, woocommerce.CHANNEL, topic, raw) as kept:
        payload = parse_json_object(raw)
        if topic not in woocommerce.ORDER_TOPICS:
            kept.outcome = "ignored"
            return _ignored(topic)  # a 2xx: WooCommerce disables a webhook after repeated failed deliveries
        kept.names(payload.get("id"))
        try:
            action = woocommerce.webhook_action(topic, payload)
            if action == "ignore":
                kept.outcome = f"ignored: status {payload['status']}"
                return _ignored(str(payload["status"]))
            order = woocommerce.to_order(payload)
        except ValidationError as exc:
            raise from_validation_error(exc, "not a WooCommerce order") from None
        except (MoneyError, InvalidOrder) as exc:
            raise unprocessable(str(exc)) from None
        cancel = woocommerce.cancel_reason(payload) if action == "cancel" else None
        taken = await intake.take(order, cancel_reason=cancel, kept=kept)
        kept.outcome = taken.outcome
        return accepted(taken, intake)


MOLLIE_WEBHOOK_LOG = logging.getLogger("oms.webhooks.mollie")


@router.post(
    "/mollie",
    responses={
        200: {"description": "received (the same answer whether or not the payment is ours)"},
        400: {"description": "a body without a Mollie payment id (`id=tr_…`, form-encoded)"},
        503: {"description": "Mollie could not be asked about the payment now: Mollie retries the webhook"},
    },
)
async def mollie_webhook(request: Request, updates: PaymentUpdatesDep) -> Any:
    """Mollie's payment webhook: only `id=tr_…`, unsigned, so it proves nothing; the payment is read
    from Mollie and what changed is recorded once. 200 for every id we do not know, so Mollie stops
    retrying and nobody learns which ids exist."""
    raw = await request.body()
    try:
        ids = parse_qs(raw.decode("ascii"), max_num_fields=10, strict_parsing=True).get("id", [])
    except (UnicodeDecodeError, ValueError):
        ids = []
    if len(ids) != 1:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, "expected one form field id=tr_…")
    try:
        outcome = await updates.from_mollie(ids[0])
    except PaymentGatewayUnavailable as exc:
        MOLLIE_WEBHOOK_LOG.warning("Mollie webhook not handled now: %s", exc)
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, "Mollie could not be asked; try again") from None
    except PaymentRejected as exc:  # Mollie itself refuses to show the payment: nothing to record
        outcome = f"not readable at Mollie: {exc}"
    MOLLIE_WEBHOOK_LOG.info("Mollie webhook %s: %s", ids[0][:64], outcome)
    return JSONResponse({}, status_code=status.HTTP_200_OK)


async def _shopify_refund(
    payload: dict[str, Any], currency: str, refunds: ChannelRefunds, kept: KeptPayload
) -> JSONResponse:
    """A refund made in Shopify's admin, recorded on its order once (services.channel_refunds)."""
    kept.names(payload.get("order_id"))
    try:
        # Shopify's transactions carry their currency; ours only stands in for none.
        refund = to_refund(payload, currency)
    except ValidationError as exc:
        raise from_validation_error(exc, "not a Shopify refund") from None
    except MoneyError as exc:
        raise unprocessable(str(exc)) from None
    try:
        recorded = await refunds.record(refund)
    except InvalidOrder as exc:
        raise unprocessable(str(exc)) from None
    kept.outcome = _refund_outcome(recorded.order_id, recorded.duplicate, refund.return_id)
    body = RefundRecorded(refund_id=refund.refund_id, order_id=recorded.order_id, duplicate=recorded.duplicate)
    return JSONResponse(body.model_dump(), status_code=status.HTTP_202_ACCEPTED)


def _refund_outcome(order_id: str | None, duplicate: bool, return_id: str) -> str:
    if order_id is None:
        # 202 all the same: Shopify retries anything else for two days and then drops the webhook.
        return "refund for an order not known here: kept for a person"
    return f"{return_id} already recorded" if duplicate else f"recorded as {return_id} (refund on channel)"


def _ignored(topic: str) -> JSONResponse:
    # Acknowledge topics we do not act on, so Shopify does not retry them for two days.
    return JSONResponse({"ignored": topic}, status_code=status.HTTP_200_OK)
