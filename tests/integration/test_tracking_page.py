"""The customer tracking page through the real app on SQLite and PostgreSQL: a real order in the read
model (with a name, an address, an e-mail, a phone number, a payment and a hold reason on it), opened
without any credential from the link GET /orders/{id} hands out, shows what a customer may see and
nothing else; a link that does not verify is the same 404 as one for an order we do not have."""

from __future__ import annotations

import html
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from api.main import create_app
from config import load_settings
from domain.money import Money
from domain.order import Address, OrderLine
from domain.status import OrderStatus
from ops.temporal_dev import free_port
from persistence.models import PaymentRecord, ShipmentRecord
from persistence.read_model import orders as order_store
from persistence.read_model import returns as return_store
from persistence.unit_of_work import UnitOfWork
from services.tracking import make_token
from tests.factories import make_order

TOKEN = "tracking-admin-token"
STAFF = {"Authorization": f"Bearer {TOKEN}"}
SECRET = "tracking-page-secret"
PLACED = datetime(2026, 11, 20, 13, 3, tzinfo=UTC)
HOLD_REASON = "payment refused by the gateway: card_declined (fraud suspected)"
# Personal or internal facts that are on the order and must never reach the page.
NEVER_SHOWN = (
    "Sam Tester",
    "Damrak",
    "1012 LG",
    "1012LG",
    "sam@example.org",
    "+31 6 1234 5678",
    "card_declined",
    "fraud",
    "WH-ROTTERDAM-7",
    "pi_3QtrackSecret",
    "12.50",  # unit price of the mugs (and the refund)
    "25.00",  # their line total
    "6.95",  # the tee
    "4.95",  # shipping
    "arrived broken",
)


def _settings(database, **overrides: object):
    # The page never needs Temporal: it is pointed at a closed port.
    return load_settings(
        database_url=database.url,
        admin_token=TOKEN,
        tracking_secret=SECRET,
        temporal_address=f"localhost:{free_port()}",
        _env_file=None,
        **overrides,
    )


@pytest.fixture
def api(database) -> Iterator[TestClient]:
    with TestClient(create_app(_settings(database)), raise_server_exceptions=False) as client:
        yield client


def _record(database, *, title: str = "Blue mug") -> str:
    """An order with everything personal a real one has: 2 x mug at 12.50, 1 x tee at 6.95, 4.95 shipping."""
    order = make_order([("MUG-BLUE", 2, 1250), ("TEE-M", 1, 695)], channel="webshop")
    order = replace(
        order,
        reference="#T-2001",
        placed_at=PLACED,
        lines=(
            OrderLine("MUG-BLUE", 2, Money(1250, "EUR"), Money(2500, "EUR"), title=title),
            OrderLine("TEE-M", 1, Money(695, "EUR"), Money(695, "EUR")),
        ),
        shipping_address=Address(
            name="Sam Tester",
            line1="Damrak 1",
            postcode="1012 LG",
            city="Amsterdam",
            country="NL",
            phone="+31 6 1234 5678",
        ),
        customer_email="sam@example.org",
    )
    with UnitOfWork(database.session_factory) as uow:
        order_store.record_order(uow.session, order, PLACED)
        uow.session.add(
            PaymentRecord(
                payment_id=f"{order.order_id}:payment",
                order_id=order.order_id,
                provider="stripe",
                provider_ref="pi_3QtrackSecret",
                status="CAPTURED",
                currency="EUR",
                authorized_minor=3690,
                captured_minor=3690,
            )
        )
        uow.commit()
    return order.order_id


def _hold(database, order_id: str) -> None:
    with UnitOfWork(database.session_factory) as uow:
        order_store.set_status(uow.session, order_id, OrderStatus.ON_HOLD, hold_reason=HOLD_REASON)
        uow.commit()


def _ship(database, order_id: str, parcels: list[tuple[str, str, dict[str, int]]]) -> None:
    """parcels: (carrier, tracking number, lines), each handed over from one warehouse."""
    with UnitOfWork(database.session_factory) as uow:
        for n, (carrier, tracking, lines) in enumerate(parcels, start=1):
            uow.session.add(
                ShipmentRecord(
                    shipment_id=f"shipment-{order_id}-WH-ROTTERDAM-7-{n}",
                    order_id=order_id,
                    location_id="WH-ROTTERDAM-7",
                    status="SHIPPED",
                    kind="delivery",
                    carrier=carrier,
                    tracking_number=tracking,
                    lines=lines,
                    created_at=PLACED + timedelta(hours=n),
                    shipped_at=PLACED + timedelta(hours=n),
                )
            )
        order_store.set_status(uow.session, order_id, OrderStatus.SHIPPED)
        uow.commit()


def _return_and_refund(database, order_id: str) -> None:
    at = PLACED + timedelta(days=3)
    return_id = f"{order_id}:return:1"
    with UnitOfWork(database.session_factory) as uow:
        return_store.accept_return(
            uow.session,
            order_id=order_id,
            return_id=return_id,
            lines={"MUG-BLUE": 1},
            reason="Sam Tester says it arrived broken",
            refund=Money(1250, "EUR"),
            requested_by="staff",
            restock=False,
            at=at,
        )
        payment = uow.session.get(PaymentRecord, f"{order_id}:payment")
        return_store.note_refund(uow.session, return_id, payment, Money(1250, "EUR"), "to the card", at)
        uow.commit()


