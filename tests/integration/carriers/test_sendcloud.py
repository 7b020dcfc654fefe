"""Sendcloud's client and carrier against the Sendcloud sandbox over real HTTP: labels with the
carrier's tracking number, announced once however often asked, and every way Sendcloud says no."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI, Request

from integrations.carriers.base import (
    CarrierAuthFailed,
    CarrierRateLimited,
    CarrierRefused,
    CarrierUnavailable,
    LabelRequest,
    PostalAddress,
    ReturnLabelRequest,
)
from integrations.carriers.sendcloud.carrier import SendcloudCarrier, kilograms
from integrations.carriers.sendcloud.client import SendcloudClient
from sandboxes import sendcloud as sandbox
from sandboxes.server import serve

WAREHOUSE = PostalAddress("AMS site", "Keizersgracht 1", "1015 CJ", "Amsterdam", "NL", company="AMS site")
CUSTOMER = PostalAddress("Sam Tester", "Damrak 1", "1012 LG", "Amsterdam", "NL", email="sam@example.org")


@pytest.fixture
def sendcloud_url() -> Iterator[str]:
    with serve(sandbox.create_app()) as url:
        yield url


def _carrier(url: str, *, secret: str = sandbox.SECRET_KEY) -> SendcloudCarrier:
    client = SendcloudClient(url, sandbox.PUBLIC_KEY, secret)
    return SendcloudCarrier(client, shipping_option="postnl:standard", return_option="postnl:return")


def _request(shipment_id: str = "shipment-order-webshop-1-AMS", **changes: Any) -> LabelRequest:
    fields: dict[str, Any] = {
        "shipment_id": shipment_id,
        "order_reference": "#1001",
        "sender": WAREHOUSE,
        "recipient": CUSTOMER,
        "parcel_weights_grams": (1320,),
    }
    return LabelRequest(**{**fields, **changes})


def _hook(url: str, path: str, body: dict[str, Any]) -> dict[str, Any]:
    answer = httpx.post(f"{url}/_sandbox/{path}", json=body)
    answer.raise_for_status()
    return answer.json()


def _announced(url: str) -> dict[str, Any]:
    return httpx.get(f"{url}/_sandbox/shipments").json()


def test_a_label_comes_with_the_carriers_tracking_number_and_a_pdf(sendcloud_url):
    label = _carrier(sendcloud_url).label_for(_request())
    assert label.carrier == "postnl"
    assert label.tracking_number.startswith("3S")
    assert label.reference.startswith("sendcloud:")
    assert label.document.startswith(b"%PDF") and label.tracking_number.encode() in label.document
    [shipment] = _announced(sendcloud_url)["data"]
    assert shipment["external_reference_id"] == "shipment-order-webshop-1-AMS"
    assert shipment["parcels"][0]["weight"] == {"value": "1.320", "unit": "kg"}
    assert shipment["to_address"]["postal_code"] == "1012 LG"


def test_asking_again_answers_the_same_label_without_announcing_twice(sendcloud_url):
    carrier = _carrier(sendcloud_url)
    first, again = carrier.label_for(_request()), carrier.label_for(_request())
    assert (again.tracking_number, again.reference) == (first.tracking_number, first.reference)
    assert _announced(sendcloud_url)["announce_calls"] == 1


def test_two_parcels_are_one_shipment_with_both_labels_in_one_pdf(sendcloud_url):
    label = _carrier(sendcloud_url).label_for(_request(parcel_weights_grams=(1000, 250)))
    assert len(label.parcel_refs) == 2
    assert label.document.count(b"PostNL 3S") == 2


def test_refused_keys_are_an_auth_failure(sendcloud_url):
    with pytest.raises(CarrierAuthFailed, match="HTTP 401: Invalid username/password"):
        _carrier(sendcloud_url, secret="wrong").label_for(_request())


def test_an_address_sendcloud_refuses_is_final_with_its_words(sendcloud_url):
    bad = PostalAddress("Sam Tester", "Damrak 1", "ABC", "Amsterdam", "NL")
    with pytest.raises(CarrierRefused, match="to_address/postal_code: Enter a valid postal code"):
        _carrier(sendcloud_url).label_for(_request(recipient=bad))
    missing = PostalAddress("", "Damrak 1", "1012 LG", "Amsterdam", "NL")
    with pytest.raises(CarrierRefused, match="to_address/name: This field is required"):
        _carrier(sendcloud_url).label_for(_request(recipient=missing))


def test_429_carries_the_wait_sendcloud_asks_for(sendcloud_url):
    _hook(sendcloud_url, "fail", {"status": 429, "count": 1, "retry_after": "7"})
    with pytest.raises(CarrierRateLimited) as limited:
        _carrier(sendcloud_url).label_for(_request())
    assert limited.value.retry_after == 7
    assert _carrier(sendcloud_url).label_for(_request()).tracking_number  # the next try gets it


def test_an_outage_is_retryable_and_passes(sendcloud_url):
    _hook(sendcloud_url, "outage", {"down": True})
    with pytest.raises(CarrierUnavailable, match="HTTP 503"):
        _carrier(sendcloud_url).label_for(_request())
    _hook(sendcloud_url, "outage", {"down": False})
    assert _carrier(sendcloud_url).label_for(_request()).tracking_number


def test_nobody_answering_is_retryable():
    with pytest.raises(CarrierUnavailable, match="unreachable"):
        _carrier("http://127.0.0.1:9").label_for(_request())


def test_a_failed_announcement_is_retried_under_the_next_reference_and_yields_one_label(sendcloud_url):
    _hook(sendcloud_url, "carrier-fails", {"count": 1})
    carrier = _carrier(sendcloud_url)
    with pytest.raises(CarrierUnavailable, match="error occurred while connecting to the carrier"):
        carrier.label_for(_request())
    label = carrier.label_for(_request())
    assert carrier.label_for(_request()).tracking_number == label.tracking_number
    references = [s["external_reference_id"] for s in _announced(sendcloud_url)["data"]]
    assert references == ["shipment-order-webshop-1-AMS", "shipment-order-webshop-1-AMS~2"]


def test_a_return_label_for_a_shipped_parcel(sendcloud_url):
    label = _carrier(sendcloud_url).return_label_for(
        ReturnLabelRequest("shipment-order-webshop-1-AMS", "#1001", CUSTOMER, WAREHOUSE, 1320)
    )
    assert label.carrier == "postnl" and label.tracking_number.startswith("3S")
    assert label.reference.startswith("sendcloud-return:") and label.document.startswith(b"%PDF")


def test_weights_are_sent_exactly():
    assert (kilograms(1320), kilograms(5), kilograms(25000)) == ("1.320", "0.005", "25.000")


def test_the_sandbox_posts_parcel_status_changes_signed_as_sendcloud_signs(sendcloud_url):
    received: list[tuple[bytes, str]] = []
    receiver = FastAPI()

    @receiver.post("/webhooks/sendcloud")
    async def take(request: Request) -> dict[str, bool]:
        received.append((await request.body(), request.headers.get("Sendcloud-Signature", "")))
        return {"ok": True}

    label = _carrier(sendcloud_url).label_for(_request())
    parcel_id = int(label.parcel_refs[0])
    with serve(receiver) as receiver_url:
        _hook(sendcloud_url, "webhook", {"url": f"{receiver_url}/webhooks/sendcloud"})
        statuses = [_hook(sendcloud_url, f"parcels/{parcel_id}/advance", {})["webhook_status"] for _ in range(3)]
    assert statuses == [200, 200, 200]
    bodies = [json.loads(raw) for raw, _ in received]
    assert [body["parcel"]["status"] for body in bodies] == [
        {"id": 3, "message": "En route to sorting center"},
        {"id": 91, "message": "Parcel en route"},
        {"id": 11, "message": "Delivered"},
    ]
    assert {body["action"] for body in bodies} == {"parcel_status_changed"}
    assert bodies[-1]["parcel"]["tracking_number"] == label.tracking_number
    assert bodies[-1]["parcel"]["carrier"] == {"code": "postnl"}
    for raw, signature in received:
        assert signature == hmac.new(sandbox.SECRET_KEY.encode(), raw, hashlib.sha256).hexdigest()


def test_the_documented_signature_example_holds():
    """Sendcloud's docs: HMAC-SHA256 of '{"key": "value"}' with 'secretkey' is 1eed4b3d…a4b0a."""
    app = sandbox.Sandbox(sandbox.PUBLIC_KEY, "secretkey")
    assert app.sign(b'{"key": "value"}') == "1eed4b3d41f4653ac64fd56f1bf1cbfd349e4482cbc11dff7134bd93e5da4b0a"


