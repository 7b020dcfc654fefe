"""A local Sendcloud (API v3): the endpoints the carrier integration uses, in Sendcloud's documented
shapes (https://sendcloud.dev/api/v3/shipments, /api/v3/returns, /api/v3/parcel-documents,
/api/v3/webhooks), for tests and `make run` in development.

- HTTP Basic auth with the public key as user and the secret key as password; anything else is 401.
- `POST /shipments/announce` (synchronous): required address fields, 1-15 parcels with a weight,
  a known `ship_with` shipping option, a Dutch postcode that looks like one: else 400 with JSON:API
  error objects (`{"errors": [{"status", "code", "detail", "source": {"pointer"}}]}`); an
  `external_reference_id` used before is 409 with the existing shipment; else 201 `{"data": shipment}`
  with its parcels (READY_TO_SEND, a tracking number that depends only on the carrier and the
  reference, a `label` document link) and `carrier: {code, name}`.
- `GET /shipments?external_reference_id=`, `GET /parcels/{id}/documents/label`,
  `GET /parcel-documents/label?parcels=…` (a real one-page PDF per label).
- `POST /shipments/{id}/cancel` (https://sendcloud.dev/api/v3/shipments/cancel-a-shipment): 200
  `{"data": {"status": "cancelled", "message": "Shipment has been cancelled"}}` while its parcels
  are ready to send (they become CANCELLED, so `GET /shipments` shows them so; asking again answers
  the same), 404 for an unknown shipment, 409 with JSON:API errors (`cancellation_not_possible`)
  once a parcel is with the carrier or when `/_sandbox/refuse-cancellations` says the carrier no
  longer lets it go (Sendcloud documents only that not every carrier can: the code is ours).
- Returns (https://sendcloud.dev/api/v3/returns): `POST /returns/announce-synchronously` checks the
  addresses, the return shipping option, the weight and item quantities (400 with the Returns API's
  `{"errors": [{"field", "code", "message"}]}`), a Dutch postcode of the customer and an
  `external_reference` used before (400 with the older `{"error": {"code", "request", "message"}}`,
  "External reference has already been used in another return."); else 201 `{return_id, parcel_id,
  multi_collo_ids}`. `GET /returns/{id}` shows its tracking number, `label` links and
  `parent_status`. `PATCH /returns/{id}/cancel` (https://sendcloud.dev/api/v3/returns/request-cancellation-of-a-return):
  202 `{"message": "Cancellation requested successfully"}` while the parcel has not reached the
  carrier (`parent_status` becomes `cancelled`; asking again answers the same), 404 for an unknown
  return, 400 `{"errors": [{"field", "code", "message"}]}` once the carrier has the parcel (which
  carriers refuse, and the codes, are ours: Sendcloud documents only that not every carrier can).
- Test hooks under `/_sandbox` (no auth): `outage` (every call 503 until switched off), `fail`
  (the next N calls answer a status, e.g. 429 with a Retry-After), `carrier-fails` (the next N
  announcements come back ANNOUNCEMENT_FAILED, as when the carrier is down), `webhook` (where
  parcel status changes are posted), `parcels/{id}/advance` (the parcel's next status: en route,
  then delivered; POSTed as `parcel_status_changed`, signed as Sendcloud signs: `Sendcloud-Signature`
  = hex HMAC-SHA256 of the raw body with the secret key), `shipments` (what was announced),
  `late-return-labels` (the next N returns are read once without their tracking number and label,
  as a return not announced to the carrier yet), `returns` (what was made, how often asked, and
  how often a cancellation was asked).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import re
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

PUBLIC_KEY = "sandbox-public-key"
SECRET_KEY = "sandbox-secret-key"  # noqa: S105 - a sandbox credential, never a real one
CARRIERS = {"postnl": "PostNL", "dhl": "DHL", "dpd": "DPD", "ups": "UPS", "gls": "GLS", "sendcloud": "Sendcloud"}
SHIPPING_OPTIONS = frozenset(
    {"postnl:standard", "postnl:standard/signature", "dhl:parcel", "dpd:home", "ups:standard", "gls:parcel",
     "sendcloud:letter"}
)  # fmt: skip
RETURN_OPTIONS = frozenset({"postnl:return", "dhl:return", "dpd:return/return", "ups:return", "gls:return"})
REQUIRED_ADDRESS = ("name", "address_line_1", "postal_code", "city", "country_code")
WEIGHT_UNITS = frozenset({"kg", "g", "lbs", "oz"})
DUTCH_POSTCODE = re.compile(r"^\d{4}\s?[A-Za-z]{2}$")
# The statuses a parcel goes through here (Sendcloud's parcel status ids and messages).
READY_TO_SEND = (1000, "Ready to send")
CANCELLED = (2000, "Cancelled")
PROGRESS = ((3, "En route to sorting center"), (91, "Parcel en route"), (11, "Delivered"))
STATUS_MESSAGES = {1000: "Ready to send", 3: "En route to sorting center", 91: "Parcel en route", 11: "Delivered",
                   80: "Unable to deliver", 2000: "Cancelled", 62992: "Returned to sender"}  # fmt: skip


@dataclass
class _Failure:
    status: int
    count: int
    retry_after: str | None


@dataclass
class _State:
    shipments: dict[str, dict[str, Any]] = field(default_factory=dict)
    parcels: dict[int, dict[str, Any]] = field(default_factory=dict)
    returns: dict[int, dict[str, Any]] = field(default_factory=dict)
    failures: list[_Failure] = field(default_factory=list)
    outage: bool = False
    carrier_failures: int = 0
    webhook_url: str = ""
    webhooks: list[dict[str, Any]] = field(default_factory=list)
    announce_calls: int = 0
    return_calls: int = 0
    cancel_calls: int = 0
    shipment_cancel_calls: int = 0
    refuse_cancellations: int = 0
    late_return_labels: int = 0
    next_id: int = 383700000


def errors(status: int, code: str, detail: str, pointer: str | None = None) -> JSONResponse:
    error: dict[str, Any] = {"status": str(status), "code": code, "detail": detail}
    if pointer:
        error["source"] = {"pointer": pointer}
    return JSONResponse({"errors": [error]}, status_code=status)


def tracking_number(carrier: str, reference: str, index: int) -> str:
    """The same carrier, reference and parcel always get the same number, in the carrier's style."""
    digits = int(hashlib.sha256(f"{carrier}|{reference}|{index}".encode()).hexdigest()[:15], 16)
    if carrier == "postnl":
        return f"3SSBX{digits % 10**9:09d}"
    if carrier == "dhl":
        return f"JVGL{digits % 10**14:014d}"
    if carrier == "ups":
        return f"1ZSBX{digits % 10**13:013d}"
    return f"{digits % 10**14:014d}"


