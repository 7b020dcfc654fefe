"""The customer tracking page's rules: the signed link, the carriers' tracking pages, the wording a
customer reads, and that the page's view of an order carries nothing personal or internal."""

from __future__ import annotations

import hashlib
import re
from dataclasses import asdict
from datetime import UTC, datetime

import pytest
from itsdangerous import URLSafeSerializer
from pydantic import ValidationError

from config import load_settings
from domain.status import OrderStatus
from persistence.models import OrderLineRecord, OrderRecord, PaymentLinkRecord, ReturnRecord, ShipmentRecord
from services.tracking import (
    TrackingView,
    carrier_tracking_link,
    make_token,
    order_status_wording,
    read_token,
    refund_wording,
    shipment_status_wording,
    tracking_url,
    tracking_view,
)

SECRET = "unit-tracking-secret"
ORDER_ID = "order-shopify-5123456789012"


# -- the link -------------------------------------------------------------------------------------


def test_a_token_opens_its_order_and_is_safe_in_a_url():
    token = make_token(SECRET, ORDER_ID)
    assert read_token(SECRET, token) == ORDER_ID
    assert re.fullmatch(r"[A-Za-z0-9_.-]+", token), token


def test_the_same_order_always_gets_the_same_link():
    # A link re-sent in a later e-mail is the one the customer already has.
    assert make_token(SECRET, ORDER_ID) == make_token(SECRET, ORDER_ID)
    assert make_token(SECRET, ORDER_ID) != make_token(SECRET, "order-shopify-5123456789013")


def test_a_changed_character_anywhere_opens_nothing():
    token = make_token(SECRET, ORDER_ID)
    for position in range(len(token)):
        replacement = "A" if token[position] != "A" else "B"
        tampered = token[:position] + replacement + token[position + 1 :]
        assert read_token(SECRET, tampered) is None, position


def test_another_orders_payload_under_this_signature_opens_nothing():
    payload, signature = make_token(SECRET, ORDER_ID).rsplit(".", 1)
    other_payload = make_token(SECRET, "order-shopify-1").rsplit(".", 1)[0]
    assert read_token(SECRET, f"{other_payload}.{signature}") is None
    assert read_token(SECRET, f"{payload}.{signature}") == ORDER_ID


def test_a_token_signed_with_another_secret_or_for_another_purpose_opens_nothing():
    assert read_token(SECRET, make_token("another-secret", ORDER_ID)) is None
    # The same secret signing something else (default salt) does not make a tracking link.
    sha256 = {"digest_method": hashlib.sha256}
    assert read_token(SECRET, URLSafeSerializer(SECRET, signer_kwargs=sha256).dumps(ORDER_ID)) is None
    assert read_token(SECRET, URLSafeSerializer(SECRET, salt="order-tracking").dumps(ORDER_ID)) is None  # SHA-1


@pytest.mark.parametrize("token", ["", ".", "abc", "abc.def", ORDER_ID, "x" * 2000, "%00", "..."])
def test_garbage_opens_nothing(token):
    assert read_token(SECRET, token) is None


def test_a_signed_value_that_is_not_an_order_id_opens_nothing():
    serializer = URLSafeSerializer(SECRET, salt="order-tracking", signer_kwargs={"digest_method": hashlib.sha256})
    for value in ({"order_id": ORDER_ID}, 42, "", None):
        assert read_token(SECRET, serializer.dumps(value)) is None


def test_the_tracking_url_uses_the_public_url_when_set():
    settings = load_settings(_env_file=None, tracking_secret=SECRET, public_url="https://shop.example/oms/")
    assert settings.public_url == "https://shop.example/oms"
    url = tracking_url(settings, ORDER_ID, "http://10.0.0.5:8000/")
    assert url == f"https://shop.example/oms/track/{make_token(SECRET, ORDER_ID)}"


def test_the_tracking_url_falls_back_to_the_requests_address():
    settings = load_settings(_env_file=None, tracking_secret=SECRET, public_url="")
    url = tracking_url(settings, ORDER_ID, "http://localhost:8000/")
    assert url == f"http://localhost:8000/track/{make_token(SECRET, ORDER_ID)}"


@pytest.mark.parametrize("value", ["shop.example", "/oms", "ftp://shop.example", "javascript:alert(1)"])
def test_a_public_url_that_is_not_absolute_is_refused_at_start(value):
    with pytest.raises(ValidationError, match="OMS_PUBLIC_URL"):
        load_settings(_env_file=None, public_url=value)


