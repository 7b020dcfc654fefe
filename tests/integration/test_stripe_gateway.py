"""The Stripe gateway against localstripe (a Stripe-compatible server from PyPI, started here).

What localstripe cannot show, and what covers it in real Stripe: it ignores `Idempotency-Key` (a
repeated create makes a second object), so the gateway's lookup by metadata is what these tests
exercise for retries; with real Stripe the key replays the first answer within 24 h as well. It has
no multicapture (one capture per PaymentIntent) and no Search API (the gateway scans the list).
"""

from __future__ import annotations

import dataclasses
import uuid
from datetime import UTC, datetime
from urllib.parse import urlsplit

import pytest
import requests
import stripe
from stripe.params import PaymentIntentCreateParams
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from activities.payments import PaymentActivities
from contracts.errors import ErrorType
from contracts.payments import (
    AuthorizePaymentInput,
    ChargeDifferenceInput,
    PaymentStepInput,
    ReauthorizePaymentInput,
    VoidReplacedInput,
)
from domain.money import Money
from domain.payments import PaymentStatus
from integrations.payments import PaymentRejected, StripeGateway
from integrations.providers import GatewayPayment, PaymentDeclined
from ops.temporal_dev import free_port
from persistence.models import PaymentRecord
from persistence.read_model import orders as order_store
from persistence.read_model import returns as return_store
from persistence.unit_of_work import UnitOfWork
from tests.factories import make_order

SECRET = "sk_test_oms_localstripe"
GOOD_CARD = "4242424242424242"
DECLINING_CARD = "4000000000000341"  # localstripe declines it when charged (0002 only on attach)


@pytest.fixture(scope="module")
def gateway(localstripe_url: str) -> StripeGateway:
    return StripeGateway(SECRET, api_base=localstripe_url)


@pytest.fixture(scope="module")
def client(localstripe_url: str) -> stripe.StripeClient:
    """A plain client to look at what the gateway did."""
    return stripe.StripeClient(SECRET, base_addresses={"api": localstripe_url}, max_network_retries=0)


def card(client: stripe.StripeClient, number: str = GOOD_CARD) -> str:
    """A PaymentMethod as the shop's checkout would hand it over."""
    method = client.v1.payment_methods.create(
        {"type": "card", "card": {"number": number, "exp_month": 12, "exp_year": 2034, "cvc": "123"}}
    )
    return method.id


def step(name: str) -> str:
    return f"order-webshop-{uuid.uuid4().hex[:12]}:{name}:1"


def eur(minor: int) -> Money:
    return Money(minor, "EUR")


def labelled(client: stripe.StripeClient, key: str) -> list[stripe.PaymentIntent]:
    every = client.v1.payment_intents.list({"limit": 100}).auto_paging_iter()
    return [intent for intent in every if intent.metadata.to_dict().get("oms_step") == key]


def charge_of(client: stripe.StripeClient, intent_id: str) -> stripe.Charge:
    latest = client.v1.payment_intents.retrieve(intent_id).latest_charge
    assert latest is not None
    return client.v1.charges.retrieve(latest) if isinstance(latest, str) else latest


def refunds_of(client: stripe.StripeClient, intent_id: str) -> list[tuple[int, str]]:
    refunds = client.v1.refunds.list({"payment_intent": intent_id, "limit": 100}).auto_paging_iter()
    return sorted((refund.amount, refund.metadata.to_dict().get("oms_step", "")) for refund in refunds)


def authorized(gateway: StripeGateway, client: stripe.StripeClient, minor: int = 1000) -> GatewayPayment:
    order_id = f"order-webshop-{uuid.uuid4().hex[:12]}"
    return gateway.authorize(f"{order_id}:authorize:1", eur(minor), card(client), order_id)


# -- the four operations -------------------------------------------------------------------------


