"""ASGI middleware that refuses what no route could handle, before any route runs.

- `BodyLimit`: a request body past its cap is 413, decided while it streams in. Counted over the
  `http.request` messages as they arrive, so neither a Content-Length that lies nor a chunked upload
  without one (`curl -T /dev/zero`) can make the API hold more than the cap in memory; a declared
  Content-Length over the cap is refused before a byte is read. A response given without reading
  the whole body (a 401 before the body is looked at) closes the connection, so the rest of an
  endless upload is not taken in either.
- `NoNulInUrl`: a NUL character (%00) in the path or query is 400. PostgreSQL cannot take NUL in any
  text parameter, so `/orders/%00` or `?sku=%00` would otherwise be a 500 on every route that looks
  something up.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from starlette.exceptions import HTTPException
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send


class BodyTooLarge(HTTPException):
    """Raised from `receive` inside the app. An HTTPException, so FastAPI's body parsing passes it on
    (any other exception there becomes "400 error parsing the body") and the app answers 413."""

    def __init__(self, limit: int) -> None:
        super().__init__(
            413,
            f"the request body is larger than {limit} bytes",
            # The rest of the body is never read: the connection cannot carry another request.
            headers={"Connection": "close"},
        )


class BodyLimit:
    """Caps request bodies: `limits` maps path prefixes to their own cap (the first match wins),
    every other path gets `default`. `on_refused` is told the path of every body refused (the
    webhook rejection counter, api.metrics)."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        default: int,
        limits: Sequence[tuple[str, int]] = (),
        on_refused: Callable[[str], None] = lambda path: None,
    ) -> None:
        self.app = app
        self.default = default
        self.limits = tuple(limits)
        self.on_refused = on_refused

    def limit_for(self, path: str) -> int:
        return next((limit for prefix, limit in self.limits if path.startswith(prefix)), self.default)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit_for(scope["path"])
        declared = _content_length(scope)
        if declared is not None and declared > limit:
            self.on_refused(scope["path"])
            await _answer(BodyTooLarge(limit), scope, receive, send)
            return
        received = 0
        started = False
        unread = bool(declared) or _header(scope, b"transfer-encoding") is not None

        async def counted() -> Message:
            nonlocal received, unread
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    self.on_refused(scope["path"])
                    raise BodyTooLarge(limit)
                unread = unread and message.get("more_body", False)
            return message

        async def watched(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                if unread:  # the server would have to take in the rest before the next request
                    message = {**message, "headers": [*message.get("headers", []), (b"connection", b"close")]}
            await send(message)

        try:
            await self.app(scope, counted, watched)
        except BodyTooLarge as exc:
            # Read outside a route (a middleware of the app, a background task): answer it here.
            if started:
                raise
            await _answer(exc, scope, receive, send)


class NoNulInUrl:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            query: bytes = scope.get("query_string", b"")
            if "\x00" in scope["path"] or b"%00" in query or b"\x00" in query:
                error = HTTPException(400, "the URL holds a NUL character (%00), which no field can take")
                await _answer(error, scope, receive, send)
                return
        await self.app(scope, receive, send)


def _header(scope: Scope, wanted: bytes) -> bytes | None:
    return next((value for name, value in scope.get("headers", ()) if name == wanted), None)


def _content_length(scope: Scope) -> int | None:
    value = _header(scope, b"content-length")
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None  # the server refuses a malformed Content-Length itself


async def _answer(error: HTTPException, scope: Scope, receive: Receive, send: Send) -> None:
    response = JSONResponse({"detail": error.detail}, status_code=error.status_code, headers=error.headers)
    await response(scope, receive, send)
