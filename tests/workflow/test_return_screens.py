"""The return screens on a real worker, Temporal and both databases: a customer asks for a return from
the tracking page (nothing personal on it), support approves it on the dashboard (the label is asked
then, once), the returns desk of the location finds the parcel by a scanned RMA, receives it line by
line and disposes of it as suggested: the good unit is back on the shelf, the damaged one scrapped,
the refund paid. With auto-approve on, the customer's request is REQUESTED at once and its Sendcloud
label is made once and served on the customer's own link."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import httpx
from fastapi.testclient import TestClient
from sqlalchemy import select

from contracts.returns import ReturnAccepted
from domain.staff import Role, StaffMember
from persistence.models import ReturnRecord
from persistence.read_model import return_labels
from sandboxes import sendcloud as sandbox
from services.tracking import make_token
from tests.factories import add_location, next_id, stock
from tests.integration.screens import as_member, form_token
from tests.workflow.conftest import Engine, api_client, event_kinds, on_hand, refunded, running_engine, until
from tests.workflow.histories import record_history
from tests.workflow.test_return_labels import TOKEN as LABELS_TOKEN
from tests.workflow.test_return_labels import _shipped_with_a_sendcloud_label
from tests.workflow.test_return_labels import sendcloud_url as sendcloud_url  # the fixture

TOKEN = LABELS_TOKEN  # the Sendcloud journey's shipment steps are sent with it
STAFF = {"Authorization": f"Bearer {TOKEN}"}
PERSONAL = ("Sam Tester", "Damrak", "sam@example.org", "1012 LG")
WAREHOUSE_AMS = StaffMember("user-wh", "piet@shop.example", Role.WAREHOUSE, frozenset({"AMS"}))
WAREHOUSE_RTM = StaffMember("user-rtm", "ria@shop.example", Role.WAREHOUSE, frozenset({"RTM"}))


async def _do(call: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """A blocking call (the in-process API, the sandbox) off the event loop the worker runs on."""
    return await asyncio.to_thread(call, *args, **kwargs)


def _order() -> dict[str, Any]:
    return {
        "channel": "webshop",
        "external_id": f"RS-{next_id()}",
        "currency": "EUR",
        "customer_email": "sam@example.org",
        "lines": [
            {"sku": "TEE", "quantity": 3, "unit_price": {"amount_minor": 1000, "currency": "EUR"}},
            {"sku": "MUG", "quantity": 1, "unit_price": {"amount_minor": 1250, "currency": "EUR"}},
        ],
        "total": {"amount_minor": 4250, "currency": "EUR"},
        "shipping_address": {
            "name": "Sam Tester",
            "line1": "Damrak 1",
            "postcode": "1012 LG",
            "city": "Amsterdam",
            "country": "NL",
        },
        "payment_method": "pm_card_visa",
    }


def _track_path(api: TestClient, order_id: str) -> str:
    found = api.get(f"/orders/{order_id}", headers=STAFF)
    assert found.status_code == 200, found.text
    return urlsplit(found.json()["tracking_url"]).path


def _no_personal_data(html: str) -> None:
    for fact in PERSONAL:
        assert fact not in html, fact


def _ask_as_customer(api: TestClient, track: str, units: dict[str, str], reason: str) -> httpx.Response:
    form = api.get(f"{track}/return")
    assert form.status_code == 200, form.text
    _no_personal_data(form.text)
    assert "form-action 'self'" in form.headers["content-security-policy"]
    skus, quantities = list(units), list(units.values())
    return api.post(
        f"{track}/return",
        data={
            "form_token": form_token(form.text),
            "sku": skus,
            "quantity": quantities,
            "reason": reason,
            "note": "too small",
        },
        follow_redirects=False,
    )


def _return_of(engine: Engine, order_id: str) -> ReturnRecord:
    with engine.db.session() as session:
        record = session.scalar(select(ReturnRecord).where(ReturnRecord.order_id == order_id))
        assert record is not None
        session.expunge(record)
        return record


def _as(api: TestClient, member: StaffMember | None) -> str:
    """The person on the dashboard's pages from now on (None: whoever the cookie signs in); their form token."""
    if member is None:
        api.app.dependency_overrides.clear()  # type: ignore[attr-defined]
        return ""
    as_member(api.app, member, f"session-{member.user_id}", f"form-{member.user_id}")  # type: ignore[arg-type]
    return f"form-{member.user_id}"


