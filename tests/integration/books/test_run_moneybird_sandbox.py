"""`make run` in development without a Moneybird token starts a local Moneybird and points the push at
it (the supervisor's piece alone); a real token or production starts nothing, and production
refuses Moneybird enabled without its token and administration."""

from __future__ import annotations

import httpx

from config import Environment, load_settings, production_refusal
from integrations.accounting.moneybird.client import MoneybirdClient
from integrations.components import report
from ops.run import Supervisor


def test_development_without_a_token_gets_a_local_moneybird(tmp_path):
    supervisor = Supervisor(load_settings(_env_file=None, var_dir=tmp_path))
    try:
        env = supervisor._start_moneybird_sandbox()
        settings = supervisor.settings
        assert settings.moneybird_enabled and settings.moneybird_api_url == env["OMS_MONEYBIRD_API_URL"]
        assert httpx.get(f"{settings.moneybird_api_url}/administrations.json").status_code == 401
        client = MoneybirdClient(
            settings.moneybird_api_url, settings.moneybird_api_token, settings.moneybird_administration_id
        )
        (administration,) = client.administrations()
        assert administration["id"] == settings.moneybird_administration_id
        assert {rate["percentage"] for rate in client.tax_rates()} == {"21.0", "9.0", "0.0"}
        assert "local Moneybird sandbox" in report(settings)
    finally:
        supervisor.stop()
    assert all(process.poll() is not None for _, process in supervisor.children)


def test_a_real_token_or_production_starts_no_sandbox(tmp_path):
    token = load_settings(_env_file=None, var_dir=tmp_path, moneybird_api_token="a-real-token")
    off = load_settings(_env_file=None, var_dir=tmp_path, sandbox=False)
    for settings in (token, off):
        supervisor = Supervisor(settings)
        assert supervisor._start_moneybird_sandbox() == {}
        assert supervisor.children == []


def test_production_refuses_moneybird_without_its_token_or_a_plain_http_address(tmp_path):
    settings = load_settings(_env_file=None, var_dir=tmp_path).model_copy(
        update={"env": Environment.PRODUCTION, "moneybird_enabled": True, "sandbox": False, "stripe_secret_key": "sk"}
    )
    assert "OMS_MONEYBIRD_API_TOKEN" in (production_refusal(settings) or "")
    plain = settings.model_copy(
        update={"moneybird_api_token": "t", "moneybird_administration_id": "1", "moneybird_api_url": "http://x/api/v2"}
    )
    assert "OMS_MONEYBIRD_API_URL" in (production_refusal(plain) or "")
