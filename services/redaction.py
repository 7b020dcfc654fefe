"""Keeps personal data and secrets out of the logs: a structlog processor that every line passes
last before it is rendered (services.logs).

- A field whose name says it holds personal data or a credential (email, name, address, phone,
  token, secret, ...), at any depth, is replaced by `[redacted]`.
- In every text (the message itself included): such a field written out (`'city': 'Utrecht'` of a
  dict, JSON or a dataclass's repr) loses its value the same way; an e-mail address becomes `[email]`; a bearer
  credential, a key with a vendor's prefix (Stripe `sk_live_…`, Mollie `live_…`, Shopify `shpat_…`,
  webhook `whsec_…`), a JWT, a password inside a URL and any long opaque run of letters and digits
  (32+ of both, as tokens and keys are) become `[redacted]`; so does every secret value of the settings.

Names and street addresses have no shape a pattern could find in free prose: they are kept out by
never being logged except as fields, which the rules above catch.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from structlog.typing import EventDict, WrappedLogger

from config import Settings

REDACTED = "[redacted]"
EMAIL = "[email]"

PERSONAL_KEYS = frozenset(
    {
        "name",
        "first_name",
        "last_name",
        "full_name",
        "firstname",
        "lastname",
        "company",
        "customer",
        "recipient",
        "street",
        "line1",
        "line2",
        "line3",
        "street1",
        "street2",
        "house_number",
        "city",
        "postcode",
        "postal_code",
        "zip",
        "zipcode",
        "cookie",
        "set_cookie",
    }
)
"""Field names (lower case, `-` as `_`) that hold personal data or credentials outright."""
PERSONAL_KEY_PARTS = ("email", "phone", "address", "password", "secret", "token", "api_key", "apikey", "authorization")
"""Parts of a field name that mark it too: customer_email, shipping_address, admin_token, ..."""

_KEYED_VALUE = re.compile(
    r"""(?P<key>[A-Za-z_][\w-]*)(?P<sep>['"]?\s*[:=]\s*)(?P<quote>['"])(?P<value>(?:(?!(?P=quote)).)*)(?P=quote)"""
)
"""`'name': 'Jan'`, `"city": "Utrecht"`, `email='a@b'`: a dict, JSON or a dataclass's repr inside a text."""
_EMAIL = re.compile(r"[\w.+%-]+@[\w-]+(?:\.[\w-]+)+")
_SECRET_SHAPES = re.compile(
    "|".join(
        (
            r"(?i:bearer|basic)\s+[\w.~+/=-]+",  # an Authorization header's credentials
            r"\b(?:sk|pk|rk)_(?:live|test)_\w+",  # Stripe
            r"\b(?:live|test|access)_[A-Za-z0-9]{20,}\b",  # Mollie API and access keys
            r"\bshp(?:at|ss|ca|pa)_\w+",  # Shopify tokens and secrets
            r"\bwhsec_\w+",  # webhook signing secrets
            r"\beyJ[\w-]+\.[\w-]+\.[\w-]+",  # a JWT
            r"(?<=://)[^/\s:@]+:[^/\s@]+(?=@)",  # user:password@ in a URL
            # a long opaque key: 32+ letters and digits, both (ids and paths carry dashes, dots, /)
            r"(?<![\w+=])(?=[\w+=]*\d)(?=[\w+=]*[A-Za-z])[\w+=]{32,}(?![\w+=])",
        )
    )
)
MIN_SECRET_LENGTH = 8
"""Shorter setting values are not searched for: they would blank ordinary words."""
_SECRET_SETTING_PARTS = ("token", "secret", "key", "password")


def is_personal_key(key: str) -> bool:
    name = key.lower().replace("-", "_")
    return name in PERSONAL_KEYS or any(part in name for part in PERSONAL_KEY_PARTS)


class Redactor:
    """The processor; `secrets` are exact values to blank wherever they appear."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        values = sorted({s for s in secrets if len(s) >= MIN_SECRET_LENGTH}, key=len, reverse=True)
        self._secrets = re.compile("|".join(map(re.escape, values))) if values else None

    @classmethod
    def for_settings(cls, settings: Settings) -> Redactor:
        return cls(secret_values(settings))

    def __call__(self, _: WrappedLogger, __: str, event: EventDict) -> EventDict:
        return {key: self._field(key, value) for key, value in event.items()}

    def _field(self, key: str, value: Any) -> Any:
        if key != "event" and is_personal_key(key) and value not in (None, ""):
            return REDACTED
        return self.clean(value)

    def clean(self, value: Any) -> Any:
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, Mapping):
            return {key: self._field(str(key), item) for key, item in value.items()}
        if isinstance(value, list | tuple | set | frozenset):
            return [self.clean(item) for item in value]
        return value

    def text(self, text: str) -> str:
        if self._secrets is not None:
            text = self._secrets.sub(REDACTED, text)
        text = _KEYED_VALUE.sub(_redact_personal_value, text)
        text = _EMAIL.sub(EMAIL, text)
        return _SECRET_SHAPES.sub(REDACTED, text)


def _redact_personal_value(match: re.Match[str]) -> str:
    if not is_personal_key(match["key"]):
        return match[0]
    return f"{match['key']}{match['sep']}{match['quote']}{REDACTED}{match['quote']}"


def secret_values(settings: Settings) -> list[str]:
    """Every credential the settings hold: token, secret, key and password fields, each payload
    key's own material, and the database password."""
    values: list[str] = []
    for name in type(settings).model_fields:
        value = getattr(settings, name)
        if isinstance(value, str) and any(part in name for part in _SECRET_SETTING_PARTS):
            values.append(value)
            values += [part.partition(":")[2] for part in value.split(",") if ":" in part]
    password = _url_password(settings.database_url)
    if password:
        values.append(password)
    return [value for value in values if value]


def _url_password(url: str) -> str | None:
    match = re.search(r"://[^/\s:@]+:([^/\s@]+)@", url)
    return match[1] if match else None
