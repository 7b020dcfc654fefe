"""A local Moneybird: the API v2 endpoints the books push uses, in Moneybird's documented shapes.

- Every call needs `Authorization: Bearer <token>` (401 `{"error": ...}` otherwise) and names the
  format in the path (`.json`), under `/api/v2/`.
- `GET /administrations.json`; then, under `/{administration_id}/` (404 for another one):
  - contacts: `POST contacts.json` (`{"contact": {company_name | firstname/lastname, customer_id, ...}}`),
    `GET contacts/customer_id/{customer_id}.json` (404 when nobody has it), `GET contacts/{id}.json`;
  - `GET tax_rates.json` (`filter=tax_rate_type:sales_invoice`), `GET ledger_accounts.json`;
  - external sales invoices: `POST external_sales_invoices.json` (`{"external_sales_invoice":
    {contact_id, reference, date, due_date, currency, prices_are_incl_tax, source, source_url,
    details_attributes: [{description, price, amount, tax_rate_id, ledger_account_id}]}}`), `GET
    external_sales_invoices.json` (`filter=period:20261201..20261207,state:open|paid,contact_id:…`,
    `page`, `per_page` up to 100, a `Link` header to the next page), `GET external_sales_invoices/{id}.json`,
    and `POST external_sales_invoices/{id}/payments.json` (`{"payment": {payment_date, price}}`)
    which makes the invoice `paid` once nothing is left unpaid. A credit note is an external sales
    invoice with negative prices, paid with a negative payment.
- Errors as Moneybird answers them: 422 `{"error": {"field": ["message"]}, "symbolic": {"field":
  ["code"]}}`, 404 `{"error": "record not found", ...}`, 401, and 429 `Too many requests` with
  `Retry-After` (seconds) once more than the documented 150 requests in 5 minutes came in (each
  answer carries `RateLimit-Limit`, `RateLimit-Remaining`, `RateLimit-Reset`).
- Amounts are decimal strings (`"12.10"`); ids are long digit strings.

Test hooks under `/_sandbox`: make the next N calls fail with a status (and Retry-After), switch an
outage (503) on and off, read the calls received and every invoice held.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import os
import secrets
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any
from urllib.parse import urlencode

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

TOKEN = "sandbox-moneybird-token-0123456789abcdef"  # noqa: S105 - a sandbox credential, never a real one
ADMINISTRATION_ID = "123456789012345678"
RATE_LIMIT = 150
RATE_WINDOW_SECONDS = 300
"""Moneybird's documented limit: 150 requests per 5 minutes."""
MAX_PER_PAGE = 100
DEFAULT_PER_PAGE = 50
CENT = Decimal("0.01")


def _now() -> datetime:
    return datetime.now(UTC)


def _stamp(at: datetime) -> str:
    return at.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _amount(value: Decimal) -> str:
    return str(value.quantize(CENT))


def _error(status: int, message: Any, symbolic: Any = None) -> JSONResponse:
    return JSONResponse({"error": message, "symbolic": symbolic if symbolic is not None else {}}, status_code=status)


class Invalid(Exception):
    """A 422 naming the field, as Moneybird's validation errors do."""

    def __init__(self, field_name: str, message: str, code: str = "invalid") -> None:
        super().__init__(message)
        self.field_name, self.message, self.code = field_name, message, code

    def response(self) -> JSONResponse:
        return _error(422, {self.field_name: [self.message]}, {self.field_name: [self.code]})


def _decimal(raw: Any, field_name: str) -> Decimal:
    try:
        value = Decimal(str(raw).strip())
    except (InvalidOperation, ValueError):
        raise Invalid(field_name, "is not a number", "not_a_number") from None
    if not value.is_finite() or value != value.quantize(CENT):
        raise Invalid(field_name, "has more than 2 decimals", "invalid")
    return value


def _day(raw: Any, field_name: str) -> date:
    try:
        return date.fromisoformat(str(raw))
    except ValueError:
        raise Invalid(field_name, "is not a date", "invalid") from None


@dataclass
class _Detail:
    id: str
    description: str
    price: Decimal
    amount: Decimal
    tax_rate_id: str
    ledger_account_id: str

    @property
    def total(self) -> Decimal:
        return (self.price * self.amount).quantize(CENT, ROUND_HALF_UP)


