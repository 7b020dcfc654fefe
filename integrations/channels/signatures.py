"""Webhook signatures, by scheme (`spec.SignatureScheme`): how a channel signs the raw body of a delivery."""

from __future__ import annotations

import base64
import hashlib
import hmac

from integrations.channels.spec import SignatureScheme


def base64_hmac_sha256(secret: str, raw_body: bytes) -> str:
    """Base64 of the HMAC-SHA256 of the raw body with the shared secret (Shopify, WooCommerce)."""
    return base64.b64encode(hmac.new(secret.encode(), raw_body, hashlib.sha256).digest()).decode()


def sign(scheme: SignatureScheme, secret: str, raw_body: bytes) -> str:
    """What the channel sends in its signature header (for tests, demos and the benchmark)."""
    match scheme:
        case SignatureScheme.BASE64_HMAC_SHA256:
            return base64_hmac_sha256(secret, raw_body)


def verify(scheme: SignatureScheme, secret: str, raw_body: bytes, header: str | None) -> bool:
    """Whether `header` is the body's signature; never without a secret or a header."""
    if not header or not secret:
        return False
    expected = sign(scheme, secret, raw_body).encode()
    # Bytes, not str: compare_digest refuses non-ASCII str, and a header is attacker-controlled.
    return hmac.compare_digest(expected, header.strip().encode("utf-8", "replace"))
