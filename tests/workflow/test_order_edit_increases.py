"""An order edit that costs more than the card holds (update `edit_order`), on the real dev server
and database: the card is authorized anew for the new total and the old hold released; a decline
leaves the order and its hold as they were; something captured already is refused (409)."""

from __future__ import annotations

import asyncio
from typing import Any

import requests
import stripe
from sqlalchemy import select

from contracts.order_edits import EditChange
from domain.money import Money
from integrations.payments import StripeGateway
from integrations.providers import GatewayPayment, PaymentGatewayUnavailable
from integrations.sandbox.payments import SandboxPaymentGateway
from persistence.models import PaymentRecord
from persistence.read_model import order_versions
from persistence.read_model import orders as order_store
from services.intake import start_order
from tests.conftest import TestDatabase
from tests.factories import add_location, make_order, stock
from tests.workflow.conftest import api_client, running_engine
from tests.workflow.histories import assert_replays, record_history
from tests.workflow.test_order_edits import _edit, _refusal, _reserved, _running, _ship, _shipments, partly_captured

SECRET = "sk_test_oms_edit_increase"
TOKEN = "edit-increase-admin-token"
STAFF_HEADERS = {"Authorization": f"Bearer {TOKEN}"}


def _stripe(url: str) -> stripe.StripeClient:
    return stripe.StripeClient(SECRET, base_addresses={"api": url}, max_network_retries=0)


def _card(url: str, number: str = "4242424242424242") -> str:
    return (
        _stripe(url)
        .v1.payment_methods.create(
            {"type": "card", "card": {"number": number, "exp_month": 12, "exp_year": 2034, "cvc": "123"}}
        )
        .id
    )


def _confirmed_at_checkout(url: str, amount_minor: int, card: str) -> str:
    """A manual-capture intent the checkout confirmed with the customer there (3-D Secure passed)."""
    intent = _stripe(url).v1.payment_intents.create(
        {"amount": amount_minor, "currency": "eur", "capture_method": "manual", "confirm": True, "payment_method": card}
    )
    assert intent.status == "requires_action"
    passed = requests.post(
        f"{url}/v1/payment_intents/{intent.id}/_authenticate",
        data={"client_secret": intent.client_secret, "success": "true"},
        headers={"Authorization": f"Bearer {SECRET}"},
        timeout=10,
    )
    assert passed.status_code == 200, passed.text
    assert _stripe(url).v1.payment_intents.retrieve(intent.id).status == "requires_capture"
    return intent.id


def _payment(db: TestDatabase, order_id: str) -> PaymentRecord:
    with db.session() as session:
        payment = session.scalar(select(PaymentRecord).where(PaymentRecord.order_id == order_id))
        assert payment is not None
        session.expunge(payment)
        return payment


def _events(db: TestDatabase, order_id: str) -> list[tuple[str, str]]:
    with db.session() as session:
        return [(event.kind, event.detail) for event in order_store.order_events(session, order_id)]


def _charged(intent: Any) -> int:
    charges = intent.to_dict()["charges"]["data"]
    return sum(charge["amount"] - charge["amount_refunded"] for charge in charges)


async def test_a_line_added_on_a_stripe_card_is_authorized_anew_and_the_captures_come_to_the_new_total(
    temporal_client, sqlite_database, localstripe_url
):
    db = sqlite_database
    gateway = StripeGateway(SECRET, localstripe_url)
    async with running_engine(temporal_client, db, gateway=gateway, auto_confirm=False) as engine:
        add_location(db.session_factory, "AMS")
        stock(db.session_factory, "AMS", {"MUG": 5, "CAP": 5})
        order = make_order([("MUG", 2, 1000)], paid=False, payment_method=_card(localstripe_url))
        order_id, _ = await start_order(temporal_client, engine.settings, order)
        first = await _reserved(engine, order_id)
        old = _payment(db, order_id)
        assert (old.authorized_minor, old.provider) == (2495, "stripe")

        added = EditChange("add_line", sku="CAP", quantity=1, unit_price=Money(1333, "EUR"), title="Cap")
        result = await _edit(temporal_client, order_id, added)
        assert (result.total, result.difference, result.authorized) == (
            Money(3828, "EUR"),
            Money(1333, "EUR"),
            Money(3828, "EUR"),
        )

        # One payment record, now naming the new hold; the old one released at Stripe.
        new = _payment(db, order_id)
        assert new.payment_id == old.payment_id and new.provider_ref != old.provider_ref
        assert (new.authorized_minor, new.captured_minor, new.voided_minor, new.status) == (3828, 0, 0, "AUTHORIZED")
        client = _stripe(localstripe_url)
        assert client.v1.payment_intents.retrieve(old.provider_ref).status == "canceled"
        held = client.v1.payment_intents.retrieve(new.provider_ref)
        assert (held.status, held.amount, held.payment_method) == ("requires_capture", 3828, order.payment_method)
        kinds = [kind for kind, _ in _events(db, order_id)]
        assert kinds.count("payment_reauthorized") == 1 and kinds.count("payment_voided") == 1

        second = f"{first}-2"
        await _running(temporal_client, second)
        assert _shipments(db, order_id)[second] == ("RESERVED", {"CAP": 1})
        await _ship(temporal_client, first, "AMS", "3SMORE1")
        await _ship(temporal_client, second, "AMS", "3SMORE2")
        await engine.wait_for_status(order_id, "SHIPPED")

        # Captured exactly the edited total, on the new hold, to the cent.
        settled = _payment(db, order_id)
        assert (settled.captured_minor, settled.status) == (3828, "CAPTURED")
        intent = client.v1.payment_intents.retrieve(new.provider_ref)
        assert (intent.status, intent.amount, _charged(intent)) == ("succeeded", 3828, 3828)
        assert client.v1.payment_intents.retrieve(old.provider_ref).status == "canceled"
        await assert_replays(temporal_client.get_workflow_handle(order_id))


