"""The warehouse floor, on a phone or a handheld scanner's browser: a location's pick list, picking by
scanning EAN or SKU, packing, shipping (carrier label or typed tracking), the packing slip."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

router = APIRouter(prefix="/dashboard/warehouse", include_in_schema=False, default_response_class=HTMLResponse)