def label_pdf(lines: list[str]) -> bytes:
    """A real one-page A6 PDF carrying the label's text (viewers open it; tests read it back)."""
    text = " ".join(
        f"BT /F1 12 Tf 20 {380 - 20 * row} Td ({line.replace(chr(92), '').replace('(', '').replace(')', '')}) Tj ET"
        for row, line in enumerate(lines)
    )
    stream = text.encode("latin-1", "replace")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 298 420] /Contents 4 0 R"
        b" /Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def _missing_address_fields(body: dict[str, Any], key: str) -> JSONResponse | None:
    address = body.get(key)
    if not isinstance(address, dict):
        return errors(400, "required", "This field is required.", f"/{key}")
    for name in REQUIRED_ADDRESS:
        if not str(address.get(name) or "").strip():
            return errors(400, "required", "This field is required.", f"/{key}/{name}")
    return None


def return_errors(status: int, field: str, code: str, message: str) -> JSONResponse:
    """The Returns API's validation errors: `{"errors": [{"field", "code", "message"}]}`."""
    return JSONResponse({"errors": [{"field": field, "code": code, "message": message}]}, status_code=status)


def legacy_error(status: int, code: str, message: str) -> JSONResponse:
    """The older error body the Returns API also answers: `{"error": {"code", "request", "message"}}`."""
    body = {"error": {"code": code, "request": "api/v3/returns/announce-synchronously", "message": message}}
    return JSONResponse(body, status_code=status)