def test_authorize_creates_a_confirmed_manual_capture_intent(gateway, client):
    key = step("authorize")
    paid = gateway.authorize(key, eur(2495), card(client), "order-webshop-1")

    assert paid == GatewayPayment("stripe", paid.provider_ref, "authorized", eur(2495))
    intent = client.v1.payment_intents.retrieve(paid.provider_ref)
    assert (intent.status, intent.capture_method, intent.amount, intent.currency) == (
        "requires_capture",
        "manual",
        2495,
        "eur",
    )
    assert intent.metadata.to_dict() == {"order_id": "order-webshop-1", "oms_step": key}
    assert charge_of(client, intent.id).captured is False


def test_partial_capture_takes_part_and_releases_the_rest(gateway, client):
    paid = authorized(gateway, client, 1000)

    captured = gateway.capture(step("capture"), paid.provider_ref, eur(600))

    assert captured == GatewayPayment("stripe", paid.provider_ref, "captured", eur(600))
    assert client.v1.payment_intents.retrieve(paid.provider_ref).status == "succeeded"
    charge = charge_of(client, paid.provider_ref)
    assert (charge.amount, charge.captured) == (1000, True)
    # localstripe books the released 400 as a refund of the charge: 600 stays captured.
    assert charge.amount - charge.amount_refunded == 600
    # One capture per PaymentIntent: another step's capture is refused, not reported as done.
    with pytest.raises(PaymentRejected, match="already captured"):
        gateway.capture(step("capture"), paid.provider_ref, eur(400))


def test_a_capture_retried_after_success_answers_the_same_and_never_captures_twice(gateway, client):
    paid = authorized(gateway, client, 1000)
    key = step("capture")

    first = gateway.capture(key, paid.provider_ref, eur(700))
    again = gateway.capture(key, paid.provider_ref, eur(700))

    assert first == again == GatewayPayment("stripe", paid.provider_ref, "captured", eur(700))
    charge = charge_of(client, paid.provider_ref)
    assert charge.amount - charge.amount_refunded == 700
    assert refunds_of(client, paid.provider_ref) == [(300, "")]  # the one release of one capture


def test_void_cancels_the_authorization_and_a_retry_answers_the_same(gateway, client):
    paid = authorized(gateway, client, 1500)
    key = step("void")

    first = gateway.void(key, paid.provider_ref, eur(1500))
    again = gateway.void(key, paid.provider_ref, eur(1500))

    assert first == again == GatewayPayment("stripe", paid.provider_ref, "voided", eur(1500))
    assert client.v1.payment_intents.retrieve(paid.provider_ref).status == "canceled"


def test_void_after_a_capture_has_nothing_left_to_release(gateway, client):
    paid = authorized(gateway, client, 1000)
    gateway.capture(step("capture"), paid.provider_ref, eur(600))

    voided = gateway.void(step("void"), paid.provider_ref, eur(400))

    assert voided.status == "voided"
    assert client.v1.payment_intents.retrieve(paid.provider_ref).status == "succeeded"
    assert charge_of(client, paid.provider_ref).amount_refunded == 400  # still only the release


def test_part_of_an_uncaptured_authorization_cannot_be_voided(gateway, client):
    paid = authorized(gateway, client, 1000)

    with pytest.raises(PaymentRejected, match="only as a whole"):
        gateway.void(step("void"), paid.provider_ref, eur(400))

    assert client.v1.payment_intents.retrieve(paid.provider_ref).status == "requires_capture"


def test_refund_part_of_a_capture_once_per_step(gateway, client):
    paid = authorized(gateway, client, 1000)
    gateway.capture(step("capture"), paid.provider_ref, eur(1000))
    key = step("refund")

    first = gateway.refund(key, paid.provider_ref, eur(300))
    again = gateway.refund(key, paid.provider_ref, eur(300))
    other = gateway.refund(step("refund"), paid.provider_ref, eur(200))

    assert first == again
    assert (first.provider, first.status, first.amount) == ("stripe", "refunded", eur(300))
    assert first.provider_ref.startswith("re_") and other.provider_ref != first.provider_ref
    assert [amount for amount, _ in refunds_of(client, paid.provider_ref)] == [200, 300]
    assert charge_of(client, paid.provider_ref).amount_refunded == 500