async def test_a_declined_authorization_leaves_the_order_and_its_hold_as_they_were(
    temporal_client, sqlite_database, localstripe_url
):
    """The card passed 3-D Secure at checkout; a new hold without the customer there is declined."""
    db = sqlite_database
    gateway = StripeGateway(SECRET, localstripe_url)
    async with running_engine(temporal_client, db, gateway=gateway, auto_confirm=False) as engine:
        add_location(db.session_factory, "AMS")
        stock(db.session_factory, "AMS", {"MUG": 5, "CAP": 5})
        checkout = _confirmed_at_checkout(localstripe_url, 2495, _card(localstripe_url, "4000002500003155"))
        order = make_order([("MUG", 2, 1000)], paid=False, payment_method=checkout)
        order_id, _ = await start_order(temporal_client, engine.settings, order)
        first = await _reserved(engine, order_id)
        before = _payment(db, order_id)
        assert (before.provider_ref, before.authorized_minor) == (checkout, 2495)

        added = EditChange("add_line", sku="CAP", quantity=1, unit_price=Money(1500, "EUR"))
        kind, message = await _refusal(temporal_client, order_id, added)
        assert kind == "payment_declined" and "39.95 EUR" in message and "stays as it was" in message

        after = _payment(db, order_id)
        assert (after.provider_ref, after.authorized_minor, after.status) == (checkout, 2495, "AUTHORIZED")
        assert _stripe(localstripe_url).v1.payment_intents.retrieve(checkout).status == "requires_capture"
        assert _shipments(db, order_id) == {first: ("RESERVED", {"MUG": 2})}
        with db.session() as session:
            assert [v.number for v in order_versions.versions(session, order_id)] == []
            record = order_store.get_order(session, order_id)
            assert record is not None and record.total_minor == 2495
        assert "edit_payment_declined" in [kind for kind, _ in _events(db, order_id)]

        # The order goes on as it was: the old hold is captured for the old total.
        await _ship(temporal_client, first, "AMS", "3SMORE3")
        await engine.wait_for_status(order_id, "SHIPPED")
        assert _payment(db, order_id).captured_minor == 2495
        intent = _stripe(localstripe_url).v1.payment_intents.retrieve(checkout)
        assert (intent.status, _charged(intent)) == ("succeeded", 2495)


