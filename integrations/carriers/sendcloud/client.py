"""Sendcloud's API v3 over HTTP (Basic auth: public key as user, secret key as password): every way
it says no becomes a `CarrierError`, here and only here.

- no answer, a 5xx, or a body that is not JSON where JSON was due: `CarrierUnavailable`;
- 429: `CarrierRateLimited` with the Retry-After it sent;
- 401/403: `CarrierAuthFailed`;
- 400/422 (and other 4xx): `CarrierRefused` with Sendcloud's own words: its JSON:API error objects
  (`{"errors": [{"status", "code", "detail", "source": {"pointer"}}]}`), the Returns API's
  (`{"errors": [{"field", "code", "message"}]}`), or the older `{"error": {"code", "message"}}` some
  document endpoints and the Returns API still answer.
Nothing here sleeps or retries: the Temporal activity around each call owns retry and backoff.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import urlsplit

import httpx

from integrations.carriers.base import (
    CarrierAuthFailed,
    CarrierError,
    CarrierRateLimited,
    CarrierRefused,
    CarrierUnavailable,
)
from integrations.channels.http import retry_after_seconds

TIMEOUT_SECONDS = 10.0
"""Each request; inside the step activities' 30 s start-to-close timeout with room for the label."""


def sendcloud_words(response: httpx.Response) -> str:
    """What Sendcloud said in an error body, e.g. `to_address/postal_code: Enter a valid postal code.`"""
    try:
        body = response.json()
    except ValueError:
        return response.reason_phrase or "no details"
    if isinstance(body, Mapping):
        errors = body.get("errors")
        if isinstance(errors, list) and errors:
            return "; ".join(_one_error(error) for error in errors if isinstance(error, Mapping)) or "no details"
        error = body.get("error")
        if isinstance(error, Mapping) and error.get("message"):
            return str(error["message"])
    return response.reason_phrase or "no details"


def _one_error(error: Mapping[str, Any]) -> str:
    source = error.get("source")
    pointer = source.get("pointer") if isinstance(source, Mapping) else error.get("field")
    detail = str(error.get("detail") or error.get("title") or error.get("message") or error.get("code") or "error")
    return f"{str(pointer).lstrip('/')}: {detail}" if pointer else detail