# -- declines, refusals, outages -----------------------------------------------------------------


def test_a_declined_card_raises_payment_declined_with_stripes_message(gateway, client):
    key = step("authorize")
    method = card(client, DECLINING_CARD)

    with pytest.raises(PaymentDeclined, match="Your card was declined"):
        gateway.authorize(key, eur(1000), method, "order-webshop-2")
    # A retry finds the declined intent and declines again, without a second attempt at the card.
    with pytest.raises(PaymentDeclined, match="Your card was declined"):
        gateway.authorize(key, eur(1000), method, "order-webshop-2")

    assert [intent.status for intent in labelled(client, key)] == ["requires_payment_method"]


def test_requests_stripe_refuses_raise_payment_rejected(gateway, client):
    with pytest.raises(PaymentRejected, match="authorizing"):
        gateway.authorize(step("authorize"), eur(1000), "pm_does_not_exist", "order-webshop-3")
    with pytest.raises(PaymentRejected, match="no payment method"):
        gateway.authorize(step("authorize"), eur(1000), "", "order-webshop-3")
    with pytest.raises(PaymentRejected):
        gateway.capture(step("capture"), "pi_does_not_exist", eur(100))
    key, method = step("authorize"), card(client)
    gateway.authorize(key, eur(1000), method, "order-webshop-3")
    with pytest.raises(PaymentRejected, match="is for 1000 EUR"):  # the same step's key, another amount
        gateway.authorize(key, eur(999), method, "order-webshop-3")
    assert issubclass(PaymentRejected, ValueError)


def test_an_unreachable_gateway_raises_the_sdks_transient_error_unchanged():
    down = StripeGateway(SECRET, api_base=f"http://127.0.0.1:{free_port()}", timeout=2)
    with pytest.raises(stripe.APIConnectionError):
        down.authorize(step("authorize"), eur(1000), "pm_card_visa", "order-webshop-4")
    with pytest.raises(stripe.APIConnectionError):
        down.capture(step("capture"), "pi_x", eur(100))


def test_an_intent_the_checkout_confirmed_is_adopted(gateway, client):
    intent = client.v1.payment_intents.create(
        {"amount": 1200, "currency": "eur", "capture_method": "manual", "confirm": True, "payment_method": card(client)}
    )
    key = step("authorize")

    paid = gateway.authorize(key, eur(1200), intent.id, "order-webshop-5")

    assert paid == GatewayPayment("stripe", intent.id, "authorized", eur(1200))
    assert client.v1.payment_intents.retrieve(intent.id).metadata.to_dict()["oms_step"] == key
    with pytest.raises(PaymentRejected, match="is for 1200 EUR"):
        gateway.authorize(key, eur(1000), intent.id, "order-webshop-5")
    automatic = client.v1.payment_intents.create(
        {"amount": 1200, "currency": "eur", "confirm": True, "payment_method": card(client)}
    )
    with pytest.raises(PaymentRejected, match="captures automatically"):
        gateway.authorize(step("authorize"), eur(1200), automatic.id, "order-webshop-5")


# -- a payment belongs to one order (issue 11, item 10) --------------------------------------------


def checkout_intent(client: stripe.StripeClient, minor: int, **metadata: str) -> stripe.PaymentIntent:
    """A manual-capture intent the shop's checkout confirmed before the order reached us."""
    params: PaymentIntentCreateParams = {
        "amount": minor,
        "currency": "eur",
        "capture_method": "manual",
        "confirm": True,
        "payment_method": card(client),
    }
    if metadata:
        params["metadata"] = metadata
    return client.v1.payment_intents.create(params)


def labels(client: stripe.StripeClient, intent_id: str) -> dict[str, str]:
    return client.v1.payment_intents.retrieve(intent_id).metadata.to_dict()


