"""Structured logs (services.logs, services.redaction): JSON lines that parse, the order id on them,
plain `logging` calls (ours, uvicorn's, the Temporal SDK's) rendered the same way, and no personal
data or secret on any line, whether passed as a field, inside the message or in a traceback."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import structlog
from pydantic import ValidationError

from activities.log_context import order_id_of
from config import load_settings
from services.logs import configure_logging, log_format
from services.redaction import EMAIL, REDACTED, Redactor, is_personal_key, secret_values

pytestmark = pytest.mark.unit

EMAIL_ADDRESS = "jan.de.vries+shop@example.nl"
STREET = "Prinsengracht 263"
ADMIN_TOKEN = "3f9c2a7b51e04d8c-admin"
STRIPE_KEY = "sk_live_51Hx3c8f7a2bQ"


@pytest.fixture
def json_lines() -> Iterator[io.StringIO]:
    """The process's logging configured for JSON into a buffer; the root logger as it was after."""
    root = logging.getLogger()
    level, handlers = root.level, list(root.handlers)
    stream = io.StringIO()
    settings = load_settings(
        env="development", log_format="json", admin_token=ADMIN_TOKEN, stripe_secret_key=STRIPE_KEY, _env_file=None
    )
    handler = configure_logging(settings, stream=stream)
    assert isinstance(handler, logging.StreamHandler) and handler.stream is stream
    structlog.contextvars.clear_contextvars()
    yield stream
    assert handler in root.handlers
    root.handlers[:] = handlers  # whatever was there before (pytest's, an app's of an earlier test)
    root.setLevel(level)
    structlog.contextvars.clear_contextvars()
    structlog.reset_defaults()


def lines(stream: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stream.getvalue().splitlines() if line.strip()]


def test_a_plain_logging_call_comes_out_as_one_json_object_with_the_bound_order_id(json_lines: io.StringIO) -> None:
    structlog.contextvars.bind_contextvars(order_id="order-shopify-1001")
    logging.getLogger("oms.test").info("reserved %d units at %s", 3, "AMS")
    (line,) = lines(json_lines)
    assert line["event"] == "reserved 3 units at AMS"
    assert (line["level"], line["logger"], line["order_id"]) == ("info", "oms.test", "order-shopify-1001")
    assert line["timestamp"].endswith("Z")


def test_structlog_loggers_render_the_same_way(json_lines: io.StringIO) -> None:
    structlog.get_logger("oms.test").warning("late step", step="pick", customer_email=EMAIL_ADDRESS)
    (line,) = lines(json_lines)
    assert (line["event"], line["step"], line["level"]) == ("late step", "pick", "warning")
    assert line["customer_email"] == REDACTED


def test_personal_fields_and_addresses_never_reach_a_line(json_lines: io.StringIO) -> None:
    order = {
        "order_id": "order-webshop-77",
        "customer_email": EMAIL_ADDRESS,
        "shipping_address": {"name": "Jan de Vries", "line1": STREET, "city": "Amsterdam", "postcode": "1016 GV"},
        "lines": [{"sku": "MUG-LOGO", "quantity": 1}],
    }
    log = logging.getLogger("oms.test")
    log.info("took %s from %s", order["order_id"], EMAIL_ADDRESS, extra={"order": order, "phone": "+31612345678"})
    log.info("address fields: %s", order["shipping_address"])  # a dict inside the message is text by now
    text = json_lines.getvalue()
    for personal in (EMAIL_ADDRESS, "+31612345678", "Jan de Vries", STREET, "1016 GV"):
        assert personal not in text
    first, second = lines(json_lines)
    assert first["event"] == f"took order-webshop-77 from {EMAIL}"
    assert first["order"]["shipping_address"] == REDACTED and first["order"]["customer_email"] == REDACTED
    assert first["order"]["lines"] == [{"sku": "MUG-LOGO", "quantity": 1}] and first["phone"] == REDACTED
    assert second["event"].startswith(f"address fields: {{'name': '{REDACTED}', 'line1': '{REDACTED}'")
    assert "'sku': 'MUG-LOGO'" in Redactor().text(str(order["lines"]))


def test_secrets_go_whether_known_from_the_settings_or_by_their_shape(json_lines: io.StringIO) -> None:
    log = logging.getLogger("oms.test")
    log.warning("staff token %s refused", ADMIN_TOKEN)
    log.warning("stripe answered 401 for %s", STRIPE_KEY)
    log.warning("header Authorization: Bearer abc.def-ghi_jkl sent")
    log.warning("token 9b1f0c3ea24d4e7a8c5b6d7e8f9a0b1c2d3e4f5a6b7c8d9e in the query")
    log.warning("connecting to postgresql+psycopg://oms:hunter2secret@postgres/oms")
    text = json_lines.getvalue()
    for secret in (ADMIN_TOKEN, STRIPE_KEY, "abc.def-ghi_jkl", "9b1f0c3ea24d4e7a8c5b6d7e8f9a0b1c2d3e4f5a6b7c8d9e"):
        assert secret not in text
    assert "hunter2secret" not in text
    assert len(lines(json_lines)) == 5


