"""One channel's API over HTTP: every way a channel says no becomes a `ChannelError`, here and only here.

Each channel client (Shopify, WooCommerce, bol.com, Amazon) sends its requests through `ChannelHttp`:
- no answer (refused connection, timeout, broken stream): `ChannelUnavailable`;
- 429: `ChannelRateLimited`, waiting what the channel asked (`Retry-After`, or the channel's own hint);
- 5xx: `ChannelUnavailable`; 401/403: `ChannelAuthFailed`; any other 4xx (or a redirect: the
  configured URL is wrong): `ChannelRejected` (a 404 as the client's `not_found` subclass when it
  has one); each message carries the channel's own words (`describe`);
- a body that is not JSON (a proxy's or a maintenance page): `ChannelUnavailable`.
An expiring bearer token is httpx's business: the client is built with a `tokens.BearerToken` auth,
which refreshes it and replays a refused request once.

Nothing here sleeps or retries: the Temporal activity around each call owns retry and backoff.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Collection, Mapping
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

from integrations.channels.errors import (
    ChannelAuthFailed,
    ChannelError,
    ChannelRateLimited,
    ChannelRejected,
    ChannelUnavailable,
)

_REFUSED: Any = object()


def retry_after_seconds(header: str | None, *, now: datetime | None = None) -> float | None:
    """An HTTP Retry-After as seconds to wait: delta-seconds ("2", "2.0") or an HTTP date (a date
    in the past: at once); None when absent or unreadable."""
    if not header:
        return None
    text = header.strip()
    try:
        seconds = Decimal(text)
    except InvalidOperation:
        pass
    else:
        return max(float(seconds), 0.0) if seconds.is_finite() else None
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max((when - (now or datetime.now(UTC))).total_seconds(), 0.0)


def asked_wait(response: httpx.Response) -> float | None:
    """The wait a 429 asks for in its Retry-After header (the default `rate_limit_wait`)."""
    return retry_after_seconds(response.headers.get("Retry-After"))


def reason_phrase(response: httpx.Response) -> str:
    """The default `describe`: the status line's words."""
    return response.reason_phrase or "no details"


def parse_json(text: str) -> Any:
    """A channel's JSON with exact decimals: no float ever holds a price."""
    return json.loads(text, parse_float=Decimal)


class ChannelHttp:
    """Requests to one channel's API, each answer checked: the body of a 2xx, or a `ChannelError`.

    `name`: the channel as messages name it ("bol", "Shopify"). `describe`: the channel's own words
    from an error body (each API shapes them differently). `rate_limit_wait`: seconds a 429 asks to
    wait (Retry-After unless the channel has its own hint). `not_found`: what a 404 raises.
    """

    def __init__(
        self,
        name: str,
        http: httpx.Client,
        *,
        describe: Callable[[httpx.Response], str] = reason_phrase,
        rate_limit_wait: Callable[[httpx.Response], float | None] = asked_wait,
        not_found: type[ChannelRejected] = ChannelRejected,
    ) -> None:
        self.name = name
        self.http = http
        self._describe = describe
        self._rate_limit_wait = rate_limit_wait
        self._not_found = not_found

    def close(self) -> None:
        self.http.close()

    def send(
        self,
        method: str,
        url: str,
        *,
        what: str = "",
        params: Mapping[str, Any] | None = None,
        json_body: Any = None,
        content: bytes | None = None,
        data: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        auth: httpx.Auth | None = None,
        refused: Collection[int] = (401, 403),
        accept: Collection[int] = (),
    ) -> httpx.Response:
        """One request; its response when the status is 2xx (or in `accept`), else the matching
        ChannelError. `auth`: this request's own (a token request's credentials); None: the client's.
        `refused`: the statuses that mean our credentials were refused (a token endpoint says so
        with a 400, too)."""
        what = what or f"{method} {url}"
        try:
            response = self.http.request(
                method,
                url,
                params=dict(params) if params is not None else None,
                json=json_body,
                content=content,
                data=dict(data) if data is not None else None,
                headers=dict(headers) if headers is not None else None,
                auth=httpx.USE_CLIENT_DEFAULT if auth is None else auth,
            )
        except httpx.TimeoutException as exc:
            raise ChannelUnavailable(f"{self.name} {what}: no answer in time ({type(exc).__name__})") from exc
        except httpx.HTTPError as exc:  # refused connection, broken stream, undecodable body
            raise ChannelUnavailable(f"{self.name} {what}: unreachable ({type(exc).__name__})") from exc
        if not response.is_success and response.status_code not in accept:
            raise self.error_for(response, what, refused=refused)
        return response

    def error_for(self, response: httpx.Response, what: str, *, refused: Collection[int] = (401, 403)) -> ChannelError:
        """The ChannelError for an answer that is not 2xx (a redirect, too: the configured URL is wrong)."""
        status = response.status_code
        message = f"{self.name} {what}: HTTP {status}: {self._describe(response)}"
        if status == 429:
            return ChannelRateLimited(message, self._rate_limit_wait(response))
        if status >= 500:
            return ChannelUnavailable(message)
        if status in refused:
            return ChannelAuthFailed(message)
        if status == 404:
            return self._not_found(message)
        return ChannelRejected(message)

    def json(self, response: httpx.Response, what: str, *, empty: Any = _REFUSED) -> Any:
        """The body as JSON with exact decimals; `empty` for a blank body when given (else, like
        anything that is not JSON, ChannelUnavailable)."""
        if empty is not _REFUSED and not response.content.strip():
            return empty
        try:
            return parse_json(response.text)
        except ValueError as exc:  # a ValueError also for an integer of 4300+ digits
            raise ChannelUnavailable(f"{self.name} {what}: the answer is not JSON") from exc
        except RecursionError as exc:
            raise ChannelUnavailable(f"{self.name} {what}: the answer is nested too deeply") from exc
