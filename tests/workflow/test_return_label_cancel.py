"""A return label made through Sendcloud is cancelled there when its return is cancelled or
expires (patch return-label-cancel-v1), on a real worker, both databases and the Sendcloud sandbox:
once, on the timeline, and the API no longer hands the label out."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from contracts.returns import ReturnAccepted
from sandboxes import sendcloud as sandbox
from sandboxes.server import serve
from services.intake import start_order
from tests.factories import add_location, make_order, stock
from tests.workflow.conftest import Engine, api_client, event_kinds, running_engine, until
from tests.workflow.histories import record_history

TOKEN = "label-cancel-admin-token"
STAFF = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture
def sendcloud_url() -> Iterator[str]:
    with serve(sandbox.create_app()) as url:
        yield url


def _settings(url: str, **more: Any) -> dict[str, Any]:
    keys = {"sendcloud_public_key": sandbox.PUBLIC_KEY, "sendcloud_secret_key": sandbox.SECRET_KEY}
    return {**keys, "sendcloud_api_url": url, "auto_confirm": True, **more}


def _made(url: str) -> dict[str, Any]:
    answer: dict[str, Any] = httpx.get(f"{url}/_sandbox/returns").json()
    return answer


async def _labelled_return(engine: Engine, api: TestClient, url: str) -> str:
    """An order shipped with a Sendcloud label, and a return of it whose label Sendcloud made."""
    add_location(engine.db.session_factory, "AMS", address_line1="Keizersgracht 1", city="Amsterdam")
    stock(engine.db.session_factory, "AMS", {"A": 5})
    order_id, _ = await start_order(engine.client, engine.settings, make_order([("A", 2, 1500)]))
    await engine.wait_for_status(order_id, "SHIPPED")
    asked = await asyncio.to_thread(
        api.post, f"/orders/{order_id}/returns", json={"lines": [{"sku": "A", "quantity": 1}]}, headers=STAFF
    )
    assert asked.status_code == 202, asked.text
    return_id: str = asked.json()["return_id"]
    label = f"/returns/{return_id}/label"
    await until(lambda: api.get(label, headers=STAFF).status_code == 200, "the return label made")
    assert [made["parent_status"] for made in _made(url)["data"]] == ["open"]
    return return_id


async def test_a_cancelled_return_has_its_label_cancelled_at_sendcloud(temporal_client, database, sendcloud_url):
    async with running_engine(temporal_client, database, **_settings(sendcloud_url)) as engine:
        with api_client(engine, TOKEN) as api:
            return_id = await _labelled_return(engine, api, sendcloud_url)
            cancelled = await asyncio.to_thread(
                api.post, f"/returns/{return_id}/cancel", json={"reason": "kept it"}, headers=STAFF
            )
            assert cancelled.status_code == 200 and cancelled.json()["state"] == "CANCELLED", cancelled.text
            handle = engine.client.get_workflow_handle(return_id, result_type=ReturnAccepted)
            assert (await handle.result()).status == "CANCELLED"
            assert api.get(f"/returns/{return_id}/label", headers=STAFF).status_code == 404

        made = _made(sendcloud_url)
        assert made["cancel_calls"] == 1 and [sent["parent_status"] for sent in made["data"]] == ["cancelled"]
        order_id = return_id.removeprefix("return-").rsplit("-", 1)[0]
        kinds = event_kinds(engine, order_id)
        assert kinds.count("return_label") == 1 and kinds.count("return_label_cancelled") == 1, kinds
        await record_history(handle, "return_label_cancelled")


async def test_an_expired_return_has_its_label_cancelled_at_sendcloud(temporal_client, database, sendcloud_url):
    settings = _settings(sendcloud_url, return_expiry=timedelta(seconds=4))
    async with running_engine(temporal_client, database, **settings) as engine:
        with api_client(engine, TOKEN) as api:
            return_id = await _labelled_return(engine, api, sendcloud_url)
            order_id = return_id.removeprefix("return-").rsplit("-", 1)[0]
            await until(lambda: "return_label_cancelled" in event_kinds(engine, order_id), "the label cancelled")
            shown = (await asyncio.to_thread(api.get, f"/returns/{return_id}", headers=STAFF)).json()

        assert shown["state"] == "EXPIRED"
        made = _made(sendcloud_url)
        assert made["cancel_calls"] == 1 and [sent["parent_status"] for sent in made["data"]] == ["cancelled"]