async def test_a_customer_return_goes_through_support_and_the_returns_desk_to_the_shelf_and_the_refund(
    temporal_client, database
):
    async with running_engine(temporal_client, database) as engine:
        add_location(database.session_factory, "AMS")
        add_location(database.session_factory, "RTM")
        stock(database.session_factory, "AMS", {"TEE": 10, "MUG": 5})
        with api_client(engine, TOKEN) as api:
            api.follow_redirects = False  # a browser's post/redirect/get, each step seen
            placed = await _do(api.post, "/orders", json=_order(), headers=STAFF)
            assert placed.status_code == 202, placed.text
            order_id = placed.json()["order_id"]
            await engine.wait_for_status(order_id, "SHIPPED")
            await until(lambda: on_hand(engine, "AMS", "TEE") == 7, "the tees left AMS")
            track = await _do(_track_path, api, order_id)

            # The customer: the tracking page offers the return, the form takes it, the answer is the RMA.
            page = await _do(api.get, track)
            assert page.status_code == 200 and 'id="return-link"' in page.text
            _no_personal_data(page.text)
            too_many = await _do(_ask_as_customer, api, track, {"TEE": "4", "MUG": "0"}, "does not fit")
            assert too_many.status_code == 422 and "only 3 of TEE can come back" in too_many.text
            asked = await _do(_ask_as_customer, api, track, {"TEE": "2", "MUG": "0"}, "does not fit")
            assert asked.status_code == 303, asked.text
            answer = await _do(api.get, asked.headers["location"])
            record = _return_of(engine, order_id)
            assert record.state == "AWAITING_APPROVAL" and record.source == "customer"
            assert record.rma and record.rma in answer.text and "look at your request" in answer.text
            assert record.reason == "does not fit: too small" and record.lines == {"TEE": 2}
            _no_personal_data(answer.text)
            with database.session() as session:
                assert return_labels.return_label_for(session, record.return_id) is None  # none before approval

            # Support: the list filtered to what waits for them, the return's page, approve.
            signed = await _do(
                api.post, "/dashboard/login", data={"token": TOKEN, "next": "/dashboard"}, follow_redirects=False
            )
            assert signed.status_code == 303
            waiting = await _do(api.get, "/dashboard/returns?state=AWAITING_APPROVAL")
            assert waiting.status_code == 200 and record.rma in waiting.text
            assert record.rma not in (await _do(api.get, "/dashboard/returns?state=RESOLVED")).text
            shown = await _do(api.get, f"/dashboard/returns/{record.return_id}")
            assert 'id="approve"' in shown.text and "does not fit: too small" in shown.text
            approved = await _do(
                api.post,
                f"/dashboard/returns/{record.return_id}/approve",
                data={"form_token": form_token(shown.text)},
                follow_redirects=False,
            )
            assert approved.status_code == 303, approved.text
            after = await _do(api.get, approved.headers["location"])
            assert "approved: the RMA is issued" in after.text and 'id="state">REQUESTED' in after.text
            assert "by admin token" in after.text  # who did what

            def no_label_step() -> bool:
                with database.session() as session:
                    view = return_labels.return_label_for(session, record.return_id)
                return view is not None and view.status == "none"

            await until(no_label_step, "the label step ran at REQUESTED (no carrier here: the customer ships it)")

            # The returns desk at AMS: the parcel is expected there, found by a scanned RMA, received.
            token = _as(api, WAREHOUSE_AMS)
            assert (await _do(api.get, "/dashboard/returns")).status_code == 403  # support's list is not theirs
            desk = await _do(api.get, "/dashboard/returns-desk")
            assert desk.status_code == 200 and record.rma in desk.text and 'href="/dashboard/returns-desk"' in desk.text
            scanned = record.rma.lower().replace("-", " ").removeprefix("rma ")
            found = await _do(api.post, "/dashboard/returns-desk/find", data={"form_token": token, "rma": scanned})
            assert found.status_code == 303 and found.headers["location"].endswith(record.return_id)
            receive_form = await _do(api.get, found.headers["location"])
            assert 'id="receive"' in receive_form.text and 'id="dispose"' not in receive_form.text
            wrong_place = await _do(
                api.post,
                f"/dashboard/returns-desk/{record.return_id}/receive",
                data={
                    "form_token": token,
                    "location_id": "RTM",
                    "sku": ["TEE"],
                    "quantity": ["2"],
                    "condition": ["as_new"],
                },
            )
            assert wrong_place.status_code == 403
            too_many_in = await _do(
                api.post,
                f"/dashboard/returns-desk/{record.return_id}/receive",
                data={
                    "form_token": token,
                    "location_id": "AMS",
                    "sku": ["TEE"],
                    "quantity": ["3"],
                    "condition": ["as_new"],
                },
            )
            assert too_many_in.status_code == 422 and "refused:" in too_many_in.text  # the workflow's words
            received = await _do(
                api.post,
                f"/dashboard/returns-desk/{record.return_id}/receive",
                data={
                    "form_token": token,
                    "location_id": "AMS",
                    "sku": ["TEE", "TEE"],
                    "quantity": ["1", "1"],
                    "condition": ["as_new", "damaged"],
                },
            )
            assert received.status_code == 303, received.text
            dispose_form = await _do(api.get, received.headers["location"])
            assert 'id="dispose"' in dispose_form.text and 'value="returned damaged"' in dispose_form.text
            assert record.rma in (await _do(api.get, "/dashboard/returns-desk")).text  # waiting for its disposition

            # Someone at RTM neither sees it nor may dispose of it.
            other = _as(api, WAREHOUSE_RTM)
            assert record.rma not in (await _do(api.get, "/dashboard/returns-desk")).text
            assert (await _do(api.get, f"/dashboard/returns-desk/{record.return_id}")).status_code == 403
            refused = await _do(
                api.post,
                f"/dashboard/returns-desk/{record.return_id}/dispose",
                data={
                    "form_token": other,
                    "sku": ["TEE"],
                    "quantity": ["2"],
                    "disposition": ["restock"],
                    "reason": [""],
                },
            )
            assert refused.status_code == 403

            # As suggested: the good tee back on the shelf, the damaged one scrapped with its reason.
            token = _as(api, WAREHOUSE_AMS)
            disposed = await _do(
                api.post,
                f"/dashboard/returns-desk/{record.return_id}/dispose",
                data={
                    "form_token": token,
                    "sku": ["TEE", "TEE"],
                    "quantity": ["1", "1"],
                    "disposition": ["restock", "scrap"],
                    "reason": ["", "returned damaged"],
                },
            )
            assert disposed.status_code == 303, disposed.text
            settled = await until(lambda: _return_of(engine, order_id).state == "RESOLVED", "the return settled")
            assert settled
            assert on_hand(engine, "AMS", "TEE") == 8
            done = _return_of(engine, order_id)
            assert done.status == "REFUNDED" and done.refund_minor > 0
            assert refunded(engine, order_id) == done.refund_minor
            _as(api, None)
            final = await _do(api.get, f"/dashboard/returns/{record.return_id}")
            assert 'id="state">RESOLVED' in final.text and "returned damaged" in final.text
            assert "Refunded" in (await _do(api.get, track)).text
    kinds = event_kinds(engine, order_id)
    assert kinds.count("return_without_label") == 1
    assert kinds.count("return_awaiting_approval") == 1 and kinds.count("return_approved") == 1