# -- carriers -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("carrier", "number", "link"),
    [
        ("PostNL", "3SABCD1234567", "https://jouw.postnl.nl/track-and-trace/3SABCD1234567"),
        (" postnl ", " 3SABCD1234567 ", "https://jouw.postnl.nl/track-and-trace/3SABCD1234567"),
        ("DHL", "JVGL0612345", "https://www.dhl.com/global-en/home/tracking.html?tracking-id=JVGL0612345&submit=1"),
        (
            "DHL Parcel",
            "JVGL0612345",
            "https://www.dhl.com/global-en/home/tracking.html?tracking-id=JVGL0612345&submit=1",
        ),
        (
            "dhl-express",
            "1234567890",
            "https://www.dhl.com/global-en/home/tracking.html?tracking-id=1234567890&submit=1",
        ),
        ("DPD", "05222123456789", "https://tracking.dpd.de/status/en_US/parcel/05222123456789"),
        ("UPS", "1Z999AA10123456784", "https://www.ups.com/track?tracknum=1Z999AA10123456784"),
        ("GLS", "ZX12AB34", "https://gls-group.eu/track/ZX12AB34"),
        # A number is put in the link as one path or query value, whatever it contains.
        ("UPS", "1Z 99&x=1/..", "https://www.ups.com/track?tracknum=1Z%2099%26x%3D1%2F.."),
    ],
)
def test_known_carriers_link_to_their_own_tracking_page(carrier, number, link):
    assert carrier_tracking_link(carrier, number) == link


@pytest.mark.parametrize(
    ("carrier", "number"),
    [("SANDBOX-POST", "SBX-1"), ("Our own van", "VAN-7"), (None, "3SABCD1234567"), ("PostNL", None), ("PostNL", " ")],
)
def test_an_unknown_carrier_or_a_missing_number_gets_no_link(carrier, number):
    assert carrier_tracking_link(carrier, number) is None


# -- wording --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "headline"),
    [
        (OrderStatus.RECEIVED, "Order received"),
        (OrderStatus.ON_HOLD, "We are checking your order"),
        (OrderStatus.BACKORDERED, "Waiting for stock"),
        (OrderStatus.RESERVED, "Being prepared"),
        (OrderStatus.IN_FULFILMENT, "Being prepared"),
        (OrderStatus.SHIPPED, "Shipped"),
        (OrderStatus.COMPLETED, "Completed"),
        (OrderStatus.CANCELLED, "Cancelled"),
    ],
)
def test_each_status_in_the_customers_words(status, headline):
    wording = order_status_wording(status)
    assert wording.headline == headline
    assert wording.explanation
    assert status.value not in f"{wording.headline} {wording.explanation}"


def test_an_order_handed_over_at_a_store_was_collected_not_shipped():
    assert order_status_wording(OrderStatus.SHIPPED, handed_over_at_store=True).headline == "Collected"
    # Only SHIPPED changes: a cancelled or completed pickup is still cancelled or completed.
    assert order_status_wording(OrderStatus.CANCELLED, handed_over_at_store=True).headline == "Cancelled"
    assert order_status_wording(OrderStatus.COMPLETED, handed_over_at_store=True).headline == "Completed"


def test_a_pickup_waiting_at_the_store_says_so():
    assert order_status_wording(OrderStatus.IN_FULFILMENT, ready_for_pickup=True).headline == "Ready for pickup"


@pytest.mark.parametrize(
    ("status", "kind", "wording"),
    [
        ("RESERVED", "delivery", "Being prepared"),
        ("PICKED", "delivery", "Being prepared"),
        ("PACKED", "delivery", "Being prepared"),
        ("SHIPPED", "delivery", "Shipped"),
        ("SHIPPED", "transfer_collect", "On its way to the store"),
        ("READY_FOR_PICKUP", "collect", "Ready for pickup"),
        ("COLLECTED", "collect", "Collected"),
        ("EXPIRED", "collect", "Not collected in time"),
        ("SOMETHING_NEW", "delivery", "In progress"),
    ],
)
def test_each_shipment_status_in_the_customers_words(status, kind, wording):
    assert shipment_status_wording(status, kind) == wording


def test_refunds_in_the_customers_words():
    assert refund_wording("ACCEPTED") == "Return received, refund in progress"
    assert refund_wording("REFUNDED") == "Refunded"
    assert refund_wording("REFUND_ON_CHANNEL") == "Refunded through the shop you ordered from"


# -- the view -------------------------------------------------------------------------------------

PLACED = datetime(2026, 11, 20, 13, 3, tzinfo=UTC)
PERSONAL_AND_INTERNAL = (
    "Sam Tester",
    "Damrak",
    "1012 LG",
    "+31 6 1234 5678",
    "sam@example.org",
    "card_declined",
    "WH-ROTTERDAM-7",
    "12.50",
    "25.00",
    "shipment-",
    "order-webshop-",
)


def _order(status: OrderStatus, shipments: list[ShipmentRecord], *, fulfilled_by: str = "us") -> OrderRecord:
    return OrderRecord(
        order_id="order-webshop-W-1001",
        channel="webshop",
        external_id="W-1001",
        reference="#1001",
        status=status.value,
        hold_reason="payment refused: card_declined",
        currency="EUR",
        total_minor=3195,
        shipping_minor=695,
        discount_minor=0,
        payment_collected=True,
        fulfilled_by=fulfilled_by,
        shipping_address={
            "name": "Sam Tester",
            "line1": "Damrak 1",
            "postcode": "1012 LG",
            "city": "Amsterdam",
            "phone": "+31 6 1234 5678",
        },
        customer_email="sam@example.org",
        placed_at=PLACED,
        received_at=PLACED,
        lines=[
            OrderLineRecord(line_no=1, sku="MUG-BLUE", quantity=2, unit_price_minor=1250, total_minor=2500, title=""),
            OrderLineRecord(line_no=2, sku="TEE-M", quantity=1, unit_price_minor=0, total_minor=0, title="Tee, M"),
        ],
        shipments=shipments,
    )