def _invalid_return(body: dict[str, Any]) -> JSONResponse | None:
    for key in ("from_address", "to_address"):
        address = body.get(key)
        if not isinstance(address, dict):
            return return_errors(400, key, "required", "This field is required.")
        for name in REQUIRED_ADDRESS:
            if not str(address.get(name) or "").strip():
                return return_errors(400, f"{key}.{name}", "required", "This field is required.")
    customer = body["from_address"]
    if str(customer["country_code"]).upper() == "NL" and not DUTCH_POSTCODE.match(str(customer["postal_code"]).strip()):
        return legacy_error(400, "invalid_postal_code", "The postal code you provided is invalid.")
    ship_with = body.get("ship_with")
    option = ship_with.get("shipping_option_code") if isinstance(ship_with, dict) else None
    if option not in RETURN_OPTIONS:
        unavailable = f"Shipping option {option!r} is not available for returns."
        return return_errors(400, "ship_with", "invalid_choice", unavailable)
    weight = body.get("weight")
    if not isinstance(weight, dict) or not isinstance(weight.get("value"), int | float) or weight["value"] <= 0:
        return return_errors(400, "weight", "min_value", "A valid weight is required.")
    if weight.get("unit") not in WEIGHT_UNITS:
        return return_errors(400, "weight.unit", "invalid_choice", "A valid weight unit is required.")
    for index, item in enumerate(body.get("parcel_items") or []):
        quantity = item.get("quantity") if isinstance(item, dict) else None
        if not isinstance(quantity, int) or quantity < 1:
            return return_errors(400, f"parcel_items.{index}.quantity", "min_value", "Ensure this value is at least 1.")
    return None


def _invalid_announcement(body: dict[str, Any]) -> JSONResponse | None:
    for key in ("from_address", "to_address"):
        refused = _missing_address_fields(body, key)
        if refused is not None:
            return refused
    to = body["to_address"]
    if str(to["country_code"]).upper() == "NL" and not DUTCH_POSTCODE.match(str(to["postal_code"]).strip()):
        return errors(400, "invalid", "Enter a valid postal code.", "/to_address/postal_code")
    option = ((body.get("ship_with") or {}).get("properties") or {}).get("shipping_option_code")
    if option not in SHIPPING_OPTIONS:
        return errors(400, "invalid", f"Shipping option {option!r} is not available.", "/ship_with")
    parcels = body.get("parcels")
    if not isinstance(parcels, list) or not 1 <= len(parcels) <= 15:
        return errors(400, "invalid", "Send between 1 and 15 parcels.", "/parcels")
    for index, parcel in enumerate(parcels):
        weight = parcel.get("weight") if isinstance(parcel, dict) else None
        try:
            value = float(str((weight or {}).get("value")))
        except ValueError:
            value = 0.0
        if not isinstance(weight, dict) or weight.get("unit") not in WEIGHT_UNITS or value <= 0:
            return errors(400, "invalid", "A valid weight is required.", f"/parcels/{index}/weight")
    return None


def _now() -> str:
    return datetime.now(UTC).isoformat()


