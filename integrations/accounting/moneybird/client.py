"""Moneybird's API v2 over HTTP (a Bearer token; the administration in the path): every way it says
no becomes a `MoneybirdError`, here and only here.

- no answer, a 5xx, or a body that is not JSON where JSON was due: `MoneybirdUnavailable` (try later);
- 401/403: `MoneybirdAuthFailed` (a person must fix the token or the administration id);
- 422 and other 4xx: `MoneybirdRefused` with Moneybird's own words (`{"error": {"field": [...]}}`);
- 429: Moneybird allows 150 requests per 5 minutes. The client waits what `Retry-After` says (at
  most `max_wait` seconds at a time) and asks again, a few times, then gives up with
  `MoneybirdRateLimited`; when an answer says none are left (`RateLimit-Remaining: 0`) it waits for
  `RateLimit-Reset` before the next request instead of running into the 429.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from datetime import date
from typing import Any

import httpx

from integrations.channels.http import retry_after_seconds

TIMEOUT_SECONDS = 15.0
PRODUCTION_URL = "https://moneybird.com/api/v2"
PER_PAGE = 100
"""Moneybird's largest page."""


class MoneybirdError(Exception):
    """Moneybird did not do what was asked; the message says what and why (no personal data)."""


class MoneybirdUnavailable(MoneybirdError):
    """Not reached, or it failed on its side: the same request may work later."""


