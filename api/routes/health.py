"""Liveness of what the engine cannot work without (its database and Temporal), and which real parts
it is connected to (integrations.components): the status follows the checks only."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from sqlalchemy import text

from api.deps import SettingsDep, StateDep
from integrations.components import components

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
            "components": [part.as_dict() for part in components(settings)],
        },
        status_code=200 if healthy else 503,
    )