class Sandbox:
    """The sandbox's state and the behaviour behind its routes."""

    def __init__(self, public_key: str, secret_key: str) -> None:
        self.state = _State()
        self.lock = threading.Lock()
        self.public_key, self.secret_key = public_key, secret_key

    def authorised(self, request: Request) -> bool:
        header = request.headers.get("Authorization", "")
        expected = base64.b64encode(f"{self.public_key}:{self.secret_key}".encode()).decode()
        return hmac.compare_digest(header, f"Basic {expected}")

    def injected(self) -> JSONResponse | None:
        with self.lock:
            if self.state.outage:
                return errors(503, "service_unavailable", "Sendcloud is temporarily unavailable.")
            failure = self.state.failures[0] if self.state.failures else None
            if failure is None:
                return None
            failure.count -= 1
            if failure.count <= 0:
                self.state.failures.pop(0)
        code = "too_many_requests" if failure.status == 429 else "sandbox_failure"
        answer = errors(failure.status, code, "Failure injected by /_sandbox/fail.")
        if failure.retry_after is not None:
            answer.headers["Retry-After"] = failure.retry_after
        return answer

    def announce(self, body: dict[str, Any], base_url: str) -> JSONResponse:
        with self.lock:
            self.state.announce_calls += 1
            reference = body.get("external_reference_id")
            shipments = self.state.shipments.values()
            existing = next((s for s in shipments if reference and s["external_reference_id"] == reference), None)
            if existing is not None:
                answer = errors(409, "conflict", "A shipment with this external_reference_id already exists.")
                return JSONResponse({**json.loads(bytes(answer.body)), "data": existing}, status_code=409)
            failing = self.state.carrier_failures > 0
            self.state.carrier_failures -= 1 if failing else 0
            shipment = self._create(body, base_url, failed=failing)
        return JSONResponse({"data": shipment}, status_code=201)

    def _create(self, body: dict[str, Any], base_url: str, *, failed: bool) -> dict[str, Any]:
        option = body["ship_with"]["properties"]["shipping_option_code"]
        carrier = option.split(":", 1)[0]
        shipment_id = f"sbx-{len(self.state.shipments) + 1:08d}"
        reference = body.get("external_reference_id") or shipment_id
        parcels = []
        for index, requested in enumerate(body["parcels"]):
            self.state.next_id += 1
            parcel_id = self.state.next_id
            parcel = {
                "id": parcel_id,
                "status": {"code": "ANNOUNCEMENT_FAILED", "message": "Announcement failed"}
                if failed
                else {"code": "READY_TO_SEND", "message": "Ready to send"},
                "documents": []
                if failed
                else [{"type": "label", "size": "a6", "link": f"{base_url}/parcels/{parcel_id}/documents/label"}],
                "weight": requested["weight"],
                "tracking_number": "" if failed else tracking_number(carrier, reference, index),
                "tracking_url": "" if failed else f"{base_url}/tracking/{tracking_number(carrier, reference, index)}",
                "created_at": _now(),
                "announced_at": _now(),
            }
            parcels.append(parcel)
            self.state.parcels[parcel_id] = {
                "parcel": parcel,
                "shipment_id": shipment_id,
                "carrier": carrier,
                "status_id": READY_TO_SEND[0],
                "to_address": body["to_address"],
                "order_number": body.get("order_number", ""),
            }
        shipment = {
            "id": shipment_id,
            "order_number": body.get("order_number", ""),
            "external_reference_id": body.get("external_reference_id"),
            "reference": body.get("reference"),
            "from_address": body["from_address"],
            "to_address": body["to_address"],
            "ship_with": body["ship_with"],
            "parcels": parcels,
            "carrier": {"code": carrier, "name": CARRIERS.get(carrier, carrier)},
            "errors": [
                {
                    "status": "500",
                    "code": "parcel_announcement_error",
                    "detail": "Service error: An error occurred while connecting to the carrier.",
                }
            ]
            if failed
            else [],
        }
        self.state.shipments[shipment_id] = shipment
        return shipment

    def label(self, parcel_ids: list[int]) -> Response:
        with self.lock:
            known = [self.state.parcels.get(parcel_id) for parcel_id in parcel_ids]
        if not parcel_ids or any(entry is None or not entry["parcel"]["tracking_number"] for entry in known):
            return JSONResponse(
                {"error": {"code": 404, "request": "api/v3/parcels/documents/label", "message": "Not found."}},
                status_code=404,
            )
        lines = []
        for entry in known:
            assert entry is not None
            to = entry["to_address"]
            lines += [
                f"{CARRIERS.get(entry['carrier'], entry['carrier'])} {entry['parcel']['tracking_number']}",
                f"{to.get('name', '')}, {to.get('postal_code', '')} {to.get('city', '')} {to.get('country_code', '')}",
            ]
        return Response(label_pdf(lines), media_type="application/pdf")

    def announce_return(self, body: dict[str, Any], base_url: str) -> JSONResponse:
        with self.lock:
            self.state.return_calls += 1
        refused = _invalid_return(body)
        if refused is not None:
            return refused
        option = body["ship_with"]["shipping_option_code"]
        reference = body.get("external_reference")
        with self.lock:
            if reference and any(r["external_reference"] == reference for r in self.state.returns.values()):
                return legacy_error(400, "invalid", "External reference has already been used in another return.")
            self.state.next_id += 1
            parcel_id, return_id = self.state.next_id, len(self.state.returns) + 1
            carrier = option.split(":", 1)[0]
            tracking = tracking_number(carrier, str(reference or return_id), 0)
            link = f"{base_url}/parcels/{parcel_id}/documents/label"
            late = self.state.late_return_labels > 0
            self.state.late_return_labels -= 1 if late else 0
            self.state.parcels[parcel_id] = {
                "parcel": {"id": parcel_id, "tracking_number": tracking},
                "shipment_id": f"return-{return_id}",
                "carrier": carrier,
                "status_id": READY_TO_SEND[0],
                "to_address": body["to_address"],
                "order_number": body.get("order_number", ""),
            }
            self.state.returns[return_id] = {
                "id": return_id,
                "created_at": _now(),
                "from_address": body["from_address"],
                "to_address": body["to_address"],
                "shipping_option": {"code": option},
                "weight": body["weight"],
                "parcel_items": body.get("parcel_items") or [],
                "order_number": body.get("order_number", ""),
                "external_reference": reference,
                "label_url": link,
                "label": {"normal_printer": [f"{link}?paper_size=a4"] * 4, "label_printer": link},
                "tracking_number": tracking,
                "tracking_url": f"{base_url}/tracking/{tracking}",
                "parcel_id": parcel_id,
                "parent_status": "open",
                "late_reads": 1 if late else 0,
            }
        return JSONResponse({"return_id": return_id, "parcel_id": parcel_id, "multi_collo_ids": []}, status_code=201)

    def read_return(self, return_id: int) -> JSONResponse:
        """The return as `GET /returns/{id}` shows it: not announced yet (no tracking number, no
        label) while a `late-return-labels` read is left."""
        with self.lock:
            found = self.state.returns.get(return_id)
            if found is None:
                return errors(404, "not_found", "Not found.")
            shown = {key: value for key, value in found.items() if key not in ("late_reads", "parcel_id")}
            if found["late_reads"] > 0:
                found["late_reads"] -= 1
                shown.update(tracking_number=None, tracking_url=None, label_url=None, label={})
        return JSONResponse(shown)

    def cancel_shipment(self, shipment_id: str) -> JSONResponse:
        """`POST /shipments/{id}/cancel`: see the module's docstring."""
        with self.lock:
            self.state.shipment_cancel_calls += 1
            shipment = self.state.shipments.get(shipment_id)
            if shipment is None:
                return errors(404, "not_found", "Not found.")
            entries = [self.state.parcels[parcel["id"]] for parcel in shipment["parcels"]]
            gone = any(entry["status_id"] not in (READY_TO_SEND[0], CANCELLED[0]) for entry in entries)
            if gone or self.state.refuse_cancellations > 0:
                self.state.refuse_cancellations -= 0 if gone else 1
                why = "The shipment was announced to the carrier, which no longer accepts its cancellation."
                return errors(409, "cancellation_not_possible", why)
            for entry in entries:
                entry["status_id"] = CANCELLED[0]
                entry["parcel"]["status"] = {"code": "CANCELLED", "message": CANCELLED[1]}
        return JSONResponse({"data": {"status": "cancelled", "message": "Shipment has been cancelled"}})

    def cancel_return(self, return_id: int) -> JSONResponse:
        """`PATCH /returns/{id}/cancel`: 202 `{"message": "Cancellation requested successfully"}`
        while its parcel has not left (again for one cancelled: asking twice is harmless), and the
        return's `parent_status` is `cancelled`; 404 for an unknown return; 400 in the Returns API's
        error shape once the carrier has the parcel (no longer cancellable)."""
        with self.lock:
            self.state.cancel_calls += 1
            found = self.state.returns.get(return_id)
            if found is None:
                return errors(404, "not_found", "Not found.")
            parcel = self.state.parcels.get(found["parcel_id"]) or {}
            if parcel.get("status_id", READY_TO_SEND[0]) not in (READY_TO_SEND[0], CANCELLED[0]):
                why = "The parcel is already with the carrier: the return can no longer be cancelled."
                return return_errors(400, "id", "cancellation_not_possible", why)
            found["parent_status"] = "cancelled"
            if parcel:
                parcel["status_id"] = CANCELLED[0]
        return JSONResponse({"message": "Cancellation requested successfully"}, status_code=202)

    def advance(self, parcel_id: int, status_id: int | None) -> dict[str, Any] | None:
        """The parcel's next status (or the one asked for), and the webhook body announcing it."""
        with self.lock:
            entry = self.state.parcels.get(parcel_id)
            if entry is None:
                return None
            if status_id is None:
                order = [READY_TO_SEND[0], *(code for code, _ in PROGRESS)]
                current = order.index(entry["status_id"]) if entry["status_id"] in order else len(order) - 1
                status_id = order[min(current + 1, len(order) - 1)]
            entry["status_id"] = status_id
            return self._status_event(entry, status_id)

    @staticmethod
    def _status_event(entry: dict[str, Any], status_id: int) -> dict[str, Any]:
        parcel, to = entry["parcel"], entry["to_address"]
        now_ms = int(time.time() * 1000)
        return {
            "action": "parcel_status_changed",
            "timestamp": now_ms,
            "carrier_status_change_timestamp": now_ms,
            "parcel": {
                "id": parcel["id"],
                "name": to.get("name", ""),
                "address": to.get("address_line_1", ""),
                "city": to.get("city", ""),
                "postal_code": to.get("postal_code", ""),
                "tracking_number": parcel["tracking_number"],
                "status": {"id": status_id, "message": STATUS_MESSAGES.get(status_id, "Unknown")},
                "carrier": {"code": entry["carrier"]},
                "shipment": {"id": entry["shipment_id"], "name": CARRIERS.get(entry["carrier"], entry["carrier"])},
                "order_number": entry["order_number"],
            },
        }

    def sign(self, raw: bytes) -> str:
        return hmac.new(self.secret_key.encode(), raw, hashlib.sha256).hexdigest()


