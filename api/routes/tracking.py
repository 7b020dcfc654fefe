"""The customer tracking page, `GET /track/{token}`: public, because the signed token in the link is
the credential (api.services.tracking). A customer opens it from an e-mail, so it is one plain HTML
page: no script, no outside assets, nothing cached, indexed or passed on to the carrier's site in a
Referer, and the same 404 for a link that does not verify as for an order we do not have."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, Request, status
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from jinja2 import Environment, FileSystemLoader, StrictUndefined
from starlette.responses import Response

from api.deps import SessionDep, SettingsDep
from api.services import tracking
from persistence import orders as order_store
from persistence import returns as return_store

router = APIRouter(prefix=tracking.TRACK_PATH, tags=["tracking"])

_TEMPLATES = Jinja2Templates(
    env=Environment(
        loader=FileSystemLoader(Path(__file__).resolve().parents[1] / "templates"),
        autoescape=True,  # every value on the page came from a channel or a customer
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
)
_HEADERS = {
    # The URL is the credential: keep it out of caches, search engines and the carrier's logs.
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Robots-Tag": "noindex, nofollow",
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    ),
}


@router.get(
    "/{token}",
    response_class=HTMLResponse,
    responses={404: {"description": "the link does not verify, or names no order we have (the same page)"}},
)
def tracking_page(token: str, request: Request, session: SessionDep, settings: SettingsDep) -> Response:
    """Where the customer's order is: its status in plain words, the items, each parcel with the
    carrier's tracking, and returns. No credential: the link from GET /orders/{id} (`tracking_url`)."""
    order_id = tracking.read_token(settings.tracking_secret, token)
    record = order_store.get_order(session, order_id) if order_id else None
    if record is None:
        return _TEMPLATES.TemplateResponse(
            request, "tracking.html", {"view": None}, status_code=status.HTTP_404_NOT_FOUND, headers=_HEADERS
        )
    view = tracking.tracking_view(record, return_store.returns_for(session, record.order_id))
    return _TEMPLATES.TemplateResponse(request, "tracking.html", {"view": view}, headers=_HEADERS)
