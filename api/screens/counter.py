"""The store counter: click & collect orders ready for pickup at this store, handed over with a
confirmation; expired ones listed."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

router = APIRouter(prefix="/dashboard/counter", include_in_schema=False, default_response_class=HTMLResponse)