async def test_with_auto_approve_the_customers_request_is_requested_at_once_and_labelled_once(
    temporal_client, database, sendcloud_url
):
    settings = {
        "sendcloud_public_key": sandbox.PUBLIC_KEY,
        "sendcloud_secret_key": sandbox.SECRET_KEY,
        "sendcloud_api_url": sendcloud_url,
        "return_auto_approve": True,
    }
    async with running_engine(temporal_client, database, auto_confirm=False, **settings) as engine:
        with api_client(engine, TOKEN) as api:
            order_id, _ = await _shipped_with_a_sendcloud_label(engine, api)
            track = await _do(_track_path, api, order_id)
            asked = await _do(_ask_as_customer, api, track, {"A": "1"}, "changed mind")
            assert asked.status_code == 303, asked.text
            record = _return_of(engine, order_id)
            assert record.state == "REQUESTED" and record.source == "customer"
            assert "write the return number on the parcel" in (await _do(api.get, asked.headers["location"])).text

            def ready() -> bool:
                with database.session() as session:
                    view = return_labels.return_label_for(session, record.return_id)
                return view is not None and view.status == "ready"

            await until(ready, "the return label was made at REQUESTED")
            page = await _do(api.get, track)
            assert "Download your return label" in page.text and record.rma in page.text
            label = await _do(api.get, f"{track}/returns/{record.rma}/label")
            assert label.status_code == 200 and label.headers["content-type"] == "application/pdf"
            stranger = make_token(engine.settings.tracking_secret, "order-webshop-someone-else")
            assert (await _do(api.get, f"/track/{stranger}/returns/{record.rma}/label")).status_code == 404
            received = await _do(
                api.post,
                f"/returns/{record.return_id}/receive",
                json={"location_id": "AMS", "lines": [{"sku": "A", "quantity": 1}]},
                headers=STAFF,
            )
            assert received.status_code == 200, received.text
            made = (await _do(httpx.get, f"{sendcloud_url}/_sandbox/returns")).json()
            assert made["return_calls"] == 1 and made["data"][0]["external_reference"] == record.rma
            disposed = await _do(
                api.post,
                f"/returns/{record.return_id}/dispose",
                json={"lines": [{"sku": "A", "quantity": 1, "disposition": "restock"}]},
                headers=STAFF,
            )
            assert disposed.status_code == 200, disposed.text
            handle = engine.client.get_workflow_handle(record.return_id, result_type=ReturnAccepted)
            assert (await handle.result()).status == "REFUND_ON_CHANNEL"  # it came paid: the shop refunds it
            await record_history(handle, "return_labelled_when_requested")
    assert event_kinds(engine, order_id).count("return_label") == 1


