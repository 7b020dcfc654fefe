"""The codec endpoint the Temporal UI decrypts histories through (api.routes.codec), in-process: who
may call it, what it answers (Temporal's Codec Server protocol), and which browser origins may."""

from __future__ import annotations

import asyncio
import base64
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from temporalio.api.common.v1 import Payload

from api.main import create_app
from config import Settings, load_settings
from integrations.temporal.client import data_converter
from integrations.temporal.codec import ENCRYPTED, KEY_ID, EncryptionCodec
from ops.temporal_dev import free_port

TOKEN = "codec-staff-token"
UI = "http://temporal-ui.example:8233"
STAFF = {"Authorization": f"Bearer {TOKEN}"}
KEY = ("k2", os.urandom(32))
ORDER = {"order_id": "order-webshop-1001", "email": "jan.jansen@example.nl", "name": "Jan Jansen"}


@pytest.fixture
def settings(tmp_path: Path, sqlite_template: Path) -> Settings:
    # Migrated: a dashboard sign-in is a server-side session (services.accounts).
    shutil.copyfile(sqlite_template, tmp_path / "oms.db")
    return load_settings(
        _env_file=None,
        database_url=f"sqlite:///{tmp_path / 'oms.db'}",
        temporal_address=f"localhost:{free_port()}",
        admin_token=TOKEN,
        webshop_api_key="webshop-key",
        payload_keys=f"{KEY[0]}:{base64.b64encode(KEY[1]).decode()}",
        codec_cors_origins=f"{UI},http://localhost:8233",
        body_limit=64 << 10,
    )


@pytest.fixture
def api(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings), follow_redirects=False) as client:
        yield client


def _json(payload: Payload) -> dict[str, Any]:
    """A payload in proto3 JSON, as the UI sends it: every bytes field base64."""
    return {
        "metadata": {name: base64.b64encode(value).decode() for name, value in payload.metadata.items()},
        "data": base64.b64encode(payload.data).decode(),
    }


def _payload(json: dict[str, Any]) -> Payload:
    return Payload(
        metadata={name: base64.b64decode(value) for name, value in json["metadata"].items()},
        data=base64.b64decode(json["data"]),
    )


def _as_the_worker_writes(settings: Settings, value: object) -> Payload:
    [payload] = asyncio.run(data_converter(settings).encode([value]))
    return payload


def test_only_staff_may_call_it(api: TestClient, settings: Settings) -> None:
    body = {"payloads": [_json(_as_the_worker_writes(settings, ORDER))]}
    for path in ("/codec/decode", "/codec/encode"):
        nobody = api.post(path, json=body)
        assert nobody.status_code == 401 and nobody.headers["www-authenticate"] == "Bearer"
        assert "jan.jansen" not in nobody.text
        assert api.post(path, json=body, headers={"Authorization": "Bearer guess"}).status_code == 401
        assert api.post(path, json=body, headers={"Authorization": "Bearer webshop-key"}).status_code == 403
        api.cookies.set("oms_dashboard", "forged.cookie.value", path="/codec")
        assert api.post(path, json=body).status_code == 401
        api.cookies.clear()


def test_staff_read_what_the_worker_wrote(api: TestClient, settings: Settings) -> None:
    written = _as_the_worker_writes(settings, ORDER)
    assert b"jan.jansen" not in written.SerializeToString()
    answer = api.post("/codec/decode", json={"payloads": [_json(written)]}, headers=STAFF)
    assert answer.status_code == 200
    [opened] = answer.json()["payloads"]
    assert base64.b64decode(opened["metadata"]["encoding"]) == b"json/plain"
    assert data_converter(settings).payload_converter.from_payloads([_payload(opened)], [dict]) == [ORDER]


def test_a_signed_in_dashboard_user_needs_no_token(api: TestClient, settings: Settings) -> None:
    """The Temporal UI's page cannot hold the token: the browser sends the dashboard's cookie along."""
    signed_in = api.post("/dashboard/login", data={"token": TOKEN, "next": "/dashboard"})
    assert signed_in.status_code == 303
    assert {cookie.path for cookie in api.cookies.jar} == {"/dashboard", "/codec"}
    written = _as_the_worker_writes(settings, ORDER)
    answer = api.post("/codec/decode", json={"payloads": [_json(written)]}, headers={"Origin": UI})
    assert answer.status_code == 200
    assert answer.headers["access-control-allow-origin"] == UI
    assert answer.headers["access-control-allow-credentials"] == "true"
    assert b"jan.jansen@example.nl" in _payload(answer.json()["payloads"][0]).data


