"""Support: find an order by number, channel id, e-mail or postcode; create a return and see its refund."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

router = APIRouter(prefix="/dashboard/support", include_in_schema=False, default_response_class=HTMLResponse)