@pytest.mark.parametrize("attempt", [1, 2], ids=["first-attempt", "retry"])
def test_another_orders_intent_of_the_same_amount_is_never_adopted(gateway, client, attempt):
    order_a, order_b = (f"order-webshop-{uuid.uuid4().hex[:12]}" for _ in "ab")
    paid_a = gateway.authorize(f"{order_a}:authorize:1", eur(1500), card(client), order_a)

    with pytest.raises(PaymentRejected, match=f"belongs to order {order_a}"):
        _attempt(attempt).run(gateway.authorize, f"{order_b}:authorize:1", eur(1500), paid_a.provider_ref, order_b)

    assert labels(client, paid_a.provider_ref) == {"order_id": order_a, "oms_step": f"{order_a}:authorize:1"}
    assert client.v1.payment_intents.retrieve(paid_a.provider_ref).status == "requires_capture"


def test_a_checkout_intent_is_adopted_by_one_order_only(gateway, client):
    intent = checkout_intent(client, 2000)
    order_a, order_b = (f"order-webshop-{uuid.uuid4().hex[:12]}" for _ in "ab")
    key_a = f"{order_a}:authorize:1"

    first = gateway.authorize(key_a, eur(2000), intent.id, order_a)
    again = _attempt(2).run(gateway.authorize, key_a, eur(2000), intent.id, order_a)  # its own retry: fine
    with pytest.raises(PaymentRejected, match=f"belongs to order {order_a}"):
        gateway.authorize(f"{order_b}:authorize:1", eur(2000), intent.id, order_b)
    with pytest.raises(PaymentRejected, match=f"step {key_a}"):  # the same order, another authorization
        gateway.authorize(f"{order_a}:authorize:2", eur(2000), intent.id, order_a)

    assert first == again == GatewayPayment("stripe", intent.id, "authorized", eur(2000))
    assert labels(client, intent.id) == {"order_id": order_a, "oms_step": key_a}


def test_an_intent_the_checkout_made_for_another_order_is_refused_untouched(gateway, client):
    intent = checkout_intent(client, 2000, order_id="order-webshop-someone-else")
    order_id = f"order-webshop-{uuid.uuid4().hex[:12]}"

    with pytest.raises(PaymentRejected, match="belongs to order order-webshop-someone-else"):
        gateway.authorize(f"{order_id}:authorize:1", eur(2000), intent.id, order_id)

    assert labels(client, intent.id) == {"order_id": "order-webshop-someone-else"}


def test_a_captured_intent_never_authorizes_again(gateway, client):
    # Adopted from the checkout, then captured: the same step asked again gets no new authorization.
    intent = checkout_intent(client, 1000)
    order_id = f"order-webshop-{uuid.uuid4().hex[:12]}"
    key = f"{order_id}:authorize:1"
    gateway.authorize(key, eur(1000), intent.id, order_id)
    gateway.capture(f"{order_id}:capture:1", intent.id, eur(1000))
    with pytest.raises(PaymentRejected, match="captured already"):
        _attempt(2).run(gateway.authorize, key, eur(1000), intent.id, order_id)

    # Created by the gateway, then captured: a retry of its step finds it and refuses, creating nothing.
    order_id = f"order-webshop-{uuid.uuid4().hex[:12]}"
    key, method = f"{order_id}:authorize:1", card(client)
    paid = gateway.authorize(key, eur(1000), method, order_id)
    gateway.capture(f"{order_id}:capture:1", paid.provider_ref, eur(1000))
    with pytest.raises(PaymentRejected, match="captured already"):
        _attempt(2).run(gateway.authorize, key, eur(1000), method, order_id)
    assert [intent.id for intent in labelled(client, key)] == [paid.provider_ref]

    # Captured by the checkout before anyone labelled it: nothing left to authorize, and left as it is.
    captured = checkout_intent(client, 1000)
    client.v1.payment_intents.capture(captured.id)
    order_id = f"order-webshop-{uuid.uuid4().hex[:12]}"
    with pytest.raises(PaymentRejected, match="captured already"):
        gateway.authorize(f"{order_id}:authorize:1", eur(1000), captured.id, order_id)
    assert labels(client, captured.id) == {}


