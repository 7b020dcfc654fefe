"""A local Mollie: the Payments API v2 endpoints the gateway uses, in Mollie's documented shapes.

- Payments (`/v2/payments`): create, get, cancel (DELETE), release authorization; `captureMode`
  `manual` only for `creditcard` (cards hold the money; iDEAL and Bancontact take it at once).
- Captures (`/v2/payments/{id}/captures`, beta at Mollie): of an `authorized` payment, at most what
  is left of the authorization; the payment stays `authorized` until everything is captured or the
  rest is released ("If there is a successful capture, the payment will transition to paid").
- Refunds (`/v2/payments/{id}/refunds`): at most `amountRemaining`; created `pending`.
- Chargebacks (`/v2/payments/{id}/chargebacks`): listed; made through the test hook below.
- Amounts are `{"currency": "EUR", "value": "10.00"}` with the currency's exact decimals as a
  string, never a number; every resource carries `_links` (HAL, `application/hal+json`).
- Errors are Mollie's JSON: `{"status", "title", "detail", "field"?, "_links": {"documentation"}}`:
  401 without the API key, 404 unknown ids, 422 validation (naming the `field`), 429 with
  Retry-After and 503 when a test asks for them.
- `Idempotency-Key` on POST/PATCH/DELETE: the same key and request answer the first response again
  with `Idempotent-Replayed: true`; the same key with another request is a 422.
- Payment links (`/v2/payment-links`): create (`description`, `amount`, optional `expiresAt` in the
  future, `webhookUrl` Mollie can reach: never localhost, `redirectUrl`, `reusable`), get, update
  (`PATCH`: `description`, `archived`), delete (only while nobody paid through it), and the link's
  payments (`GET /v2/payment-links/{id}/payments`). A link has no status field: it is paid once it
  has `paidAt`, expired once `expiresAt` passed, closed once `archived`; a customer cannot pay an
  expired or archived link. Paying it creates a `tr_` payment, listed under the link's payments.

Test hooks under `/_sandbox`: set a payment's status as the customer would at checkout (`paid`,
`authorized`, `expired`, `canceled`, `failed`, `pending`), pay a payment link as the customer would
(its new payment `paid`), let a link's `expiresAt` pass, file a chargeback, make the next N calls
fail with a status (and Retry-After), switch an outage on and off, read the calls received.
"""

from __future__ import annotations

import hashlib
import ipaddress
import json
import secrets
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import urlsplit

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

API_KEY = "test_sandboxMollieKey0123456789abcdef"  # a sandbox credential, never a real one
HAL = "application/hal+json"
DOCS = "https://docs.mollie.com/overview/handling-errors"
METHODS = frozenset({"ideal", "bancontact", "creditcard", "banktransfer", "paypal", "applepay"})
MANUAL_CAPTURE_METHODS = frozenset({"creditcard"})
ZERO_DECIMAL = frozenset({"JPY", "ISK", "KRW", "CLP"})
STATUSES = frozenset({"open", "pending", "authorized", "paid", "canceled", "expired", "failed"})
TITLES = {
    400: "Bad Request",
    401: "Unauthorized Request",
    404: "Not Found",
    409: "Conflict",
    422: "Unprocessable Entity",
    429: "Too Many Requests",
    503: "Service Unavailable",
}


def _now() -> datetime:
    return datetime.now(UTC)


def _iso(at: datetime) -> str:
    return at.isoformat(timespec="seconds")


def error(status: int, detail: str, field_name: str | None = None) -> JSONResponse:
    body: dict[str, Any] = {"status": status, "title": TITLES.get(status, "Error"), "detail": detail}
    if field_name is not None:
        body["field"] = field_name
    body["_links"] = {"documentation": {"href": DOCS, "type": "text/html"}}
    return JSONResponse(body, status_code=status, media_type=HAL)


class Invalid(Exception):
    """A 422 naming the field."""

    def __init__(self, detail: str, field_name: str) -> None:
        super().__init__(detail)
        self.field_name = field_name