@dataclass
class _Invoice:
    id: str
    contact_id: str
    reference: str
    date: dt.date
    due_date: dt.date | None
    currency: str
    prices_are_incl_tax: bool
    source: str | None
    source_url: str | None
    details: list[_Detail]
    created_at: datetime
    payments: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class _Failure:
    status: int
    count: int
    retry_after: str | None
    path_contains: str


@dataclass
class _State:
    administration_id: str
    tax_rates: list[dict[str, Any]]
    ledger_accounts: list[dict[str, Any]]
    contacts: dict[str, dict[str, Any]] = field(default_factory=dict)
    invoices: dict[str, _Invoice] = field(default_factory=dict)
    failures: list[_Failure] = field(default_factory=list)
    outage: bool = False
    calls: list[dict[str, Any]] = field(default_factory=list)
    window_started: float = 0.0
    window_count: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)
    ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def new_id(self) -> str:
        return str(447_000_000_000_000_000 + next(self.ids) * 1_000 + secrets.randbelow(1_000))


def _tax_rates(administration_id: str) -> list[dict[str, Any]]:
    stamp = _stamp(datetime(2026, 1, 1, tzinfo=UTC))
    rows = [
        ("453000000000000001", "21% btw", "21.0", "sales_invoice"),
        ("453000000000000002", "9% btw", "9.0", "sales_invoice"),
        ("453000000000000003", "0% btw", "0.0", "sales_invoice"),
        ("453000000000000004", "Btw verlegd", "0.0", "sales_invoice"),
        ("453000000000000005", "21% btw inkoop", "21.0", "purchase_invoice"),
    ]
    return [
        {
            "id": rate_id,
            "administration_id": administration_id,
            "name": name,
            "percentage": percentage,
            "tax_rate_type": kind,
            "show_tax": True,
            "active": True,
            "country": None,
            "created_at": stamp,
            "updated_at": stamp,
        }
        for rate_id, name, percentage, kind in rows
    ]


def _ledger_accounts(administration_id: str) -> list[dict[str, Any]]:
    stamp = _stamp(datetime(2026, 1, 1, tzinfo=UTC))
    rows = [
        ("454000000000000001", "Omzet", "revenue", "8000"),
        ("454000000000000002", "Omzet verzendkosten", "revenue", "8100"),
        ("454000000000000003", "Debiteuren", "current_assets", "1300"),
    ]
    return [
        {
            "id": account_id,
            "administration_id": administration_id,
            "name": name,
            "account_type": kind,
            "account_id": code,
            "parent_id": None,
            "created_at": stamp,
            "updated_at": stamp,
        }
        for account_id, name, kind, code in rows
    ]


def _totals(state: _State, invoice: _Invoice) -> dict[str, Decimal]:
    """Moneybird's totals: VAT once per tax rate over the rate's details (out of the gross when
    prices include tax, on the net otherwise), rounded half up to the cent."""
    rates = {rate["id"]: Decimal(rate["percentage"]) for rate in state.tax_rates}
    per_rate: dict[str, Decimal] = {}
    for detail in invoice.details:
        per_rate[detail.tax_rate_id] = per_rate.get(detail.tax_rate_id, Decimal(0)) + detail.total
    excl = incl = tax = Decimal(0)
    for rate_id, subtotal in per_rate.items():
        percentage = rates[rate_id]
        if invoice.prices_are_incl_tax:
            rate_tax = (subtotal * percentage / (100 + percentage)).quantize(CENT, ROUND_HALF_UP)
            excl, incl = excl + subtotal - rate_tax, incl + subtotal
        else:
            rate_tax = (subtotal * percentage / 100).quantize(CENT, ROUND_HALF_UP)
            excl, incl = excl + subtotal, incl + subtotal + rate_tax
        tax += rate_tax
    paid = sum((Decimal(payment["price"]) for payment in invoice.payments), Decimal(0))
    return {"excl": excl, "incl": incl, "tax": tax, "paid": paid, "unpaid": incl - paid}