def test_encode_encrypts_with_the_first_key_and_decode_opens_it(api: TestClient) -> None:
    typed = Payload(metadata={"encoding": b"json/plain"}, data=b'{"reason": "customer called"}')
    answer = api.post("/codec/encode", json={"payloads": [_json(typed)]}, headers=STAFF)
    assert answer.status_code == 200
    [sealed] = [_payload(p) for p in answer.json()["payloads"]]
    assert sealed.metadata["encoding"] == ENCRYPTED and sealed.metadata[KEY_ID] == KEY[0].encode()
    assert b"customer called" not in sealed.data
    opened = api.post("/codec/decode", json={"payloads": [_json(sealed)]}, headers=STAFF)
    assert [_payload(p) for p in opened.json()["payloads"]] == [typed]


def test_payloads_from_before_encryption_come_back_as_they_were(api: TestClient) -> None:
    plain = {"payloads": [{"metadata": {"encoding": base64.b64encode(b"json/plain").decode()}, "data": "e30="}, {}]}
    answer = api.post("/codec/decode", json=plain, headers=STAFF)
    assert answer.status_code == 200
    assert answer.json() == {"payloads": [plain["payloads"][0], {"metadata": {}, "data": ""}]}


def test_what_cannot_be_decrypted_is_refused_not_shown_as_data(api: TestClient, settings: Settings) -> None:
    good = _json(_as_the_worker_writes(settings, ORDER))
    [other_key] = asyncio.run(EncryptionCodec([("k1", os.urandom(32))]).encode([Payload(data=b"{}")]))
    unknown = api.post("/codec/decode", json={"payloads": [good, _json(other_key)]}, headers=STAFF)
    assert unknown.status_code == 422
    assert unknown.json()["detail"]["message"].startswith("payloads.1: the payload is encrypted with key id 'k1'")

    altered = dict(good)
    data = bytearray(base64.b64decode(good["data"]))
    data[-1] ^= 1
    altered["data"] = base64.b64encode(bytes(data)).decode()
    tampered = api.post("/codec/decode", json={"payloads": [altered]}, headers=STAFF)
    assert tampered.status_code == 422 and "authentication tag" in tampered.json()["detail"]["message"]

    garbled = api.post("/codec/decode", json={"payloads": [{"data": "not base64!"}]}, headers=STAFF)
    assert garbled.status_code == 422 and garbled.json()["detail"]["message"].startswith("payloads.0: not a payload")


def test_the_body_limit_holds_here_too(api: TestClient) -> None:
    huge = {"payloads": [{"data": base64.b64encode(b"x" * (64 << 10)).decode()}]}
    assert api.post("/codec/encode", json=huge, headers=STAFF).status_code == 413


def _preflight(api: TestClient, origin: str, path: str = "/codec/decode") -> Any:
    return api.options(
        path,
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type,authorization,x-namespace",
        },
    )


def test_the_temporal_uis_origin_may_call_it_from_the_browser(api: TestClient) -> None:
    answer = _preflight(api, UI)
    assert answer.status_code == 200
    assert answer.headers["access-control-allow-origin"] == UI
    assert answer.headers["access-control-allow-credentials"] == "true"
    assert "POST" in answer.headers["access-control-allow-methods"]
    allowed = {header.strip().lower() for header in answer.headers["access-control-allow-headers"].split(",")}
    assert {"content-type", "authorization", "x-namespace"} <= allowed


def test_another_origin_is_refused(api: TestClient, settings: Settings) -> None:
    answer = _preflight(api, "https://evil.example")
    assert answer.status_code == 400
    assert "access-control-allow-origin" not in answer.headers
    # Without a preflight (a simple request), the answer names no origin, so the browser hides it.
    written = {"payloads": [_json(_as_the_worker_writes(settings, ORDER))]}
    sent = api.post("/codec/decode", json=written, headers={**STAFF, "Origin": "https://evil.example"})
    assert "access-control-allow-origin" not in sent.headers


def test_no_other_route_answers_a_browser_from_elsewhere(api: TestClient) -> None:
    answer = _preflight(api, UI, path="/orders")
    assert "access-control-allow-origin" not in answer.headers
    assert "access-control-allow-origin" not in api.get("/health", headers={"Origin": UI}).headers
