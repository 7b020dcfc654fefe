"""`make run` in development without Sendcloud keys starts a local Sendcloud and points the engine at
it (the supervisor's piece alone: no Temporal, worker or API); real keys start nothing."""

from __future__ import annotations

import httpx

from config import load_settings
from integrations.carriers.base import LabelRequest, PostalAddress
from integrations.carriers.sendcloud import connect
from integrations.components import report
from ops.run import Supervisor


def test_development_without_keys_gets_a_local_sendcloud(tmp_path):
    supervisor = Supervisor(load_settings(_env_file=None, var_dir=tmp_path))
    try:
        env = supervisor._start_sendcloud_sandbox()
        url = env["OMS_SENDCLOUD_API_URL"]
        assert url.startswith("http://127.0.0.1:")
        assert httpx.get(f"{url}/shipments").status_code == 401  # it asks for the keys it was given
        settings = supervisor.settings
        assert (settings.sendcloud_public_key, settings.sendcloud_api_url) == (env["OMS_SENDCLOUD_PUBLIC_KEY"], url)
        carrier = connect(settings)
        assert carrier is not None
        home = PostalAddress("AMS", "Contactweg 36", "1043 AP", "Amsterdam", "NL")
        label = carrier.label_for(LabelRequest("shipment-x", "#1", home, home, (500,)))
        assert label.document.startswith(b"%PDF")
        assert "local Sendcloud sandbox" in report(settings)
    finally:
        supervisor.stop()
    assert all(process.poll() is not None for _, process in supervisor.children)


def test_real_keys_or_production_start_no_sandbox(tmp_path):
    keys = load_settings(_env_file=None, var_dir=tmp_path, sendcloud_public_key="pk", sendcloud_secret_key="sk")
    off = load_settings(_env_file=None, var_dir=tmp_path, sandbox=False)
    for settings in (keys, off):
        supervisor = Supervisor(settings)
        assert supervisor._start_sendcloud_sandbox() == {}
        assert supervisor.children == []