def _invoice_json(state: _State, invoice: _Invoice) -> dict[str, Any]:
    totals = _totals(state, invoice)
    stamp = _stamp(invoice.created_at)
    return {
        "id": invoice.id,
        "administration_id": state.administration_id,
        "contact_id": invoice.contact_id,
        "contact": state.contacts.get(invoice.contact_id),
        "date": invoice.date.isoformat(),
        "state": "paid" if totals["unpaid"] == 0 else "open",
        "due_date": invoice.due_date.isoformat() if invoice.due_date else None,
        "reference": invoice.reference,
        "entry_number": None,
        "origin": None,
        "source": invoice.source,
        "source_url": invoice.source_url,
        "currency": invoice.currency,
        "paid_at": invoice.payments[-1]["payment_date"] if invoice.payments and totals["unpaid"] == 0 else None,
        "created_at": stamp,
        "updated_at": stamp,
        "version": int(invoice.created_at.timestamp()),
        "details": [
            {
                "id": detail.id,
                "administration_id": state.administration_id,
                "tax_rate_id": detail.tax_rate_id,
                "ledger_account_id": detail.ledger_account_id,
                "project_id": None,
                "product_id": None,
                "amount": f"{detail.amount.normalize():f} x",
                "amount_decimal": str(detail.amount),
                "description": detail.description,
                "price": _amount(detail.price),
                "period": None,
                "row_order": index + 1,
                "total_price_excl_tax_with_discount": _amount(detail.total),
                "total_price_excl_tax_with_discount_base": _amount(detail.total),
                "tax_report_reference": [],
                "created_at": stamp,
                "updated_at": stamp,
            }
            for index, detail in enumerate(invoice.details)
        ],
        "payments": list(invoice.payments),
        "total_paid": _amount(totals["paid"]),
        "total_unpaid": _amount(totals["unpaid"]),
        "total_unpaid_base": _amount(totals["unpaid"]),
        "prices_are_incl_tax": invoice.prices_are_incl_tax,
        "total_price_excl_tax": _amount(totals["excl"]),
        "total_price_excl_tax_base": _amount(totals["excl"]),
        "total_price_incl_tax": _amount(totals["incl"]),
        "total_price_incl_tax_base": _amount(totals["incl"]),
        "notes": [],
        "attachments": [],
        "events": [],
        "tax_totals": [],
    }


def _contact_json(state: _State, contact_id: str, body: dict[str, Any]) -> dict[str, Any]:
    stamp = _stamp(_now())
    return {
        "id": contact_id,
        "administration_id": state.administration_id,
        "company_name": body.get("company_name") or "",
        "firstname": body.get("firstname"),
        "lastname": body.get("lastname"),
        "address1": body.get("address1") or "",
        "address2": body.get("address2") or "",
        "zipcode": body.get("zipcode") or "",
        "city": body.get("city") or "",
        "country": body.get("country") or "NL",
        "email": body.get("send_invoices_to_email") or "",
        "customer_id": str(body.get("customer_id") or contact_id),
        "tax_number": body.get("tax_number") or "",
        "delivery_method": "Email",
        "created_at": stamp,
        "updated_at": stamp,
        "version": int(time.time()),
    }


async def _body(request: Request) -> dict[str, Any]:
    raw = await request.body()
    try:
        parsed = json.loads(raw) if raw else {}
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise Invalid("base", "the request body is not valid JSON") from None
    if not isinstance(parsed, dict):
        raise Invalid("base", "the request body must be an object")
    return parsed