def _page(api: TestClient, order_id: str, secret: str = SECRET):
    return api.get(f"/track/{make_token(secret, order_id)}")


def _assert_private(page: str) -> None:
    text = html.unescape(page)
    leaked = [fact for fact in NEVER_SHOWN if fact in text]
    assert not leaked, f"the tracking page shows {leaked}"


def test_an_order_on_hold_reads_we_are_checking_it_and_never_says_why(api, database):
    order_id = _record(database)
    _hold(database, order_id)
    with database.session() as session:  # the order really carries what the page must keep back
        record = order_store.get_order(session, order_id)
        assert record.hold_reason == HOLD_REASON and record.shipping_address["phone"] == "+31 6 1234 5678"

    response = _page(api, order_id)

    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/html")
    page = response.text
    assert "We are checking your order" in page
    assert "#T-2001" in page and "20 November 2026" in page
    assert "Blue mug" in page and "TEE-M" in page  # the title, else the SKU
    assert "36.90 EUR" in page  # the total is the one price shown
    _assert_private(page)


def test_a_shipped_order_shows_each_parcel_with_its_carriers_tracking_and_its_returns(api, database):
    order_id = _record(database)
    _ship(
        database,
        order_id,
        [
            ("PostNL", "3SABCD1234567", {"MUG-BLUE": 1}),
            ("DHL Parcel", "JVGL0612345", {"MUG-BLUE": 1}),
            ("Our own van", "VAN-7", {"TEE-M": 1}),
        ],
    )
    _return_and_refund(database, order_id)

    response = _page(api, order_id)

    assert response.status_code == 200, response.text
    page = response.text
    assert "<h1>Shipped</h1>" in page
    for shown in ("PostNL", "3SABCD1234567", "DHL Parcel", "JVGL0612345", "Our own van", "VAN-7"):
        assert shown in page, shown
    assert 'href="https://jouw.postnl.nl/track-and-trace/3SABCD1234567"' in page
    assert 'href="https://www.dhl.com/global-en/home/tracking.html?tracking-id=JVGL0612345&amp;submit=1"' in page
    assert page.count('href="https://') == 2  # the unknown carrier: its number only
    assert page.count("href=") == 3  # and the return form (services.self_service_returns)
    assert "Refunded" in page and "23 November 2026" in page
    _assert_private(page)


def test_the_page_needs_no_credential_and_is_kept_out_of_caches_indexes_and_referers(api, database):
    order_id = _record(database)
    assert api.get(f"/orders/{order_id}").status_code == 401  # the order itself stays staff-only

    response = api.get(f"/track/{make_token(SECRET, order_id)}", headers={"Authorization": "Bearer not-a-token"})

    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["referrer-policy"] == "no-referrer"
    assert '<meta name="robots" content="noindex' in response.text
    assert "<script" not in response.text


def test_what_the_channel_sent_is_escaped(api, database):
    order_id = _record(database, title='<script>alert("x")</script><b>Mug</b>')
    page = _page(api, order_id).text
    assert "<script>" not in page and "<b>Mug</b>" not in page
    assert "&lt;script&gt;" in page


def test_a_link_that_does_not_verify_is_404_and_reads_like_an_unknown_order(api, database):
    order_id = _record(database)
    token = make_token(SECRET, order_id)
    payload, signature = token.rsplit(".", 1)
    other = make_token(SECRET, "order-webshop-someone-else").rsplit(".", 1)[0]
    tampered = [
        f"{payload}.{signature[:-2]}{'AA' if signature[-2:] != 'AA' else 'BB'}",
        f"{other}.{signature}",
        make_token("not-our-secret", order_id),
        token[:-1],
        "not-a-token",
    ]
    unknown = api.get(f"/track/{make_token(SECRET, 'order-webshop-never-placed')}")
    assert unknown.status_code == 404
    assert "Order not found" in unknown.text
    for bad in tampered:
        response = api.get(f"/track/{bad}")
        assert response.status_code == 404, bad
        assert response.text == unknown.text, bad
        assert response.headers["cache-control"] == "no-store"
        assert "#T-2001" not in response.text


def test_the_order_hands_out_a_tracking_url_that_opens_the_page(api, database):
    order_id = _record(database)

    order = api.get(f"/orders/{order_id}", headers=STAFF)

    assert order.status_code == 200, order.text
    url = order.json()["tracking_url"]
    assert url == f"http://testserver/track/{make_token(SECRET, order_id)}"
    page = api.get(url)  # no credential
    assert page.status_code == 200 and "#T-2001" in page.text


def test_the_tracking_url_uses_the_public_address_when_one_is_set(database):
    order_id = _record(database)
    settings = _settings(database, public_url="https://track.shop.example/oms/")
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        url = client.get(f"/orders/{order_id}", headers=STAFF).json()["tracking_url"]
        prefix = "https://track.shop.example/oms/track/"
        assert url.startswith(prefix)
        assert client.get(f"/track/{url.removeprefix(prefix)}").status_code == 200