def create_app(*, public_key: str = PUBLIC_KEY, secret_key: str = SECRET_KEY, webhook_url: str = "") -> FastAPI:
    app = FastAPI(title="Sendcloud sandbox")
    sandbox = Sandbox(public_key, secret_key)
    sandbox.state.webhook_url = webhook_url
    app.state.sandbox = sandbox

    @app.middleware("http")
    async def _checks(request: Request, call_next: Any) -> Response:
        if request.url.path.startswith("/_sandbox"):
            return await call_next(request)  # type: ignore[no-any-return]
        injected = sandbox.injected()
        if injected is not None:
            return injected
        if not sandbox.authorised(request):
            return errors(401, "authentication_failed", "Invalid username/password.")
        return await call_next(request)  # type: ignore[no-any-return]

    def base(request: Request) -> str:
        return str(request.base_url).rstrip("/")

    @app.post("/shipments/announce")
    async def announce(request: Request) -> Response:
        try:
            body = await request.json()
        except ValueError:
            return errors(400, "parse_error", "JSON parse error.")
        if not isinstance(body, dict):
            return errors(400, "invalid", "Expected an object.")
        refused = _invalid_announcement(body)
        return refused if refused is not None else sandbox.announce(body, base(request))

    @app.get("/shipments")
    async def shipments(external_reference_id: str | None = None, order_number: str | None = None) -> Response:
        with sandbox.lock:
            found = [
                s
                for s in sandbox.state.shipments.values()
                if (external_reference_id is None or s["external_reference_id"] == external_reference_id)
                and (order_number is None or s["order_number"] == order_number)
            ]
        return JSONResponse({"data": found})

    @app.get("/parcels/{parcel_id}/documents/{kind}")
    async def parcel_document(parcel_id: int, kind: str) -> Response:
        if kind != "label":
            return JSONResponse({"error": {"code": 404, "request": "", "message": "Not found."}}, status_code=404)
        return sandbox.label([parcel_id])

    @app.get("/parcel-documents/{kind}")
    async def parcel_documents(request: Request, kind: str) -> Response:
        if kind != "label":
            return errors(400, "invalid", "Invalid document type.")
        try:
            ids = [int(value) for value in request.query_params.getlist("parcels")]
        except ValueError:
            return errors(400, "invalid", "parcels must be integers.")
        return sandbox.label(ids)

    @app.post("/returns/announce-synchronously")
    async def announce_return(request: Request) -> Response:
        try:
            body = await request.json()
        except ValueError:
            return errors(400, "parse_error", "JSON parse error.")
        return sandbox.announce_return(body if isinstance(body, dict) else {}, base(request))

    @app.get("/returns/{return_id}")
    async def get_return(return_id: int) -> Response:
        return sandbox.read_return(return_id)

    @app.post("/shipments/{shipment_id}/cancel")
    async def cancel_shipment(shipment_id: str) -> Response:
        return sandbox.cancel_shipment(shipment_id)

    @app.patch("/returns/{return_id}/cancel")
    async def cancel_return(return_id: int) -> Response:
        return sandbox.cancel_return(return_id)

    _sandbox_hooks(app, sandbox)
    return app


