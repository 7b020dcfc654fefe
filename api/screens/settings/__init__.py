"""Admin settings (Permission.SETTINGS): locations, channel settings with a routing preview, the
catalogue, event subscriptions. Every form goes through the service the JSON API uses, validated by the API's own models
and rules, so a page and the API cannot disagree about what may be saved."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

from api.screens.settings import catalogue as catalogue
from api.screens.settings import channels as channels
from api.screens.settings import events as events
from api.screens.settings import locations as locations

router = APIRouter(prefix="/dashboard/admin", include_in_schema=False, default_response_class=HTMLResponse)
for module in (locations, channels, catalogue, events):
    router.include_router(module.router)
