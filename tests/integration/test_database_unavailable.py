"""The API without its database (not started yet, restarting): it starts anyway and answers 503
with Retry-After, as it does without Temporal, so a client or channel knows to come back; never a 500."""

from __future__ import annotations

from fastapi.testclient import TestClient

from api.main import create_app
from config import load_settings
from ops.temporal_dev import free_port

TOKEN = "no-database-token"


def test_the_api_answers_503_while_its_database_is_not_there():
    nothing_there = f"postgresql+psycopg://oms:oms@127.0.0.1:{free_port()}/oms"
    settings = load_settings(database_url=nothing_there, admin_token=TOKEN, temporal_address=f"127.0.0.1:{free_port()}")
    with TestClient(create_app(settings), raise_server_exceptions=False) as api:
        staff = {"Authorization": f"Bearer {TOKEN}"}
        for method, path in (("GET", "/orders"), ("GET", "/shipments/shipment-x"), ("POST", "/locations")):
            body = {"location_id": "AMS", "name": "Amsterdam", "kind": "warehouse", "country": "NL"}
            answer = api.request(method, path, headers=staff, json=body if method == "POST" else None)
            assert (answer.status_code, answer.headers.get("Retry-After")) == (503, "5"), (path, answer.text)
            assert "database" in answer.json()["detail"]
        health = api.get("/health")
        assert health.status_code == 503 and health.json()["checks"]["database"].startswith("unavailable")