def test_a_label_is_cancelled_while_its_parcel_waits_then_made_anew_and_refused_once_the_carrier_has_it(
    sendcloud_url,
):
    carrier = _carrier(sendcloud_url)
    label = carrier.label_for(_request())
    assert carrier.cancel_label(label.reference) is True  # 200: cancelled
    assert carrier.cancel_label(label.reference) is True  # asking again is harmless
    [cancelled] = _announced(sendcloud_url)["data"]
    assert {parcel["status"]["code"] for parcel in cancelled["parcels"]} == {"CANCELLED"}
    moved = carrier.label_for(
        _request(recipient=PostalAddress("Sam Tester", "Oudegracht 10", "3511 AL", "Utrecht", "NL"))
    )
    assert moved.tracking_number != label.tracking_number  # announced anew, under the next reference
    [_, again] = _announced(sendcloud_url)["data"]
    assert (again["external_reference_id"], again["to_address"]["city"]) == (
        "shipment-order-webshop-1-AMS~2",
        "Utrecht",
    )

    httpx.post(f"{sendcloud_url}/_sandbox/parcels/{again['parcels'][0]['id']}/advance").raise_for_status()
    with pytest.raises(CarrierRefused) as refused:  # the carrier has it
        carrier.cancel_label(moved.reference)
    assert "HTTP 409" in str(refused.value) and "no longer accepts its cancellation" in str(refused.value)
    other = carrier.label_for(_request("shipment-order-webshop-2-AMS"))
    _hook(sendcloud_url, "refuse-cancellations", {"count": 1})
    with pytest.raises(CarrierRefused):  # a carrier that does not let it go
        carrier.cancel_label(other.reference)
    assert carrier.cancel_label(other.reference) is True

    assert carrier.cancel_label("sendcloud:sbx-99999999") is False  # 404: Sendcloud does not know it
    with pytest.raises(CarrierRefused):
        carrier.cancel_label("sendcloud-return:1:2")  # a return's reference, not an outbound label
    _hook(sendcloud_url, "outage", {"down": True})
    with pytest.raises(CarrierUnavailable):
        carrier.cancel_label(other.reference)
    _hook(sendcloud_url, "outage", {"down": False})
    with pytest.raises(CarrierAuthFailed):
        _carrier(sendcloud_url, secret="wrong").cancel_label(other.reference)