def _decimals(currency: str) -> int:
    return 0 if currency in ZERO_DECIMAL else 2


def parse_amount(raw: Any, name: str = "amount") -> tuple[str, int]:
    """An amount object as (currency, minor units); Mollie wants the value as a string with exactly
    the currency's decimals."""
    if not isinstance(raw, dict):
        raise Invalid(f"The {name} is invalid", name)
    currency, value = raw.get("currency"), raw.get("value")
    if not isinstance(currency, str) or len(currency) != 3 or not currency.isalpha() or not currency.isupper():
        raise Invalid(f"The {name} currency is invalid", f"{name}.currency")
    if not isinstance(value, str):
        raise Invalid(f"The {name} value must be a string", f"{name}.value")
    places = _decimals(currency)
    whole, _, fraction = value.partition(".")
    if (
        not whole.isdigit()
        or len(fraction) != places
        or (places and not fraction.isdigit())
        or ("." in value) != bool(places)
    ):
        raise Invalid(f"The {name} contains an invalid value: use {places} decimals for {currency}", f"{name}.value")
    try:
        minor = int(Decimal(value).scaleb(places))
    except InvalidOperation:
        raise Invalid(f"The {name} contains an invalid value", f"{name}.value") from None
    return currency, minor


def money(currency: str, minor: int) -> dict[str, str]:
    places = _decimals(currency)
    value = str(Decimal(minor).scaleb(-places)) if places else str(minor)
    if places and "." not in value:
        value += "." + "0" * places
    return {"currency": currency, "value": value}


def _link(href: str, kind: str = HAL) -> dict[str, str]:
    return {"href": href, "type": kind}


@dataclass
class _Payment:
    id: str
    currency: str
    amount: int
    description: str
    method: str | None
    capture_mode: str
    metadata: Any
    redirect_url: str | None
    webhook_url: str | None
    created_at: datetime
    status: str = "open"
    times: dict[str, datetime] = field(default_factory=dict)
    captures: list[dict[str, Any]] = field(default_factory=list)
    refunds: list[dict[str, Any]] = field(default_factory=list)
    chargebacks: list[dict[str, Any]] = field(default_factory=list)
    released: bool = False

    def captured(self) -> int:
        return sum(c["_minor"] for c in self.captures if c["status"] != "failed")

    def refunded(self) -> int:
        return sum(r["_minor"] for r in self.refunds if r["status"] not in ("failed", "canceled"))

    def charged_back(self) -> int:
        return sum(c["_minor"] for c in self.chargebacks)

    def taken(self) -> int:
        """What the merchant received: the whole amount once paid automatically, else the captures."""
        if self.capture_mode == "manual":
            return self.captured()
        return self.amount if self.status == "paid" else 0

    def refundable(self) -> int:
        return max(self.taken() - self.refunded() - self.charged_back(), 0)


@dataclass
class _PaymentLink:
    id: str
    currency: str
    amount: int
    description: str
    redirect_url: str | None
    webhook_url: str | None
    expires_at: datetime | None
    reusable: bool
    created_at: datetime
    archived: bool = False
    paid_at: datetime | None = None
    updated_at: datetime | None = None
    payments: list[str] = field(default_factory=list)

    def expired(self, now: datetime) -> bool:
        return self.paid_at is None and self.expires_at is not None and self.expires_at <= now


@dataclass
class _Failure:
    status: int
    count: int
    retry_after: str | None
    path_prefix: str


