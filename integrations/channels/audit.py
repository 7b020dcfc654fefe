"""What of a channel payload may be kept for audit: everything except card data and secrets.

Payloads are kept so nothing a channel sent is ever lost (a malformed order can be replayed by
hand, a dispute can be checked against what the channel said). They must not become a store of
card data (PCI DSS) or credentials: fields that name such data are replaced, and any long digit run
that passes the Luhn check is masked wherever it appears.
"""

from __future__ import annotations

import json
import re
from decimal import Decimal
from typing import Any

REMOVED = "[removed]"
MAX_KEPT_CHARS = 1_000_000

# Keys (lower-case substrings) whose values are card data or secrets.
_SENSITIVE_KEY_PARTS = (
    "credit_card",
    "card_number",
    "cardnumber",
    "cvv",
    "cvc",
    "security_code",
    "exp_month",
    "exp_year",
    "expiry",
    "password",
    "secret",
    "access_token",
    "refresh_token",
    "api_key",
    "authorization",
    "iban",
)
_SENSITIVE_KEYS = frozenset({"payment_details", "card", "pan"})
# What no database column takes: NUL (PostgreSQL) and lone surrogates (UTF-8 itself).
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
# Card numbers are 15-19 digits (EANs are 13, GTINs 14: those stay readable), maybe grouped.
_CARD_LIKE = re.compile(r"(?<!\d)(?:\d[ -]?){14,18}\d(?!\d)")


def _luhn_valid(digits: str) -> bool:
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char)
        if position % 2:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return total % 10 == 0


def _mask_card_numbers(text: str) -> str:
    def mask(match: re.Match[str]) -> str:
        digits = re.sub(r"\D", "", match.group())
        return REMOVED if 15 <= len(digits) <= 19 and _luhn_valid(digits) else match.group()

    return _CARD_LIKE.sub(mask, text)


def _is_sensitive(key: str) -> bool:
    lowered = key.lower()
    return lowered in _SENSITIVE_KEYS or any(part in lowered for part in _SENSITIVE_KEY_PARTS)


def redact(value: Any) -> Any:
    """A copy of a parsed payload with card data and secrets replaced by "[removed]"."""
    if isinstance(value, dict):
        return {key: REMOVED if _is_sensitive(str(key)) else redact(item) for key, item in value.items()}
    if isinstance(value, list):
        return [redact(item) for item in value]
    if isinstance(value, str):
        return _mask_card_numbers(value)
    if isinstance(value, int | Decimal) and not isinstance(value, bool):
        # A card number sent as a JSON number is still a card number.
        return REMOVED if _mask_card_numbers(str(value)) != str(value) else value
    return value


def _json_default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    return str(value)


def audit_text(payload: Any) -> str:
    """A parsed payload as the JSON text to keep (redacted)."""
    text = json.dumps(redact(payload), default=_json_default, ensure_ascii=False)
    if _UNSTORABLE.search(text):  # a lone surrogate ("\ud800" in the JSON): no database encodes it
        text = json.dumps(redact(payload), default=_json_default)
    return text[:MAX_KEPT_CHARS]


def audit_raw(raw: bytes) -> str:
    """A raw body as the text to keep: redacted JSON when it parses, else the masked text itself
    (a malformed body is kept too: it is what the channel sent)."""
    try:
        return audit_text(json.loads(raw, parse_float=Decimal))
    except (ValueError, RecursionError):  # not JSON; a ValueError also for an integer of 4300+ digits
        text = _UNSTORABLE.sub("\ufffd", raw.decode("utf-8", errors="replace"))  # NUL: not in PostgreSQL
        return _mask_card_numbers(text)[:MAX_KEPT_CHARS]
