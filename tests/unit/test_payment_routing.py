"""Which gateway takes a payment: authorization by the order's channel (OMS_CHANNEL_GATEWAYS, Stripe
when not named), every later step by the provider that recorded the payment; the sandbox gateway
only where sandboxes are allowed."""

from __future__ import annotations

import pytest

from config import load_settings
from integrations.payments import MollieGateway, StripeGateway
from integrations.payments.routing import PaymentGateways, UnknownGateway
from integrations.sandbox.payments import SandboxPaymentGateway
from worker import configured_gateway


def settings(**values):
    return load_settings(_env_file=None, **values)


def test_the_web_shop_pays_through_mollie_and_the_rest_through_the_sandbox_in_development():
    gateways = configured_gateway(settings(mollie_api_key="test_abc123", channel_gateways={"webshop": "mollie"}))
    assert gateways is not None
    assert isinstance(gateways.for_channel("webshop"), MollieGateway)
    assert isinstance(gateways.for_channel("shopify"), SandboxPaymentGateway)
    assert isinstance(gateways.for_provider("mollie"), MollieGateway)
    assert isinstance(gateways.for_provider("sandbox"), SandboxPaymentGateway)


def test_with_both_keys_each_channel_gets_its_real_gateway_and_no_sandbox_is_left():
    gateways = configured_gateway(
        settings(
            sandbox=False,
            stripe_secret_key="sk_test_abc",
            mollie_api_key="test_abc123",
            channel_gateways={"webshop": "mollie", "pos": "mollie"},
        )
    )
    assert gateways is not None
    assert isinstance(gateways.for_channel("pos"), MollieGateway)
    assert isinstance(gateways.for_channel("woocommerce"), StripeGateway)
    assert isinstance(gateways.for_provider("stripe"), StripeGateway)
    with pytest.raises(UnknownGateway, match="sandbox"):
        gateways.for_provider("sandbox")


def test_without_sandboxes_a_gateway_in_use_without_its_key_is_no_gateway_at_all():
    assert configured_gateway(settings(sandbox=False, stripe_secret_key="sk_test_abc")) is not None
    missing_mollie = settings(sandbox=False, stripe_secret_key="sk_test_abc", channel_gateways={"webshop": "mollie"})
    assert configured_gateway(missing_mollie) is None


def test_one_gateway_given_for_everything_settles_every_provider():
    sandbox = SandboxPaymentGateway()
    gateways = PaymentGateways.of(sandbox)
    assert gateways.for_channel("bol") is sandbox and gateways.for_provider("stripe") is sandbox
    assert PaymentGateways.of(gateways) is gateways
