"""A local Exact Online (REST API v1): what the books push uses, in Exact's documented shapes, for
tests and `make run` in development.

- OAuth2 (https://support.exactonline.com/community/s/knowledge-base#All-All-DNO-Content-oauth-eol-oauth-dev-impleovervw):
  `GET /api/oauth2/auth` redirects to the redirect URI with a `code`; `POST /api/oauth2/token`
  (form) with `grant_type=authorization_code` (code, redirect_uri) or `grant_type=refresh_token`,
  and the app's client_id and client_secret, answers `{access_token, token_type: "bearer",
  expires_in: "600", refresh_token}`. Access tokens live 10 minutes; a refresh token is good once:
  using it rotates it (the old one then answers 400 `invalid_grant`).
- `GET /api/v1/current/Me` (`CurrentDivision`); per division `financial/GLAccounts`, `crm/Accounts`,
  `vat/VATCodes` and `salesentry/SalesEntries` (GET with `$filter` on `Field eq 'value'` terms
  joined by `and`, `trim(Code) eq '...'`, `guid'...'` and `startswith(Field,'...') eq true`;
  `$select`), answered as OData v2 JSON `{"d": {"results": [...]}}`, 60 rows a page with the next
  page's URL in `d.__next` (`$skiptoken`); `POST salesentry/SalesEntries` answers 201 `{"d": entry}` with its
  `EntryID`, `EntryNumber` and `AmountFC` (lines' AmountFC + VATAmountFC).
- Rate limits as documented (60 calls a minute, 5,000 a day per app and division): every API answer
  carries `X-RateLimit-Limit`, `-Remaining`, `-Reset` (daily) and `X-RateLimit-Minutely-Limit`,
  `-Remaining`, `-Reset` (resets as Unix time in milliseconds); past a limit, 429.
- A missing, unknown or expired bearer token: 401.
- Test hooks under `/_sandbox` (no auth): `outage` (503 until off), `fail` (the next N API calls
  answer a status), `limits` (the minute's length and what is left of the minute and the day),
  `expire-tokens` (every access token expires now), `entries` (what was booked, and how many POSTs
  and token refreshes were made).
"""

from __future__ import annotations

import re
import secrets
import threading
import time
import uuid
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response

CLIENT_ID = "sandbox-exact-client"
CLIENT_SECRET = "sandbox-exact-secret"  # noqa: S105 - a sandbox credential, never a real one
DIVISION = 123456
ACCESS_TOKEN_SECONDS = 600
MINUTELY_LIMIT = 60
DAILY_LIMIT = 5000
GL_ACCOUNTS = ("1100", "1300", "1600", "1800", "4800", "8000", "8100", "8900")
CUSTOMERS = ("OMS", "OMS-BOL", "OMS-AMAZON")
VAT_CODES = {"0": 0, "1": 9, "2": 21, "4": 0}
_TERM = re.compile(r"^(trim\((\w+)\)|(\w+)) eq (guid)?'((?:[^']|'')*)'$")
_STARTS = re.compile(r"^startswith\((\w+),\s*'((?:[^']|'')*)'\) eq true$")
PAGE = 60
"""Rows per answer; more are behind `__next` (Exact pages its GETs by 60)."""


@dataclass
class _State:
    minute_seconds: float = 60.0
    minute_started: float = field(default_factory=time.time)
    minute_used: int = 0
    minute_limit: int = MINUTELY_LIMIT
    day_limit: int = DAILY_LIMIT
    day_used: int = 0
    outage: bool = False
    fail_status: int = 0
    fail_left: int = 0
    codes: dict[str, str] = field(default_factory=dict)
    refresh_tokens: set[str] = field(default_factory=set)
    access_tokens: dict[str, float] = field(default_factory=dict)
    refreshes: int = 0
    posts: int = 0
    throttled: int = 0
    """429s answered (a limit reached)."""
    entries: list[dict[str, Any]] = field(default_factory=list)
    gl_accounts: dict[str, str] = field(default_factory=dict)
    customers: dict[str, str] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)


