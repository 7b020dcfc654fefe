"""No input gets a 5xx: bounds on paging, times a UTC clock cannot hold, absurd amounts, numbers
and text JSON can carry but no database can, NUL in URLs, and bodies past their cap (413, decided
while the body streams in). Real app on both databases; Temporal is pointed at a closed port, so an
answer that needed it would be 503, and every refusal here comes before it."""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
from collections.abc import AsyncIterator, Iterator

import pytest
import uvicorn
from fastapi.testclient import TestClient
from sqlalchemy import select

from api.main import create_app
from config import load_settings
from integrations.channels import shopify, woocommerce
from ops.temporal_dev import free_port
from persistence.models import ChannelMessage
from tests.factories import shopify_payload

TOKEN = "no-5xx-admin-token"
STAFF = {"Authorization": f"Bearer {TOKEN}"}
SHOPIFY_SECRET = "no-5xx-shopify-secret"
WOO_SECRET = "no-5xx-woocommerce-secret"
WEBHOOK_LIMIT = 64 * 1024
BODY_LIMIT = 16 * 1024


def _settings(database):
    return load_settings(
        database_url=database.url,
        admin_token=TOKEN,
        shopify_webhook_secret=SHOPIFY_SECRET,
        woocommerce_webhook_secret=WOO_SECRET,
        temporal_address=f"localhost:{free_port()}",
        webhook_body_limit=WEBHOOK_LIMIT,
        body_limit=BODY_LIMIT,
    )


@pytest.fixture
def api(database) -> Iterator[TestClient]:
    with TestClient(create_app(_settings(database)), raise_server_exceptions=False) as client:
        yield client


def _shopify(api: TestClient, body: bytes | dict, topic: str = "orders/create"):
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    headers = {"X-Shopify-Topic": topic, "X-Shopify-Hmac-Sha256": shopify.sign(SHOPIFY_SECRET, raw)}
    return api.post("/webhooks/shopify", content=raw, headers=headers)


def _order(**changes: object) -> dict:
    order = {
        "channel": "webshop",
        "external_id": "W-1",
        "currency": "EUR",
        "lines": [{"sku": "A", "quantity": 1, "unit_price": {"amount_minor": 100, "currency": "EUR"}}],
    }
    return {**order, **changes}


# --- paging ---------------------------------------------------------------------------------------

LISTS = ["/orders", "/shipments", "/escalations", "/inventory"]


@pytest.mark.parametrize("path", LISTS)
@pytest.mark.parametrize(
    "params",
    [
        {"offset": "99999999999999999999"},  # was a 500 on both databases
        {"offset": str(2**63 - 1)},
        {"offset": "1000000001"},
        {"limit": "0"},
        {"limit": "99999999999999999999"},
        {"offset": "Infinity"},
    ],
)
def test_paging_past_its_bounds_is_422_on_every_list(api, path, params):
    response = api.get(path, params=params, headers=STAFF)
    assert response.status_code == 422, response.text
    assert next(iter(params)) in response.json()["detail"]["message"]


@pytest.mark.parametrize("path", LISTS)
def test_paging_at_its_bounds_answers(api, path):
    response = api.get(path, params={"offset": 1_000_000_000, "limit": 500}, headers=STAFF)
    assert response.status_code == 200, response.text
    assert response.json()["data"] == []


# --- times, amounts and numbers in bodies ----------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("created_at", "0001-01-01T00:00:00+14:00"),
        ("created_at", "9999-12-31T23:59:59-14:00"),
        ("created_at", "1969-07-20T20:17:40Z"),
        ("cancelled_at", "0001-01-01T00:00:00+14:00"),
    ],
)
def test_a_shopify_time_outside_utc_is_422_naming_the_field(api, field, value):
    response = _shopify(api, {**shopify_payload([("MUG", 1, "12.50")]), field: value})
    assert response.status_code == 422, response.text
    assert field in response.json()["detail"]["message"]


def test_a_woocommerce_time_outside_utc_is_422(api):
    from pathlib import Path

    path = Path(__file__).resolve().parents[1] / "unit" / "data" / "woocommerce" / "order_tax_exclusive.json"
    payload = {**json.loads(path.read_text()), "status": "processing", "date_created_gmt": "0001-01-01T00:00:00+14:00"}
    raw = json.dumps(payload).encode()
    headers = {"X-WC-Webhook-Topic": "order.created", "X-WC-Webhook-Signature": woocommerce.sign(WOO_SECRET, raw)}
    response = api.post("/webhooks/woocommerce", content=raw, headers=headers)
    assert response.status_code == 422, response.text
    assert "date_created_gmt" in response.json()["detail"]["message"]