def test_a_retry_ignores_an_intent_labelled_with_its_step_but_another_order(gateway, client):
    order_id = f"order-webshop-{uuid.uuid4().hex[:12]}"
    key = f"{order_id}:authorize:1"
    planted = checkout_intent(client, 1000, order_id="order-webshop-someone-else", oms_step=key)

    paid = _attempt(2).run(gateway.authorize, key, eur(1000), card(client), order_id)

    assert paid.provider_ref != planted.id
    assert labels(client, paid.provider_ref) == {"order_id": order_id, "oms_step": key}
    assert labels(client, planted.id) == {"order_id": "order-webshop-someone-else", "oms_step": key}


def test_every_write_sends_the_steps_key_as_stripes_idempotency_key(gateway, client, monkeypatch):
    """The guarantee real Stripe adds (localstripe ignores the header): a repeated write with the
    same key is answered with the first result for 24 h."""
    sent: list[tuple[str, str, str | None]] = []
    real_request = requests.Session.request

    def recording(session, method, url, *args, **kwargs):
        sent.append((method.upper(), urlsplit(url).path, (kwargs.get("headers") or {}).get("Idempotency-Key")))
        return real_request(session, method, url, *args, **kwargs)

    method = card(client)
    monkeypatch.setattr(requests.Session, "request", recording)
    authorize, capture, refund = step("authorize"), step("capture"), step("refund")
    paid = gateway.authorize(authorize, eur(1000), method, "order-webshop-8")
    gateway.capture(capture, paid.provider_ref, eur(1000))
    gateway.refund(refund, paid.provider_ref, eur(250))
    void_authorize, void = step("authorize"), step("void")
    other = gateway.authorize(void_authorize, eur(500), method, "order-webshop-9")
    gateway.void(void, other.provider_ref, eur(500))

    writes = {(path, key) for verb, path, key in sent if verb == "POST"}
    assert {
        ("/v1/payment_intents", authorize),
        (f"/v1/payment_intents/{paid.provider_ref}/capture", capture),
        ("/v1/refunds", refund),
        ("/v1/payment_intents", void_authorize),
        (f"/v1/payment_intents/{other.provider_ref}/cancel", void),
    } <= writes


# -- a retried authorize never makes a second PaymentIntent --------------------------------------


def test_localstripe_ignores_idempotency_keys_so_the_gateway_must_look_first(client):
    """What localstripe cannot show: real Stripe answers a repeated key with the first intent."""
    params: PaymentIntentCreateParams = {
        "amount": 100,
        "currency": "eur",
        "capture_method": "manual",
        "payment_method": card(client),
    }
    key = f"raw-{uuid.uuid4()}"
    first = client.v1.payment_intents.create(params, {"idempotency_key": key})
    second = client.v1.payment_intents.create(params, {"idempotency_key": key})
    assert first.id != second.id


def test_a_retried_authorize_returns_the_first_intent(gateway, client):
    key = step("authorize")
    method = card(client)

    first = gateway.authorize(key, eur(1000), method, "order-webshop-6")
    again = gateway.authorize(key, eur(1000), method, "order-webshop-6")

    assert again == first
    assert [intent.id for intent in labelled(client, key)] == [first.provider_ref]


def _attempt(number: int) -> ActivityEnvironment:
    env = ActivityEnvironment()
    env.info = dataclasses.replace(env.info, attempt=number)
    return env


def test_inside_an_activity_only_a_retry_pays_for_the_lookup(gateway, client, monkeypatch):
    key = step("authorize")
    method = card(client)

    def no_lookup(_key: str) -> list[stripe.PaymentIntent]:
        raise AssertionError("a first attempt must not search (Stripe's search allows 20 reads/s)")

    with monkeypatch.context() as patch:
        patch.setattr(gateway, "_intents_labelled", no_lookup)
        first = _attempt(1).run(gateway.authorize, key, eur(1000), method, "order-webshop-7")
    retried = _attempt(2).run(gateway.authorize, key, eur(1000), method, "order-webshop-7")

    assert retried == first
    assert [intent.id for intent in labelled(client, key)] == [first.provider_ref]