async def test_the_sandbox_card_is_authorized_anew_and_a_hold_that_covers_the_increase_is_kept(
    temporal_client, database
):
    db = database
    async with running_engine(temporal_client, db, auto_confirm=False) as engine:
        add_location(db.session_factory, "AMS")
        stock(db.session_factory, "AMS", {"MUG": 5, "CAP": 5})
        order = make_order([("MUG", 3, 1000)], paid=False, payment_method="pm_card_visa")
        order_id, _ = await start_order(temporal_client, engine.settings, order)
        first = await _reserved(engine, order_id)
        placed = _payment(db, order_id)

        # 34.95 held; down to 24.95, then a cap of 5.00 fits in the hold: no call.
        await _edit(temporal_client, order_id, EditChange("reduce_line", line=0, quantity=1))
        cap = EditChange("add_line", sku="CAP", quantity=1, unit_price=Money(500, "EUR"))
        within = await _edit(temporal_client, order_id, cap)
        assert (within.total, within.authorized) == (Money(2995, "EUR"), None)
        assert _payment(db, order_id).provider_ref == placed.provider_ref

        # Two more caps: 39.95, beyond the hold: authorized anew.
        more = EditChange("add_line", sku="CAP", quantity=2, unit_price=Money(500, "EUR"))
        beyond = await _edit(temporal_client, order_id, more)
        assert (beyond.total, beyond.authorized, beyond.authorize) == (
            Money(3995, "EUR"),
            Money(3995, "EUR"),
            Money(1000, "EUR"),
        )
        payment = _payment(db, order_id)
        assert payment.provider_ref != placed.provider_ref and payment.authorized_minor == 3995
        assert ("payment_voided", "34.95 EUR: the authorization the edit replaced") in _events(db, order_id)
        edits = [detail for kind, detail in _events(db, order_id) if kind == "edit_payment"]
        assert edits[-1] == "to collect 10.00 EUR, card authorized anew for 39.95 EUR"

        shipments = _shipments(db, order_id)
        for shipment_id, (status, _) in shipments.items():
            if status == "RESERVED":
                await _ship(temporal_client, shipment_id, "AMS", f"3S{shipment_id[-6:]}")
        await engine.wait_for_status(order_id, "SHIPPED")
        settled = _payment(db, order_id)
        assert (settled.authorized_minor, settled.captured_minor) == (3995, 3995)
        assert first in shipments
        await record_history(temporal_client.get_workflow_handle(order_id), "order_edit_authorized_anew")


async def test_an_increase_after_a_capture_is_refused(temporal_client, sqlite_database):
    """A first parcel was captured (multicapture): a second hold would split the order's payment."""
    db = sqlite_database
    async with running_engine(temporal_client, db, auto_confirm=False) as engine:
        add_location(db.session_factory, "AMS", priority=1)
        add_location(db.session_factory, "UTR", priority=2)
        stock(db.session_factory, "AMS", {"MUG": 5})
        stock(db.session_factory, "UTR", {"TEE": 5})
        order = make_order([("MUG", 2, 1000), ("TEE", 1, 2000)], paid=False, payment_method="pm_card_visa")
        order_id, _ = await start_order(temporal_client, engine.settings, order)
        await _running(temporal_client, f"shipment-{order_id}-AMS")
        await _ship(temporal_client, f"shipment-{order_id}-AMS", "AMS", "3SMORE4")
        await partly_captured(temporal_client, order_id)
        assert _payment(db, order_id).captured_minor == 2495  # 20.00 of mugs and the shipping

        added = EditChange("add_line", sku="TEE", quantity=1, unit_price=Money(2000, "EUR"))
        kind, message = await _refusal(temporal_client, order_id, added)
        assert kind == "needs_payment" and "captured already" in message
        assert _payment(db, order_id).authorized_minor == 4495


class GatewayAwayForEdits(SandboxPaymentGateway):
    """The sandbox, but it never answers a new authorization (down for as long as the edit waits)."""

    def __init__(self) -> None:
        self.asked = 0

    def reauthorize(self, idempotency_key: str, provider_ref: str, amount: Money, order_id: str) -> GatewayPayment:
        self.asked += 1
        raise PaymentGatewayUnavailable("503 from the gateway")


async def test_a_gateway_that_does_not_answer_refuses_the_edit_with_503_and_changes_nothing(
    temporal_client, sqlite_database
):
    db = sqlite_database
    gateway = GatewayAwayForEdits()
    async with running_engine(temporal_client, db, gateway=gateway, auto_confirm=False) as engine:
        add_location(db.session_factory, "AMS")
        stock(db.session_factory, "AMS", {"MUG": 5, "CAP": 5})
        order = make_order([("MUG", 1, 1000)], paid=False, payment_method="pm_card_visa")
        order_id, _ = await start_order(temporal_client, engine.settings, order)
        first = await _reserved(engine, order_id)
        before = _payment(db, order_id)

        cap = {"kind": "add_line", "sku": "CAP", "quantity": 1, "unit_price": {"amount_minor": 1500, "currency": "EUR"}}
        with api_client(engine, TOKEN) as api:
            response = await asyncio.to_thread(
                api.post, f"/orders/{order_id}/edits", json={"changes": [cap]}, headers=STAFF_HEADERS
            )
        assert response.status_code == 503, response.text
        assert response.json()["detail"]["refusal"] == "payment_unavailable"
        assert gateway.asked == 4  # tried, then refused

        after = _payment(db, order_id)
        assert (after.provider_ref, after.authorized_minor) == (before.provider_ref, before.authorized_minor)
        assert _shipments(db, order_id) == {first: ("RESERVED", {"MUG": 1})}
        await _ship(temporal_client, first, "AMS", "3SMORE5")
        await engine.wait_for_status(order_id, "SHIPPED")
        assert _payment(db, order_id).captured_minor == 1495