@pytest.mark.parametrize("placed_at", ["0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00"])
def test_a_canonical_order_placed_outside_utc_is_422(api, placed_at):
    response = api.post("/orders", json=_order(placed_at=placed_at), headers=STAFF)
    assert response.status_code == 422, response.text
    assert "placed_at" in response.json()["detail"]["message"]


@pytest.mark.parametrize(
    "query",
    [
        {"until": "0001-01-01T00:00:00+14:00"},  # each of these was a 500
        {"since": "0001-01-01T00:00:00+14:00"},
        {"until": "9999-12-31T23:59:59-14:00"},
        {"until": "0001-01-03T00:00:00Z"},  # a week before it is before year 1
    ],
)
def test_a_kpi_window_outside_utc_is_422_naming_it(api, query):
    response = api.get("/kpis", params=query, headers=STAFF)
    assert response.status_code == 422, response.text
    assert next(iter(query)) in response.json()["detail"]["message"]


@pytest.mark.parametrize(
    ("where", "price"),
    [("price", "1E+100000"), ("price", "1e999999"), ("total_price", "1E+100000"), ("price", "10000000000000000")],
)
def test_an_absurd_shopify_amount_is_422_and_never_built(api, where, price):
    payload = shopify_payload([("MUG", 1, "12.50")])
    if where == "price":
        payload["line_items"][0]["price"] = price
    else:
        payload[where] = price
    response = _shopify(api, payload)
    assert response.status_code == 422, response.text


@pytest.mark.parametrize(
    ("name", "raw"),
    [
        ("NaN", b'{"id": 1, "total_price": NaN}'),
        ("Infinity", b'{"id": 1, "total_price": -Infinity}'),
        ("a 5000-digit integer", b'{"id": ' + b"9" * 5000 + b"}"),
        ("nested too deeply", b'{"id": 1, "x": ' + b"[" * 20_000 + b"]" * 20_000 + b"}"),
    ],
)
def test_json_no_parser_should_take_is_400(api, name, raw):
    response = _shopify(api, raw)
    assert response.status_code == 400, response.text
    assert response.json()["detail"].startswith("malformed JSON")


@pytest.mark.parametrize(
    ("name", "raw"),
    [
        ("an integer of 5000 digits", b'{"id": ' + b"9" * 5000 + b"}"),
        ("a lone surrogate", json.dumps({"id": 7, "note": "\ud800"}).encode()),
        ("a NUL byte, not JSON", b'{"id": 7, "note": "\x00"'),
    ],
)
def test_the_audit_keeps_a_body_no_parser_or_database_takes_as_it_is(api, database, name, raw):
    assert _shopify(api, raw).status_code in (400, 422)
    with database.session() as session:
        [kept] = session.scalars(select(ChannelMessage))
    assert kept.outcome.startswith("rejected: ")
    assert "\x00" not in kept.body


def test_coordinates_that_are_not_numbers_on_earth_are_422(api):
    payload = shopify_payload([("MUG", 1, "12.50")])
    raw = json.dumps(payload).replace('"city": "Amsterdam"', '"city": "Amsterdam", "latitude": 1e400').encode()
    response = _shopify(api, raw)
    assert response.status_code == 422, response.text
    assert "latitude" in response.json()["detail"]["message"]


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("post", "/locations", {"location_id": "AMS", "name": "Amsterdam\u0000", "kind": "warehouse", "country": "NL"}),
        ("put", "/catalogue/MUG", {"name": "Mug\u0000"}),
        ("put", "/catalogue/MUG", {"name": "Mug", "listings": {"bol": "\u0000"}}),
        ("put", "/channels/shopify", {"sells_from": ["\u0000"]}),
        ("put", "/channels/shopify", {"routing": {"rules": [{"name": "\u0000"}]}}),
    ],
)
def test_text_the_database_refuses_is_a_4xx_never_a_500(api, database, method, path, body):
    # PostgreSQL takes no NUL in text (SQLite does): whichever engine refuses a value, the client
    # hears which and that resending it unchanged cannot succeed.
    response = getattr(api, method)(path, json=body, headers=STAFF)
    if database.kind == "postgresql":
        assert response.status_code == 422, response.text
        assert response.json()["detail"]["message"].startswith("the database refused")
    else:
        assert response.status_code < 300, response.text


