"""Webhook signatures as Shopify and WooCommerce make them: base64 of the HMAC-SHA256 of the raw
body with the shared secret."""

from __future__ import annotations

import base64
import hashlib
import hmac


def base64_hmac_sha256(secret: str, raw_body: bytes) -> str:
    return base64.b64encode(hmac.new(secret.encode(), raw_body, hashlib.sha256).digest()).decode()


def verify_base64_hmac_sha256(secret: str, raw_body: bytes, header: str | None) -> bool:
    if not header or not secret:
        return False
    expected = base64_hmac_sha256(secret, raw_body).encode()
    # Bytes, not str: compare_digest refuses non-ASCII str, and a header is attacker-controlled.
    return hmac.compare_digest(expected, header.strip().encode("utf-8", "replace"))
