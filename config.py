"""Engine settings from the environment (prefix OMS_) or a .env file, built by a factory, never at import."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BeforeValidator, Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from domain.document_numbers import InvalidDocumentNumber, check_series
from domain.order import CHANNELS

PROJECT_ROOT = Path(__file__).resolve().parent
DEFAULT_VAR_DIR = PROJECT_ROOT / "var"

# The development key that encrypts Temporal payloads: public, so production refuses it.
DEV_PAYLOAD_KEYS = "dev:ZGV2ZWxvcG1lbnQta2V5LW5vdC1hLXNlY3JldCEhISE="

# Development defaults that must never reach production.
PLACEHOLDER_SECRETS = {
    "admin_token": "dev-admin-token",
    "shopify_webhook_secret": "dev-shopify-secret",
    "woocommerce_webhook_secret": "dev-woocommerce-secret",
    "tracking_secret": "dev-tracking-secret",
    "payload_keys": DEV_PAYLOAD_KEYS,
}

# Addresses of outside services: production talks to them over TLS only (a plain-http address is a
# sandbox or a mistake, and would carry credentials in the clear).
OUTSIDE_SERVICE_URLS = (
    "bol_api_url",
    "bol_auth_url",
    "amazon_spapi_url",
    "amazon_lwa_url",
    "shopify_shop_url",
    "woocommerce_url",
    "moneybird_api_url",
    "stripe_api_base",
    "mollie_api_url",
    "sendcloud_api_url",
    "exact_base_url",
)
GATEWAYS = ("stripe", "mollie")


class Environment(StrEnum):
    DEVELOPMENT = "development"
    TEST = "test"
    PRODUCTION = "production"


def _duration(value: object) -> object:
    """Accept plain seconds ("30", 30) as well as ISO 8601 durations ("P30D")."""
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return timedelta(seconds=int(value))
    if isinstance(value, int | float) and not isinstance(value, bool):
        return timedelta(seconds=value)
    return value


Duration = Annotated[timedelta, BeforeValidator(_duration)]

DEFAULT_FEED_WINDOW = timedelta(minutes=4)

API_DB_POOL_SIZE = 20
"""The API's pool when OMS_DB_POOL_SIZE is unset; with as many again in overflow, one connection for
each of the 40 threads (AnyIO's default) its synchronous routes run on."""


@dataclass(frozen=True)
class DatabasePool:
    """One process's SQLAlchemy pool on PostgreSQL (SQLite's file needs no sizing)."""

    size: int
    max_overflow: int

    @property
    def ceiling(self) -> int:
        """The most connections the process ever holds: what it takes of max_connections."""
        return self.size + self.max_overflow


class Settings(BaseSettings):
    # hide_input_in_errors: a refused setting may be a secret (OMS_PAYLOAD_KEYS); its error names it, never shows it.
    model_config = SettingsConfigDict(env_prefix="OMS_", env_file=".env", extra="ignore", hide_input_in_errors=True)

    env: Environment = Environment.DEVELOPMENT
    api_host: str = "127.0.0.1"
    api_port: int = 8000
    temporal_address: str = "localhost:7233"
    temporal_namespace: str = "default"
    temporal_ui_port: int = 8233
    task_queue: str = "orders"
    var_dir: Path = DEFAULT_VAR_DIR
    database_url: str = ""
    admin_token: str = PLACEHOLDER_SECRETS["admin_token"]
    shopify_webhook_secret: str = PLACEHOLDER_SECRETS["shopify_webhook_secret"]
    woocommerce_webhook_secret: str = PLACEHOLDER_SECRETS["woocommerce_webhook_secret"]
    tracking_secret: str = PLACEHOLDER_SECRETS["tracking_secret"]
    """Signs the customers' tracking links (/track/<token>). They never expire: changing it breaks
    every link already sent."""
    public_url: str = ""
    """Where customers reach the API (https://shop.example/oms), for the absolute tracking links in
    GET /orders/{id}; empty: the address each request came in on (an internal one behind a proxy)."""
    return_window: Duration = timedelta(days=30)
    return_expiry: Duration = timedelta(days=30)
    """How long a return's RMA waits for its parcel before it expires (a late parcel is still received)."""
    return_auto_approve: bool = False
    """Customers' own return requests are approved at once (no support decision; RMA issued at once)."""
    exchange_out_of_stock: Literal["refund", "backorder"] = "refund"
    """An exchange whose replacement cannot be reserved: refund what the returned units were worth
    instead (the default), or wait for stock like a backorder (until the backorder deadline)."""
    payment_link_expiry: Duration = timedelta(days=3)
    """How long a payment link asking the customer for money after checkout stays payable (an
    exchange's dearer replacement on a Mollie order); unpaid by then, the link is closed and the
    exchange is refunded instead."""
    backorder_deadline: Duration | None = timedelta(days=14)
    """How long a backordered order waits for stock before it is cancelled; a channel's routing
    policy (auto_cancel_after_days) overrides it."""
    store_credit_expiry: Duration | None = None
    """How long issued store credit stays spendable (e.g. P365D), stamped on each issue; unset: it
    never expires. The worker's daily expiry run writes off what is left of each lot past its date."""
    stock_feed_window: Duration = DEFAULT_FEED_WINDOW
    """How long one stock-feed activity runs passes, each as soon as something waits, before it
    hands back to its workflow: one Temporal activity per window, busy or idle."""
    event_delivery_window: Duration = DEFAULT_FEED_WINDOW
    """How long one event-delivery activity runs passes (fan-out, then POSTs to subscribers) before
    it hands back to its workflow, like the stock feed's window."""
    event_http_timeout: Duration = timedelta(seconds=10)
    """How long one POST to a subscriber may take (connect and answer) before it counts as failed."""
    event_retry_window: Duration = timedelta(days=3)
    """How long a failing delivery is retried (exponential backoff with jitter) before its
    subscription is disabled with a notice; its pending deliveries stay for replay."""
    event_retry_first: Duration = timedelta(seconds=5)
    """The first retry's delay; each later one doubles it (with jitter), up to 6 hours."""
    event_retention: Duration = timedelta(days=30)
    """How long events (and their delivery log) are kept once every subscriber has them: replay
    reaches back this far. Events a disabled subscription still waits for are kept."""
    event_endpoint_concurrency: int = Field(default=4, ge=1, le=64)
    """POSTs in flight at once to one subscription: one slow endpoint never takes every slot."""
    event_allow_http: bool | None = None
    """Subscriptions may use plain http:// endpoints (development, tests); default: outside
    production only. Production sends events over https:// only."""
    intake_sweep_interval: Duration = timedelta(seconds=5)
    """How often each API process starts the workflows of orders taken but not started (Temporal was
    away, or the process stopped between its answer and the start); 0 turns its sweeper off (at
    least one API replica must sweep)."""
    intake_retry_first: Duration = timedelta(seconds=5)
    """How long the sweeper leaves a new order to the request's own start, and the first wait after
    a start that failed; each later wait doubles, up to a minute."""
    intake_retention: Duration = timedelta(days=7)
    """How long an order's intake row is kept once its workflow started (the order is in `orders`
    by then, which answers a later repeated delivery)."""
    order_history_limit: int = Field(default=10_000, ge=10, le=40_000)
    """Events in an order's workflow history after which a long wait (a backorder) continues as a
    new run with the order's state carried, far below Temporal's 51,200-event limit."""
    sandbox: bool | None = None
    """Sandbox payment, warehouse and carrier confirm by themselves; on by default outside production."""
    demo: bool = False
    worker_activity_threads: int = Field(default=32, ge=1)
    """Activities one worker runs at once (its thread pool and the Temporal worker's slots)."""
    worker_cached_workflows: int = Field(default=1000, ge=0)
    """Running workflows a worker keeps in memory (Temporal's sticky cache, max_cached_workflows): a
    cached order continues without replaying its history; each costs memory (bench.orders prints
    the worker's RSS as the cache fills). 0: none cached, every task replays."""
    db_pool_size: int | None = Field(default=None, ge=1)
    """Connections each process keeps open to PostgreSQL; unset: the API 20 (API_DB_POOL_SIZE), a
    worker one per activity thread (OMS_WORKER_ACTIVITY_THREADS)."""
    db_max_overflow: int | None = Field(default=None, ge=0)
    """Connections a process may open beyond its pool in a burst (closed again when handed back);
    unset: as many as the pool. Pool plus overflow is what one replica can hold of PostgreSQL's
    max_connections."""
    channel_poll_interval: Duration = timedelta(seconds=60)
    bol_api_url: str = "https://api.bol.com"
    bol_auth_url: str = "https://login.bol.com/token"
    bol_client_id: str = ""
    bol_client_secret: str = ""
    amazon_spapi_url: str = "https://sellingpartnerapi-eu.amazon.com"
    amazon_lwa_url: str = "https://api.amazon.com/auth/o2/token"
    amazon_client_id: str = ""
    amazon_client_secret: str = ""
    amazon_refresh_token: str = ""
    amazon_marketplace_ids: str = ""
    amazon_seller_id: str = ""
    """The merchant token (seller id) the Listings Items API needs to update quantities."""
    shopify_shop_url: str = ""
    """https://<shop>.myshopify.com (or a sandbox URL); with an access token, stock and fulfilments go back."""
    shopify_access_token: str = ""
    shopify_location_id: str = ""
    """The Shopify location whose inventory levels mirror what we may sell on Shopify."""
    woocommerce_url: str = ""
    """The shop's base URL (https://shop.example); with consumer key and secret, stock and status go back."""
    woocommerce_consumer_key: str = ""
    woocommerce_consumer_secret: str = ""
    pos_api_key: str = ""
    """The key POS terminals send (Authorization: Bearer <key>) to POST /orders; it may only create
    `pos` orders. Empty: only the staff token creates them."""
    webshop_api_key: str = ""
    """Likewise for the web shop (`webshop` orders)."""
    currencies: str = "EUR,USD,GBP"
    """Currencies we sell in (comma-separated ISO 4217); a channel's own `currencies` setting narrows
    it. An order in any other currency is accepted and held for a person, naming the currency."""
    bol_fulfilment_method: str = "ALL"
    """Which bol.com orders are pulled: FBR (we ship), FBB (bol ships; recorded only) or ALL."""
    amazon_listings_op: str = "merge"
    """How the Listings Items API sets quantities: merge (keeps the handling time) or replace."""
    webhook_body_limit: int = Field(default=1 << 20, ge=1)
    """The largest webhook body accepted, in bytes (1 MiB); a larger one is 413, refused while it
    streams in. Shopify and WooCommerce orders of hundreds of lines stay well below it."""
    body_limit: int = Field(default=256 << 10, ge=1)
    """The largest body of any other request, in bytes (256 KiB: an order of a thousand lines)."""

    @field_validator("public_url")
    @classmethod
    def _public_url_is_absolute(cls, value: str) -> str:
        # A relative or scheme-less address would put links in customers' e-mails that go nowhere.
        value = value.strip().rstrip("/")
        if value and not value.startswith(("https://", "http://")):
            raise ValueError(f"OMS_PUBLIC_URL must start with https:// (or http://), got {value!r}")
        return value

    @model_validator(mode="after")
    def _production_needs_real_secrets(self) -> Settings:
        if self.env is Environment.PRODUCTION:
            placeholders = [
                f"OMS_{name.upper()}"
                for name, placeholder in PLACEHOLDER_SECRETS.items()
                if getattr(self, name) in ("", placeholder)
            ]
            if placeholders:
                raise ValueError("OMS_ENV=production refuses placeholder secrets; set " + ", ".join(placeholders))
            if not self.database_url:
                raise ValueError("OMS_ENV=production needs OMS_DATABASE_URL (PostgreSQL)")
            refusal = production_refusal(self)
            if refusal:
                raise ValueError(refusal)
        if self.return_window < timedelta(0):
            raise ValueError("OMS_RETURN_WINDOW cannot be negative")
        if self.return_expiry <= timedelta(0):
            raise ValueError("OMS_RETURN_EXPIRY must be a positive duration")
        if self.payment_link_expiry <= timedelta(0):
            raise ValueError("OMS_PAYMENT_LINK_EXPIRY must be a positive duration")
        positive = ("event_http_timeout", "event_retry_window", "event_retry_first", "event_retention")
        for name in (*positive, "intake_retry_first", "intake_retention"):
            if getattr(self, name) <= timedelta(0):
                raise ValueError(f"OMS_{name.upper()} must be a positive duration")
        if self.intake_sweep_interval < timedelta(0):
            raise ValueError("OMS_INTAKE_SWEEP_INTERVAL cannot be negative")
        return self

    @property
    def sandbox_enabled(self) -> bool:
        return self.sandbox if self.sandbox is not None else self.env is not Environment.PRODUCTION

    @property
    def event_http_allowed(self) -> bool:
        if self.event_allow_http is not None:
            return self.event_allow_http
        return self.env is not Environment.PRODUCTION

    @property
    def resolved_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.var_dir / 'oms.db'}"

    @property
    def api_db_pool(self) -> DatabasePool:
        """The pool of one API process (one uvicorn process per container)."""
        return self._db_pool(API_DB_POOL_SIZE)

    @property
    def worker_db_pool(self) -> DatabasePool:
        """The pool of one worker process: by default a connection per activity thread, and as many
        again for a burst."""
        return self._db_pool(self.worker_activity_threads)

    def _db_pool(self, default_size: int) -> DatabasePool:
        size = self.db_pool_size or default_size
        return DatabasePool(size, size if self.db_max_overflow is None else self.db_max_overflow)

    @property
    def temporal_ui_url(self) -> str:
        host = self.temporal_address.rsplit(":", 1)[0]
        return f"http://{host}:{self.temporal_ui_port}"

    stripe_multicapture: bool = False
    """Ask Stripe for multicapture (an IC+ feature) to capture each shipment as it leaves; without
    it (or where a card does not offer it) an order is captured once, when its last shipment leaves."""
    auto_confirm: bool | None = None
    """Locations confirm pick/pack/ship by themselves (the sandbox warehouse); default: OMS_SANDBOX.
    Off: staff confirm each step through the API (POST /shipments/{id}/picked, ...)."""
    pickup_expiry: Duration = timedelta(days=7)
    """How long a click & collect order waits at the store before its stock is released."""
    sla_overrides: dict[str, dict[str, int]] = Field(default_factory=dict)
    """Step deadlines in seconds per location kind, e.g. {"store": {"pick": 3600}} (JSON); the rest
    keep domain.fulfilment.DEFAULT_SLAS."""
    location_task_queues: str = ""
    """Comma-separated location task queues this worker also serves (locations.task_queue)."""

    @property
    def currency_codes(self) -> tuple[str, ...]:
        return tuple(code.strip().upper() for code in self.currencies.split(",") if code.strip())

    @property
    def channel_api_keys(self) -> dict[str, str]:
        """Channel → its API key, for the channels that have one set."""
        keys = {"pos": self.pos_api_key, "webshop": self.webshop_api_key}
        return {channel: key for channel, key in keys.items() if key}

    @field_validator("channel_gateways")
    @classmethod
    def _gateways_are_known(cls, value: dict[str, str]) -> dict[str, str]:
        for channel, gateway in value.items():
            if channel not in CHANNELS:
                raise ValueError(f"OMS_CHANNEL_GATEWAYS: unknown channel {channel!r} (one of {', '.join(CHANNELS)})")
            if gateway not in GATEWAYS:
                raise ValueError(f"OMS_CHANNEL_GATEWAYS: {channel} names {gateway!r}; one of {', '.join(GATEWAYS)}")
        return value

    def gateway_for(self, channel: str) -> str:
        """The payment gateway a channel's orders use (OMS_CHANNEL_GATEWAYS; Stripe when not named)."""
        return self.channel_gateways.get(channel, "stripe")

    def channels_paying_through(self, gateway: str) -> list[str]:
        return [channel for channel in CHANNELS if self.gateway_for(channel) == gateway]

    @property
    def gateways_in_use(self) -> list[str]:
        return [gateway for gateway in GATEWAYS if self.channels_paying_through(gateway)]

    @property
    def auto_confirm_enabled(self) -> bool:
        return self.auto_confirm if self.auto_confirm is not None else self.sandbox_enabled

    @property
    def location_queues(self) -> list[str]:
        return [queue.strip() for queue in self.location_task_queues.split(",") if queue.strip()]

    stripe_secret_key: str = ""
    """Stripe secret key (sk_live_… / sk_test_…); empty: payments stay with the sandbox gateway."""
    stripe_api_base: str = ""
    """Stripe API base URL; empty: Stripe's own (https://api.stripe.com), else e.g. a localstripe URL."""

    # -- Mollie (payments beside Stripe) -----------------------------------------------------------
    mollie_api_key: str = ""
    """Mollie API key (live_… / test_…); empty: no Mollie payments."""
    mollie_api_url: str = ""
    """Mollie API base URL; empty: Mollie's own (https://api.mollie.com/v2), else a sandbox URL."""
    channel_gateways: dict[str, str] = Field(default_factory=dict)
    """Which payment gateway each channel's orders use, e.g. {"webshop": "mollie"} (JSON); a channel
    not named uses Stripe."""

    # -- carrier (Sendcloud) -----------------------------------------------------------------------
    sendcloud_public_key: str = ""
    """Sendcloud API public key (HTTP Basic user); with the secret key, packing a parcel announces it
    to Sendcloud for its label and tracking. Empty: staff enter carrier and tracking (or the sandbox)."""
    sendcloud_secret_key: str = ""
    sendcloud_api_url: str = "https://panel.sendcloud.sc/api/v3"
    sendcloud_shipping_option: str = "postnl:standard"
    """The Sendcloud shipping option code labels are announced with (`ship_with`), e.g. dhl:parcel."""
    sendcloud_return_option: str = "postnl:return"
    """The shipping option code of return labels (Returns API)."""

    # -- the books (services.books, domain.journal) ------------------------------------------------
    books_timezone: str = "Europe/Amsterdam"
    """The books' day: a journal day runs midnight to midnight here (stored times stay UTC)."""
    books_account_revenue: str = "8000"
    books_account_shipping_revenue: str = "8100"
    books_account_vat_payable: str = "1800"
    books_account_gateway_clearing: str = "1100"
    """What the payment provider holds for us: invoices of gateway orders, less refunds and credit."""
    books_account_channel_receivable: str = "1300"
    """What a marketplace collected for us (per channel) until its payout."""
    books_account_store_credit: str = "1600"
    """Store credit: a liability to the customers holding it."""
    books_account_credit_adjustments: str = "4800"
    """Store credit issued by hand without an order (an expense)."""
    books_account_expired_credit: str = "8900"
    """Store credit that expired unspent (other income)."""

    # -- Exact Online (integrations.accounting.exact) -------------------------------------------------
    exact_enabled: bool = False
    """Push each day's sales to Exact Online (a sales entry per day, currency and channel)."""
    exact_base_url: str = "https://start.exactonline.nl"
    """Exact Online's site of the administration's country (.nl, .be, .de, .co.uk, ...), or the sandbox."""
    exact_client_id: str = ""
    exact_client_secret: str = ""
    exact_redirect_uri: str = ""
    """The redirect URI registered with the app in the Exact App Center (the authorization step)."""
    exact_refresh_token: str = ""
    """The first refresh token (from the authorization step); the engine keeps each rotated one."""
    exact_division: int = 0
    """The administration (division) to book in; 0: the user's current division (`/current/Me`)."""
    exact_journal: str = "70"
    """The sales journal's code."""
    exact_customers: dict[str, str] = Field(default_factory=lambda: {"*": "OMS"})
    """The collective customer's code per channel (JSON; "*" for every channel not named)."""
    exact_vat_codes: dict[str, str] = Field(
        default_factory=lambda: {"standard": "2", "reduced": "1", "zero": "0", "reverse_charge": "4"}
    )
    """Exact VAT code per domain.vat category (JSON)."""

    # -- histories: payload encryption -------------------------------------------------------------
    payload_keys: str = DEV_PAYLOAD_KEYS
    """The keys that encrypt Temporal payloads (AES-256-GCM), `id:base64-of-32-bytes` comma-separated;
    the first encrypts, every one decrypts (add a new key first to rotate, drop an old one only
    when no history needs it)."""
    codec_cors_origins: str = "http://localhost:8233"
    """Origins allowed to call the codec endpoint from a browser (the Temporal UI's address),
    comma-separated; with credentials, so never `*`."""

    @field_validator("payload_keys")
    @classmethod
    def _payload_keys_are_keys(cls, value: str) -> str:
        payload_key_ring(value)  # raises, naming what is wrong (never the key itself)
        return value

    @field_validator("codec_cors_origins")
    @classmethod
    def _codec_origins_are_origins(cls, value: str) -> str:
        for origin in _comma_list(value):
            scheme, _, host = origin.partition("://")
            if scheme not in ("http", "https") or not host or "/" in host or origin == "*":
                raise ValueError(
                    f"OMS_CODEC_CORS_ORIGINS takes origins like https://temporal.example.com (no path, never *), "
                    f"got {origin!r}"
                )
        return value

    @model_validator(mode="after")
    def _production_holds_no_development_key(self) -> Settings:
        # The whole value is refused as a placeholder above; the development key is public, so it may
        # not hide as a second (decrypt-only) key either: whoever holds it could forge payloads.
        development = {key for _, key in payload_key_ring(DEV_PAYLOAD_KEYS)}
        if self.env is Environment.PRODUCTION and any(key in development for _, key in self.payload_key_ring):
            raise ValueError("OMS_ENV=production refuses the development key in OMS_PAYLOAD_KEYS")
        return self

    @property
    def payload_key_ring(self) -> tuple[tuple[str, bytes], ...]:
        """(key id, 32-byte key) pairs in the order given: the first encrypts."""
        return payload_key_ring(self.payload_keys)

    @property
    def codec_origins(self) -> list[str]:
        return _comma_list(self.codec_cors_origins)

    # -- invoices and credit notes (the seller they name; a demo shop by default) -------------------
    seller_name: str = "Demo Shop B.V. (example)"
    """The seller's legal name on every invoice and credit note; the default is a made-up demo shop."""
    seller_address_lines: str = "Voorbeeldstraat 1"
    """The seller's street address, lines separated by `|`."""
    seller_postcode: str = "1000 AA"
    seller_city: str = "Amsterdam"
    seller_country: str = "NL"
    """ISO 3166-1 alpha-2: the country whose VAT the shop charges (reverse charge is decided against it)."""
    seller_vat_id: str = "NL000099998B57"
    """The seller's VAT id (a demo number by default: set the real one before issuing real invoices)."""
    seller_chamber_id: str = "00000000"
    """The trade register (KvK) number printed on documents; empty: not printed."""
    seller_iban: str = ""
    """The account customers pay to by transfer, printed on documents; empty: not printed."""
    invoice_series: str = "INV"
    """The invoices' number prefix (capitals and digits, at most 10): INV-2026-000001."""
    credit_note_series: str = "CN"
    """The credit notes' number prefix: CN-2026-000001."""

    @field_validator("invoice_series", "credit_note_series")
    @classmethod
    def _series_is_a_prefix(cls, value: str) -> str:
        try:
            return check_series(value)
        except InvalidDocumentNumber as exc:
            raise ValueError(str(exc)) from None

    @field_validator("seller_country")
    @classmethod
    def _seller_country_is_a_code(cls, value: str) -> str:
        value = value.strip().upper()
        if len(value) != 2 or not value.isalpha():
            raise ValueError(f"OMS_SELLER_COUNTRY is an ISO 3166-1 alpha-2 code like NL, got {value!r}")
        return value

    # -- metrics and logs --------------------------------------------------------------------------
    worker_metrics_address: str = "127.0.0.1:9464"
    """Where the worker serves the Temporal SDK's own metrics (Prometheus format); empty: not served."""
    log_format: str = ""
    """`json` (one object per line) or `text`; empty: json in production, text otherwise."""

    @field_validator("books_timezone")
    @classmethod
    def _books_timezone_is_known(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f"OMS_BOOKS_TIMEZONE must be an IANA time zone such as Europe/Amsterdam, got {value!r}"
            ) from None
        return value

    @field_validator("log_format")
    @classmethod
    def _log_format_is_known(cls, value: str) -> str:
        value = value.strip().lower()
        if value not in ("", "json", "text"):
            raise ValueError(f"OMS_LOG_FORMAT must be json or text (or empty), got {value!r}")
        return value

    metrics_token: str = ""
    """The bearer token Prometheus sends to GET /metrics (its scrape config's `authorization`);
    the staff token is accepted too. Empty: only the staff token reads the metrics."""

    # -- the books: Moneybird -------------------------------------------------------------------------
    moneybird_enabled: bool = False
    """Push every issued invoice and credit note to Moneybird (daily, and POST /books/moneybird/push)."""
    moneybird_api_token: str = ""
    """A Moneybird API token (personal token or OAuth access token) with the sales invoices scope."""
    moneybird_administration_id: str = ""
    """The administration the documents are booked in (GET /api/v2/administrations.json lists them)."""
    moneybird_api_url: str = "https://moneybird.com/api/v2"
    """Moneybird API v2 base URL; `make run` points it at the local sandbox (sandboxes/moneybird.py)."""
    moneybird_tax_rate_ids: dict[str, str] = Field(default_factory=dict)
    """Moneybird tax rate id per VAT category, e.g. {"standard": "…", "reverse_charge": "…"} (JSON);
    a category not named is matched by percentage among the administration's sales tax rates."""
    moneybird_ledger_account_id: str = ""
    """The revenue ledger account documents are booked on; empty: the administration's first revenue account."""