class SendcloudClient:
    """The v3 endpoints the engine uses. `api_url`: https://panel.sendcloud.sc/api/v3 or a sandbox."""

    def __init__(self, api_url: str, public_key: str, secret_key: str, *, http: httpx.Client | None = None) -> None:
        self.api_url = api_url.rstrip("/")
        self._http = http or httpx.Client(timeout=TIMEOUT_SECONDS)
        self._auth = httpx.BasicAuth(public_key, secret_key)

    def close(self) -> None:
        self._http.close()

    # -- shipments --------------------------------------------------------------------------------

    def announce(self, body: Mapping[str, Any]) -> dict[str, Any] | None:
        """POST /shipments/announce: the announced shipment (`data`), or None when Sendcloud answers
        409 because a shipment with this `external_reference_id` exists already (find it instead)."""
        response = self._send("POST", "/shipments/announce", "announce a shipment", json_body=body, accept=(409,))
        if response.status_code == 409:
            return None
        return _data(response, "announce a shipment")

    def shipments_with_reference(self, external_reference_id: str) -> list[dict[str, Any]]:
        """GET /shipments?external_reference_id=…: what Sendcloud holds under our reference."""
        response = self._send(
            "GET", "/shipments", "look up a shipment", params={"external_reference_id": external_reference_id}
        )
        found = _json(response, "look up a shipment").get("data") or []
        return [item for item in found if isinstance(item, dict)] if isinstance(found, list) else []

    def label_document(self, parcel_ids: Sequence[int], link: str = "") -> bytes:
        """The label PDF: one parcel's document link (when it points at this API), or every parcel's
        labels in one file (GET /parcel-documents/label?parcels=…)."""
        if len(parcel_ids) == 1 and link and _same_origin(link, self.api_url):
            response = self._send("GET", link, "download the label", absolute=True, headers=_PDF)
        elif len(parcel_ids) == 1:
            path = f"/parcels/{parcel_ids[0]}/documents/label"
            response = self._send("GET", path, "download the label", headers=_PDF)
        else:
            params = [("parcels", str(parcel_id)) for parcel_id in parcel_ids]
            response = self._send("GET", "/parcel-documents/label", "download the labels", params=params, headers=_PDF)
        if not response.content.startswith(b"%PDF"):
            raise CarrierUnavailable("Sendcloud download the label: the answer is not a PDF")
        return response.content

    def cancel_shipment(self, shipment_id: str) -> bool:
        """POST /shipments/{id}/cancel: True when Sendcloud cancelled it (200) or queued the
        cancellation with the carrier (202); False on a 404 (no such shipment). One the carrier can
        no longer cancel is a 4xx: CarrierRefused with Sendcloud's words."""
        what = "cancel a shipment"
        response = self._send("POST", f"/shipments/{shipment_id}/cancel", what, accept=(404,))
        return response.status_code != 404

    # -- returns ----------------------------------------------------------------------------------

    def announce_return(self, body: Mapping[str, Any]) -> dict[str, Any]:
        """POST /returns/announce-synchronously: `{return_id, parcel_id, multi_collo_ids}`."""
        what = "announce a return"
        return _json(self._send("POST", "/returns/announce-synchronously", what, json_body=body), what)

    def get_return(self, return_id: int) -> dict[str, Any]:
        """GET /returns/{id}: the return with its tracking number and label links."""
        return _json(self._send("GET", f"/returns/{return_id}", "read a return"), "read a return")

    def cancel_return(self, return_id: int) -> bool:
        """PATCH /returns/{id}/cancel: the cancellation is requested of the carrier (True; the
        return's `parent_status` tells later whether it went through), or False on a 404 (no such
        return). A return the carrier cannot cancel any more is a 4xx: CarrierRefused."""
        what = "cancel a return"
        response = self._send("PATCH", f"/returns/{return_id}/cancel", what, accept=(404,))
        return response.status_code != 404

    # -- the wire ---------------------------------------------------------------------------------

    def _send(
        self,
        method: str,
        path: str,
        what: str,
        *,
        json_body: Any = None,
        params: Any = None,
        headers: Mapping[str, str] | None = None,
        accept: Sequence[int] = (),
        absolute: bool = False,
    ) -> httpx.Response:
        url = path if absolute else f"{self.api_url}{path}"
        try:
            response = self._http.request(
                method, url, json=json_body, params=params, headers=dict(headers or {}), auth=self._auth
            )
        except httpx.TimeoutException as exc:
            raise CarrierUnavailable(f"Sendcloud {what}: no answer in time ({type(exc).__name__})") from exc
        except httpx.HTTPError as exc:
            raise CarrierUnavailable(f"Sendcloud {what}: unreachable ({type(exc).__name__})") from exc
        if response.is_success or response.status_code in accept:
            return response
        raise _error_for(response, what)


_PDF = {"Accept": "application/pdf"}


def _error_for(response: httpx.Response, what: str) -> CarrierError:
    status = response.status_code
    message = f"Sendcloud {what}: HTTP {status}: {sendcloud_words(response)}"
    if status == 429:
        return CarrierRateLimited(message, retry_after_seconds(response.headers.get("Retry-After")))
    if status >= 500 or status < 400:  # a redirect: the configured URL is wrong, not the request
        return CarrierUnavailable(message)
    if status in (401, 403):
        return CarrierAuthFailed(message)
    return CarrierRefused(message)


def _json(response: httpx.Response, what: str) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        raise CarrierUnavailable(f"Sendcloud {what}: the answer is not JSON") from None
    if not isinstance(body, dict):
        raise CarrierUnavailable(f"Sendcloud {what}: the answer is not a JSON object")
    return body


def _data(response: httpx.Response, what: str) -> dict[str, Any]:
    data = _json(response, what).get("data")
    if not isinstance(data, dict):
        raise CarrierUnavailable(f"Sendcloud {what}: the answer has no shipment")
    return data


def _same_origin(link: str, api_url: str) -> bool:
    """Our keys go only to the API we were configured with, never to a host an answer names."""
    a, b = urlsplit(link), urlsplit(api_url)
    return (a.scheme, a.netloc) == (b.scheme, b.netloc)