# -- with PaymentActivities and our own idempotency record (SQLite and PostgreSQL) ----------------


class DiesAfterStripe:
    """The gateway, but the first call of each named operation fails after Stripe did its part, as
    when the worker dies (or the database drops) before the activity's result commits."""

    def __init__(self, real: StripeGateway, *operations: str) -> None:
        self.real, self.pending, self.calls = real, set(operations), 0

    def authorize(self, idempotency_key: str, amount: Money, payment_method: str, order_id: str) -> GatewayPayment:
        return self._then_die("authorize", self.real.authorize(idempotency_key, amount, payment_method, order_id))

    def capture(self, idempotency_key: str, provider_ref: str, amount: Money, *, final: bool = True) -> GatewayPayment:
        return self._then_die("capture", self.real.capture(idempotency_key, provider_ref, amount, final=final))

    def void(self, idempotency_key: str, provider_ref: str, amount: Money) -> GatewayPayment:
        return self._then_die("void", self.real.void(idempotency_key, provider_ref, amount))

    def refund(self, idempotency_key: str, provider_ref: str, amount: Money) -> GatewayPayment:
        return self._then_die("refund", self.real.refund(idempotency_key, provider_ref, amount))

    def _then_die(self, operation: str, result: GatewayPayment) -> GatewayPayment:
        self.calls += 1
        if operation in self.pending:
            self.pending.discard(operation)
            raise ConnectionError(f"worker lost after Stripe's {operation}")
        return result


def _recorded_order(database, total_minor: int = 1495):
    order = make_order([("SKU-1", 1, total_minor - 495)])
    with UnitOfWork(database.session_factory) as uow:
        order_store.record_order(uow.session, order, datetime.now(UTC))
        uow.commit()
    return order


def _payment(database, payment_id: str) -> PaymentRecord:
    with UnitOfWork(database.session_factory) as uow:
        record = uow.session.get(PaymentRecord, payment_id)
        assert record is not None
        uow.session.expunge(record)
        return record


def test_a_retried_authorize_payment_activity_makes_exactly_one_intent(database, gateway, client):
    order = _recorded_order(database)
    flaky = DiesAfterStripe(gateway, "authorize")
    payments = PaymentActivities(database.session_factory, flaky)
    data = AuthorizePaymentInput(
        order.order_id, order.total, card(client), f"{order.order_id}:authorize:1", order.placed_at
    )

    with pytest.raises(ConnectionError):
        _attempt(1).run(payments.authorize_payment, data)
    retried = _attempt(2).run(payments.authorize_payment, data)
    # Once the step is recorded, a repeat answers from the record without asking Stripe again.
    repeated = _attempt(3).run(payments.authorize_payment, data)

    assert retried == repeated
    assert (retried.status, retried.amount) == (PaymentStatus.AUTHORIZED, order.total)
    assert flaky.calls == 2
    intents = labelled(client, data.idempotency_key)
    assert [intent.status for intent in intents] == ["requires_capture"]
    assert _payment(database, retried.payment_id).provider_ref == intents[0].id


def test_a_retried_capture_payment_activity_captures_once(database, gateway, client):
    order = _recorded_order(database, 2000)
    flaky = DiesAfterStripe(gateway, "capture")
    payments = PaymentActivities(database.session_factory, flaky)
    paid = payments.authorize_payment(
        AuthorizePaymentInput(
            order.order_id, order.total, card(client), f"{order.order_id}:authorize:1", order.placed_at
        )
    )
    capture = PaymentStepInput(
        order.order_id, paid.payment_id, eur(1500), f"{order.order_id}:capture:1", order.placed_at
    )

    with pytest.raises(ConnectionError):
        _attempt(1).run(payments.capture_payment, capture)
    retried = _attempt(2).run(payments.capture_payment, capture)
    repeated = _attempt(3).run(payments.capture_payment, capture)

    assert retried == repeated
    assert (retried.status, retried.amount) == (PaymentStatus.PARTIALLY_CAPTURED, eur(1500))
    record = _payment(database, paid.payment_id)
    assert (record.captured_minor, record.status) == (1500, "PARTIALLY_CAPTURED")
    charge = charge_of(client, record.provider_ref)
    assert charge.amount - charge.amount_refunded == 1500
    assert refunds_of(client, record.provider_ref) == [(500, "")]  # one capture, one release