@pytest.mark.parametrize("days", [99999999999999999999, 3651])
def test_a_backorder_deadline_no_clock_can_reach_is_422(api, days):
    # Accepted, it reached the order workflow, whose `now + timedelta(days=...)` overflowed on every
    # workflow task: the order stuck, invisibly.
    response = api.put("/channels/shopify", json={"routing": {"auto_cancel_after_days": days}}, headers=STAFF)
    assert response.status_code == 422, response.text
    assert "auto_cancel_after_days" in response.json()["detail"]["message"]
    assert api.put("/channels/shopify", json={"routing": {"auto_cancel_after_days": 3650}}, headers=STAFF).is_success


# --- NUL in URLs ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "/orders/%00",
        "/orders/a%00b/messages",
        "/orders?channel=%00",
        "/orders?sku=%00",
        "/shipments?location_id=%00",
        "/shipments/%00",
        "/escalations?location_id=%00",
        "/inventory/%00",
        "/inventory?location_id=%00",
        "/inventory?sku=%00",
        "/kpis?channel=%00",
        "/catalogue/%00",
        "/channels/%00",
    ],
)
def test_a_nul_in_the_url_is_400(api, path):
    response = api.get(path, headers=STAFF)
    assert response.status_code == 400, response.text
    assert "NUL" in response.json()["detail"]


# --- body size ------------------------------------------------------------------------------------


def test_a_webhook_body_past_its_cap_is_413_and_under_it_is_read(api):
    big = shopify_payload([("MUG", 1, "12.50")])
    big["note"] = "x" * WEBHOOK_LIMIT
    assert _shopify(api, big).status_code == 413
    fits = shopify_payload([("MUG", 1, "12.50")])
    fits["note"] = "x" * (WEBHOOK_LIMIT - len(json.dumps(fits)) - 20)
    assert _shopify(api, fits).status_code == 202  # read, valid, and taken (Temporal is not needed for it)


def test_any_other_body_past_its_cap_is_413(api):
    order = _order(reference="x" * BODY_LIMIT)
    assert api.post("/orders", json=order, headers=STAFF).status_code == 413
    location = {"location_id": "AMS", "name": "x" * BODY_LIMIT, "kind": "warehouse", "country": "NL"}
    assert api.post("/locations", json=location, headers=STAFF).status_code == 413
    form = {"token": "x" * BODY_LIMIT, "next": "/dashboard"}
    assert api.post("/dashboard/login", data=form).status_code == 413


def test_a_chunked_webhook_body_is_413_without_a_content_length(api):
    def chunks() -> Iterator[bytes]:
        for _ in range(8):
            yield b"0" * (WEBHOOK_LIMIT // 4)

    response = api.post("/webhooks/shopify", content=chunks(), headers={"X-Shopify-Hmac-Sha256": "x"})
    assert response.status_code == 413, response.text


class _Upload:
    """A request body as `curl -T /dev/zero` sends it, counting what the app asked for. It ends
    after `most` bytes, so an app that takes it all (no cap) fails the test instead of the machine."""

    def __init__(self, chunk: int, most: int = 8 * 2**20) -> None:
        self.chunk = chunk
        self.most = most
        self.sent = 0

    async def receive(self) -> dict:
        self.sent += self.chunk
        return {"type": "http.request", "body": b"\0" * self.chunk, "more_body": self.sent < self.most}


async def _call(app, path: str, upload: _Upload, headers: list[tuple[bytes, bytes]]) -> list[dict]:
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"test"), *headers],
        "client": ("127.0.0.1", 1),
        "server": ("test", 80),
    }
    sent: list[dict] = []

    async def send(message: dict) -> None:
        sent.append(message)

    await asyncio.wait_for(app(scope, upload.receive, send), timeout=30)
    return sent


@pytest.fixture
async def running_app(database) -> AsyncIterator[object]:
    app = create_app(_settings(database))
    async with app.router.lifespan_context(app):
        yield app


@pytest.mark.parametrize(
    ("path", "headers"),
    [
        ("/webhooks/shopify", [(b"transfer-encoding", b"chunked")]),
        ("/webhooks/woocommerce", [(b"content-length", b"10")]),  # a Content-Length that lies
        ("/orders", [(b"authorization", f"Bearer {TOKEN}".encode())]),
    ],
)
async def test_an_endless_upload_is_cut_off_at_the_cap(running_app, path, headers):
    upload = _Upload(chunk=8 * 1024)
    sent = await _call(running_app, path, upload, headers)
    start = next(message for message in sent if message["type"] == "http.response.start")
    assert start["status"] == 413
    assert (b"connection", b"close") in start["headers"]
    limit = WEBHOOK_LIMIT if path.startswith("/webhooks/") else BODY_LIMIT
    assert upload.sent <= limit + upload.chunk  # it stopped reading one chunk past the cap


