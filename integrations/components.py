"""Which real parts the engine is connected to, and which are sandboxes or left to people: said at
start (`make run`, the worker's log) and by `GET /health`, so nobody runs a demo believing it is
production. Read from the settings only: no secret and no network call."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from enum import StrEnum
from urllib.parse import urlsplit

from config import DEV_PAYLOAD_KEYS, Settings
from integrations.channels.registry import REGISTRY
from integrations.channels.spec import Intake

STRIPE_API = "https://api.stripe.com"
MOLLIE_API = "https://api.mollie.com/v2"


class Mode(StrEnum):
    CONNECTED = "connected"
    """Talks to the outside service at `address`."""
    SANDBOX = "sandbox"
    """Answered inside the engine (development and tests only; production refuses it)."""
    BY_HAND = "by hand"
    """People do it: staff confirm pick, pack and ship and type the carrier's tracking."""
    INBOUND = "inbound only"
    """Orders come in; nothing goes back to the channel (its API credentials are not set)."""
    ENCRYPTED = "encrypted"
    """Temporal payloads are encrypted with the key named."""
    OFF = "off"


@dataclass(frozen=True)
class Component:
    part: str
    """payments, carrier, channel, books, histories."""
    name: str
    mode: Mode
    address: str = ""
    """The host the engine talks to (never a credential)."""
    note: str = ""

    def as_dict(self) -> dict[str, str]:
        return {key: str(value) for key, value in asdict(self).items() if value}

    def line(self) -> str:
        where = f" {self.address}" if self.address else ""
        note = f" ({self.note})" if self.note else ""
        return f"  {self.part:<10} {self.name:<12} {self.mode.value}{where}{note}"


def _host(url: str) -> str:
    return urlsplit(url).netloc or url


def _reached_at(url: str) -> Mode:
    """Production refuses plain http for an outside service, so such an address is a local sandbox."""
    return Mode.SANDBOX if url.startswith("http://") else Mode.CONNECTED


def components(settings: Settings) -> list[Component]:
    return [*_payments(settings), _carrier(settings), *_channels(settings), *_books(settings), _histories(settings)]


def _payments(settings: Settings) -> list[Component]:
    found: list[Component] = []
    for gateway in settings.gateways_in_use:
        channels = ", ".join(settings.channels_paying_through(gateway))
        key, url = (
            (settings.stripe_secret_key, settings.stripe_api_base or STRIPE_API)
            if gateway == "stripe"
            else (settings.mollie_api_key, settings.mollie_api_url or MOLLIE_API)
        )
        if key:
            found.append(Component("payments", gateway, _reached_at(url), _host(url), channels))
        else:
            mode = Mode.SANDBOX if settings.sandbox_enabled else Mode.OFF
            found.append(Component("payments", gateway, mode, note=f"no key: {channels}"))
    return found


def _carrier(settings: Settings) -> Component:
    if settings.sendcloud_public_key and settings.sendcloud_secret_key:
        if _reached_at(settings.sendcloud_api_url) is Mode.SANDBOX:
            note = "local Sendcloud sandbox: labels and tracking are not real"
            return Component("carrier", "sendcloud", Mode.SANDBOX, _host(settings.sendcloud_api_url), note)
        return Component("carrier", "sendcloud", Mode.CONNECTED, _host(settings.sendcloud_api_url))
    if settings.auto_confirm_enabled:
        return Component("carrier", "sandbox", Mode.SANDBOX, note="locations confirm every step by themselves")
    return Component("carrier", "staff", Mode.BY_HAND, note="staff enter carrier and tracking")


def _channels(settings: Settings) -> list[Component]:
    found: list[Component] = []
    for entry in REGISTRY:
        spec = entry.spec
        if entry.configured is not None and entry.configured(settings):
            url = str(getattr(settings, entry.address_setting)) if entry.address_setting else ""
            found.append(Component("channel", spec.name, _reached_at(url), _host(url)))
        elif spec.intake is Intake.PULLED:
            found.append(Component("channel", spec.name, Mode.OFF, note="no credentials: not pulled"))
        elif settings.sandbox_enabled:
            found.append(Component("channel", spec.name, Mode.SANDBOX, note="stock recorded, not sent"))
        else:
            found.append(Component("channel", spec.name, Mode.INBOUND))
    return found


def _books(settings: Settings) -> list[Component]:
    return [_moneybird(settings), _exact(settings)]


def _moneybird(settings: Settings) -> Component:
    if not settings.moneybird_enabled:
        return Component("books", "moneybird", Mode.OFF, note="invoices and credit notes are not pushed")
    url = settings.moneybird_api_url
    if _reached_at(url) is Mode.SANDBOX:
        return Component("books", "moneybird", Mode.SANDBOX, _host(url), "local Moneybird sandbox: nothing is booked")
    return Component("books", "moneybird", Mode.CONNECTED, _host(url))


def _exact(settings: Settings) -> Component:
    if not settings.exact_enabled:
        return Component("books", "exact", Mode.OFF, note="the journal and its CSV only")
    mode = _reached_at(settings.exact_base_url)
    note = "local Exact Online sandbox: nothing is really booked" if mode is Mode.SANDBOX else ""
    return Component("books", "exact", mode, _host(settings.exact_base_url), note)


def _histories(settings: Settings) -> Component:
    key_ids = [entry.split(":", 1)[0].strip() for entry in settings.payload_keys.split(",") if entry.strip()]
    note = "development key" if settings.payload_keys == DEV_PAYLOAD_KEYS else f"key {key_ids[0]}" if key_ids else ""
    if len(key_ids) > 1:
        note += f", {len(key_ids) - 1} older key(s) to decrypt"
    return Component("histories", "aes-256-gcm", Mode.ENCRYPTED if key_ids else Mode.OFF, note=note)


def report(settings: Settings) -> str:
    """The start-up lines: one per part."""
    return "\n".join(["Connected parts:", *(component.line() for component in components(settings))])
