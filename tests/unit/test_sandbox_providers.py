"""Sandbox payment gateway and warehouse: deterministic, so retries and replays see the same answers."""

from __future__ import annotations

import re

import pytest

from domain.money import Money
from integrations.providers import PaymentDeclined
from integrations.sandbox.payments import DECLINING_METHODS, SandboxPaymentGateway
from integrations.sandbox.warehouse import SandboxWarehouse

pytestmark = pytest.mark.unit

AMOUNT = Money(10133, "EUR")


def test_authorize_is_deterministic_for_the_same_key() -> None:
    first = SandboxPaymentGateway().authorize("auth-order-shopify-1", AMOUNT, "pm_card_visa", "order-shopify-1")
    again = SandboxPaymentGateway().authorize("auth-order-shopify-1", AMOUNT, "pm_card_visa", "order-shopify-1")
    assert first == again
    assert first.provider == "sandbox"
    assert first.status == "authorized"
    assert first.amount == AMOUNT
    assert re.fullmatch(r"sbx_pi_[0-9a-f]{24}", first.provider_ref)


def test_authorize_gives_different_references_for_different_orders() -> None:
    gateway = SandboxPaymentGateway()
    refs = {gateway.authorize(f"auth-{o}", AMOUNT, "pm_card_visa", o).provider_ref for o in ("o-1", "o-2", "o-3")}
    assert len(refs) == 3


@pytest.mark.parametrize("method", sorted(DECLINING_METHODS))
def test_declining_methods_raise(method: str) -> None:
    with pytest.raises(PaymentDeclined, match=method):
        SandboxPaymentGateway().authorize("auth-1", AMOUNT, method, "order-webshop-1")


def test_stripe_decline_test_card_is_among_the_declining_methods() -> None:
    assert "pm_card_chargeDeclined" in DECLINING_METHODS


@pytest.mark.parametrize("method", ["pm_card_visa", "pm_card_mastercard", ""])
def test_other_methods_authorize(method: str) -> None:
    assert SandboxPaymentGateway().authorize("auth-1", AMOUNT, method, "order-webshop-1").status == "authorized"


def test_capture_and_void_keep_the_reference_and_amount() -> None:
    gateway = SandboxPaymentGateway()
    auth = gateway.authorize("auth-1", AMOUNT, "pm_card_visa", "order-webshop-1")
    captured = gateway.capture("capture-1", auth.provider_ref, AMOUNT)
    voided = gateway.void("void-1", auth.provider_ref, AMOUNT)
    assert (captured.provider_ref, captured.status, captured.amount) == (auth.provider_ref, "captured", AMOUNT)
    assert (voided.provider_ref, voided.status, voided.amount) == (auth.provider_ref, "voided", AMOUNT)


def test_tracking_number_is_stable_per_shipment() -> None:
    first = SandboxWarehouse().dispatch("ship-order-shopify-1-1", "wh-ams")
    again = SandboxWarehouse().dispatch("ship-order-shopify-1-1", "wh-ams")
    assert first == again
    assert first.carrier == "SANDBOX-POST"
    assert re.fullmatch(r"SBX\d{12}NL", first.tracking_number)
    assert first.label_ref == "label:ship-order-shopify-1-1"


def test_tracking_numbers_differ_between_shipments() -> None:
    warehouse = SandboxWarehouse()
    numbers = {warehouse.dispatch(f"ship-{i}", "wh-ams").tracking_number for i in range(50)}
    assert len(numbers) == 50


def test_full_pick_pack_dispatch_cycle_keeps_the_tracking_number() -> None:
    warehouse = SandboxWarehouse()
    warehouse.request_pick("ship-1", "wh-ams", {"SKU-A": 2})
    warehouse.confirm_pack("ship-1")
    after_cycle = warehouse.dispatch("ship-1", "wh-ams")
    assert after_cycle.tracking_number == SandboxWarehouse().dispatch("ship-1", "wh-ams").tracking_number