def _sandbox_hooks(app: FastAPI, sandbox: Sandbox) -> None:
    @app.post("/_sandbox/outage")
    async def outage(body: dict[str, Any]) -> dict[str, bool]:
        sandbox.state.outage = bool(body.get("down", True))
        return {"down": sandbox.state.outage}

    @app.post("/_sandbox/fail")
    async def fail(body: dict[str, Any]) -> dict[str, int]:
        retry_after = body.get("retry_after")
        with sandbox.lock:
            wait = None if retry_after is None else str(retry_after)
            sandbox.state.failures.append(_Failure(int(body["status"]), int(body.get("count", 1)), wait))
        return {"queued": len(sandbox.state.failures)}

    @app.post("/_sandbox/refuse-cancellations")
    async def refuse_cancellations(body: dict[str, Any]) -> dict[str, int]:
        sandbox.state.refuse_cancellations = int(body.get("count", 1))
        return {"count": sandbox.state.refuse_cancellations}

    @app.post("/_sandbox/late-return-labels")
    async def late_return_labels(body: dict[str, Any]) -> dict[str, int]:
        sandbox.state.late_return_labels = int(body.get("count", 1))
        return {"count": sandbox.state.late_return_labels}

    @app.get("/_sandbox/returns")
    async def returns_made() -> dict[str, Any]:
        with sandbox.lock:
            state = sandbox.state
            return {
                "data": list(state.returns.values()),
                "return_calls": state.return_calls,
                "cancel_calls": state.cancel_calls,
            }

    @app.post("/_sandbox/carrier-fails")
    async def carrier_fails(body: dict[str, Any]) -> dict[str, int]:
        sandbox.state.carrier_failures = int(body.get("count", 1))
        return {"count": sandbox.state.carrier_failures}

    @app.post("/_sandbox/webhook")
    async def webhook(body: dict[str, Any]) -> dict[str, str]:
        sandbox.state.webhook_url = str(body.get("url") or "")
        return {"url": sandbox.state.webhook_url}

    @app.get("/_sandbox/shipments")
    async def announced() -> dict[str, Any]:
        with sandbox.lock:
            state = sandbox.state
            return {
                "data": list(state.shipments.values()),
                "announce_calls": state.announce_calls,
                "cancel_calls": state.shipment_cancel_calls,
            }

    @app.get("/_sandbox/webhooks")
    async def delivered() -> dict[str, Any]:
        return {"data": list(sandbox.state.webhooks)}

    @app.post("/_sandbox/parcels/{parcel_id}/advance")
    async def advance(parcel_id: int, request: Request) -> Response:
        raw = await request.body()
        asked = json.loads(raw).get("status_id") if raw.strip() else None
        event = sandbox.advance(parcel_id, None if asked is None else int(asked))
        if event is None:
            return errors(404, "not_found", "No Parcel matches the given query.")
        delivered = await _post_webhook(sandbox, event)
        return JSONResponse({"event": event, "webhook_status": delivered})


