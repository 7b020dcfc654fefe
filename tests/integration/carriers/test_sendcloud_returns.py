"""Return labels through Sendcloud's Returns API, against the Sendcloud sandbox over real HTTP: the
documented request and answer shapes, one return per reference however often asked, a label that
comes late asked of the same return, every way Sendcloud says no, and a return's cancellation."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from integrations.carriers.base import (
    CarrierAuthFailed,
    CarrierRefused,
    CarrierUnavailable,
    PostalAddress,
    ReturnItem,
    ReturnLabelPending,
    ReturnLabelRequest,
)
from integrations.carriers.sendcloud.carrier import SendcloudCarrier
from integrations.carriers.sendcloud.client import SendcloudClient
from sandboxes import sendcloud as sandbox
from sandboxes.server import serve

WAREHOUSE = PostalAddress("AMS site", "Keizersgracht 1", "1015 CJ", "Amsterdam", "NL", company="AMS site")
CUSTOMER = PostalAddress("Sam Tester", "Damrak 1", "1012 LG", "Amsterdam", "NL", email="sam@example.org")
RMA = "RMA-7K3QX-9PDM2-1"


@pytest.fixture
def sendcloud_url() -> Iterator[str]:
    with serve(sandbox.create_app()) as url:
        yield url


def _carrier(url: str, *, secret: str = sandbox.SECRET_KEY, option: str = "postnl:return") -> SendcloudCarrier:
    client = SendcloudClient(url, sandbox.PUBLIC_KEY, secret)
    return SendcloudCarrier(client, shipping_option="postnl:standard", return_option=option)


def _request(**changes: Any) -> ReturnLabelRequest:
    fields: dict[str, Any] = {
        "shipment_id": "shipment-order-webshop-1-AMS",
        "order_reference": "#1001",
        "customer": CUSTOMER,
        "returns_to": WAREHOUSE,
        "weight_grams": 660,
        "reference": RMA,
        "items": (ReturnItem("TSHIRT-M", 2, "T-shirt M"),),
    }
    return ReturnLabelRequest(**{**fields, **changes})


def _hook(url: str, path: str, body: dict[str, Any]) -> None:
    httpx.post(f"{url}/_sandbox/{path}", json=body).raise_for_status()


def _made(url: str) -> dict[str, Any]:
    answer: dict[str, Any] = httpx.get(f"{url}/_sandbox/returns").json()
    return answer


def test_a_return_label_goes_from_the_customer_back_to_the_location_under_the_rma(sendcloud_url):
    label = _carrier(sendcloud_url).return_label_for(_request())
    assert label.carrier == "postnl" and label.tracking_number.startswith("3S")
    assert label.reference.startswith("sendcloud-return:")
    assert label.document.startswith(b"%PDF") and label.tracking_number.encode() in label.document
    [made] = _made(sendcloud_url)["data"]
    assert made["external_reference"] == RMA and made["order_number"] == "#1001"
    assert made["from_address"]["postal_code"] == "1012 LG" and made["to_address"]["name"] == "AMS site"
    assert made["weight"] == {"value": 0.66, "unit": "kg"}
    assert made["parcel_items"] == [{"sku": "TSHIRT-M", "quantity": 2, "description": "T-shirt M"}]


def test_a_second_return_under_the_same_reference_is_refused_never_made(sendcloud_url):
    carrier = _carrier(sendcloud_url)
    carrier.return_label_for(_request())
    with pytest.raises(CarrierRefused, match="External reference has already been used in another return"):
        carrier.return_label_for(_request())
    assert len(_made(sendcloud_url)["data"]) == 1
    assert _made(sendcloud_url)["return_calls"] == 2


def test_a_label_that_comes_late_is_asked_of_the_same_return(sendcloud_url):
    _hook(sendcloud_url, "late-return-labels", {"count": 1})
    carrier = _carrier(sendcloud_url)
    with pytest.raises(ReturnLabelPending, match="no tracking number yet") as pending:
        carrier.return_label_for(_request())
    assert pending.value.announced.startswith("sendcloud-return:1:")
    label = carrier.return_label_for(_request(announced=pending.value.announced))
    assert label.reference == "sendcloud-return:1" and label.tracking_number
    assert _made(sendcloud_url)["return_calls"] == 1


def test_an_outage_after_the_return_was_made_keeps_its_reference_and_the_wait(sendcloud_url):
    carrier = _carrier(sendcloud_url)
    created = carrier.client.announce_return(carrier._return_body(_request()))
    _hook(sendcloud_url, "fail", {"status": 429, "count": 1, "retry_after": "12"})
    announced = f"sendcloud-return:{created['return_id']}:{created['parcel_id']}"
    with pytest.raises(ReturnLabelPending) as pending:
        carrier.return_label_for(_request(announced=announced))
    assert (pending.value.announced, pending.value.retry_after) == (announced, 12)
    assert carrier.return_label_for(_request(announced=announced)).tracking_number


def test_sendcloud_away_is_retryable_and_nothing_was_made(sendcloud_url):
    _hook(sendcloud_url, "outage", {"down": True})
    with pytest.raises(CarrierUnavailable, match="HTTP 503") as away:
        _carrier(sendcloud_url).return_label_for(_request())
    assert not isinstance(away.value, ReturnLabelPending)
    _hook(sendcloud_url, "outage", {"down": False})
    assert _made(sendcloud_url)["data"] == []
    assert _carrier(sendcloud_url).return_label_for(_request()).tracking_number


def test_refusals_are_final_in_sendclouds_words(sendcloud_url):
    carrier = _carrier(sendcloud_url)
    no_name = PostalAddress("", "Damrak 1", "1012 LG", "Amsterdam", "NL")
    with pytest.raises(CarrierRefused, match=r"from_address\.name: This field is required"):
        carrier.return_label_for(_request(customer=no_name))
    bad_postcode = PostalAddress("Sam Tester", "Damrak 1", "ABC", "Amsterdam", "NL")
    with pytest.raises(CarrierRefused, match="The postal code you provided is invalid"):
        carrier.return_label_for(_request(customer=bad_postcode))
    with pytest.raises(CarrierRefused, match="ship_with: Shipping option 'postnl:standard' is not available"):
        _carrier(sendcloud_url, option="postnl:standard").return_label_for(_request())
    with pytest.raises(CarrierAuthFailed, match="HTTP 401"):
        _carrier(sendcloud_url, secret="wrong").return_label_for(_request())
    assert _made(sendcloud_url)["data"] == []


def test_a_return_for_a_whole_parcel_keeps_its_reference_from_the_shipment(sendcloud_url):
    request = _request(reference="", items=())
    assert request.external_reference == "shipment-order-webshop-1-AMS:return"
    _carrier(sendcloud_url).return_label_for(request)
    [made] = _made(sendcloud_url)["data"]
    assert made["external_reference"] == "shipment-order-webshop-1-AMS:return" and made["parcel_items"] == []


def test_an_announced_reference_that_is_not_ours_is_refused(sendcloud_url):
    with pytest.raises(CarrierRefused, match="not a return this integration announced"):
        _carrier(sendcloud_url).return_label_for(_request(announced="sendcloud:sbx-1"))


def test_a_return_is_cancelled_while_its_parcel_waits_and_refused_once_the_carrier_has_it(sendcloud_url):
    carrier = _carrier(sendcloud_url)
    label = carrier.return_label_for(_request())
    assert carrier.cancel_return_label(label.reference) is True  # 202: the cancellation is requested
    assert carrier.cancel_return_label(label.reference) is True  # asking again is harmless
    [made] = _made(sendcloud_url)["data"]
    assert made["parent_status"] == "cancelled"
    shown = httpx.get(f"{sendcloud_url}/returns/{made['id']}", auth=(sandbox.PUBLIC_KEY, sandbox.SECRET_KEY)).json()
    assert shown["parent_status"] == "cancelled"

    on_its_way = carrier.return_label_for(_request(reference="RMA-7K3QX-9PDM2-2"))
    [_, second] = _made(sendcloud_url)["data"]
    httpx.post(f"{sendcloud_url}/_sandbox/parcels/{second['parcel_id']}/advance").raise_for_status()
    with pytest.raises(CarrierRefused) as refused:
        carrier.cancel_return_label(on_its_way.reference)
    assert "HTTP 400" in str(refused.value) and "can no longer be cancelled" in str(refused.value)

    assert carrier.cancel_return_label("sendcloud-return:999:1") is False  # 404: Sendcloud does not know it
    with pytest.raises(CarrierRefused):
        carrier.cancel_return_label("sendcloud:42")  # an outbound shipment's reference, not a return
    _hook(sendcloud_url, "outage", {"down": True})
    with pytest.raises(CarrierUnavailable):
        carrier.cancel_return_label(label.reference)
    _hook(sendcloud_url, "outage", {"down": False})
    with pytest.raises(CarrierAuthFailed):
        _carrier(sendcloud_url, secret="wrong").cancel_return_label(label.reference)