def test_a_declined_authorize_payment_activity_is_not_retried(database, gateway, client):
    order = _recorded_order(database)
    payments = PaymentActivities(database.session_factory, gateway)
    data = AuthorizePaymentInput(
        order.order_id, order.total, card(client, DECLINING_CARD), f"{order.order_id}:authorize:1", order.placed_at
    )

    for attempt in (1, 2):
        with pytest.raises(ApplicationError) as raised:
            _attempt(attempt).run(payments.authorize_payment, data)
        assert (raised.value.type, raised.value.non_retryable) == (ErrorType.PAYMENT_DECLINED, True)
        assert "Your card was declined" in raised.value.message

    assert len(labelled(client, data.idempotency_key)) == 1


# -- an edited order that costs more: authorized anew ----------------------------------------------


def test_reauthorize_holds_the_new_amount_on_the_same_card_and_leaves_the_old_hold(gateway, client):
    order_id = f"order-webshop-{uuid.uuid4().hex[:12]}"
    method = card(client)
    first = gateway.authorize(f"{order_id}:authorize:1", eur(2495), method, order_id)
    key = f"{order_id}:reauthorize:1"

    again = gateway.reauthorize(key, first.provider_ref, eur(3995), order_id)

    assert again == GatewayPayment("stripe", again.provider_ref, "authorized", eur(3995))
    intent = client.v1.payment_intents.retrieve(again.provider_ref)
    assert (intent.status, intent.amount, intent.payment_method) == ("requires_capture", 3995, method)
    assert labels(client, again.provider_ref) == {
        "order_id": order_id,
        "oms_step": key,
        "oms_replaces": first.provider_ref,
    }
    assert client.v1.payment_intents.retrieve(first.provider_ref).status == "requires_capture"  # the caller voids it
    # A retry of the step finds its intent and makes no second one.
    assert _attempt(2).run(gateway.reauthorize, key, first.provider_ref, eur(3995), order_id) == again
    assert [each.id for each in labelled(client, key)] == [again.provider_ref]


def test_reauthorize_refuses_another_orders_intent(gateway, client):
    other = authorized(gateway, client)
    with pytest.raises(PaymentRejected, match="belongs to order"):
        gateway.reauthorize("order-webshop-mine:reauthorize:1", other.provider_ref, eur(5000), "order-webshop-mine")


def test_the_reauthorize_payment_activity_makes_the_new_hold_the_orders_payment(database, gateway, client):
    order = _recorded_order(database, 2000)
    payments = PaymentActivities(database.session_factory, gateway)
    paid = payments.authorize_payment(
        AuthorizePaymentInput(
            order.order_id, order.total, card(client), f"{order.order_id}:authorize:1", order.placed_at
        )
    )
    held = _payment(database, paid.payment_id).provider_ref
    data = ReauthorizePaymentInput(
        order.order_id, paid.payment_id, eur(2600), f"{order.order_id}:reauthorize:1", order.placed_at
    )

    done = _attempt(1).run(payments.reauthorize_payment, data)
    assert done == _attempt(2).run(payments.reauthorize_payment, data)  # a retry answers from the record

    assert (done.replaced_ref, done.replaced, done.payment.amount) == (held, eur(2000), eur(2600))
    record = _payment(database, paid.payment_id)
    assert record.provider_ref != held and (record.authorized_minor, record.status) == (2600, "AUTHORIZED")
    replaced = VoidReplacedInput(
        order.order_id, paid.payment_id, held, eur(2000), f"{order.order_id}:void:1", order.placed_at
    )
    payments.void_replaced_authorization(replaced)
    payments.void_replaced_authorization(replaced)
    assert client.v1.payment_intents.retrieve(held).status == "canceled"
    assert client.v1.payment_intents.retrieve(record.provider_ref).status == "requires_capture"
    after = _payment(database, paid.payment_id)
    assert (after.authorized_minor, after.voided_minor, after.captured_minor) == (2600, 0, 0)
    with UnitOfWork(database.session_factory) as uow:
        kinds = [event.kind for event in order_store.order_events(uow.session, order.order_id)]
    assert kinds.count("payment_reauthorized") == 1 and kinds.count("payment_voided") == 1