def _shipment(suffix: str, status: str, *, kind: str = "delivery", carrier: str | None = None) -> ShipmentRecord:
    return ShipmentRecord(
        shipment_id=f"shipment-order-webshop-W-1001-{suffix}",
        order_id="order-webshop-W-1001",
        location_id="WH-ROTTERDAM-7",
        status=status,
        kind=kind,
        carrier=carrier,
        tracking_number=f"3S{suffix}" if carrier else None,
        lines={"MUG-BLUE": 2, "TEE-M": 1},
    )


def _text(view: TrackingView) -> str:
    return repr(asdict(view))


def test_the_view_carries_nothing_personal_or_internal():
    record = _order(OrderStatus.ON_HOLD, [_shipment("A", "SHIPPED", carrier="PostNL")])
    returned = ReturnRecord(
        return_id="order-webshop-W-1001:return:1",
        status="REFUNDED",
        lines={"MUG-BLUE": 1},
        reason="Sam Tester says it arrived broken",
        currency="EUR",
        refund_minor=1250,
        requested_by="support@shop.example",
        created_at=PLACED,
    )
    view = tracking_view(record, [returned])
    text = _text(view)
    for secret in (*PERSONAL_AND_INTERNAL, "arrived broken", "support@shop.example", "return:1"):
        assert secret not in text, secret
    assert view.reference == "#1001"
    assert view.placed_on == "20 November 2026"
    assert view.status.headline == "We are checking your order"
    assert view.total == "31.95 EUR"
    assert [(item.name, item.quantity) for item in view.items] == [("MUG-BLUE", 2), ("Tee, M", 1)]
    (parcel,) = view.parcels
    assert (parcel.carrier, parcel.tracking_number) == ("PostNL", "3SA")
    assert parcel.tracking_link == "https://jouw.postnl.nl/track-and-trace/3SA"
    (ret,) = view.returns
    assert (ret.refund, [(i.name, i.quantity) for i in ret.items]) == ("Refunded", [("MUG-BLUE", 1)])


def test_the_external_id_stands_in_for_a_missing_reference():
    record = _order(OrderStatus.RECEIVED, [])
    record.reference = ""
    assert tracking_view(record, []).reference == "W-1001"


def test_a_click_and_collect_order_reads_collected_and_withdrawn_parcels_are_left_out():
    record = _order(
        OrderStatus.SHIPPED,
        [_shipment("A", "COLLECTED", kind="collect"), _shipment("B", "WITHDRAWN", carrier="PostNL")],
    )
    view = tracking_view(record, [])
    assert view.status.headline == "Collected"
    assert [parcel.status for parcel in view.parcels] == ["Collected"]


def test_a_counter_sale_reads_collected_and_a_delivery_reads_shipped():
    assert tracking_view(_order(OrderStatus.SHIPPED, [], fulfilled_by="counter"), []).status.headline == "Collected"
    delivered = _order(OrderStatus.SHIPPED, [_shipment("A", "SHIPPED", carrier="DPD")])
    assert tracking_view(delivered, []).status.headline == "Shipped"


def test_an_exchange_waiting_for_its_difference_shows_the_payment_link_while_it_is_open():
    record = _order(OrderStatus.SHIPPED, [_shipment("A", "SHIPPED", carrier="PostNL")])
    returned = ReturnRecord(
        return_id="return-order-webshop-W-1001-1",
        status="DISPOSED",
        lines={"MUG-BLUE": 1},
        reason="too small",
        currency="EUR",
        refund_minor=0,
        rma="RMA-AAAAA-BBBBB-1",
        created_at=PLACED,
    )
    link = PaymentLinkRecord(
        link_id="pl_abc",
        order_id=record.order_id,
        owner=returned.return_id,
        url="https://payment-links.mollie.com/payment/abc",
        status="open",
        currency="EUR",
        amount_minor=250,
        expires_at=datetime(2026, 11, 23, 9, 30, tzinfo=UTC),
    )
    (ret,) = tracking_view(record, [returned], links={returned.return_id: link}).returns
    assert (ret.to_pay, ret.pay_link, ret.pay_until) == (
        "2.50 EUR",
        "https://payment-links.mollie.com/payment/abc",
        "23 November 2026, 09:30 UTC",
    )
    for settled in ("paid", "expired", "cancelled"):
        link.status = settled
        (ret,) = tracking_view(record, [returned], links={returned.return_id: link}).returns
        assert (ret.to_pay, ret.pay_link) == ("", "")