class MoneybirdRateLimited(MoneybirdUnavailable):
    def __init__(self, message: str, retry_after: float | None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class MoneybirdAuthFailed(MoneybirdError):
    """The token was refused (or may not reach this administration): nothing was booked."""


class MoneybirdRefused(MoneybirdError):
    """Moneybird refused the request itself (422 and other 4xx): asking again will not help."""


def moneybird_words(response: httpx.Response) -> str:
    """What Moneybird said in an error body, e.g. `details.price: is not a number`."""
    try:
        body = response.json()
    except ValueError:
        return response.reason_phrase or "no details"
    error = body.get("error") if isinstance(body, Mapping) else None
    if isinstance(error, Mapping):
        parts = []
        for field, messages in error.items():
            said = "; ".join(str(m) for m in messages) if isinstance(messages, list) else str(messages)
            parts.append(f"{field}: {said}")
        return ", ".join(parts) or "no details"
    if error:
        return str(error)
    return response.reason_phrase or "no details"


class MoneybirdClient:
    """The endpoints the push uses. `api_url`: https://moneybird.com/api/v2 or a sandbox's."""

    def __init__(
        self,
        api_url: str,
        token: str,
        administration_id: str,
        *,
        http: httpx.Client | None = None,
        sleep: Callable[[float], None] = time.sleep,
        max_wait: float = 300.0,
        rate_limited_tries: int = 5,
    ) -> None:
        self.api_url = (api_url or PRODUCTION_URL).rstrip("/")
        self.administration_id = administration_id
        self._http = http or httpx.Client(timeout=TIMEOUT_SECONDS)
        self._headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        self._sleep = sleep
        self._max_wait = max_wait
        self._tries = rate_limited_tries
        self._paused_until = 0.0
        self.waited = 0.0
        """Seconds spent waiting for the rate limit (for the push's result and the tests)."""

    def close(self) -> None:
        self._http.close()

    # -- set-up -----------------------------------------------------------------------------------

    def administrations(self) -> list[dict[str, Any]]:
        return _list(self._send("GET", "/administrations.json", "list administrations", own=False))

    def tax_rates(self) -> list[dict[str, Any]]:
        """The administration's sales invoice tax rates (`percentage` as a decimal string)."""
        params = {"filter": "tax_rate_type:sales_invoice"}
        return _list(self._send("GET", "/tax_rates.json", "list tax rates", params=params))

    def ledger_accounts(self) -> list[dict[str, Any]]:
        return _list(self._send("GET", "/ledger_accounts.json", "list ledger accounts"))

    # -- contacts ---------------------------------------------------------------------------------

    def contact_by_customer_id(self, customer_id: str) -> dict[str, Any] | None:
        what = "find a contact"
        response = self._send("GET", f"/contacts/customer_id/{customer_id}.json", what, accept=(404,))
        return None if response.status_code == 404 else _object(response, what)

    def create_contact(self, contact: Mapping[str, Any]) -> dict[str, Any]:
        what = "create a contact"
        return _object(self._send("POST", "/contacts.json", what, json_body={"contact": dict(contact)}), what)

    # -- external sales invoices ------------------------------------------------------------------

    def create_external_sales_invoice(self, invoice: Mapping[str, Any]) -> dict[str, Any]:
        what = "create an external sales invoice"
        body = {"external_sales_invoice": dict(invoice)}
        return _object(self._send("POST", "/external_sales_invoices.json", what, json_body=body), what)

    def external_sales_invoice(self, invoice_id: str) -> dict[str, Any] | None:
        what = "read an external sales invoice"
        response = self._send("GET", f"/external_sales_invoices/{invoice_id}.json", what, accept=(404,))
        return None if response.status_code == 404 else _object(response, what)

    def external_sales_invoices(self, first: date, last: date) -> list[dict[str, Any]]:
        """Every external sales invoice dated `first` to `last` (both included), all states, every
        page (Moneybird's `Link: <…>; rel="next"`)."""
        what = "list external sales invoices"
        params: dict[str, str | int] = {
            "filter": f"period:{first:%Y%m%d}..{last:%Y%m%d},state:all",
            "per_page": PER_PAGE,
            "page": 1,
        }
        found: list[dict[str, Any]] = []
        while True:
            response = self._send("GET", "/external_sales_invoices.json", what, params=params)
            found += _list(response)
            if "next" not in response.links:
                return found
            params["page"] = int(params["page"]) + 1

    def add_payment(self, invoice_id: str, payment: Mapping[str, Any]) -> dict[str, Any]:
        """Register money received (or, negative, paid back) on an external sales invoice."""
        what = "register a payment"
        path = f"/external_sales_invoices/{invoice_id}/payments.json"
        return _object(self._send("POST", path, what, json_body={"payment": dict(payment)}), what)

    # -- the wire ---------------------------------------------------------------------------------

    def _send(
        self,
        method: str,
        path: str,
        what: str,
        *,
        json_body: Any = None,
        params: Mapping[str, Any] | None = None,
        accept: tuple[int, ...] = (),
        own: bool = True,
    ) -> httpx.Response:
        url = f"{self.api_url}/{self.administration_id}{path}" if own else f"{self.api_url}{path}"
        for attempt in range(1, self._tries + 1):
            self._wait(self._paused_until - time.monotonic())
            try:
                response = self._http.request(method, url, headers=self._headers, json=json_body, params=params)
            except httpx.HTTPError as exc:
                raise MoneybirdUnavailable(f"Moneybird {what}: not reached ({type(exc).__name__})") from None
            self._note_remaining(response)
            if response.status_code == 429:
                retry_after = retry_after_seconds(response.headers.get("Retry-After"))
                if attempt == self._tries or (retry_after is not None and retry_after > self._max_wait):
                    raise MoneybirdRateLimited(
                        f"Moneybird {what}: rate limited (429), try again in {retry_after or 'a while'} s", retry_after
                    )
                self._wait(retry_after if retry_after is not None else min(2.0**attempt, self._max_wait))
                continue
            break
        status = response.status_code
        if status in accept or status < 300:
            return response
        if status in (401, 403):
            raise MoneybirdAuthFailed(
                f"Moneybird {what}: the API token was refused ({status}: {moneybird_words(response)}); "
                "check OMS_MONEYBIRD_API_TOKEN and OMS_MONEYBIRD_ADMINISTRATION_ID"
            )
        if status >= 500:
            raise MoneybirdUnavailable(f"Moneybird {what}: {status} {moneybird_words(response)}")
        raise MoneybirdRefused(f"Moneybird {what}: refused ({status}): {moneybird_words(response)}")

    def _note_remaining(self, response: httpx.Response) -> None:
        """None left in this window: hold the next request until it resets (at most `max_wait`)."""
        if response.headers.get("RateLimit-Remaining", "").strip() != "0":
            return
        reset = response.headers.get("RateLimit-Reset", "").strip()
        if reset.isdigit():
            seconds = min(max(int(reset) - time.time(), 0.0), self._max_wait)
            self._paused_until = time.monotonic() + seconds

    def _wait(self, seconds: float) -> None:
        if seconds > 0:
            self.waited += seconds
            self._sleep(seconds)


def _json(response: httpx.Response, what: str) -> Any:
    try:
        return response.json()
    except ValueError:
        raise MoneybirdUnavailable(f"Moneybird {what}: the answer is not JSON") from None


def _object(response: httpx.Response, what: str = "answer") -> dict[str, Any]:
    body = _json(response, what)
    if not isinstance(body, dict):
        raise MoneybirdUnavailable(f"Moneybird {what}: expected an object")
    return body


def _list(response: httpx.Response) -> list[dict[str, Any]]:
    body = _json(response, "list")
    if not isinstance(body, list):
        raise MoneybirdUnavailable("Moneybird list: expected a list")
    return [item for item in body if isinstance(item, dict)]