async def _post_webhook(sandbox: Sandbox, event: dict[str, Any]) -> int | None:
    """POST the event to the configured URL as Sendcloud does; the answer's status (None: no URL,
    or nobody answered)."""
    url = sandbox.state.webhook_url
    if not url:
        return None
    raw = json.dumps(event).encode()
    headers = {"Content-Type": "application/json", "Sendcloud-Signature": sandbox.sign(raw)}
    try:
        async with httpx.AsyncClient(timeout=10) as client:
            answer = await client.post(url, content=raw, headers=headers)
    except httpx.HTTPError:
        status = None
    else:
        status = answer.status_code
    sandbox.state.webhooks.append({"url": url, "body": event, "status": status})
    return status


def create_app_from_environment() -> FastAPI:
    """`make run`'s local Sendcloud (`uvicorn --factory`): the keys the engine is given
    (OMS_SENDCLOUD_PUBLIC_KEY, OMS_SENDCLOUD_SECRET_KEY) and where parcel status changes go
    (OMS_SENDCLOUD_SANDBOX_WEBHOOK_URL), from the environment."""
    return create_app(
        public_key=os.environ["OMS_SENDCLOUD_PUBLIC_KEY"],
        secret_key=os.environ["OMS_SENDCLOUD_SECRET_KEY"],
        webhook_url=os.environ.get("OMS_SENDCLOUD_SANDBOX_WEBHOOK_URL", ""),
    )
