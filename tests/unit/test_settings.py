"""Settings: the contract's defaults, OMS_ overrides, durations, and production's refusals."""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import pytest
from pydantic import ValidationError

from config import Environment, load_settings

pytestmark = pytest.mark.unit

REAL_SECRETS = {
    "OMS_ADMIN_TOKEN": "prod-admin-7f3a9c",
    "OMS_SHOPIFY_WEBHOOK_SECRET": "shpss_prod_1b2c3d",
    "OMS_WOOCOMMERCE_WEBHOOK_SECRET": "wc_prod_4e5f6a",
    "OMS_TRACKING_SECRET": "trk_prod_7a8b9c",
    "OMS_PAYLOAD_KEYS": "k1:mS0n1S0V6pV8nN2ZGzN4v0QvJ0qkYp1bq7Qo9yWmU6E=",
    "OMS_STRIPE_SECRET_KEY": "sk_live_prod_51Hx",
}
PLACEHOLDER_NAMES = (
    "OMS_ADMIN_TOKEN",
    "OMS_SHOPIFY_WEBHOOK_SECRET",
    "OMS_WOOCOMMERCE_WEBHOOK_SECRET",
    "OMS_TRACKING_SECRET",
)


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No OMS_ variable from the caller's shell and no stray .env file may reach these tests."""
    for name in list(os.environ):
        if name.upper().startswith("OMS_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)


def test_development_defaults() -> None:
    settings = load_settings()
    assert settings.env is Environment.DEVELOPMENT
    assert settings.api_port == 8000
    assert settings.temporal_address == "localhost:7233"
    assert settings.temporal_namespace == "default"
    assert settings.temporal_ui_url == "http://localhost:8233"
    assert settings.admin_token == "dev-admin-token"
    assert settings.shopify_webhook_secret == "dev-shopify-secret"
    assert settings.woocommerce_webhook_secret == "dev-woocommerce-secret"
    assert settings.return_window == timedelta(days=30)
    assert settings.channel_poll_interval == timedelta(seconds=60)
    assert settings.sandbox_enabled is True
    assert settings.bol_api_url == "https://api.bol.com"


def test_default_database_is_sqlite_under_var() -> None:
    url = load_settings().resolved_database_url
    assert url.startswith("sqlite:///")
    assert Path(url.removeprefix("sqlite:///")).parent.name == "var"


def test_postgres_url_is_used_as_given(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OMS_DATABASE_URL", "postgresql+psycopg://oms:oms@db:5432/oms")
    assert load_settings().resolved_database_url == "postgresql+psycopg://oms:oms@db:5432/oms"


def test_environment_overrides(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OMS_API_PORT", "9100")
    monkeypatch.setenv("OMS_TEMPORAL_ADDRESS", "temporal.internal:7233")
    monkeypatch.setenv("OMS_ADMIN_TOKEN", "custom-token")
    settings = load_settings()
    assert settings.api_port == 9100
    assert settings.temporal_address == "temporal.internal:7233"
    assert settings.temporal_ui_url == "http://temporal.internal:8233"
    assert settings.admin_token == "custom-token"


def test_keyword_overrides_win() -> None:
    assert load_settings(api_port=9200).api_port == 9200


def test_dotenv_file_in_the_working_directory_is_read(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("OMS_API_PORT=9001\nOMS_ADMIN_TOKEN=from-dotenv\n")
    settings = load_settings()
    assert settings.api_port == 9001
    assert settings.admin_token == "from-dotenv"
    monkeypatch.setenv("OMS_API_PORT", "9002")
    assert load_settings().api_port == 9002  # the environment wins over .env


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("60", timedelta(seconds=60)),
        ("0", timedelta(0)),
        ("P2D", timedelta(days=2)),
        ("PT36H", timedelta(hours=36)),
        ("P14DT12H", timedelta(days=14, hours=12)),
    ],
)
def test_return_window_from_environment(monkeypatch: pytest.MonkeyPatch, value: str, expected: timedelta) -> None:
    monkeypatch.setenv("OMS_RETURN_WINDOW", value)
    assert load_settings().return_window == expected


def test_channel_poll_interval_in_seconds(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OMS_CHANNEL_POLL_INTERVAL", "15")
    assert load_settings().channel_poll_interval == timedelta(seconds=15)


@pytest.mark.parametrize("value", ["-60", "thirty days", "P"])
def test_bad_return_window_is_refused(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv("OMS_RETURN_WINDOW", value)
    with pytest.raises(ValidationError, match=r"(?i)return_window"):
        load_settings()


def test_production_refuses_placeholder_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OMS_ENV", "production")
    monkeypatch.setenv("OMS_DATABASE_URL", "postgresql+psycopg://oms@db/oms")
    with pytest.raises(ValidationError) as excinfo:
        load_settings()
    message = str(excinfo.value)
    for name in PLACEHOLDER_NAMES:
        assert name in message


def test_production_names_only_the_placeholders_left(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OMS_ENV", "production")
    monkeypatch.setenv("OMS_DATABASE_URL", "postgresql+psycopg://oms@db/oms")
    monkeypatch.setenv("OMS_ADMIN_TOKEN", REAL_SECRETS["OMS_ADMIN_TOKEN"])
    monkeypatch.setenv("OMS_SHOPIFY_WEBHOOK_SECRET", "")  # empty counts as a placeholder
    with pytest.raises(ValidationError) as excinfo:
        load_settings()
    message = str(excinfo.value)
    assert "OMS_SHOPIFY_WEBHOOK_SECRET" in message
    assert "OMS_WOOCOMMERCE_WEBHOOK_SECRET" in message
    assert "OMS_ADMIN_TOKEN" not in message


def test_production_needs_a_database_url(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OMS_ENV", "production")
    for name, value in REAL_SECRETS.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(ValidationError, match="OMS_DATABASE_URL"):
        load_settings()


def test_production_with_real_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OMS_ENV", "production")
    monkeypatch.setenv("OMS_DATABASE_URL", "postgresql+psycopg://oms@db/oms")
    for name, value in REAL_SECRETS.items():
        monkeypatch.setenv(name, value)
    settings = load_settings()
    assert settings.env is Environment.PRODUCTION
    assert (settings.sandbox_enabled, settings.auto_confirm_enabled) == (False, False)


@pytest.mark.parametrize("env", ["development", "test"])
def test_sandbox_on_by_default_outside_production(monkeypatch: pytest.MonkeyPatch, env: str) -> None:
    monkeypatch.setenv("OMS_ENV", env)
    assert load_settings().sandbox_enabled is True


def test_sandbox_can_be_switched_off_in_development(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OMS_SANDBOX", "0")
    assert load_settings().sandbox_enabled is False


def test_unknown_environment_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OMS_ENV", "staging")
    with pytest.raises(ValidationError, match="env"):
        load_settings()
