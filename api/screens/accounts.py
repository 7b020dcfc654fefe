"""Accounts: the first-run screen, users and their roles and locations, personal API tokens, and the
audit list of who did what (admin)."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

router = APIRouter(prefix="/dashboard", include_in_schema=False, default_response_class=HTMLResponse)