def production_refusal(settings: Settings) -> str | None:
    """Why these settings would put a sandbox (or a made-up step) in production, naming the setting
    to change; None when every part is real. Read in order: the first reason is the one reported."""
    if settings.sandbox:
        return "OMS_ENV=production refuses OMS_SANDBOX=true: sandboxes are for development and tests"
    if settings.auto_confirm:
        return "OMS_ENV=production refuses OMS_AUTO_CONFIRM=true: staff (or the carrier) confirm every step"
    for name in OUTSIDE_SERVICE_URLS:
        url = str(getattr(settings, name))
        if url and not url.startswith("https://"):
            return f"OMS_ENV=production needs https:// for OMS_{name.upper()} (got {url!r})"
    for gateway in settings.gateways_in_use:
        key = f"{gateway}_{'secret_key' if gateway == 'stripe' else 'api_key'}"
        if not getattr(settings, key):
            return f"OMS_ENV=production needs OMS_{key.upper()}: {gateway} takes the payments of " + ", ".join(
                settings.channels_paying_through(gateway)
            )
    if settings.exact_enabled and not (settings.exact_client_id and settings.exact_client_secret):
        return "OMS_ENV=production with OMS_EXACT_ENABLED needs OMS_EXACT_CLIENT_ID and OMS_EXACT_CLIENT_SECRET"
    if bool(settings.sendcloud_public_key) != bool(settings.sendcloud_secret_key):
        missing = "OMS_SENDCLOUD_SECRET_KEY" if settings.sendcloud_public_key else "OMS_SENDCLOUD_PUBLIC_KEY"
        return f"OMS_ENV=production needs {missing} (Sendcloud takes both keys)"
    if settings.moneybird_enabled and not (settings.moneybird_api_token and settings.moneybird_administration_id):
        return (
            "OMS_ENV=production needs OMS_MONEYBIRD_API_TOKEN and OMS_MONEYBIRD_ADMINISTRATION_ID to push to Moneybird"
        )
    return None