@dataclass
class _State:
    base: str = ""
    payments: dict[str, _Payment] = field(default_factory=dict)
    links: dict[str, _PaymentLink] = field(default_factory=dict)
    replies: dict[str, tuple[str, int, bytes]] = field(default_factory=dict)
    failures: list[_Failure] = field(default_factory=list)
    outage: bool = False
    calls: list[dict[str, Any]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


def _new_id(prefix: str) -> str:
    return f"{prefix}_{secrets.token_urlsafe(8).replace('-', 'x').replace('_', 'y')}"


def _payment_json(state: _State, payment: _Payment) -> dict[str, Any]:
    base = f"{state.base}/v2/payments/{payment.id}"
    body: dict[str, Any] = {
        "resource": "payment",
        "id": payment.id,
        "mode": "test",
        "createdAt": _iso(payment.created_at),
        "amount": money(payment.currency, payment.amount),
        "description": payment.description,
        "method": payment.method,
        "metadata": payment.metadata,
        "status": payment.status,
        "isCancelable": payment.status == "open",
        "profileId": "pfl_sandbox01",
        "sequenceType": "oneoff",
        "redirectUrl": payment.redirect_url,
        "webhookUrl": payment.webhook_url,
        "captureMode": payment.capture_mode,
    }
    for name, at in payment.times.items():
        body[name] = _iso(at)
    if payment.status == "open":
        body["expiresAt"] = _iso(payment.created_at + timedelta(minutes=15))
    if payment.capture_mode == "manual" and payment.status == "authorized":
        body["captureBefore"] = _iso(payment.times.get("authorizedAt", payment.created_at) + timedelta(days=28))
    if payment.taken():
        body["amountRefunded"] = money(payment.currency, payment.refunded())
        body["amountRemaining"] = money(payment.currency, payment.refundable())
    if payment.capture_mode == "manual":
        body["amountCaptured"] = money(payment.currency, payment.captured())
    if payment.chargebacks:
        body["amountChargedBack"] = money(payment.currency, payment.charged_back())
    links: dict[str, Any] = {
        "self": _link(base),
        "dashboard": _link(f"https://my.mollie.com/dashboard/payments/{payment.id}", "text/html"),
        "documentation": _link("https://docs.mollie.com/reference/get-payment", "text/html"),
    }
    if payment.status == "open":
        links["checkout"] = _link(f"https://www.mollie.com/checkout/select-method/{payment.id}", "text/html")
    for kind, items in (
        ("refunds", payment.refunds),
        ("captures", payment.captures),
        ("chargebacks", payment.chargebacks),
    ):
        if items:
            links[kind] = _link(f"{base}/{kind}")
    body["_links"] = links
    return body


def _child_json(state: _State, payment: _Payment, kind: str, item: dict[str, Any]) -> dict[str, Any]:
    shown = {key: value for key, value in item.items() if not key.startswith("_")}
    base = f"{state.base}/v2/payments/{payment.id}"
    shown["_links"] = {
        "self": _link(f"{base}/{kind}/{item['id']}"),
        "payment": _link(base),
        "documentation": _link(f"https://docs.mollie.com/reference/get-{kind[:-1]}", "text/html"),
    }
    return shown


def _list_json(state: _State, payment: _Payment, kind: str) -> dict[str, Any]:
    items = getattr(payment, kind)
    return {
        "count": len(items),
        "_embedded": {kind: [_child_json(state, payment, kind, item) for item in items]},
        "_links": {
            "self": _link(f"{state.base}/v2/payments/{payment.id}/{kind}"),
            "previous": None,
            "next": None,
            "documentation": _link(f"https://docs.mollie.com/reference/list-{kind}", "text/html"),
        },
    }


def _hal(body: dict[str, Any], status: int = 200) -> JSONResponse:
    return JSONResponse(body, status_code=status, media_type=HAL)


async def _body(request: Request) -> dict[str, Any]:
    raw = await request.body()
    if not raw:
        return {}
    try:
        parsed = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise Invalid("The request body is not valid JSON", "body") from None
    if not isinstance(parsed, dict):
        raise Invalid("The request body must be an object", "body")
    return parsed


async def _idempotent(state: _State, request: Request, call_next: Any, key: str) -> Response:
    """The first answer to a key again (Idempotent-Replayed), or a 422 for another request under it."""
    raw = await request.body()
    fingerprint = hashlib.sha256(f"{request.method} {request.url.path}\n".encode() + raw).hexdigest()
    with state.lock:
        seen = state.replies.get(key)
    if seen is not None:
        if seen[0] != fingerprint:
            return error(422, "The Idempotency-Key was already used for a different request", "Idempotency-Key")
        replay = Response(seen[2], status_code=seen[1], media_type=HAL)
        replay.headers["Idempotent-Replayed"] = "true"
        return replay
    response: Response = await call_next(request)
    body = b"".join([chunk async for chunk in response.body_iterator])  # type: ignore[attr-defined]
    if response.status_code < 500:
        with state.lock:
            state.replies.setdefault(key, (fingerprint, response.status_code, body))
    return Response(body, status_code=response.status_code, headers=dict(response.headers))


def create_app(api_key: str = API_KEY) -> FastAPI:
    """A fresh sandbox with its own in-memory state."""
    app = FastAPI(title="Mollie API sandbox")
    state = _State()
    app.state.mollie = state

    @app.middleware("http")
    async def _checks(request: Request, call_next: Any) -> Response:
        state.base = state.base or str(request.base_url).rstrip("/")
        path = request.url.path
        if path.startswith("/_sandbox"):
            sandbox_response: Response = await call_next(request)
            return sandbox_response
        key = request.headers.get("Idempotency-Key", "")
        with state.lock:
            state.calls.append({"method": request.method, "path": path, "idempotency_key": key})
            failure = next((f for f in state.failures if path.startswith(f.path_prefix)), None)
            if failure is not None:
                failure.count -= 1
                if failure.count <= 0:
                    state.failures.remove(failure)
            outage = state.outage
        if outage:
            return error(503, "The Mollie API is temporarily unavailable (sandbox outage)")
        if failure is not None:
            answer = error(failure.status, "failure injected by /_sandbox/fail-next")
            if failure.retry_after is not None:
                answer.headers["Retry-After"] = failure.retry_after
            return answer
        if not secrets.compare_digest(request.headers.get("Authorization", ""), f"Bearer {api_key}"):
            return error(401, "Missing authentication, or failed to authenticate")
        if request.method in ("POST", "PATCH", "DELETE") and key:
            return await _idempotent(state, request, call_next, key)
        response: Response = await call_next(request)
        return response

    _payment_routes(app, state)
    _capture_routes(app, state)
    _refund_routes(app, state)
    _payment_link_routes(app, state)
    _sandbox_routes(app, state)
    _fault_routes(app, state)
    return app


def _new_payment(body: dict[str, Any]) -> _Payment:
    """A payment as `POST /v2/payments` creates it (open), or Invalid naming the field."""
    currency, minor = parse_amount(body.get("amount"))
    description = body.get("description")
    if not isinstance(description, str) or not description.strip() or len(description) > 255:
        raise Invalid("The description is invalid", "description")
    method = body.get("method")
    if method is not None and method not in METHODS:
        raise Invalid(f"The payment method '{method}' is invalid", "method")
    mode = body.get("captureMode", "automatic")
    if mode not in ("automatic", "manual"):
        raise Invalid("The capture mode is invalid", "captureMode")
    if mode == "manual" and method not in MANUAL_CAPTURE_METHODS:
        raise Invalid("Manual capture is only possible with the creditcard method", "captureMode")
    if not isinstance(body.get("redirectUrl"), str):
        raise Invalid("The redirect URL is required", "redirectUrl")
    return _Payment(
        id=_new_id("tr"),
        currency=currency,
        amount=minor,
        description=description,
        method=method,
        capture_mode=mode,
        metadata=body.get("metadata"),
        redirect_url=body.get("redirectUrl"),
        webhook_url=body.get("webhookUrl"),
        created_at=_now(),
    )


def _payment_routes(app: FastAPI, state: _State) -> None:
    @app.post("/v2/payments")
    async def create_payment(request: Request) -> Response:
        try:
            payment = _new_payment(await _body(request))
        except Invalid as exc:
            return error(422, str(exc), exc.field_name)
        with state.lock:
            state.payments[payment.id] = payment
            return _hal(_payment_json(state, payment), 201)

    @app.get("/v2/payments/{payment_id}")
    async def get_payment(payment_id: str) -> Response:
        with state.lock:
            payment = state.payments.get(payment_id)
            if payment is None:
                return error(404, f"No payment exists with token {payment_id}.")
            return _hal(_payment_json(state, payment))

    @app.delete("/v2/payments/{payment_id}")
    async def cancel_payment(payment_id: str) -> Response:
        with state.lock:
            payment = state.payments.get(payment_id)
            if payment is None:
                return error(404, f"No payment exists with token {payment_id}.")
            if payment.status != "open":
                return error(422, f"The payment cannot be canceled: it is {payment.status}")
            payment.status = "canceled"
            payment.times["canceledAt"] = _now()
            return _hal(_payment_json(state, payment))

    @app.post("/v2/payments/{payment_id}/release-authorization")
    async def release_authorization(payment_id: str) -> Response:
        with state.lock:
            payment = state.payments.get(payment_id)
            if payment is None:
                return error(404, f"No payment exists with token {payment_id}.")
            if payment.capture_mode != "manual" or payment.status != "authorized":
                return error(422, f"The authorization cannot be released: the payment is {payment.status}")
            payment.released = True
            if payment.captured():
                payment.status, payment.times["paidAt"] = "paid", _now()
            else:
                payment.status, payment.times["canceledAt"] = "canceled", _now()
            return _hal(_payment_json(state, payment), 202)  # the payment, as Mollie's clients read it


def _same_currency(payment: _Payment, currency: str) -> None:
    if currency != payment.currency:
        raise Invalid("The currency must be the same as the payment's", "amount.currency")


def _child(
    resource: str, prefix: str, payment: _Payment, body: dict[str, Any], minor: int, status: str, description: Any
) -> dict[str, Any]:
    """A capture or refund of `payment`, as Mollie shows it (`_minor`: the amount, for the sandbox's sums)."""
    return {
        "resource": resource,
        "id": _new_id(prefix),
        "mode": "test",
        "description": description,
        "amount": money(payment.currency, minor),
        "status": status,
        "paymentId": payment.id,
        "metadata": body.get("metadata"),
        "createdAt": _iso(_now()),
        "_minor": minor,
    }


def _capture_routes(app: FastAPI, state: _State) -> None:
    @app.post("/v2/payments/{payment_id}/captures")
    async def create_capture(payment_id: str, request: Request) -> Response:
        with state.lock:
            payment = state.payments.get(payment_id)
        if payment is None:
            return error(404, f"No payment exists with token {payment_id}.")
        try:
            body = await _body(request)
            with state.lock:
                if payment.capture_mode != "manual" or payment.status != "authorized":
                    return error(422, f"The payment cannot be captured: it is {payment.status}")
                left = payment.amount - payment.captured()
                currency, minor = parse_amount(body["amount"]) if "amount" in body else (payment.currency, left)
                _same_currency(payment, currency)
                if minor <= 0 or minor > left:
                    raise Invalid(f"The amount is higher than the amount that can be captured ({left})", "amount")
                capture = _child("capture", "cpt", payment, body, minor, "succeeded", body.get("description"))
                payment.captures.append(capture)
                if payment.captured() == payment.amount:
                    payment.status, payment.times["paidAt"] = "paid", _now()
                return _hal(_child_json(state, payment, "captures", capture), 201)
        except Invalid as exc:
            return error(422, str(exc), exc.field_name)


def _refund_routes(app: FastAPI, state: _State) -> None:
    @app.post("/v2/payments/{payment_id}/refunds")
    async def create_refund(payment_id: str, request: Request) -> Response:
        with state.lock:
            payment = state.payments.get(payment_id)
        if payment is None:
            return error(404, f"No payment exists with token {payment_id}.")
        try:
            body = await _body(request)
            currency, minor = parse_amount(body.get("amount"))
            with state.lock:
                _same_currency(payment, currency)
                if payment.taken() == 0:
                    return error(422, f"The payment cannot be refunded: it is {payment.status}")
                if minor <= 0 or minor > payment.refundable():
                    raise Invalid(
                        f"The amount is higher than the amount that can be refunded ({payment.refundable()})", "amount"
                    )
                refund = _child("refund", "re", payment, body, minor, "pending", body.get("description", ""))
                payment.refunds.append(refund)
                return _hal(_child_json(state, payment, "refunds", refund), 201)
        except Invalid as exc:
            return error(422, str(exc), exc.field_name)

    @app.get("/v2/payments/{payment_id}/{kind}")
    async def list_children(payment_id: str, kind: str) -> Response:
        if kind not in ("captures", "refunds", "chargebacks"):
            return error(404, f"The resource {kind} does not exist")
        with state.lock:
            payment = state.payments.get(payment_id)
            if payment is None:
                return error(404, f"No payment exists with token {payment_id}.")
            return _hal(_list_json(state, payment, kind))


def _sandbox_routes(app: FastAPI, state: _State) -> None:
    @app.post("/_sandbox/payments/{payment_id}/status")
    async def set_status(payment_id: str, request: Request) -> Response:
        """What the customer does at checkout: `{"status": "paid"}` (iDEAL/Bancontact), `authorized`
        (a card with manual capture), `expired`, `canceled`, `failed`, `pending`."""
        body = await request.json()
        status = body.get("status")
        with state.lock:
            payment = state.payments.get(payment_id)
            if payment is None:
                return JSONResponse({"error": "unknown payment"}, status_code=404)
            manual = payment.capture_mode == "manual"
            if status not in STATUSES or (status == "authorized" and not manual) or (status == "paid" and manual):
                # A card held for manual capture becomes paid by its captures, never at checkout.
                return JSONResponse({"error": f"a {payment.capture_mode} payment cannot become {status}"}, 400)
            payment.status = status
            stamp = {"authorized": "authorizedAt", "paid": "paidAt", "canceled": "canceledAt"}
            stamp |= {"expired": "expiredAt", "failed": "failedAt"}
            if status in stamp:
                payment.times[stamp[status]] = _now()
            return JSONResponse(_payment_json(state, payment))

    @app.post("/_sandbox/payments/{payment_id}/chargebacks")
    async def chargeback(payment_id: str, request: Request) -> Response:
        """The customer's bank reverses `{"amount": {...}}` of a paid payment."""
        body = await request.json()
        with state.lock:
            payment = state.payments.get(payment_id)
            if payment is None:
                return JSONResponse({"error": "unknown payment"}, status_code=404)
            try:
                currency, minor = parse_amount(body.get("amount"))
            except Invalid as exc:
                return error(422, str(exc), exc.field_name)
            item = {
                "resource": "chargeback",
                "id": _new_id("chb"),
                "amount": money(currency, minor),
                "createdAt": _iso(_now()),
                "reason": {"code": "AC01", "description": "Account identifier incorrect"},
                "paymentId": payment.id,
                "_minor": minor,
            }
            payment.chargebacks.append(item)
            return JSONResponse(_child_json(state, payment, "chargebacks", item), status_code=201)


def _link_json(state: _State, link: _PaymentLink) -> dict[str, Any]:
    token = link.id.removeprefix("pl_")
    body: dict[str, Any] = {
        "resource": "payment-link",
        "id": link.id,
        "mode": "test",
        "description": link.description,
        "amount": money(link.currency, link.amount),
        "archived": link.archived,
        "redirectUrl": link.redirect_url,
        "webhookUrl": link.webhook_url,
        "profileId": "pfl_sandbox01",
        "createdAt": _iso(link.created_at),
        "paidAt": _iso(link.paid_at) if link.paid_at else None,
        "updatedAt": _iso(link.updated_at) if link.updated_at else None,
        "expiresAt": _iso(link.expires_at) if link.expires_at else None,
        "reusable": link.reusable,
        "sequenceType": "oneoff",
        "_links": {
            "self": _link(f"{state.base}/v2/payment-links/{link.id}"),
            "paymentLink": _link(f"https://payment-links.mollie.com/payment/{token}", "text/html"),
            "documentation": _link("https://docs.mollie.com/reference/get-payment-link", "text/html"),
        },
    }
    return body


def _unreachable(url: str) -> bool:
    """Mollie must reach a webhook: localhost and loopback addresses are refused."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if parts.scheme not in ("http", "https") or not host or host == "localhost":
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    return address.is_loopback or address.is_unspecified


def _new_link(body: dict[str, Any]) -> _PaymentLink:
    """A payment link as `POST /v2/payment-links` creates it, or Invalid naming the field."""
    currency, minor = parse_amount(body.get("amount"))
    if minor <= 0:
        raise Invalid("The amount must be at least 0.01", "amount.value")
    description = body.get("description")
    if not isinstance(description, str) or not description.strip() or len(description) > 255:
        raise Invalid("The description is invalid", "description")
    expires_at: datetime | None = None
    if body.get("expiresAt") is not None:
        try:
            expires_at = datetime.fromisoformat(str(body["expiresAt"]))
        except ValueError:
            raise Invalid("The expiry date is invalid", "expiresAt") from None
        if expires_at.tzinfo is None:
            raise Invalid("The expiry date needs a timezone offset", "expiresAt")
        expires_at = expires_at.astimezone(UTC)
        if expires_at <= _now():
            raise Invalid("The expiry date must be in the future", "expiresAt")
    for name in ("webhookUrl", "redirectUrl"):
        value = body.get(name)
        if value is not None and (not isinstance(value, str) or len(value) > 2000):
            raise Invalid(f"The {name} is invalid", name)
    webhook = body.get("webhookUrl")
    if isinstance(webhook, str) and _unreachable(webhook):
        raise Invalid("The webhook URL is invalid because it is unreachable from Mollie's point of view", "webhookUrl")
    return _PaymentLink(
        id=_new_id("pl"),
        currency=currency,
        amount=minor,
        description=description,
        redirect_url=body.get("redirectUrl"),
        webhook_url=webhook,
        expires_at=expires_at,
        reusable=bool(body.get("reusable", False)),
        created_at=_now(),
    )


def _payment_link_routes(app: FastAPI, state: _State) -> None:
    def unknown(link_id: str) -> JSONResponse:
        return error(404, f"No payment link exists with token {link_id}.")

    @app.post("/v2/payment-links")
    async def create_link(request: Request) -> Response:
        try:
            link = _new_link(await _body(request))
        except Invalid as exc:
            return error(422, str(exc), exc.field_name)
        with state.lock:
            state.links[link.id] = link
            return _hal(_link_json(state, link), 201)

    @app.get("/v2/payment-links/{link_id}")
    async def get_link(link_id: str) -> Response:
        with state.lock:
            link = state.links.get(link_id)
            return unknown(link_id) if link is None else _hal(_link_json(state, link))

    @app.patch("/v2/payment-links/{link_id}")
    async def update_link(link_id: str, request: Request) -> Response:
        try:
            body = await _body(request)
            with state.lock:
                link = state.links.get(link_id)
                if link is None:
                    return unknown(link_id)
                if "archived" in body and not isinstance(body["archived"], bool):
                    raise Invalid("The archived flag must be a boolean", "archived")
                if "description" in body:
                    description = body["description"]
                    if not isinstance(description, str) or not description.strip() or len(description) > 255:
                        raise Invalid("The description is invalid", "description")
                    link.description = description
                link.archived = body.get("archived", link.archived)
                link.updated_at = _now()
                return _hal(_link_json(state, link))
        except Invalid as exc:
            return error(422, str(exc), exc.field_name)

    @app.delete("/v2/payment-links/{link_id}")
    async def delete_link(link_id: str) -> Response:
        with state.lock:
            link = state.links.get(link_id)
            if link is None:
                return unknown(link_id)
            if link.payments:
                return error(422, "The payment link cannot be deleted: payments were made through it")
            del state.links[link_id]
            return Response(status_code=204)

    @app.get("/v2/payment-links/{link_id}/payments")
    async def link_payments(link_id: str) -> Response:
        with state.lock:
            link = state.links.get(link_id)
            if link is None:
                return unknown(link_id)
            payments = [_payment_json(state, state.payments[p]) for p in link.payments]
            return _hal(
                {
                    "count": len(payments),
                    "_embedded": {"payments": payments},
                    "_links": {
                        "self": _link(f"{state.base}/v2/payment-links/{link_id}/payments"),
                        "previous": None,
                        "next": None,
                        "documentation": _link(
                            "https://docs.mollie.com/reference/get-payment-link-payments", "text/html"
                        ),
                    },
                }
            )

    @app.post("/_sandbox/payment-links/{link_id}/pay")
    async def pay_link(link_id: str, request: Request) -> Response:
        """The customer opens the link and pays (`{"method": "ideal"}`; `"status": "failed"` to fail
        at the bank instead): a `tr_` payment of the link's amount. 409 when the link is paid,
        expired or archived (Mollie shows the customer that page instead)."""
        raw = await request.body()
        body = json.loads(raw) if raw else {}
        with state.lock:
            link = state.links.get(link_id)
            if link is None:
                return JSONResponse({"error": "unknown payment link"}, status_code=404)
            now = _now()
            if link.archived or link.expired(now) or (link.paid_at is not None and not link.reusable):
                return JSONResponse({"error": "the payment link cannot be paid any more"}, status_code=409)
            payment = _Payment(
                id=_new_id("tr"),
                currency=link.currency,
                amount=link.amount,
                description=link.description,
                method=body.get("method", "ideal"),
                capture_mode="automatic",
                metadata=None,
                redirect_url=link.redirect_url,
                webhook_url=link.webhook_url,
                created_at=now,
            )
            status = body.get("status", "paid")
            payment.status = status if status in ("paid", "failed", "canceled", "open") else "paid"
            stamp = {"paid": "paidAt", "failed": "failedAt", "canceled": "canceledAt"}.get(payment.status)
            if stamp:
                payment.times[stamp] = now
            state.payments[payment.id] = payment
            link.payments.append(payment.id)
            if payment.status == "paid":
                link.paid_at = now
            return JSONResponse({"payment_id": payment.id, "status": payment.status, "webhook_url": link.webhook_url})

    @app.post("/_sandbox/payment-links/{link_id}/expire")
    async def expire_link(link_id: str) -> Response:
        """Time passes: the link's `expiresAt` is now."""
        with state.lock:
            link = state.links.get(link_id)
            if link is None:
                return JSONResponse({"error": "unknown payment link"}, status_code=404)
            link.expires_at = _now()
            return JSONResponse(_link_json(state, link))


def _fault_routes(app: FastAPI, state: _State) -> None:
    @app.post("/_sandbox/fail-next")
    async def fail_next(request: Request) -> Response:
        """`{"status": 429, "count": 1, "retry_after": "2", "path_prefix": "/v2/payments"}`."""
        body = await request.json()
        failure = _Failure(
            int(body["status"]), int(body.get("count", 1)), body.get("retry_after"), body.get("path_prefix", "/v2")
        )
        with state.lock:
            state.failures.append(failure)
        return JSONResponse({"ok": True})

    @app.post("/_sandbox/outage")
    async def outage(request: Request) -> Response:
        body = await request.json()
        with state.lock:
            state.outage = bool(body.get("on", True))
        return JSONResponse({"outage": state.outage})

    @app.get("/_sandbox/calls")
    async def calls() -> Response:
        with state.lock:
            return JSONResponse(list(state.calls))
