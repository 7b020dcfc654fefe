"""What is kept of a channel payload: everything a person needs, no card data, no secrets."""

from __future__ import annotations

import json

import pytest

from config import load_settings
from integrations.channels.audit import REMOVED, audit_raw
from services.payload_audit import configured_secrets, redacted_body
from tests.factories import shopify_payload

pytestmark = pytest.mark.unit

CARD = "4111111111111111"  # Luhn-valid test Visa
GROUPED = "5555 5555 5555 4444"  # Luhn-valid test Mastercard, as a customer types it
EAN = "4006381333931"


def _shopify_with_card_data() -> dict:
    payload = shopify_payload([("MUG", 1, "12.50")])
    payload["payment_details"] = {
        "credit_card_bin": "411111",
        "credit_card_number": "•••• •••• •••• 1111",
        "credit_card_company": "Visa",
        "cvv_result_code": "M",
    }
    payload["note"] = f"please call, my card is {CARD} (or {GROUPED}); barcode {EAN}"
    payload["note_attributes"] = [{"name": "gift", "value": "yes"}, {"name": "api_key", "value": "k-123"}]
    payload["customer"] = {"password": "hunter2", "access_token": "tok-abc", "email": "jan@example.nl"}
    return payload


def test_card_data_and_secrets_are_removed_and_the_order_stays_readable() -> None:
    kept = audit_raw(json.dumps(_shopify_with_card_data()).encode())
    for gone in (CARD, GROUPED, "credit_card", "411111", "hunter2", "tok-abc"):
        assert gone not in kept
    stored = json.loads(kept)
    assert stored["payment_details"] == REMOVED
    assert stored["customer"] == {"password": REMOVED, "access_token": REMOVED, "email": "jan@example.nl"}
    assert stored["note"] == f"please call, my card is {REMOVED} (or {REMOVED}); barcode {EAN}"
    assert stored["line_items"][0]["sku"] == "MUG" and stored["total_price"] == "17.45"


def test_a_card_number_sent_as_a_json_number_is_removed() -> None:
    kept = json.loads(audit_raw(b'{"cc": 4111111111111111, "id": 5123456789, "total": 12.50, "ok": true}'))
    assert kept == {"cc": REMOVED, "id": 5123456789, "total": "12.50", "ok": True}


def test_digit_runs_that_are_not_card_numbers_stay() -> None:
    not_luhn = "4111111111111112"
    kept = json.loads(audit_raw(json.dumps({"note": f"order {not_luhn}, gtin 10614141000415"}).encode()))
    assert kept["note"] == f"order {not_luhn}, gtin 10614141000415"


@pytest.mark.parametrize("raw", [b"{not json, card " + CARD.encode(), b"\xff\xfe" + CARD.encode(), CARD.encode()])
def test_a_malformed_body_is_kept_masked(raw: bytes) -> None:
    kept = audit_raw(raw)
    assert CARD not in kept and REMOVED in kept


def test_our_own_secrets_are_masked_wherever_they_appear() -> None:
    settings = load_settings(
        admin_token="staff-token-123456",
        pos_api_key="pos-key-abcdefgh",
        shopify_webhook_secret="shh-shopify-secret",
        webshop_api_key="short",
    )
    secrets = configured_secrets(settings)
    assert "pos-key-abcdefgh" in secrets and "short" not in secrets  # too short to mask everywhere
    body = json.dumps({"note": "key pos-key-abcdefgh, token staff-token-123456", "ref": "shh-shopify-secret"})
    kept = redacted_body(body.encode(), secrets)
    assert "pos-key" not in kept and "staff-token" not in kept and "shh-shopify" not in kept
    assert json.loads(kept) == {"note": f"key {REMOVED}, token {REMOVED}", "ref": REMOVED}
    assert "pos-key" not in redacted_body(b"not json pos-key-abcdefgh", secrets)
