"""Production runs no sandbox: each part that would fall back to one refuses the start, in one line
naming the setting to change (config.production_refusal)."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from config import OUTSIDE_SERVICE_URLS, Settings, load_settings

pytestmark = pytest.mark.unit

REAL = {
    "env": "production",
    "database_url": "postgresql+psycopg://oms:pw@db:5432/oms",
    "admin_token": "prod-admin-7f3a9c",
    "shopify_webhook_secret": "shpss_prod_1b2c3d",
    "woocommerce_webhook_secret": "wc_prod_4e5f6a",
    "tracking_secret": "trk_prod_7a8b9c",
    "payload_keys": "k1:mS0n1S0V6pV8nN2ZGzN4v0QvJ0qkYp1bq7Qo9yWmU6E=",
    "stripe_secret_key": "sk_live_prod_51Hx",
}


def production(**changes: Any) -> Settings:
    return load_settings(_env_file=None, **{**REAL, **changes})


def refusal(**changes: Any) -> str:
    with pytest.raises(ValidationError) as refused:
        production(**changes)
    (error,) = refused.value.errors()
    message = str(error["msg"])
    assert "\n" not in message  # one line, said at start
    return message


def test_real_settings_start_with_every_step_confirmed_by_people() -> None:
    settings = production()
    assert (settings.sandbox_enabled, settings.auto_confirm_enabled) == (False, False)


def test_the_sandbox_is_refused() -> None:
    assert "OMS_SANDBOX" in refusal(sandbox=True)


def test_self_confirming_locations_are_refused() -> None:
    """The sandbox warehouse 'ships' by itself with a made-up tracking number."""
    assert "OMS_AUTO_CONFIRM" in refusal(auto_confirm=True)


def test_no_payment_gateway_is_refused() -> None:
    """Without a key the sandbox gateway would approve every unpaid order."""
    assert "OMS_STRIPE_SECRET_KEY" in refusal(stripe_secret_key="")


def test_a_channel_on_mollie_needs_the_mollie_key() -> None:
    assert "OMS_MOLLIE_API_KEY" in refusal(channel_gateways={"webshop": "mollie"})
    settings = production(channel_gateways={"webshop": "mollie"}, mollie_api_key="live_abc123")
    assert settings.gateway_for("webshop") == "mollie" and settings.gateway_for("pos") == "stripe"


def test_mollie_alone_when_every_channel_pays_through_it() -> None:
    everything = dict.fromkeys(("shopify", "woocommerce", "bol", "amazon", "pos", "webshop"), "mollie")
    settings = production(stripe_secret_key="", mollie_api_key="live_abc123", channel_gateways=everything)
    assert settings.gateways_in_use == ["mollie"]


def test_a_gateway_or_channel_nobody_knows_is_refused_everywhere() -> None:
    with pytest.raises(ValidationError, match="OMS_CHANNEL_GATEWAYS"):
        load_settings(_env_file=None, channel_gateways={"webshop": "paypal"})
    with pytest.raises(ValidationError, match="OMS_CHANNEL_GATEWAYS"):
        load_settings(_env_file=None, channel_gateways={"etsy": "stripe"})


def test_half_a_sendcloud_integration_is_refused() -> None:
    assert "OMS_SENDCLOUD_SECRET_KEY" in refusal(sendcloud_public_key="pk")
    assert "OMS_SENDCLOUD_PUBLIC_KEY" in refusal(sendcloud_secret_key="sk")


@pytest.mark.parametrize("name", OUTSIDE_SERVICE_URLS)
def test_a_plain_http_service_address_is_refused(name: str) -> None:
    """A sandbox listens on http://127.0.0.1; a real service answers over TLS."""
    assert f"OMS_{name.upper()}" in refusal(**{name: "http://127.0.0.1:8999"})


def test_exact_enabled_without_its_app_is_refused() -> None:
    assert "OMS_EXACT_CLIENT_ID" in refusal(exact_enabled=True)
    assert "OMS_EXACT_CLIENT_ID" in refusal(exact_enabled=True, exact_client_id="id")
    assert production(exact_enabled=True, exact_client_id="id", exact_client_secret="s").exact_enabled


def test_the_development_payload_key_is_refused() -> None:
    assert "OMS_PAYLOAD_KEYS" in refusal(payload_keys=Settings.model_fields["payload_keys"].default)
