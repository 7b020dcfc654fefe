"""Admin settings: locations, channel settings with a routing preview, the catalogue."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

router = APIRouter(prefix="/dashboard/admin", include_in_schema=False, default_response_class=HTMLResponse)
