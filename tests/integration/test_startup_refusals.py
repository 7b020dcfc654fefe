"""Each process of a production deployment refuses to start on sandbox settings, with one line on
stderr naming the setting, and no traceback: what an operator reads in `docker compose logs`."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from config import PROJECT_ROOT

REAL = {
    "OMS_ENV": "production",
    "OMS_DATABASE_URL": "postgresql+psycopg://oms:pw@127.0.0.1:1/oms",
    "OMS_ADMIN_TOKEN": "prod-admin-7f3a9c",
    "OMS_SHOPIFY_WEBHOOK_SECRET": "shpss_prod_1b2c3d",
    "OMS_WOOCOMMERCE_WEBHOOK_SECRET": "wc_prod_4e5f6a",
    "OMS_TRACKING_SECRET": "trk_prod_7a8b9c",
    "OMS_PAYLOAD_KEYS": "k1:mS0n1S0V6pV8nN2ZGzN4v0QvJ0qkYp1bq7Qo9yWmU6E=",
    "OMS_STRIPE_SECRET_KEY": "sk_live_prod_51Hx",
}
PROCESSES = {
    "worker": [sys.executable, "worker.py"],
    "api": [sys.executable, "-m", "uvicorn", "--factory", "api.main:create_app", "--port", "1"],
    "migrate": [sys.executable, "-m", "persistence.migrate"],
}


@pytest.mark.parametrize(
    ("process", "change", "named"),
    [
        ("worker", {"OMS_SANDBOX": "true"}, "OMS_SANDBOX"),
        ("api", {"OMS_STRIPE_SECRET_KEY": ""}, "OMS_STRIPE_SECRET_KEY"),
        ("migrate", {"OMS_AUTO_CONFIRM": "true"}, "OMS_AUTO_CONFIRM"),
        ("worker", {"OMS_SENDCLOUD_PUBLIC_KEY": "pk"}, "OMS_SENDCLOUD_SECRET_KEY"),
    ],
)
def test_a_production_process_refuses_a_sandbox_in_one_line(process: str, change: dict[str, str], named: str) -> None:
    env = {key: value for key, value in os.environ.items() if not key.startswith("OMS_")}
    finished = subprocess.run(
        PROCESSES[process], cwd=PROJECT_ROOT, env={**env, **REAL, **change}, capture_output=True, text=True, timeout=60
    )
    assert finished.returncode != 0
    lines = finished.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"{process}: ") and named in lines[0], finished.stderr