def _period(raw: str) -> tuple[date, date]:
    """A custom period (`20261201..20261207`, or months `202612..202701`) as first and last day."""
    start, sep, end = raw.partition("..")
    if not sep:
        raise Invalid("filter", f"unsupported period {raw!r}")
    try:
        if len(start) == 8 and len(end) == 8:
            return date.fromisoformat(f"{start[:4]}-{start[4:6]}-{start[6:]}"), date.fromisoformat(
                f"{end[:4]}-{end[4:6]}-{end[6:]}"
            )
        if len(start) == 6 and len(end) == 6:
            first = date(int(start[:4]), int(start[4:]), 1)
            year, month = int(end[:4]), int(end[4:])
            after = date(year + month // 12, month % 12 + 1, 1)
            return first, date.fromordinal(after.toordinal() - 1)
    except ValueError:
        pass
    raise Invalid("filter", f"unsupported period {raw!r}")


def create_app(
    token: str = TOKEN,
    administration_id: str = ADMINISTRATION_ID,
    *,
    rate_limit: int = RATE_LIMIT,
    window_seconds: float = RATE_WINDOW_SECONDS,
) -> FastAPI:
    """A fresh sandbox with its own in-memory state."""
    app = FastAPI(title="Moneybird API sandbox")
    state = _State(administration_id, _tax_rates(administration_id), _ledger_accounts(administration_id))
    app.state.moneybird = state
    app.add_exception_handler(Invalid, lambda _request, exc: exc.response())
    prefix = f"/api/v2/{administration_id}"

    @app.middleware("http")
    async def _checks(request: Request, call_next: Any) -> Response:
        path = request.url.path
        if path.startswith("/_sandbox"):
            sandbox_response: Response = await call_next(request)
            return sandbox_response
        with state.lock:
            state.calls.append({"method": request.method, "path": path, "query": str(request.url.query)})
            failure = next((f for f in state.failures if f.path_contains in path), None)
            if failure is not None:
                failure.count -= 1
                if failure.count <= 0:
                    state.failures.remove(failure)
            outage = state.outage
            now = time.monotonic()
            if now - state.window_started >= window_seconds:
                state.window_started, state.window_count = now, 0
            state.window_count += 1
            remaining = rate_limit - state.window_count
            reset_in = max(1, int(window_seconds - (now - state.window_started) + 0.999))
        limit_headers = {
            "RateLimit-Limit": str(rate_limit),
            "RateLimit-Remaining": str(max(remaining, 0)),
            "RateLimit-Reset": str(int(time.time()) + reset_in),
        }
        if outage:
            return _error(503, "Moneybird is temporarily unavailable (sandbox outage)")
        if failure is not None:
            answer = _error(failure.status, "failure injected by /_sandbox/fail-next")
            if failure.retry_after is not None:
                answer.headers["Retry-After"] = failure.retry_after
            return answer
        if remaining < 0:
            answer = _error(429, "Too many requests")
            answer.headers.update({**limit_headers, "Retry-After": str(reset_in)})
            return answer
        if not secrets.compare_digest(request.headers.get("Authorization", ""), f"Bearer {token}"):
            return _error(401, "Token is invalid or expired", {"token": "invalid"})
        if not path.startswith("/api/v2/administrations") and not path.startswith(prefix + "/"):
            return _error(404, "record not found", {"administration_id": "not_found"})
        response: Response = await call_next(request)
        response.headers.update(limit_headers)
        return response

    @app.get("/api/v2/administrations.json")
    async def administrations() -> Response:
        return JSONResponse(
            [
                {
                    "id": administration_id,
                    "name": "OMS sandbox administration",
                    "language": "nl",
                    "currency": "EUR",
                    "country": "NL",
                    "time_zone": "Europe/Amsterdam",
                }
            ]
        )

    @app.get(prefix + "/tax_rates.json")
    async def tax_rates(request: Request) -> Response:
        wanted = _filters(request).get("tax_rate_type")
        return JSONResponse([rate for rate in state.tax_rates if wanted is None or rate["tax_rate_type"] == wanted])

    @app.get(prefix + "/ledger_accounts.json")
    async def ledger_accounts() -> Response:
        return JSONResponse(state.ledger_accounts)

    _contact_routes(app, state, prefix)
    _invoice_routes(app, state, prefix)
    _sandbox_routes(app, state)
    return app


def _filters(request: Request) -> dict[str, str]:
    raw = request.query_params.get("filter", "")
    pairs = (part.partition(":") for part in raw.split(",") if part)
    return {key: value for key, _, value in pairs}


def _contact_routes(app: FastAPI, state: _State, prefix: str) -> None:
    @app.post(prefix + "/contacts.json")
    async def create_contact(request: Request) -> Response:
        body = (await _body(request)).get("contact")
        if not isinstance(body, dict):
            raise Invalid("contact", "is missing", "blank")
        if not body.get("company_name") and not (body.get("firstname") or body.get("lastname")):
            raise Invalid("base", "Company name or first name or last name must be filled", "blank")
        with state.lock:
            customer_id = body.get("customer_id")
            if customer_id and any(c["customer_id"] == str(customer_id) for c in state.contacts.values()):
                raise Invalid("customer_id", "has already been taken", "taken")
            contact = _contact_json(state, state.new_id(), body)
            state.contacts[contact["id"]] = contact
            return JSONResponse(contact, status_code=201)

    @app.get(prefix + "/contacts/customer_id/{customer_id}.json")
    async def contact_by_customer_id(customer_id: str) -> Response:
        with state.lock:
            found = next((c for c in state.contacts.values() if c["customer_id"] == customer_id), None)
        return JSONResponse(found) if found else _error(404, "record not found")

    @app.get(prefix + "/contacts/{contact_id}.json")
    async def get_contact(contact_id: str) -> Response:
        with state.lock:
            found = state.contacts.get(contact_id)
        return JSONResponse(found) if found else _error(404, "record not found")


def _new_invoice(state: _State, body: dict[str, Any]) -> _Invoice:
    data = body.get("external_sales_invoice")
    if not isinstance(data, dict):
        raise Invalid("external_sales_invoice", "is missing", "blank")
    contact_id = str(data.get("contact_id") or "")
    if contact_id not in state.contacts:
        raise Invalid("contact_id", "does not exist", "invalid")
    details = data.get("details_attributes")
    if isinstance(details, dict):  # Rails' nested attributes also come as {"0": {...}, "1": {...}}
        details = list(details.values())
    if not isinstance(details, list) or not details:
        raise Invalid("details", "must have at least one line", "blank")
    rates = {rate["id"]: rate for rate in state.tax_rates}
    accounts = {account["id"]: account for account in state.ledger_accounts}
    parsed: list[_Detail] = []
    for index, detail in enumerate(details):
        if not isinstance(detail, dict):
            raise Invalid(f"details.{index}", "is invalid")
        rate = rates.get(str(detail.get("tax_rate_id") or ""))
        if rate is None or rate["tax_rate_type"] != "sales_invoice" or not rate["active"]:
            raise Invalid("details.tax_rate_id", "is not a sales invoice tax rate of this administration")
        account = accounts.get(str(detail.get("ledger_account_id") or ""))
        if account is None or account["account_type"] != "revenue":
            raise Invalid("details.ledger_account_id", "is not a revenue ledger account of this administration")
        parsed.append(
            _Detail(
                id=state.new_id(),
                description=str(detail.get("description") or ""),
                price=_decimal(detail.get("price"), "details.price"),
                amount=Decimal(str(detail.get("amount") or "1").removesuffix(" x").strip() or "1"),
                tax_rate_id=rate["id"],
                ledger_account_id=account["id"],
            )
        )
    currency = str(data.get("currency") or "EUR")
    if len(currency) != 3 or not currency.isalpha():
        raise Invalid("currency", "is not a currency")
    return _Invoice(
        id=state.new_id(),
        contact_id=contact_id,
        reference=str(data.get("reference") or ""),
        date=_day(data.get("date") or _now().date().isoformat(), "date"),
        due_date=_day(data["due_date"], "due_date") if data.get("due_date") else None,
        currency=currency.upper(),
        prices_are_incl_tax=bool(data.get("prices_are_incl_tax", False)),
        source=data.get("source"),
        source_url=data.get("source_url"),
        details=parsed,
        created_at=_now(),
    )


def _invoice_routes(app: FastAPI, state: _State, prefix: str) -> None:
    @app.post(prefix + "/external_sales_invoices.json")
    async def create_invoice(request: Request) -> Response:
        body = await _body(request)
        with state.lock:
            invoice = _new_invoice(state, body)
            state.invoices[invoice.id] = invoice
            return JSONResponse(_invoice_json(state, invoice), status_code=201)

    @app.get(prefix + "/external_sales_invoices.json")
    async def list_invoices(request: Request) -> Response:
        filters = _filters(request)
        try:
            page = max(int(request.query_params.get("page", "1")), 1)
            per_page = min(max(int(request.query_params.get("per_page", str(DEFAULT_PER_PAGE))), 1), MAX_PER_PAGE)
        except ValueError:
            raise Invalid("page", "is not a number") from None
        first, last = _period(filters["period"]) if "period" in filters else (date.min, date.max)
        states = set(filters.get("state", "all").split("|"))
        with state.lock:
            shown = [
                _invoice_json(state, invoice)
                for invoice in sorted(state.invoices.values(), key=lambda each: (each.date, each.id))
                if first <= invoice.date <= last
                and ("contact_id" not in filters or invoice.contact_id == filters["contact_id"])
            ]
        shown = [each for each in shown if "all" in states or each["state"] in states]
        answer = JSONResponse(shown[(page - 1) * per_page : page * per_page])
        if page * per_page < len(shown):
            query = {key: value for key, value in request.query_params.items() if key != "page"}
            next_url = f"{str(request.base_url).rstrip('/')}{request.url.path}?{urlencode({**query, 'page': page + 1})}"
            answer.headers["Link"] = f'<{next_url}>; rel="next"'
        return answer

    @app.get(prefix + "/external_sales_invoices/{invoice_id}.json")
    async def get_invoice(invoice_id: str) -> Response:
        with state.lock:
            invoice = state.invoices.get(invoice_id)
            return _error(404, "record not found") if invoice is None else JSONResponse(_invoice_json(state, invoice))

    @app.post(prefix + "/external_sales_invoices/{invoice_id}/payments.json")
    async def add_payment(invoice_id: str, request: Request) -> Response:
        body = (await _body(request)).get("payment")
        if not isinstance(body, dict):
            raise Invalid("payment", "is missing", "blank")
        price = _decimal(body.get("price"), "price")
        paid_on = _day(body.get("payment_date"), "payment_date")
        with state.lock:
            invoice = state.invoices.get(invoice_id)
            if invoice is None:
                return _error(404, "record not found")
            unpaid = _totals(state, invoice)["unpaid"]
            if price == 0 or (price > 0) != (unpaid > 0) or abs(price) > abs(unpaid):
                raise Invalid("price", "is more than the unpaid amount of the invoice", "invalid")
            payment = {
                "id": state.new_id(),
                "administration_id": state.administration_id,
                "invoice_type": "ExternalSalesInvoice",
                "invoice_id": invoice.id,
                "financial_account_id": None,
                "user_id": None,
                "payment_transaction_id": None,
                "transaction_identifier": body.get("transaction_identifier"),
                "price": _amount(price),
                "price_base": _amount(price),
                "payment_date": paid_on.isoformat(),
                "credit_invoice_id": None,
                "financial_mutation_id": None,
                "ledger_account_id": None,
                "linked_payment_id": None,
                "manual_payment_action": body.get("manual_payment_action"),
                "created_at": _stamp(_now()),
                "updated_at": _stamp(_now()),
            }
            invoice.payments.append(payment)
            return JSONResponse(payment, status_code=201)


def _sandbox_routes(app: FastAPI, state: _State) -> None:
    @app.post("/_sandbox/fail-next")
    async def fail_next(request: Request) -> Response:
        """`{"status": 429, "count": 1, "retry_after": "1", "path_contains": "external_sales_invoices"}`."""
        body = await request.json()
        where = body.get("path_contains", "/api/v2")
        failure = _Failure(int(body["status"]), int(body.get("count", 1)), body.get("retry_after"), where)
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

    @app.get("/_sandbox/invoices")
    async def invoices() -> Response:
        """Every external sales invoice held, as the API shows it."""
        with state.lock:
            return JSONResponse([_invoice_json(state, invoice) for invoice in state.invoices.values()])


def create_app_from_environment() -> FastAPI:
    """`make run`'s local Moneybird (`uvicorn --factory`): the token and administration the engine
    is given (OMS_MONEYBIRD_API_TOKEN, OMS_MONEYBIRD_ADMINISTRATION_ID), from the environment."""
    return create_app(
        token=os.environ["OMS_MONEYBIRD_API_TOKEN"],
        administration_id=os.environ.get("OMS_MONEYBIRD_ADMINISTRATION_ID", ADMINISTRATION_ID),
    )
