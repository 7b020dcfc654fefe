"""Amazon SP-API: the Login with Amazon token and the client every outbound Amazon call goes through.

- `LwaTokens`: Login with Amazon access tokens from the refresh token, cached until shortly before they
  expire (https://developer-docs.amazon.com/sp-api/docs/connecting-to-the-selling-partner-api).
- `AmazonClient`: sends `x-amz-access-token` (httpx's `BearerToken` auth: a refused token is replaced
  once) and a user agent; no AWS Signature V4 since October 2023
  (https://developer-docs.amazon.com/sp-api/changelog/sp-api-will-no-longer-require-aws-iam-or-aws-signature-version-4).
  Failures map to the `ChannelError` family in the shared `ChannelHttp`; it never sleeps or retries
  beyond the one token refresh, because the Temporal activity around it owns retry and backoff.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from domain.times import in_utc
from integrations.channels.errors import ChannelUnavailable
from integrations.channels.http import ChannelHttp, asked_wait, parse_json
from integrations.channels.tokens import REFUSED_CREDENTIALS, BearerToken, CachedToken

USER_AGENT = "oms-channel-amazon/0.1 (Language=Python/3.11)"
DEFAULT_TIMEOUT = httpx.Timeout(30.0, connect=10.0)
_RAISE: Any = object()
# Renew this long before `expires_in` runs out, so a token never expires in flight.
TOKEN_MARGIN = timedelta(minutes=5)


def _error_message(response: httpx.Response) -> str:
    """SP-API's `{"errors": [{code, message, details}]}` (or LWA's `{error, error_description}`) as one line."""
    try:
        body = parse_json(response.text) if response.text.strip() else None
    except ValueError:
        body = None
    if isinstance(body, dict):
        errors = body.get("errors")
        if isinstance(errors, list) and errors:
            parts = []
            for error in errors:
                if isinstance(error, dict):
                    text = ": ".join(str(error[key]) for key in ("code", "message") if error.get(key))
                    details = error.get("details")
                    parts.append(f"{text} ({details})" if details else text)
            return "; ".join(parts)
        if body.get("error"):
            return ": ".join(str(body[key]) for key in ("error", "error_description") if body.get(key))
    return f"HTTP {response.status_code}"


def _retry_after(response: httpx.Response) -> float | None:
    """`Retry-After` when sent; else one request's worth of `x-amzn-RateLimit-Limit` (requests per second)."""
    sent = asked_wait(response)
    if sent is not None:
        return sent
    limit = response.headers.get("x-amzn-RateLimit-Limit")
    try:
        rate = float(limit) if limit else 0.0
    except ValueError:
        rate = 0.0
    return 1.0 / rate if rate > 0 else None


def sp_api(http: httpx.Client) -> ChannelHttp:
    """The SP-API's error mapping over `http`."""
    return ChannelHttp("Amazon", http, describe=_error_message, rate_limit_wait=_retry_after)


class LwaTokens(CachedToken):
    """Login with Amazon access tokens for one refresh token, shared by all threads of a worker."""

    def __init__(
        self,
        http: httpx.Client,
        lwa_url: str,
        client_id: str,
        client_secret: str,
        refresh_token: str,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__(self._fetch, renew_after=_renew_after, clock=clock)
        self._api = sp_api(http)
        self._url = lwa_url
        self._form = {
            "grant_type": "refresh_token",
            "refresh_token": refresh_token,
            "client_id": client_id,
            "client_secret": client_secret,
        }

    def _fetch(self) -> tuple[str, float]:
        # invalid_grant / invalid_client / unauthorized_client: the settings are wrong, retrying cannot help.
        response = self._api.send(
            "POST",
            self._url,
            what="LWA token",
            data=self._form,
            headers={"Accept": "application/json"},
            auth=httpx.Auth(),  # the token request carries no token
            refused=REFUSED_CREDENTIALS,
        )
        try:
            body = parse_json(response.text)
            token, expires_in = str(body["access_token"]), int(body.get("expires_in", 3600))
        except (ValueError, TypeError, KeyError):
            raise ChannelUnavailable("LWA token: unexpected answer") from None
        return token, float(expires_in)


def _renew_after(lifetime: float) -> float:
    return max(0.0, lifetime - TOKEN_MARGIN.total_seconds())


def _access_token(request: httpx.Request, token: str) -> None:
    request.headers["x-amz-access-token"] = token


class AmazonClient:
    """A sync SP-API client (activities run in threads); one per seller account and region."""

    def __init__(
        self,
        base_url: str,
        lwa_url: str,
        client_id: str,
        client_secret: str,
        refresh_token: str,
        *,
        timeout: httpx.Timeout = DEFAULT_TIMEOUT,
        user_agent: str = USER_AGENT,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        http = httpx.Client(base_url=base_url.rstrip("/"), timeout=timeout, transport=transport)
        self.tokens = LwaTokens(http, lwa_url, client_id, client_secret, refresh_token)
        http.auth = BearerToken(self.tokens, _access_token)
        self._api = sp_api(http)
        self._user_agent = user_agent

    def close(self) -> None:
        self._api.close()

    def __enter__(self) -> AmazonClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str | int] | None = None,
        body: Any = None,
        missing: Any = _RAISE,
    ) -> Any:
        """Call an operation; returns the parsed JSON body (Decimal for fractions) or None for an empty one.

        401/403 (an expired or revoked token) get one fresh token and one retry, then ChannelAuthFailed.
        A 404 returns `missing` when given, else raises ChannelRejected like any other 4xx.
        """
        what = f"{method} {path}"
        headers = {"user-agent": self._user_agent, "accept": "application/json"}
        content = None
        if body is not None:
            headers["content-type"] = "application/json"
            content = json.dumps(body, default=str).encode()
        accept = () if missing is _RAISE else (404,)
        response = self._api.send(
            method, path, what=what, params=params, content=content, headers=headers, accept=accept
        )
        if response.status_code == 404:
            return missing
        return self._api.json(response, what, empty=None)


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_time(text: str) -> datetime:
    """An SP-API time in UTC; ValueError when it is not one (or out of range: domain.times)."""
    return in_utc(datetime.fromisoformat(text.replace("Z", "+00:00")))