def create_app(*, client_id: str = CLIENT_ID, client_secret: str = CLIENT_SECRET, refresh_token: str = "") -> FastAPI:
    """A fresh Exact Online; `refresh_token`: one that is valid from the start (as if the
    authorization step had been done), so `make run` and tests need no browser."""
    app = FastAPI(title="Exact Online sandbox")
    state = _State()
    state.gl_accounts = {code: str(uuid.uuid5(uuid.NAMESPACE_URL, f"gl:{code}")) for code in GL_ACCOUNTS}
    state.customers = {code: str(uuid.uuid5(uuid.NAMESPACE_URL, f"customer:{code}")) for code in CUSTOMERS}
    if refresh_token:
        state.refresh_tokens.add(refresh_token)
    app.state.exact = state
    registered = (client_id, client_secret)

    def _tokens() -> dict[str, str]:
        access, refresh = secrets.token_urlsafe(24), secrets.token_urlsafe(24)
        state.access_tokens[access] = time.time() + ACCESS_TOKEN_SECONDS
        state.refresh_tokens.add(refresh)
        return {
            "access_token": access,
            "token_type": "bearer",
            "expires_in": str(ACCESS_TOKEN_SECONDS),
            "refresh_token": refresh,
        }

    @app.get("/api/oauth2/auth")
    def authorize(request: Request) -> Response:
        """The user would sign in and allow the app here; the sandbox allows at once."""
        query = request.query_params
        if query.get("client_id") != registered[0] or query.get("response_type", "code") != "code":
            return JSONResponse({"error": "invalid_client"}, status_code=400)
        redirect_uri = query.get("redirect_uri", "")
        code = secrets.token_urlsafe(12)
        state.codes[code] = redirect_uri
        return RedirectResponse(f"{redirect_uri}?{urlencode({'code': code, 'state': query.get('state', '')})}")

    @app.post("/api/oauth2/token")
    async def token(request: Request) -> Response:
        form = await request.form()
        if (form.get("client_id"), form.get("client_secret")) != registered:
            return JSONResponse({"error": "invalid_client"}, status_code=400)
        grant = str(form.get("grant_type", ""))
        with state.lock:
            if grant == "authorization_code":
                code = str(form.get("code", ""))
                if state.codes.pop(code, None) != form.get("redirect_uri"):
                    return JSONResponse({"error": "invalid_grant"}, status_code=400)
                return JSONResponse(_tokens())
            if grant == "refresh_token":
                old = str(form.get("refresh_token", ""))
                if old not in state.refresh_tokens:
                    return JSONResponse({"error": "invalid_grant"}, status_code=400)
                state.refresh_tokens.discard(old)  # rotated: good once
                state.refreshes += 1
                return JSONResponse(_tokens())
        return JSONResponse({"error": "unsupported_grant_type"}, status_code=400)

    def _limited(request: Request) -> tuple[Response | None, dict[str, str]]:
        """Count the call against the limits; a 429 (or an injected failure) when it may not go on."""
        now = time.time()
        with state.lock:
            if now - state.minute_started >= state.minute_seconds:
                state.minute_started, state.minute_used = now, 0
            day_reset = int((now // 86400 + 1) * 86400 * 1000)
            minute_reset = int((state.minute_started + state.minute_seconds) * 1000)
            over = state.day_used >= state.day_limit or state.minute_used >= state.minute_limit
            if not over:
                state.day_used += 1
                state.minute_used += 1
            headers = {
                "X-RateLimit-Limit": str(DAILY_LIMIT),
                "X-RateLimit-Remaining": str(max(0, state.day_limit - state.day_used)),
                "X-RateLimit-Reset": str(day_reset),
                "X-RateLimit-Minutely-Limit": str(MINUTELY_LIMIT),
                "X-RateLimit-Minutely-Remaining": str(max(0, state.minute_limit - state.minute_used)),
                "X-RateLimit-Minutely-Reset": str(minute_reset),
            }
            if state.outage:
                return JSONResponse({"error": {"message": {"value": "Service unavailable"}}}, 503), {}
            if over:
                state.throttled += 1
                message = {"error": {"code": "", "message": {"lang": "", "value": "API rate limit exceeded"}}}
                return JSONResponse(message, 429, headers=headers), headers
            if state.fail_left > 0:
                state.fail_left -= 1
                return JSONResponse({"error": {"message": {"value": "injected"}}}, state.fail_status), headers
        auth = request.headers.get("authorization", "")
        expires = state.access_tokens.get(auth.removeprefix("Bearer ").strip()) if auth.startswith("Bearer ") else None
        if expires is None or expires <= time.time():
            return JSONResponse({"error": {"message": {"value": "Access denied"}}}, 401, headers=headers), headers
        return None, headers

    def _answer(body: Any, headers: dict[str, str], status: int = 200) -> Response:
        return JSONResponse({"d": body}, status, headers=headers)

    @app.get("/api/v1/current/Me")
    def me(request: Request) -> Response:
        refused, headers = _limited(request)
        if refused:
            return refused
        return _answer({"results": [{"CurrentDivision": DIVISION, "UserName": "sandbox"}]}, headers)

    def _division(division: int, headers: dict[str, str]) -> Response | None:
        if division != DIVISION:
            return JSONResponse({"error": {"message": {"value": "Forbidden"}}}, 403, headers=headers)
        return None

    def _rows(request: Request, rows: list[dict[str, Any]], headers: dict[str, str]) -> Response:
        try:
            matches = [row for row in rows if _filter(request.query_params.get("$filter", ""), row)]
        except ValueError as exc:
            return JSONResponse({"error": {"message": {"value": str(exc)}}}, 400, headers=headers)
        select = [name for name in request.query_params.get("$select", "").split(",") if name]
        if select:
            matches = [{name: row.get(name) for name in select} for row in matches]
        skip = int(request.query_params.get("$skiptoken", "0") or 0)
        page: dict[str, Any] = {"results": matches[skip : skip + PAGE]}
        if skip + PAGE < len(matches):
            query = dict(request.query_params) | {"$skiptoken": str(skip + PAGE)}
            page["__next"] = f"{str(request.base_url).rstrip('/')}{request.url.path}?{urlencode(query)}"
        return _answer(page, headers)

    @app.get("/api/v1/{division}/financial/GLAccounts")
    def gl_accounts(division: int, request: Request) -> Response:
        refused, headers = _limited(request)
        if refused or (refused := _division(division, headers)):
            return refused
        rows = [{"ID": guid, "Code": code, "Description": code} for code, guid in state.gl_accounts.items()]
        return _rows(request, rows, headers)

    @app.get("/api/v1/{division}/crm/Accounts")
    def accounts(division: int, request: Request) -> Response:
        refused, headers = _limited(request)
        if refused or (refused := _division(division, headers)):
            return refused
        # Exact keeps account codes right-aligned in 18 characters: a filter on the code trims it.
        rows = [{"ID": guid, "Code": code.rjust(18), "Name": code} for code, guid in state.customers.items()]
        return _rows(request, rows, headers)

    @app.get("/api/v1/{division}/vat/VATCodes")
    def vat_codes(division: int, request: Request) -> Response:
        refused, headers = _limited(request)
        if refused or (refused := _division(division, headers)):
            return refused
        rows = [{"Code": code.ljust(3), "Percentage": rate / 100} for code, rate in VAT_CODES.items()]
        return _rows(request, rows, headers)

    @app.get("/api/v1/{division}/salesentry/SalesEntries")
    def list_entries(division: int, request: Request) -> Response:
        refused, headers = _limited(request)
        if refused or (refused := _division(division, headers)):
            return refused
        return _rows(request, [dict(entry) for entry in state.entries], headers)

    @app.post("/api/v1/{division}/salesentry/SalesEntries")
    async def create_entry(division: int, request: Request) -> Response:
        refused, headers = _limited(request)
        if refused or (refused := _division(division, headers)):
            return refused
        body = await request.json()
        problem = _check_entry(state, body)
        if problem:
            error = {"error": {"code": "", "message": {"lang": "", "value": problem}}}
            return JSONResponse(error, 400, headers=headers)
        lines = body["SalesEntryLines"]
        amount = sum(
            (Decimal(str(line["AmountFC"])) + Decimal(str(line.get("VATAmountFC", 0))) for line in lines), Decimal(0)
        )
        with state.lock:
            state.posts += 1
            entry = {
                "EntryID": str(uuid.uuid4()),
                "EntryNumber": 26700000 + len(state.entries) + 1,
                "Journal": body["Journal"],
                "Customer": body["Customer"],
                "Currency": body.get("Currency", "EUR"),
                "EntryDate": body.get("EntryDate"),
                "YourRef": body.get("YourRef", ""),
                "Description": body.get("Description", ""),
                "Type": body.get("Type", 20),
                "AmountFC": float(amount),
                "SalesEntryLines": lines,
            }
            state.entries.append(entry)
        return _answer(entry, headers, 201)

    @app.post("/_sandbox/outage")
    def outage(on: bool = True) -> dict[str, bool]:
        state.outage = on
        return {"outage": on}

    @app.post("/_sandbox/fail")
    def fail(status: int = 500, times: int = 1) -> dict[str, int]:
        state.fail_status, state.fail_left = status, times
        return {"status": status, "times": times}

    @app.post("/_sandbox/limits")
    def limits(
        minute_seconds: float | None = None, minute_left: int | None = None, day_left: int | None = None
    ) -> dict[str, float]:
        with state.lock:
            if minute_seconds is not None:
                state.minute_seconds = minute_seconds
            if minute_left is not None:
                state.minute_started, state.minute_used = time.time(), state.minute_limit - minute_left
            if day_left is not None:
                state.day_used = state.day_limit - day_left
        return {"minute_seconds": state.minute_seconds}

    @app.post("/_sandbox/expire-tokens")
    def expire_tokens() -> dict[str, int]:
        with state.lock:
            for token in state.access_tokens:
                state.access_tokens[token] = 0.0
        return {"expired": len(state.access_tokens)}

    @app.get("/_sandbox/entries")
    def entries() -> dict[str, Any]:
        return {
            "entries": state.entries,
            "posts": state.posts,
            "refreshes": state.refreshes,
            "throttled": state.throttled,
        }

    return app


def _check_entry(state: _State, body: Any) -> str:
    if not isinstance(body, dict):
        return "A sales entry is a JSON object"
    if not body.get("Journal"):
        return "Mandatory: Journal"
    if body.get("Customer") not in state.customers.values():
        return "Customer: not found"
    lines = body.get("SalesEntryLines")
    if not isinstance(lines, list) or not lines:
        return "Mandatory: SalesEntryLines"
    for line in lines:
        if line.get("GLAccount") not in state.gl_accounts.values():
            return "GLAccount: not found"
        if "AmountFC" not in line:
            return "Mandatory: AmountFC"
        if line.get("VATCode") is not None and str(line["VATCode"]).strip() not in VAT_CODES:
            return "VATCode: not found"
    return ""


def _filter(text: str, row: dict[str, Any]) -> bool:
    """OData `$filter` of `Field eq 'value'` terms joined by `and` (enough for look-ups by code,
    reference or id); anything else is a 400, as Exact answers an unparseable filter."""
    if not text:
        return True
    for term in text.split(" and "):
        starts = _STARTS.match(term.strip())
        if starts:
            if not str(row.get(starts.group(1), "")).startswith(starts.group(2).replace("''", "'")):
                return False
            continue
        match = _TERM.match(term.strip())
        if not match:
            raise ValueError(f"unsupported $filter term: {term!r}")
        trimmed, plain, _, value = match.group(2), match.group(3), match.group(4), match.group(5)
        name = trimmed or plain
        actual = str(row.get(name, ""))
        if trimmed:
            actual = actual.strip()
        if actual != value.replace("''", "'"):
            return False
    return True


def create_app_from_environment() -> FastAPI:
    """`make run`'s local Exact (`uvicorn --factory`): the client id, secret and first refresh token
    the engine is given (OMS_EXACT_CLIENT_ID, OMS_EXACT_CLIENT_SECRET, OMS_EXACT_REFRESH_TOKEN)."""
    import os

    return create_app(
        client_id=os.environ["OMS_EXACT_CLIENT_ID"],
        client_secret=os.environ["OMS_EXACT_CLIENT_SECRET"],
        refresh_token=os.environ["OMS_EXACT_REFRESH_TOKEN"],
    )