async def test_support_settles_goods_handed_in_at_once_from_the_return_form(temporal_client, database):
    async with running_engine(temporal_client, database) as engine:
        add_location(database.session_factory, "AMS")
        stock(database.session_factory, "AMS", {"TEE": 10, "MUG": 5})
        with api_client(engine, TOKEN) as api:
            api.follow_redirects = False
            placed = await _do(api.post, "/orders", json=_order(), headers=STAFF)
            order_id = placed.json()["order_id"]
            await engine.wait_for_status(order_id, "SHIPPED")
            await until(lambda: on_hand(engine, "AMS", "TEE") == 7, "the tees left AMS")
            await _do(api.post, "/dashboard/login", data={"token": TOKEN, "next": "/dashboard"})
            form_path = f"/dashboard/orders/{order_id}/return"
            form = await _do(api.get, form_path)
            assert 'name="here" value="yes"' in form.text
            typed = {"form_token": form_token(form.text), "sku": ["TEE", "MUG"], "quantity": ["1", "0"]}
            created = await _do(
                api.post,
                form_path,
                data={**typed, "reason": "changed mind", "restock": "yes", "here": "yes", "action": "create"},
            )
            assert created.status_code == 303, created.text
            await until(lambda: _return_of(engine, order_id).state == "RESOLVED", "settled at once")
            assert on_hand(engine, "AMS", "TEE") == 8
            assert refunded(engine, order_id) == _return_of(engine, order_id).refund_minor == 1000
