"""Exact Online's REST API as the books need it: OAuth2 tokens kept fresh, the rate limits kept,
sales entries looked up and posted.

Tokens (Exact's OAuth2): an access token lives 10 minutes; it is refreshed with the refresh token,
which Exact **rotates** on every use: the new one is stored (`TokenStore.save`, its own
transaction, before the access token is used) or the connection is lost. A 401 refreshes once.
Secrets never reach a log line or an exception message.

Rate limits (60 calls a minute, 5,000 a day per app and division): every answer says what is left
(`X-RateLimit-Minutely-Remaining`, `X-RateLimit-Remaining`) and when it resets
(`X-RateLimit-Minutely-Reset`, `X-RateLimit-Reset`, Unix time in milliseconds). With the minute
used up the client waits for its reset before the next call (and after a 429 that says so); with
the day used up it stops with `DailyLimitReached`, saying when it resets: a day's push is taken
up again by the next run, never half-booked (each sales entry is booked once, services.books).
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any, Protocol

import httpx

log = logging.getLogger("oms.exact")

REFRESH_MARGIN = timedelta(seconds=30)
"""An access token this close to its end is refreshed before a call (no 401 round trip)."""
MAX_WAITS = 5
"""Rate-limit waits (and 5xx retries) for one call before it gives up."""


class ExactError(Exception):
    """Exact refused or failed a call (the message names the call and Exact's own words)."""

    def __init__(self, message: str, status: int = 0) -> None:
        super().__init__(message)
        self.status = status


class DailyLimitReached(ExactError):
    """The day's 5,000 calls are used: nothing more until `resets_at`."""

    def __init__(self, resets_at: datetime | None) -> None:
        when = resets_at.isoformat() if resets_at else "Exact's next daily reset"
        super().__init__(f"Exact Online's daily limit of API calls is used up; the books go on after {when}", 429)
        self.resets_at = resets_at


@dataclass(frozen=True)
class Tokens:
    refresh_token: str
    access_token: str = ""
    access_expires_at: datetime | None = None

    def __repr__(self) -> str:  # never show a secret
        return f"Tokens(access_expires_at={self.access_expires_at!r})"


class TokenStore(Protocol):
    def load(self) -> Tokens | None: ...
    def save(self, tokens: Tokens) -> None: ...


@dataclass(frozen=True)
class ExactConfig:
    base_url: str
    client_id: str
    client_secret: str
    division: int = 0
    """0: the user's current division (`/api/v1/current/Me`)."""
    initial_refresh_token: str = ""
    """Used once when the store holds none yet (the authorization step's refresh token)."""


class ExactClient:
    def __init__(
        self,
        config: ExactConfig,
        tokens: TokenStore,
        *,
        http: httpx.Client | None = None,
        sleep: Callable[[float], None] = time.sleep,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._config = config
        self._store = tokens
        self._http = http or httpx.Client(timeout=30)
        self._sleep = sleep
        self._now = now
        self._tokens: Tokens | None = None
        self._division = config.division
        self._minute_left: int | None = None
        self._minute_reset: datetime | None = None
        self.waited = 0.0
        """Seconds spent waiting for the minutely limit (for tests and the push's report)."""

    # -- tokens ------------------------------------------------------------------------------
    def _access_token(self) -> str:
        tokens = self._tokens or self._store.load()
        if tokens is None:
            if not self._config.initial_refresh_token:
                raise ExactError("Exact Online is not connected: no refresh token (see README, Exact set-up)")
            tokens = Tokens(self._config.initial_refresh_token)
        self._tokens = tokens
        expires = tokens.access_expires_at
        if not tokens.access_token or expires is None or expires - REFRESH_MARGIN <= self._now():
            self._refresh()
        assert self._tokens is not None
        return self._tokens.access_token

    def _token_call(self) -> httpx.Response:
        assert self._tokens is not None
        return self._http.post(
            f"{self._config.base_url}/api/oauth2/token",
            data={
                "grant_type": "refresh_token",
                "refresh_token": self._tokens.refresh_token,
                "client_id": self._config.client_id,
                "client_secret": self._config.client_secret,
            },
        )

    def _refresh(self) -> None:
        assert self._tokens is not None
        answer = self._token_call()
        if answer.status_code == 400:
            # Another process (the API's push beside the worker's schedule) may have used the same
            # refresh token a moment ago: Exact rotated it, and the new one is in the store.
            stored = self._store.load()
            if stored is not None and stored.refresh_token != self._tokens.refresh_token:
                self._tokens = stored
                expires = stored.access_expires_at
                if stored.access_token and expires is not None and expires - REFRESH_MARGIN > self._now():
                    return
                answer = self._token_call()
        if answer.status_code != 200:
            # The body may echo what was sent: only the status and Exact's error code are told.
            json_body = answer.headers.get("content-type", "").startswith("application/json")
            code = _json(answer).get("error", "") if json_body else ""
            raise ExactError(
                f"Exact Online refused to refresh the access token ({answer.status_code} {code})", answer.status_code
            )
        body = answer.json()
        tokens = Tokens(
            refresh_token=str(body["refresh_token"]),
            access_token=str(body["access_token"]),
            access_expires_at=self._now() + timedelta(seconds=int(body.get("expires_in", 600))),
        )
        # The old refresh token is spent now: keep the new one before anything else can fail.
        self._store.save(tokens)
        self._tokens = tokens
        log.info("Exact Online access token refreshed (valid until %s)", tokens.access_expires_at)

    # -- calls -------------------------------------------------------------------------------
    def _call(self, method: str, path: str, *, params: dict[str, str] | None = None, body: Any = None) -> Any:
        refreshed = False
        for _ in range(MAX_WAITS + 1):
            self._wait_for_the_minute()
            content = None if body is None else json.dumps(body, default=_number)
            headers = {"Authorization": f"Bearer {self._access_token()}", "Accept": "application/json"}
            if content is not None:
                headers["Content-Type"] = "application/json"
            answer = self._http.request(
                method, f"{self._config.base_url}{path}", params=params, content=content, headers=headers
            )
            self._note_limits(answer)
            if answer.status_code == 401 and not refreshed:
                refreshed = True
                self._refresh()
                continue
            if answer.status_code == 429:
                if answer.headers.get("X-RateLimit-Remaining") == "0":
                    raise DailyLimitReached(_reset(answer.headers.get("X-RateLimit-Reset")))
                self._minute_left = 0
                continue
            if answer.status_code >= 500:
                self._sleep(1.0)
                continue
            if answer.status_code >= 400:
                raise ExactError(
                    f"Exact Online answered {answer.status_code} to {method} {path}: {_message(answer)}",
                    answer.status_code,
                )
            return _json(answer)
        raise ExactError(f"Exact Online did not answer {method} {path} after {MAX_WAITS} tries")

    def _note_limits(self, answer: httpx.Response) -> None:
        left = answer.headers.get("X-RateLimit-Minutely-Remaining")
        if left is not None and left.isdigit():
            self._minute_left = int(left)
            self._minute_reset = _reset(answer.headers.get("X-RateLimit-Minutely-Reset"))

    def _wait_for_the_minute(self) -> None:
        if self._minute_left != 0:
            return
        reset = self._minute_reset
        seconds = 60.0 if reset is None else max(0.0, (reset - self._now()).total_seconds()) + 0.05
        log.info("Exact Online's minutely limit is used up: waiting %.1f s for its reset", seconds)
        self.waited += seconds
        self._sleep(seconds)
        self._minute_left = None

    # -- what the books use -------------------------------------------------------------------
    def division(self) -> int:
        if not self._division:
            me = self._call("GET", "/api/v1/current/Me", params={"$select": "CurrentDivision"})
            self._division = int(_results(me)[0]["CurrentDivision"])
        return self._division

    def find(self, resource: str, filter_: str, select: str) -> list[dict[str, Any]]:
        """`GET /api/v1/{division}/{resource}?$filter=...&$select=...`: every row, following the
        `__next` links Exact pages its answers with (60 rows a page)."""
        params: dict[str, str] | None = {"$filter": filter_, "$select": select}
        path = f"/api/v1/{self.division()}/{resource}"
        rows: list[dict[str, Any]] = []
        while True:
            body = self._call("GET", path, params=params)
            rows.extend(_results(body))
            following = body.get("d", {}).get("__next") if isinstance(body, dict) else None
            if not following:
                return rows
            if not str(following).startswith(self._config.base_url):
                raise ExactError("Exact Online's next page points elsewhere")
            path, params = str(following)[len(self._config.base_url) :], None

    def id_by_code(self, resource: str, code: str) -> str:
        rows = self.find(resource, f"trim(Code) eq {quote(code)}", "ID")
        if not rows:
            raise ExactError(f"Exact Online has no {resource} with code {code!r} (see README, Exact set-up)")
        return str(rows[0]["ID"])

    def sales_entries(self, your_ref: str, *, prefix: bool = False) -> list[dict[str, Any]]:
        """The sales entries with our reference `your_ref` (`prefix`: every one starting with it)."""
        where = f"startswith(YourRef,{quote(your_ref)}) eq true" if prefix else f"YourRef eq {quote(your_ref)}"
        return self.find("salesentry/SalesEntries", where, "EntryID,YourRef,AmountFC")

    def create_sales_entry(self, entry: dict[str, Any]) -> dict[str, Any]:
        answer = self._call("POST", f"/api/v1/{self.division()}/salesentry/SalesEntries", body=entry)
        return dict(answer["d"])


def quote(value: str) -> str:
    """An OData string literal."""
    return "'" + value.replace("'", "''") + "'"


def amount(value: Any) -> Decimal:
    """An amount as Exact sent it (a JSON number, read exactly)."""
    return Decimal(str(value))


def _number(value: Any) -> Any:
    if isinstance(value, Decimal):
        # A decimal of at most 2-4 places round-trips exactly through its shortest float repr.
        return float(value)
    raise TypeError(f"cannot send {type(value).__name__}")


def _json(answer: httpx.Response) -> Any:
    try:
        return json.loads(answer.content or b"{}", parse_float=Decimal)
    except ValueError:
        return {}


def _results(body: Any) -> list[dict[str, Any]]:
    data = body.get("d", {}) if isinstance(body, dict) else {}
    rows = data.get("results", []) if isinstance(data, dict) else data
    return list(rows)


def _message(answer: httpx.Response) -> str:
    body = _json(answer)
    try:
        return str(body["error"]["message"]["value"])[:300]
    except (KeyError, TypeError):
        return answer.reason_phrase


def _reset(value: str | None) -> datetime | None:
    if value is None or not value.isdigit():
        return None
    return datetime.fromtimestamp(int(value) / 1000, UTC)
