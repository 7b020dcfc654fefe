"""What the engine says at start about its parts: real ones by host, sandboxes and manual steps by
name, never a credential (integrations.components)."""

from __future__ import annotations

import pytest

from config import load_settings
from integrations.components import Mode, components, report

pytestmark = pytest.mark.unit

SECRETS = {"stripe_secret_key": "sk_live_S3cr3t", "shopify_access_token": "shpat_T0k3n", "bol_client_secret": "b0l"}


def by_name(**settings: object) -> dict[tuple[str, str], Mode]:
    return {(c.part, c.name): c.mode for c in components(load_settings(_env_file=None, **settings))}


def test_development_says_what_is_a_sandbox() -> None:
    parts = by_name()
    assert parts[("payments", "stripe")] is Mode.SANDBOX
    assert parts[("carrier", "sandbox")] is Mode.SANDBOX
    assert parts[("channel", "shopify")] is Mode.SANDBOX
    assert parts[("channel", "bol")] is Mode.OFF  # nothing is pulled without credentials


def test_real_parts_are_named_by_the_host_they_talk_to() -> None:
    settings = load_settings(
        _env_file=None,
        sandbox=False,
        shopify_shop_url="https://demo-shop.myshopify.com",
        bol_client_id="id",
        channel_gateways={"webshop": "mollie"},
        mollie_api_key="live_M0ll13",
        sendcloud_public_key="pk",
        sendcloud_secret_key="sk_Sendcl0ud",
        **SECRETS,
    )
    found = {(c.part, c.name): c for c in components(settings)}
    assert (found[("payments", "stripe")].mode, found[("payments", "stripe")].address) == (
        Mode.CONNECTED,
        "api.stripe.com",
    )
    assert found[("payments", "mollie")].address == "api.mollie.com" and "webshop" in found[("payments", "mollie")].note
    assert found[("carrier", "sendcloud")].address == "panel.sendcloud.sc"
    assert (found[("channel", "shopify")].mode, found[("channel", "shopify")].address) == (
        Mode.CONNECTED,
        "demo-shop.myshopify.com",
    )
    assert found[("channel", "bol")].mode is Mode.CONNECTED
    assert found[("channel", "woocommerce")].mode is Mode.INBOUND
    text = report(settings)
    for secret in [*SECRETS.values(), "live_M0ll13", "sk_Sendcl0ud"]:
        assert secret not in text


def test_without_a_carrier_people_confirm_the_steps() -> None:
    assert by_name(sandbox=False, stripe_secret_key="sk")[("carrier", "staff")] is Mode.BY_HAND


def test_a_local_sendcloud_is_said_to_be_a_sandbox() -> None:
    local = {"sendcloud_public_key": "pk", "sendcloud_secret_key": "sk", "sendcloud_api_url": "http://127.0.0.1:8123"}
    assert by_name(**local)[("carrier", "sendcloud")] is Mode.SANDBOX
    assert "local Sendcloud sandbox" in report(load_settings(_env_file=None, **local))


def test_a_plain_http_address_is_named_a_sandbox() -> None:
    """Production refuses plain http for outside services: such an address is a local sandbox."""
    local = {"stripe_api_base": "http://127.0.0.1:8420", "shopify_shop_url": "http://127.0.0.1:8999"}
    parts = by_name(sandbox=False, shopify_access_token="t", stripe_secret_key="sk_test_x", **local)
    assert (parts[("payments", "stripe")], parts[("channel", "shopify")]) == (Mode.SANDBOX, Mode.SANDBOX)
