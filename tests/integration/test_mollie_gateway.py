"""The Mollie gateway against the Mollie sandbox (sandboxes/mollie.py, Mollie's documented v2 shapes):
iDEAL/Bancontact taken at checkout (capture a no-op, a void refunds), cards held with manual capture
(captured once, the rest released), refusals and declines, transient failures, exactly once on
retries; then the payment activities with it on both databases."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import select
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from activities.payments import PaymentActivities
from contracts.errors import ErrorType
from contracts.payments import AuthorizePaymentInput, PaymentStepInput, ReauthorizePaymentInput
from domain.money import Money
from domain.payments import PaymentStatus
from integrations.payments.mollie_gateway import CheckoutUnfinished, MollieGateway
from integrations.payments.routing import PaymentGateways
from integrations.providers import GatewayPayment, PaymentDeclined, PaymentGatewayUnavailable, PaymentRejected
from integrations.sandbox.payments import SandboxPaymentGateway
from persistence.models import OrderEvent, PaymentRecord
from persistence.read_model import orders as order_store
from persistence.unit_of_work import UnitOfWork
from sandboxes.mollie import API_KEY
from tests.factories import make_order
from tests.mollie_checkout import AUTH, at_mollie, checkout, customer, fail_next, listed, outage


def eur(minor: int) -> Money:
    return Money(minor, "EUR")


@pytest.fixture
def gateway(mollie_url: str) -> MollieGateway:
    return MollieGateway(API_KEY, mollie_url)


# -- iDEAL / Bancontact: the money is taken at checkout ---------------------------------------------


@pytest.mark.parametrize("method", ["ideal", "bancontact"])
def test_an_immediate_payment_captures_as_a_no_op_and_a_void_refunds_it_to_the_cent(gateway, mollie_url, method):
    total = eur(123_456_789)  # 1,234,567.89: every cent counts
    payment_id = checkout(mollie_url, total, method=method)

    authorized = gateway.authorize("o1:authorize:1", total, payment_id, "order-webshop-1")
    captured = gateway.capture("o1:capture:1", payment_id, eur(100_000_001))
    voided = gateway.void("o1:void:1", payment_id, eur(23_456_788))

    assert (authorized.status, authorized.provider, authorized.provider_ref) == ("paid", "mollie", payment_id)
    assert captured.status == "captured"
    assert voided.status == "refunded" and voided.provider_ref.startswith("re_")
    payment = at_mollie(mollie_url, payment_id)
    assert payment["amountRefunded"] == {"currency": "EUR", "value": "234567.88"}
    assert payment["amountRemaining"] == {"currency": "EUR", "value": "1000000.01"}
    [refund] = listed(mollie_url, payment_id, "refunds")
    assert refund["amount"] == {"currency": "EUR", "value": "234567.88"}
    assert refund["metadata"] == {"oms_step": "o1:void:1"}


def test_a_return_refund_is_made_once_however_often_the_step_is_retried(gateway, mollie_url):
    payment_id = checkout(mollie_url, eur(4990))
    gateway.authorize("o2:authorize:1", eur(4990), payment_id, "order-webshop-2")

    first = gateway.refund("return-1:refund", payment_id, eur(1995))
    again = gateway.refund("return-1:refund", payment_id, eur(1995))
    other = gateway.refund("return-2:refund", payment_id, eur(1))

    assert first == again and first.provider_ref != other.provider_ref
    assert [r["amount"]["value"] for r in listed(mollie_url, payment_id, "refunds")] == ["19.95", "0.01"]
    calls = httpx.get(f"{mollie_url}/_sandbox/calls").json()
    posts = [c for c in calls if c["method"] == "POST" and c["path"].endswith("/refunds")]
    assert [c["idempotency_key"] for c in posts] == ["return-1:refund", "return-2:refund"]


def test_a_refund_of_more_than_was_taken_is_refused_with_mollies_field(gateway, mollie_url):
    payment_id = checkout(mollie_url, eur(1000))
    with pytest.raises(PaymentRejected, match=r"422.*\[amount\]"):
        gateway.refund("r:refund", payment_id, eur(1001))


# -- cards held with captureMode manual ------------------------------------------------------------


def test_a_held_card_is_captured_once_and_the_rest_of_the_authorization_released(gateway, mollie_url):
    payment_id = checkout(mollie_url, eur(5495), method="creditcard", status="authorized")

    authorized = gateway.authorize("o3:authorize:1", eur(5495), payment_id, "order-webshop-3")
    captured = gateway.capture("o3:capture:1", payment_id, eur(4000))
    repeated = gateway.capture("o3:capture:1", payment_id, eur(4000))  # a retried step
    voided = gateway.void("o3:void:1", payment_id, eur(1495))
    voided_again = gateway.void("o3:void:1", payment_id, eur(1495))

    assert authorized.status == "authorized" and not authorized.multicapture
    assert captured == repeated and captured.status == "captured"
    assert voided == voided_again and voided.status == "voided"
    [capture] = listed(mollie_url, payment_id, "captures")
    assert (capture["amount"]["value"], capture["metadata"]) == ("40.00", {"oms_step": "o3:capture:1"})
    payment = at_mollie(mollie_url, payment_id)
    assert (payment["status"], payment["amountCaptured"]["value"]) == ("paid", "40.00")


def test_a_held_card_voided_before_any_capture_is_released(gateway, mollie_url):
    payment_id = checkout(mollie_url, eur(2500), method="creditcard", status="authorized")
    gateway.authorize("o4:authorize:1", eur(2500), payment_id, "order-webshop-4")

    with pytest.raises(PaymentRejected, match="only as a whole"):
        gateway.void("o4:void:1", payment_id, eur(1000))
    assert gateway.void("o4:void:1", payment_id, eur(2500)).status == "voided"

    assert at_mollie(mollie_url, payment_id)["status"] == "canceled"
    assert listed(mollie_url, payment_id, "refunds") == []


def test_a_held_card_already_captured_cannot_authorize_another_order(gateway, mollie_url):
    payment_id = checkout(mollie_url, eur(2500), method="creditcard", status="authorized")
    gateway.capture("other:capture:1", payment_id, eur(2500))
    with pytest.raises(PaymentRejected, match="cannot authorize an order again"):
        gateway.authorize("o5:authorize:1", eur(2500), payment_id, "order-webshop-5")


# -- never trusting what the order says ------------------------------------------------------------


@pytest.mark.parametrize("status", ["expired", "canceled", "failed"])
def test_a_payment_the_customer_did_not_complete_is_declined(gateway, mollie_url, status):
    payment_id = checkout(mollie_url, eur(1000), status=status)
    with pytest.raises(PaymentDeclined, match=status):
        gateway.authorize("o6:authorize:1", eur(1000), payment_id, "order-webshop-6")


@pytest.mark.parametrize("status", [None, "pending"])
def test_a_payment_still_at_the_checkout_is_waited_for(gateway, mollie_url, status):
    payment_id = checkout(mollie_url, eur(1000), status=status)
    with pytest.raises(CheckoutUnfinished):
        gateway.authorize("o7:authorize:1", eur(1000), payment_id, "order-webshop-7")
    customer(mollie_url, payment_id, "paid")
    assert gateway.authorize("o7:authorize:1", eur(1000), payment_id, "order-webshop-7").status == "paid"


def test_a_payment_for_another_amount_or_currency_is_refused(gateway, mollie_url):
    payment_id = checkout(mollie_url, eur(1000))
    with pytest.raises(PaymentRejected, match=r"10\.00 EUR, not 10\.01 EUR"):
        gateway.authorize("o8:authorize:1", eur(1001), payment_id, "order-webshop-8")
    with pytest.raises(PaymentRejected, match=r"not 10\.00 USD"):
        gateway.authorize("o8:authorize:1", Money(1000, "USD"), payment_id, "order-webshop-8")


def test_a_payment_partly_given_back_already_is_refused(gateway, mollie_url):
    payment_id = checkout(mollie_url, eur(1000))
    gateway.refund("someone:refund", payment_id, eur(1))
    with pytest.raises(PaymentRejected, match=r"0\.01 EUR refunded"):
        gateway.authorize("o9:authorize:1", eur(1000), payment_id, "order-webshop-9")


@pytest.mark.parametrize("method", ["", "pm_card_visa", "tr_doesNotExist"])
def test_no_payment_or_an_unknown_one_is_refused(gateway, method):
    with pytest.raises(PaymentRejected):
        gateway.authorize("o10:authorize:1", eur(1000), method, "order-webshop-10")


# -- what may pass: retried with backoff -----------------------------------------------------------


def test_a_refused_key_is_transient_and_names_the_setting(mollie_url):
    payment_id = checkout(mollie_url, eur(1000))
    with pytest.raises(PaymentGatewayUnavailable, match="OMS_MOLLIE_API_KEY"):
        MollieGateway("test_notTheSandboxKey", mollie_url).authorize("k", eur(1000), payment_id, "order-webshop-11")


def test_a_key_mollie_never_issues_is_refused_without_showing_it(mollie_url):
    with pytest.raises(PaymentGatewayUnavailable, match="OMS_MOLLIE_API_KEY") as refused:
        MollieGateway("sk_live_secret_value", mollie_url).payment("tr_anything")
    assert "secret_value" not in str(refused.value) and refused.value.__cause__ is None


def test_rate_limits_and_outages_are_transient_and_keep_the_wait_mollie_asks(gateway, mollie_url):
    payment_id = checkout(mollie_url, eur(1000))
    fail_next(mollie_url, 429, retry_after="7")
    with pytest.raises(PaymentGatewayUnavailable) as limited:
        gateway.capture("o12:capture:1", payment_id, eur(1000))
    assert limited.value.retry_after == 7.0

    outage(mollie_url, True)
    with pytest.raises(PaymentGatewayUnavailable, match="503") as down:
        gateway.capture("o12:capture:1", payment_id, eur(1000))
    assert down.value.retry_after is None
    outage(mollie_url, False)
    assert gateway.capture("o12:capture:1", payment_id, eur(1000)).status == "captured"


def test_the_sandbox_answers_in_mollies_documented_shapes(mollie_url):
    unauthorized = httpx.get(f"{mollie_url}/v2/payments/tr_x", headers={"Authorization": "Bearer test_wrong"})
    assert unauthorized.status_code == 401
    assert unauthorized.json()["title"] == "Unauthorized Request" and "documentation" in unauthorized.json()["_links"]
    invalid = httpx.post(
        f"{mollie_url}/v2/payments",
        headers=AUTH,
        json={"amount": {"currency": "EUR", "value": 10}, "description": "x", "redirectUrl": "https://x"},
    )
    assert (invalid.status_code, invalid.json()["field"]) == (422, "amount.value")
    manual_ideal = httpx.post(
        f"{mollie_url}/v2/payments",
        headers=AUTH,
        json={
            "amount": {"currency": "EUR", "value": "10.00"},
            "description": "x",
            "redirectUrl": "https://x",
            "method": "ideal",
            "captureMode": "manual",
        },
    )
    assert (manual_ideal.status_code, manual_ideal.json()["field"]) == (422, "captureMode")
    key = {"Idempotency-Key": "same-key"}
    body = {"amount": {"currency": "EUR", "value": "1.00"}, "description": "x", "redirectUrl": "https://x"}
    first = httpx.post(f"{mollie_url}/v2/payments", headers=AUTH | key, json=body)
    replay = httpx.post(f"{mollie_url}/v2/payments", headers=AUTH | key, json=body)
    other = httpx.post(f"{mollie_url}/v2/payments", headers=AUTH | key, json=body | {"description": "y"})
    assert first.json()["id"] == replay.json()["id"] and replay.headers["Idempotent-Replayed"] == "true"
    assert other.status_code == 422


# -- the payment activities with Mollie (SQLite and PostgreSQL) ------------------------------------


def _attempt(number: int) -> ActivityEnvironment:
    env = ActivityEnvironment()
    env.info = dataclasses.replace(env.info, attempt=number)
    return env


def _recorded(database, total_minor: int, channel: str = "webshop"):
    order = make_order([("SKU-1", 1, total_minor - 495)], channel=channel, paid=False)
    with UnitOfWork(database.session_factory) as uow:
        order_store.record_order(uow.session, order, datetime.now(UTC))
        uow.commit()
    return order


def _by_channel(mollie: MollieGateway) -> PaymentGateways:
    """The web shop pays through Mollie, every other channel through the (sandbox) default."""
    sandbox = SandboxPaymentGateway()
    return PaymentGateways(sandbox, channels={"webshop": mollie}, providers={"mollie": mollie, "sandbox": sandbox})


class DiesAfterMollie:
    """The gateway, but the first void fails after Mollie did its part (the worker died)."""

    def __init__(self, real: MollieGateway) -> None:
        self.real, self.died = real, False

    def authorize(self, idempotency_key: str, amount: Money, payment_method: str, order_id: str) -> GatewayPayment:
        return self.real.authorize(idempotency_key, amount, payment_method, order_id)

    def capture(self, idempotency_key: str, provider_ref: str, amount: Money, *, final: bool = True) -> GatewayPayment:
        return self.real.capture(idempotency_key, provider_ref, amount, final=final)

    def void(self, idempotency_key: str, provider_ref: str, amount: Money) -> GatewayPayment:
        done = self.real.void(idempotency_key, provider_ref, amount)
        if not self.died:
            self.died = True
            raise ConnectionError("worker lost after Mollie's refund")
        return done

    def refund(self, idempotency_key: str, provider_ref: str, amount: Money) -> GatewayPayment:
        return self.real.refund(idempotency_key, provider_ref, amount)


def test_a_cancelled_ideal_order_is_refunded_once_and_recorded_as_refunded(database, gateway, mollie_url):
    order = _recorded(database, 3_499)
    payment_id = checkout(mollie_url, order.total)
    flaky = DiesAfterMollie(gateway)
    sandbox = SandboxPaymentGateway()
    payments = PaymentActivities(
        database.session_factory,
        PaymentGateways(sandbox, channels={"webshop": flaky}, providers={"mollie": flaky}),
    )
    at = order.placed_at
    paid = payments.authorize_payment(
        AuthorizePaymentInput(order.order_id, order.total, payment_id, f"{order.order_id}:authorize:1", at)
    )
    void = PaymentStepInput(order.order_id, paid.payment_id, order.total, f"{order.order_id}:void:1", at)
    with pytest.raises(ConnectionError):
        _attempt(1).run(payments.void_payment, void)
    result = _attempt(2).run(payments.void_payment, void)
    assert result == _attempt(3).run(payments.void_payment, void)

    assert result.status is PaymentStatus.REFUNDED
    with UnitOfWork(database.session_factory) as uow:
        record = uow.session.get(PaymentRecord, paid.payment_id)
        events = [
            (e.kind, e.detail)
            for e in uow.session.scalars(select(OrderEvent).where(OrderEvent.order_id == order.order_id))
        ]
        assert (record.provider, record.provider_ref, record.status) == ("mollie", payment_id, "REFUNDED")
        assert (record.captured_minor, record.refunded_minor, record.voided_minor) == (3_499, 3_499, 0)
    assert ("payment_authorized", "34.99 EUR (paid at checkout)") in events
    assert [kind for kind, _ in events].count("payment_refunded") == 1
    assert any(kind == "payment_refunded" and detail.startswith("34.99 EUR") for kind, detail in events)
    assert [r["amount"]["value"] for r in listed(mollie_url, payment_id, "refunds")] == ["34.99"]


def test_each_channel_authorizes_through_its_own_gateway(database, gateway, mollie_url):
    payments = PaymentActivities(database.session_factory, _by_channel(gateway))
    webshop = _recorded(database, 1_000)
    shopify = _recorded(database, 1_000, channel="shopify")
    payment_id = checkout(mollie_url, webshop.total)

    by_mollie = payments.authorize_payment(
        AuthorizePaymentInput(
            webshop.order_id, webshop.total, payment_id, f"{webshop.order_id}:authorize:1", webshop.placed_at
        )
    )
    by_default = payments.authorize_payment(
        AuthorizePaymentInput(
            shopify.order_id, shopify.total, "pm_card_visa", f"{shopify.order_id}:authorize:1", shopify.placed_at
        )
    )

    with UnitOfWork(database.session_factory) as uow:
        providers = {uow.session.get(PaymentRecord, p.payment_id).provider for p in (by_mollie, by_default)}
    assert providers == {"mollie", "sandbox"}


def test_one_mollie_payment_never_pays_for_two_orders(database, gateway, mollie_url):
    payments = PaymentActivities(database.session_factory, _by_channel(gateway))
    first, second = _recorded(database, 1_000), _recorded(database, 1_000)
    payment_id = checkout(mollie_url, first.total)
    payments.authorize_payment(
        AuthorizePaymentInput(first.order_id, first.total, payment_id, f"{first.order_id}:authorize:1", first.placed_at)
    )
    with pytest.raises(ApplicationError) as refused:
        payments.authorize_payment(
            AuthorizePaymentInput(
                second.order_id, second.total, payment_id, f"{second.order_id}:authorize:1", second.placed_at
            )
        )
    assert (refused.value.type, refused.value.non_retryable) == (ErrorType.PAYMENT_REJECTED, True)
    assert first.order_id in refused.value.message


def test_a_rate_limited_step_is_retried_after_mollies_retry_after(database, gateway, mollie_url):
    payments = PaymentActivities(database.session_factory, _by_channel(gateway))
    order = _recorded(database, 1_000)
    payment_id = checkout(mollie_url, order.total)
    data = AuthorizePaymentInput(
        order.order_id, order.total, payment_id, f"{order.order_id}:authorize:1", order.placed_at
    )
    fail_next(mollie_url, 429, retry_after="12")
    with pytest.raises(ApplicationError) as limited:
        payments.authorize_payment(data)
    assert (limited.value.type, limited.value.non_retryable) == (ErrorType.PAYMENT_GATEWAY_UNAVAILABLE, False)
    assert limited.value.next_retry_delay == timedelta(seconds=12)
    assert payments.authorize_payment(data).status is PaymentStatus.AUTHORIZED


def test_an_expired_payment_declines_the_order(database, gateway, mollie_url):
    payments = PaymentActivities(database.session_factory, _by_channel(gateway))
    order = _recorded(database, 1_000)
    payment_id = checkout(mollie_url, order.total, status="expired")
    with pytest.raises(ApplicationError) as declined:
        payments.authorize_payment(
            AuthorizePaymentInput(
                order.order_id, order.total, payment_id, f"{order.order_id}:authorize:1", order.placed_at
            )
        )
    assert (declined.value.type, declined.value.non_retryable) == (ErrorType.PAYMENT_DECLINED, True)


def test_a_mollie_payment_is_never_authorized_anew_for_an_edit(database, gateway, mollie_url):
    """The customer makes a Mollie payment at its checkout, for one amount: an edit that costs more
    is refused (needs_payment in the workflow), and the payment stays as it was."""
    payments = PaymentActivities(database.session_factory, _by_channel(gateway))
    order = _recorded(database, 2_500)
    payment_id = checkout(mollie_url, order.total, method="creditcard", status="authorized")
    paid = payments.authorize_payment(
        AuthorizePaymentInput(order.order_id, order.total, payment_id, f"{order.order_id}:authorize:1", order.placed_at)
    )

    data = ReauthorizePaymentInput(
        order.order_id, paid.payment_id, eur(4_000), f"{order.order_id}:reauthorize:1", order.placed_at
    )
    with pytest.raises(ApplicationError) as raised:
        payments.reauthorize_payment(data)

    assert (raised.value.type, raised.value.non_retryable) == (ErrorType.PAYMENT_REJECTED, True)
    assert "at checkout" in raised.value.message
    with UnitOfWork(database.session_factory) as uow:
        record = uow.session.get(PaymentRecord, paid.payment_id)
        assert record is not None and (record.provider_ref, record.authorized_minor) == (payment_id, 2_500)
    assert at_mollie(mollie_url, payment_id)["status"] == "authorized"
