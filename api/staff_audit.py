"""The audit list's writer: ASGI middleware that notes every state-changing request (POST, PUT, PATCH,
DELETE) an identified staff member made, once it has been answered (services.staff_audit).

No route does anything for it: the dependencies that identify a person (api.deps.require_member
and the ones built on it, api.screens.pages.signed_in) leave the member on the request's state
(`api.deps.remember`), and this reads it back after the response went out. A request nobody was
identified on (a channel's key, a webhook, a refused token) leaves no row. The row is written on a
worker thread after the answer was sent; a failure to write it is logged, never the request's.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.metrics import route_template
from domain.staff import StaffMember

log = logging.getLogger("oms.staff_audit")

CHANGES = frozenset({"POST", "PUT", "PATCH", "DELETE"})
STATE_KEY = "staff_member"
"""Where api.deps.remember leaves the member (`request.state.staff_member`)."""


def action_name(scope: Scope) -> str:
    """What people read on the audit list: the route's summary, else its handler's name in words
    (`confirm_picked`: "confirm picked")."""
    route: Any = scope.get("route")
    summary = getattr(route, "summary", None)
    if isinstance(summary, str) and summary:
        return summary
    name = getattr(route, "name", None)
    return name.replace("_", " ") if isinstance(name, str) and name else "unrouted request"


class StaffActions:
    """Outside the latency measurement (api.metrics.HttpMetrics): the client has its answer before
    the row is written, and the write's time is not the request's."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("method", "") not in CHANGES:
            await self.app(scope, receive, send)
            return
        state: dict[str, Any] = scope.setdefault("state", {})
        status = 500  # what the client gets if the app fails before it answers

        async def watched(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, watched)
        finally:
            member = state.get(STATE_KEY)
            if isinstance(member, StaffMember):
                await _keep(scope, member, status)


async def _keep(scope: Scope, member: StaffMember, status: int) -> None:
    try:
        audit = scope["app"].state.oms.services.staff_audit
        await asyncio.to_thread(
            audit.record,
            member,
            method=str(scope.get("method", "")),
            route=route_template(scope),
            action=action_name(scope),
            status=status,
            path_ids=scope.get("path_params") or {},
        )
    except Exception:  # the request was answered; a lost row is logged, not the client's problem
        log.warning("staff action not written to the audit list", exc_info=True, extra={"status": status})
