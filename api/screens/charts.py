"""KPIs as server-rendered SVG charts, each with its CSV."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

router = APIRouter(prefix="/dashboard/kpis", include_in_schema=False, default_response_class=HTMLResponse)