def refusal_line(error: ValidationError) -> str:
    """A settings error in one line, naming the setting: what a process says when it will not start."""
    first = error.errors()[0]
    message = str(first["msg"]).removeprefix("Value error, ")
    name = f"OMS_{str(first['loc'][0]).upper()}" if first["loc"] else ""
    if name and not message.startswith(name):
        return f"invalid setting {name}: {message}"
    return message


def startup_settings(process: str) -> Settings:
    """The settings, or the process exits with one line naming what to change (no traceback)."""
    try:
        return get_settings()
    except ValidationError as exc:
        raise SystemExit(f"{process}: {refusal_line(exc)}") from None


def load_settings(**overrides: object) -> Settings:
    return Settings(**overrides)  # type: ignore[arg-type]


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return load_settings()


# -- histories: payload encryption -----------------------------------------------------------------

PAYLOAD_KEY_BYTES = 32  # AES-256
_KEY_ID_CHARACTERS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-")


def payload_key_ring(value: str) -> tuple[tuple[str, bytes], ...]:
    """OMS_PAYLOAD_KEYS (`id:base64,id:base64`) as (id, key) pairs, the first the one that encrypts.
    A mistake is named by the key's id and position, never by the key's text."""
    ring: list[tuple[str, bytes]] = []
    for position, entry in enumerate(_comma_list(value), start=1):
        key_id, colon, encoded = entry.partition(":")
        key_id = key_id.strip()
        if not colon or not key_id or not set(key_id) <= _KEY_ID_CHARACTERS or len(key_id) > 64:
            raise ValueError(
                f"OMS_PAYLOAD_KEYS entry {position} must be `id:base64-of-32-bytes` with an id of letters, "
                "digits, '.', '_' or '-' (at most 64)"
            )
        try:
            key = base64.b64decode(encoded.strip(), validate=True)
        except binascii.Error:
            raise ValueError(f"OMS_PAYLOAD_KEYS key {key_id!r} is not valid base64") from None
        if len(key) != PAYLOAD_KEY_BYTES:
            raise ValueError(
                f"OMS_PAYLOAD_KEYS key {key_id!r} is {len(key)} bytes, AES-256 takes {PAYLOAD_KEY_BYTES} "
                "(make one with `openssl rand -base64 32`)"
            )
        if any(key_id == known for known, _ in ring):
            raise ValueError(f"OMS_PAYLOAD_KEYS names key id {key_id!r} twice: a payload's key id must say one key")
        ring.append((key_id, key))
    if not ring:
        raise ValueError("OMS_PAYLOAD_KEYS needs at least one key (`id:base64-of-32-bytes`)")
    return tuple(ring)


def _comma_list(value: str) -> list[str]:
    return [part.strip() for part in value.split(",") if part.strip()]
