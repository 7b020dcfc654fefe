"""`make run` in development without an Exact Online app starts a local Exact and points the books at
it (the supervisor's piece alone); a configured app or production starts nothing."""

from __future__ import annotations

from config import load_settings
from integrations.accounting.exact.client import ExactClient, ExactConfig, Tokens
from integrations.components import report
from ops.run import Supervisor
from sandboxes import exact as exact_sandbox


class _Memory:
    def __init__(self) -> None:
        self.tokens: Tokens | None = None

    def load(self) -> Tokens | None:
        return self.tokens

    def save(self, tokens: Tokens) -> None:
        self.tokens = tokens


def test_development_without_an_exact_app_gets_a_local_exact(tmp_path):
    supervisor = Supervisor(load_settings(_env_file=None, var_dir=tmp_path))
    try:
        env = supervisor._start_exact_sandbox()
        settings = supervisor.settings
        assert settings.exact_enabled and settings.exact_base_url == env["OMS_EXACT_BASE_URL"]
        config = ExactConfig(
            settings.exact_base_url,
            settings.exact_client_id,
            settings.exact_client_secret,
            initial_refresh_token=settings.exact_refresh_token,
        )
        store = _Memory()
        assert ExactClient(config, store).division() == exact_sandbox.DIVISION
        assert store.tokens is not None and store.tokens.refresh_token != settings.exact_refresh_token  # rotated
        assert "local Exact Online sandbox" in report(settings)
    finally:
        supervisor.stop()
    assert all(process.poll() is not None for _, process in supervisor.children)


def test_an_exact_app_or_production_starts_no_sandbox(tmp_path):
    app = load_settings(_env_file=None, var_dir=tmp_path, exact_client_id="id")
    off = load_settings(_env_file=None, var_dir=tmp_path, sandbox=False)
    for settings in (app, off):
        supervisor = Supervisor(settings)
        assert supervisor._start_exact_sandbox() == {}
        assert supervisor.children == []