def test_the_charge_difference_activity_records_a_payment_of_its_own_once(database, gateway, client):
    """An exchange's difference: a new intent on the order's card, recorded as the order's second
    payment (its purpose and return), once however often the step is retried; the order's own
    payment is left as it is."""
    order = _recorded_order(database, 2000)
    payments = PaymentActivities(database.session_factory, gateway)
    method = card(client)
    paid = payments.authorize_payment(
        AuthorizePaymentInput(order.order_id, order.total, method, f"{order.order_id}:authorize:1", order.placed_at)
    )
    own = _payment(database, paid.payment_id)
    return_id = f"return-{order.order_id}-1"
    with UnitOfWork(database.session_factory) as uow:
        return_store.accept_return(
            uow.session,
            order_id=order.order_id,
            return_id=return_id,
            lines={"SKU-1": 1},
            reason="wrong size",
            refund=eur(0),
            requested_by="support",
            restock=False,
            at=order.placed_at,
        )
        uow.commit()
    data = ChargeDifferenceInput(
        order.order_id, return_id, f"payment-{order.order_id}-x1", eur(350), f"{return_id}:difference", order.placed_at
    )

    done = _attempt(1).run(payments.charge_difference, data)
    assert done == _attempt(2).run(payments.charge_difference, data)  # a retry answers from the record

    assert (done.payment_id, done.status, done.amount) == (data.payment_id, PaymentStatus.AUTHORIZED, eur(350))
    [intent] = labelled(client, data.idempotency_key)
    assert (intent.status, intent.amount, intent.payment_method) == ("requires_capture", 350, method)
    extra = _payment(database, data.payment_id)
    assert (extra.provider_ref, extra.purpose, extra.return_id, extra.authorized_minor) == (
        intent.id,
        "exchange_difference",
        return_id,
        350,
    )
    after = _payment(database, paid.payment_id)
    assert (after.provider_ref, after.authorized_minor, after.purpose) == (own.provider_ref, 2000, "order")
    payments.capture_payment(
        PaymentStepInput(order.order_id, data.payment_id, eur(350), f"{return_id}:difference-capture", order.placed_at)
    )
    assert client.v1.payment_intents.retrieve(intent.id).status == "succeeded"
    assert client.v1.payment_intents.retrieve(own.provider_ref).status == "requires_capture"


def test_a_payment_captured_from_is_not_authorized_anew(database, gateway, client):
    order = _recorded_order(database, 2000)
    payments = PaymentActivities(database.session_factory, gateway)
    paid = payments.authorize_payment(
        AuthorizePaymentInput(
            order.order_id, order.total, card(client), f"{order.order_id}:authorize:1", order.placed_at
        )
    )
    payments.capture_payment(
        PaymentStepInput(order.order_id, paid.payment_id, eur(500), f"{order.order_id}:capture:1", order.placed_at)
    )
    data = ReauthorizePaymentInput(
        order.order_id, paid.payment_id, eur(2600), f"{order.order_id}:reauthorize:1", order.placed_at
    )
    with pytest.raises(ApplicationError) as raised:
        payments.reauthorize_payment(data)
    assert (raised.value.type, raised.value.non_retryable) == (ErrorType.PAYMENT_REJECTED, True)
    assert labelled(client, data.idempotency_key) == []