def test_a_traceback_is_cleaned_too(json_lines: io.StringIO) -> None:
    try:
        raise ValueError(f"could not reach {EMAIL_ADDRESS}")
    except ValueError:
        logging.getLogger("oms.test").exception("delivery failed")
    (line,) = lines(json_lines)
    assert "ValueError" in line["exception"] and EMAIL_ADDRESS not in line["exception"]


def test_uvicorn_and_the_temporal_sdk_go_through_the_same_handler(
    json_lines: io.StringIO, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Earlier tests in the same process may have set these loggers' levels (a sandbox's uvicorn at
    # "warning"): what is asked here is where their records go, whatever passes their level.
    for name in ("uvicorn.error", "temporalio.workflow", "temporalio.core"):
        monkeypatch.setattr(logging.getLogger(name), "level", logging.NOTSET)
        monkeypatch.setattr(logging.getLogger(name), "disabled", False)
    logging.getLogger("uvicorn.error").info("Started server process")
    # What the SDK's workflow logger adds to a record (temporalio.workflow.LoggerAdapter).
    info = {"workflow_id": "order-bol-1234", "workflow_type": "OrderWorkflow", "run_id": "r", "attempt": 1}
    logging.getLogger("temporalio.workflow").info("held for a person", extra={"temporal_workflow": info})
    logging.getLogger("temporalio.core").warning("core says", extra={"temporal_log": object()})
    uvicorn, sdk, core = lines(json_lines)
    assert uvicorn["logger"] == "uvicorn.error"
    assert (sdk["order_id"], sdk["workflow_type"]) == ("order-bol-1234", "OrderWorkflow")
    assert "temporal_workflow" not in sdk and "temporal_log" not in core


def test_text_in_development_json_in_production_and_nothing_else() -> None:
    assert log_format(load_settings(_env_file=None)) == "text"
    assert log_format(load_settings(log_format="JSON", _env_file=None)) == "json"
    with pytest.raises(ValidationError, match="OMS_LOG_FORMAT"):
        load_settings(log_format="xml", _env_file=None)


def test_the_redactor_reads_every_credential_of_the_settings() -> None:
    settings = load_settings(
        payload_keys="k2:bm5ubm5ubm5ubm5ubm5ubm5ubm5ubm5ubm5ubm5ubnc=,k1:b29vb29vb29vb29vb29vb29vb29vb29vb29vb29vb2Q=",
        database_url="postgresql+psycopg://oms:db-pass-1234@postgres/oms",
        bol_client_secret="bol-secret-value",
        _env_file=None,
    )
    values = secret_values(settings)
    new, old = "bm5ubm5ubm5ubm5ubm5ubm5ubm5ubm5ubm5ubm5ubnc=", "b29vb29vb29vb29vb29vb29vb29vb29vb29vb29vb2Q="
    assert {new, old} <= set(values)
    assert {"db-pass-1234", "bol-secret-value"} <= set(values)
    assert "postgres" not in values and "https://api.bol.com" not in values
    redactor = Redactor(values)
    assert redactor.text("bol said bol-secret-value was wrong") == f"bol said {REDACTED} was wrong"


@pytest.mark.parametrize(
    ("key", "personal"),
    [
        ("email", True),
        ("customer_email", True),
        ("shipping_address", True),
        ("first_name", True),
        ("Phone", True),
        ("admin-token", True),
        ("order_id", False),
        ("sku", False),
        ("workflow_type", False),
        ("event", False),
    ],
)
def test_personal_keys(key: str, personal: bool) -> None:
    assert is_personal_key(key) is personal


def test_ids_paths_and_words_stay_readable() -> None:
    redactor = Redactor()
    for text in (
        "shipment-order-shopify-1795690123456-AMS",
        "persistence/guarded_writes/channel_outbox.py line 42",
        "test_the_worker_metrics_endpoint_serves_it_well",
        "EAN 8712345678906",
    ):
        assert redactor.text(text) == text


@dataclass
class _Input:
    order_id: str


@dataclass
class _Order:
    order_id: str


@dataclass
class _Record:
    order: _Order


def test_an_activity_names_its_order_from_its_input_or_its_workflow() -> None:
    assert order_id_of([_Input("order-pos-1")], "shipment-order-pos-1-AMS") == "order-pos-1"
    assert order_id_of([_Record(_Order("order-bol-2"))], "order-bol-2") == "order-bol-2"
    assert order_id_of([object()], "order-amazon-3") == "order-amazon-3"
    assert order_id_of([], "stock-feed-orders") is None