async def test_a_declared_length_past_the_cap_is_refused_before_reading(running_app):
    upload = _Upload(chunk=8 * 1024)
    headers = [(b"content-length", str(WEBHOOK_LIMIT + 1).encode())]
    sent = await _call(running_app, "/webhooks/shopify", upload, headers)
    assert sent[0]["status"] == 413 and upload.sent == 0


# --- the same through a real server: `curl -T /dev/zero` ------------------------------------------


@pytest.fixture
def server(sqlite_database) -> Iterator[int]:
    port = free_port()
    config = uvicorn.Config(create_app(_settings(sqlite_database)), host="127.0.0.1", port=port, log_level="warning")
    running = uvicorn.Server(config)
    thread = threading.Thread(target=running.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not running.started and time.monotonic() < deadline:
        time.sleep(0.05)
    yield port
    running.should_exit = True
    thread.join(10)


def _endless_upload(port: int, head: bytes, *, most: int = 48 * 2**20) -> tuple[bytes, int]:
    """Send a chunked body of zeros until the server answers and closes (or `most` bytes went):
    what it answered, and how much was sent before it closed."""
    chunk = b"%x\r\n" % 65536 + b"\0" * 65536 + b"\r\n"
    answer, sent = b"", 0
    with socket.create_connection(("127.0.0.1", port), timeout=10) as connection:
        connection.sendall(head + b"Transfer-Encoding: chunked\r\n\r\n")
        try:
            while sent < most:
                connection.sendall(chunk)
                sent += 65536
                connection.setblocking(False)
                try:
                    answer += connection.recv(65536)
                except BlockingIOError:
                    pass
                finally:
                    connection.setblocking(True)
        except OSError:
            pass  # the server closed the connection: what we want
        connection.settimeout(5)
        try:
            while data := connection.recv(65536):
                answer += data
        except OSError:
            pass
    return answer, sent


@pytest.mark.parametrize(
    ("head", "status"),
    [
        (b"POST /webhooks/shopify HTTP/1.1\r\nHost: oms\r\n", b"413"),
        (b"POST /orders HTTP/1.1\r\nHost: oms\r\nAuthorization: Bearer " + TOKEN.encode() + b"\r\n", b"413"),
        (b"POST /orders HTTP/1.1\r\nHost: oms\r\n", b"401"),  # answered without reading: closed too
    ],
)
def test_a_real_server_cuts_an_endless_upload_off(server, head, status):
    answer, sent = _endless_upload(server, head)
    assert answer.startswith(b"HTTP/1.1 " + status), answer[:200]
    assert b"connection: close" in answer.lower()
    assert sent < 24 * 2**20  # closed after the cap and the sockets' buffers, not after all of it


@pytest.mark.parametrize(
    ("where", "field"),
    [("title", "lines[1].title"), ("sku", "lines[1].sku"), ("name", "reference"), ("address1", "line1")],
)
def test_a_nul_in_an_orders_text_is_422_on_both_engines(api, where, field):
    # A 202 is a promise: PostgreSQL's text and jsonb hold no NUL, so an order carrying one could
    # never be recorded there (SQLite would take it): refused at the edge on either engine.
    payload = shopify_payload([("MUG", 1, "12.50")])
    if where in ("title", "sku"):
        payload["line_items"][0][where] += "\u0000"
    elif where == "name":
        payload["name"] += "\u0000"
    else:
        payload["shipping_address"][where] += "\u0000"
    response = _shopify(api, json.dumps(payload).encode())
    assert response.status_code == 422, response.text
    assert field in response.json()["detail"]["message"] and "NUL" in response.json()["detail"]["message"]


def test_a_nul_in_a_canonical_orders_text_is_422(api):
    order = {
        "channel": "webshop",
        "external_id": "NUL-1",
        "currency": "EUR",
        "lines": [{"sku": "MUG", "quantity": 1, "unit_price": {"amount_minor": 1250, "currency": "EUR"}}],
        "shipping_address": {"name": "Sam\u0000", "country": "NL"},
        "payment_collected": True,
    }
    response = api.post("/orders", json=order, headers=STAFF)
    assert response.status_code == 422, response.text
    assert "shipping_address.name: contains a NUL character" in response.json()["detail"]["message"]
