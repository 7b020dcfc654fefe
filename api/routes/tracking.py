"""The customer tracking page, `GET /track/{token}`: public, because the signed token in the link is
the credential (services.tracking). A customer opens it from an e-mail, so it is one plain HTML
page: no script, no outside assets, nothing cached, indexed or passed on to the carrier's site in a
Referer, and the same 404 for a link that does not verify as for an order we do not have."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, Request, status
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from jinja2 import Environment, FileSystemLoader, StrictUndefined
from starlette.responses import Response

from api.deps import InvoicesDep, TrackingDep
from api.routes.invoices import attachment
from services.tracking import TRACK_PATH

router = APIRouter(prefix=TRACK_PATH, tags=["tracking"])

TEMPLATES = Jinja2Templates(
    env=Environment(
        loader=FileSystemLoader(Path(__file__).resolve().parents[1] / "templates"),
        autoescape=True,  # every value on the page came from a channel or a customer
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
)
HEADERS = {
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
def tracking_page(token: str, request: Request, tracking: TrackingDep, invoices: InvoicesDep) -> Response:
    """Where the customer's order is: its status in plain words, the items, each parcel with the
    carrier's tracking, and returns. No credential: the link from GET /orders/{id} (`tracking_url`)."""
    view = tracking.view(token)
    if view is None:
        return TEMPLATES.TemplateResponse(
            request, "tracking.html", {"view": None}, status_code=status.HTTP_404_NOT_FOUND, headers=HEADERS
        )
    documents = invoices.of_tracking_link(token)
    return TEMPLATES.TemplateResponse(
        request, "tracking.html", {"view": view, "token": token, "documents": documents}, headers=HEADERS
    )


@router.get(
    "/{token}/invoices/{number}.pdf",
    response_class=Response,
    responses={
        200: {"content": {"application/pdf": {}}},
        404: {"description": "the link does not verify, or the number is not of its order (the same answer)"},
    },
)
def tracking_invoice_pdf(token: str, number: str, invoices: InvoicesDep) -> Response:
    """One of the order's invoices or credit notes as PDF, for the customer: the tracking link's
    token is the credential, and only its own order's documents are found."""
    document = invoices.numbered_for_tracking_link(token, number)
    return _private(attachment(invoices.pdf(document), "application/pdf", f"{number}.pdf"))


@router.get(
    "/{token}/invoices/{number}.xml",
    response_class=Response,
    responses={
        200: {"content": {"application/xml": {}}},
        404: {"description": "the link does not verify, or the number is not of its order (the same answer)"},
    },
)
def tracking_invoice_xml(token: str, number: str, invoices: InvoicesDep) -> Response:
    """The same document as EN 16931 XML, for the customer's books."""
    document = invoices.numbered_for_tracking_link(token, number)
    return _private(attachment(invoices.xml(document), "application/xml", f"{number}.xml"))


def _private(response: Response) -> Response:
    for name, value in HEADERS.items():
        if name != "Content-Security-Policy":
            response.headers[name] = value
    return response
