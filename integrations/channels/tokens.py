"""Access tokens that expire (bol.com's OAuth2 client credentials, Amazon's Login with Amazon): one
token shared by every activity thread of a worker, renewed shortly before it expires, and replaced
once when the channel refuses it.

`BearerToken` is the hook httpx offers for this (an `httpx.Auth` flow): each request goes out with
the cached token; a 401 or 403 fetches a fresh one and sends the request once more, and the answer
to that second try stands (a second refusal is `ChannelAuthFailed`, from `ChannelHttp`).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Generator

import httpx

TokenFetch = Callable[[], tuple[str, float]]
"""Asks the channel for a token: (the token, its lifetime in seconds). Raises a ChannelError."""

REFUSED_CREDENTIALS = (400, 401, 403)
"""What a token endpoint answers to credentials it refuses (invalid_grant, invalid_client, ...):
`ChannelAuthFailed`, since retrying cannot help (`ChannelHttp.send(refused=...)`)."""


class CachedToken:
    """A token kept until `renew_after(lifetime)` seconds after it was fetched."""

    def __init__(
        self,
        fetch: TokenFetch,
        *,
        renew_after: Callable[[float], float],
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._fetch = fetch
        self._renew_after = renew_after
        self._clock = clock
        self._lock = threading.Lock()
        self._token: str | None = None
        self._renew_at = 0.0

    def get(self) -> str:
        with self._lock:
            if self._token is None or self._clock() >= self._renew_at:
                token, lifetime = self._fetch()
                self._token, self._renew_at = token, self._clock() + self._renew_after(lifetime)
            return self._token

    def invalidate(self, token: str) -> None:
        """Forget `token` after the channel refused it (unless another thread already replaced it)."""
        with self._lock:
            if self._token == token:
                self._token = None


class BearerToken(httpx.Auth):
    """Puts the cached token on each request (`apply`), and replays a refused request once with a fresh one."""

    def __init__(self, token: CachedToken, apply: Callable[[httpx.Request, str], None]) -> None:
        self._token = token
        self._apply = apply

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        token = self._token.get()
        self._apply(request, token)
        response = yield request
        if response.status_code in (401, 403):
            self._token.invalidate(token)
            self._apply(request, self._token.get())
            yield request
