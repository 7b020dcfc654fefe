"""Liveness of what the engine cannot work without (its database and Temporal), which real parts it
is connected to (integrations.components), and the orders taken whose workflow has not started yet
(the intake's backlog: it grows while Temporal is away): the status follows the checks only."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from sqlalchemy import text

from api.deps import SettingsDep, StateDep
from api.state import AppState
from integrations.components import components
from persistence.guarded_writes.order_intake import backlog

router = APIRouter(tags=["health"])


@router.get("/health")
async def health(state: StateDep, settings: SettingsDep) -> JSONResponse:
    checks: dict[str, str] = {}

    try:
        # Read-only: on SQLite it takes no write lock, so a busy writer does not make us "unavailable".
        await asyncio.wait_for(state.read(lambda session: session.execute(text("SELECT 1"))), timeout=5)
        checks["database"] = "ok"
    except Exception as exc:
        checks["database"] = f"unavailable: {type(exc).__name__}"
    try:
        client = await asyncio.wait_for(state.temporal.client(), timeout=5)
        await client.service_client.check_health(timeout=timedelta(seconds=3))
        checks["temporal"] = "ok"
    except Exception as exc:
        checks["temporal"] = f"unavailable: {type(exc).__name__}"
    healthy = all(value == "ok" for value in checks.values())
    return JSONResponse(
        {
            "status": "ok" if healthy else "unavailable",
            "checks": checks,
            "intake": await _intake_backlog(state) if checks["database"] == "ok" else None,
            "components": [part.as_dict() for part in components(settings)],
        },
        status_code=200 if healthy else 503,
    )


async def _intake_backlog(state: AppState) -> dict[str, Any] | None:
    """{"waiting": orders taken, not started; "oldest_age_seconds": how long the oldest has waited}."""
    try:
        waiting, oldest = await asyncio.wait_for(state.read(backlog), timeout=5)
    except Exception:  # a figure we cannot read now is left out, never a failed health check
        return None
    age = (datetime.now(UTC) - oldest).total_seconds() if oldest is not None else 0.0
    return {"waiting": waiting, "oldest_age_seconds": round(max(age, 0.0), 1)}
