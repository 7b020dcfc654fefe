"""The return lifecycle on a real worker and database: requested with an RMA, received (short or in
full), disposed of, refunded exactly once, at receipt or on request; rejected, cancelled, expired;
two requests never both take the last unit; a channel's own return is told back to the channel."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select
from temporalio import activity

from activities.return_lifecycle import ReturnLifecycleActivities
from contracts.channel_returns import HandleChannelReturnInput
from contracts.return_lifecycle import OpenReturnInput
from contracts.returns import ReturnAccepted, ReturnRequest, ReturnRequestLine
from domain.channels import ChannelPolicy
from domain.return_lifecycle import RefundTiming
from domain.status import OrderStatus
from persistence.master_data.channels import save_policy
from persistence.models import ReturnRecord
from persistence.read_model import orders as order_store
from persistence.read_model.returns import returned_so_far
from persistence.unit_of_work import UnitOfWork
from services.returns import priced_order
from tests.conftest import TestDatabase
from tests.factories import add_location, next_id, stock
from tests.workflow.conftest import Engine, api_client, on_hand, refunded, running_engine, until
from tests.workflow.histories import record_history
from workflows.order import OrderWorkflow

TOKEN = "lifecycle-admin-token"
STAFF = {"Authorization": f"Bearer {TOKEN}"}


async def _post(api: TestClient, path: str, body: dict[str, Any] | None = None) -> Any:
    return await asyncio.to_thread(api.post, path, json=body or {}, headers=STAFF)


async def _get(api: TestClient, path: str) -> dict[str, Any]:
    response = await asyncio.to_thread(api.get, path, headers=STAFF)
    assert response.status_code == 200, response.text
    return response.json()


def _events(engine: Engine, order_id: str) -> list[tuple[str, str]]:
    with engine.db.session() as session:
        return [(event.kind, event.detail) for event in order_store.order_events(session, order_id)]


def _order(**extra: Any) -> dict[str, Any]:
    return {
        "channel": "webshop",
        "external_id": f"LC-{next_id()}",
        "currency": "EUR",
        "lines": [
            {"sku": "TEE", "quantity": 3, "unit_price": {"amount_minor": 1000, "currency": "EUR"}},
            {"sku": "MUG", "quantity": 1, "unit_price": {"amount_minor": 1250, "currency": "EUR"}},
        ],
        "total": {"amount_minor": 3000 + 1250 + 495, "currency": "EUR"},
        "shipping": {"amount_minor": 495, "currency": "EUR"},
        "discount": None,
        "shipping_address": {"name": "Sam", "city": "Amsterdam", "country": "NL"},
        "payment_method": "pm_card_visa",
        **extra,
    }


async def _shipped_order(engine: Engine, api: TestClient) -> str:
    placed = await _post(api, "/orders", _order())
    assert placed.status_code == 202, placed.text
    order_id: str = placed.json()["order_id"]
    await engine.wait_for_status(order_id, "SHIPPED")
    await engine.wait_for_live_status(order_id, OrderStatus.SHIPPED)
    return order_id


def _stocked(database: TestDatabase) -> None:
    add_location(database.session_factory, "AMS")
    add_location(database.session_factory, "RTM")
    stock(database.session_factory, "AMS", {"TEE": 10, "MUG": 5})


async def test_requested_received_short_disposed_and_refunded_at_receipt(temporal_client, database):
    async with running_engine(temporal_client, database) as engine:
        _stocked(database)
        with api_client(engine, TOKEN) as api:
            order_id = await _shipped_order(engine, api)
            asked = await _post(
                api,
                f"/orders/{order_id}/returns",
                {"lines": [{"sku": "TEE", "quantity": 2}, {"sku": "MUG", "quantity": 1}], "reason": "too small"},
            )
            assert asked.status_code == 202, asked.text
            answer = asked.json()
            assert answer["status"] == "REQUESTED" and answer["refund"]["amount_minor"] == 0
            return_id, rma = answer["return_id"], answer["rma"]
            assert return_id == f"return-{order_id}-1" and rma.startswith("RMA-") and rma.endswith("-1")

            by_rma = await _get(api, f"/returns/{rma}")
            assert (by_rma["return_id"], by_rma["state"], by_rma["lines"]) == (
                return_id,
                "REQUESTED",
                {"TEE": 2, "MUG": 1},
            )
            listed = await _get(api, "/returns?state=REQUESTED")
            assert return_id in [each["return_id"] for each in listed["data"]]

            early = await _post(
                api,
                f"/returns/{return_id}/dispose",
                {"lines": [{"sku": "TEE", "quantity": 2, "disposition": "restock"}]},
            )
            assert early.status_code == 409 and early.json()["detail"]["refusal"] == "out_of_order", early.text
            too_many = await _post(
                api, f"/returns/{return_id}/receive", {"location_id": "AMS", "lines": [{"sku": "TEE", "quantity": 3}]}
            )
            assert too_many.status_code == 422 and too_many.json()["detail"]["refusal"] == "too_many", too_many.text
            stranger = await _post(
                api, f"/returns/{return_id}/receive", {"location_id": "AMS", "lines": [{"sku": "CAP", "quantity": 1}]}
            )
            assert stranger.status_code == 422 and stranger.json()["detail"]["refusal"] == "unannounced"
            nowhere = await _post(
                api, f"/returns/{return_id}/receive", {"location_id": "NOPE", "lines": [{"sku": "TEE", "quantity": 1}]}
            )
            assert nowhere.status_code == 422 and nowhere.json()["detail"]["refusal"] == "invalid", nowhere.text
            assert refunded(engine, order_id) == 0

            received = await _post(
                api,
                f"/returns/{return_id}/receive",
                {
                    "location_id": "AMS",
                    "lines": [
                        {"sku": "TEE", "quantity": 1, "condition": "as_new"},
                        {"sku": "TEE", "quantity": 1, "condition": "damaged"},
                    ],
                },
            )
            assert received.status_code == 200, received.text
            assert received.json()["state"] == "RECEIVED"
            assert received.json()["short"] == {"MUG": 1}
            assert received.json()["received"] == {"TEE": {"as_new": 1, "damaged": 1}}
            twice = await _post(
                api, f"/returns/{return_id}/receive", {"location_id": "AMS", "lines": [{"sku": "TEE", "quantity": 1}]}
            )
            assert twice.status_code == 409 and twice.json()["detail"]["refusal"] == "out_of_order"

            not_adding_up = await _post(
                api,
                f"/returns/{return_id}/dispose",
                {"lines": [{"sku": "TEE", "quantity": 1, "disposition": "restock"}]},
            )
            assert not_adding_up.status_code == 422
            assert not_adding_up.json()["detail"]["refusal"] == "does_not_add_up"
            no_reason = await _post(
                api,
                f"/returns/{return_id}/dispose",
                {
                    "lines": [
                        {"sku": "TEE", "quantity": 1, "disposition": "restock"},
                        {"sku": "TEE", "quantity": 1, "disposition": "scrap"},
                    ]
                },
            )
            assert no_reason.status_code == 422 and no_reason.json()["detail"]["refusal"] == "invalid"
            disposed = await _post(
                api,
                f"/returns/{return_id}/dispose",
                {
                    "lines": [
                        {"sku": "TEE", "quantity": 1, "disposition": "restock"},
                        {"sku": "TEE", "quantity": 1, "disposition": "scrap", "reason": "torn seam"},
                    ]
                },
            )
            assert disposed.status_code == 200, disposed.text
            done = disposed.json()
            assert (done["state"], done["status"]) == ("RESOLVED", "REFUNDED")
            assert done["refund"] == {"amount_minor": 2000, "currency": "EUR"}  # the two that came, not the mug
            after = await _post(api, f"/returns/{return_id}/cancel")
            assert after.status_code == 409 and after.json()["detail"]["refusal"] == "finished"

        assert refunded(engine, order_id) == 2000
        assert on_hand(engine, "AMS", "TEE") == 7 + 1  # the sellable one back on the shelf
        kinds = [kind for kind, _ in _events(engine, order_id)]
        for kind in ("return_requested", "return_received", "return_disposed", "refunded", "return_resolved"):
            assert kinds.count(kind) == 1, (kind, kinds)
        details = dict(_events(engine, order_id))
        assert details["return_received"].endswith(" by admin token")
        assert "short 1 x MUG" in details["return_received"]
        assert "torn seam" in details["return_disposed"]
        handle = engine.client.get_workflow_handle(return_id, result_type=ReturnAccepted)
        assert (await handle.result()).status == "REFUNDED"
        await record_history(handle, "return_received_disposed_refunded")
        await record_history(engine.client.get_workflow_handle(order_id), "order_opened_a_return")


async def test_refunded_on_request_a_short_parcel_leaves_money_to_recover(temporal_client, database):
    async with running_engine(temporal_client, database) as engine:
        _stocked(database)
        with UnitOfWork(database.session_factory) as uow:
            save_policy(uow.session, ChannelPolicy("webshop", refund_timing=RefundTiming.ON_REQUEST))
            uow.commit()
        with api_client(engine, TOKEN) as api:
            order_id = await _shipped_order(engine, api)
            asked = await _post(api, f"/orders/{order_id}/returns", {"lines": [{"sku": "TEE", "quantity": 2}]})
            assert asked.status_code == 202, asked.text
            assert asked.json()["refund"]["amount_minor"] == 2000
            return_id = asked.json()["return_id"]
            assert await until(lambda: refunded(engine, order_id) == 2000)
            cancel = await _post(api, f"/returns/{return_id}/cancel")
            assert cancel.status_code == 409, cancel.text  # refunded already: receive it or let it expire

            received = await _post(
                api, f"/returns/{return_id}/receive", {"location_id": "AMS", "lines": [{"sku": "TEE", "quantity": 1}]}
            )
            assert received.status_code == 200, received.text
            assert received.json()["over_refunded"] == {"amount_minor": 1000, "currency": "EUR"}
            disposed = await _post(
                api,
                f"/returns/{return_id}/dispose",
                {"lines": [{"sku": "TEE", "quantity": 1, "disposition": "restock"}]},
            )
            assert disposed.json()["state"] == "RESOLVED"
            # The short unit stays refunded (owed back): it may not be refunded again by a later return.
            again = await _post(
                api, f"/orders/{order_id}/returns", {"lines": [{"sku": "TEE", "quantity": 1}], "received": True}
            )
            assert again.status_code == 201, again.text
        assert refunded(engine, order_id) == 2000 + 1000  # the third unit; never the short one twice
        with database.session() as session:
            record = session.get(ReturnRecord, return_id)
            assert record is not None and record.over_refunded_minor == 1000


async def test_rejected_and_cancelled_requests_free_their_units(temporal_client, database):
    async with running_engine(temporal_client, database, return_auto_approve=False) as engine:
        _stocked(database)
        with api_client(engine, TOKEN) as api:
            order_id = await _shipped_order(engine, api)
            handle = engine.client.get_workflow_handle(order_id)
            asked = await handle.execute_update(
                OrderWorkflow.request_return,
                ReturnRequest([ReturnRequestLine("TEE", 3)], requested_by="customer", source="customer"),
            )
            assert asked.status == "AWAITING_APPROVAL"
            taken = await _post(api, f"/orders/{order_id}/returns", {"lines": [{"sku": "TEE", "quantity": 1}]})
            assert taken.status_code == 422 and taken.json()["detail"]["refusal"] == "too_many"  # all three claimed
            rejected = await _post(api, f"/returns/{asked.return_id}/reject", {"reason": "outside policy"})
            assert rejected.status_code == 200 and rejected.json()["state"] == "REJECTED", rejected.text
            assert (await _post(api, f"/returns/{asked.return_id}/approve")).status_code == 409

            second = await _post(api, f"/orders/{order_id}/returns", {"lines": [{"sku": "TEE", "quantity": 3}]})
            assert second.status_code == 202, second.text
            cancelled = await _post(api, f"/returns/{second.json()['return_id']}/cancel", {"reason": "kept it"})
            assert cancelled.json()["state"] == "CANCELLED"
            third = await _post(api, f"/orders/{order_id}/returns", {"lines": [{"sku": "TEE", "quantity": 3}]})
            assert third.status_code == 202, third.text
            assert third.json()["rma"].endswith("-3")
        kinds = [kind for kind, _ in _events(engine, order_id)]
        assert [
            kind for kind in kinds if kind in ("return_awaiting_approval", "return_rejected", "return_cancelled")
        ] == ["return_awaiting_approval", "return_rejected", "return_cancelled"]
        assert refunded(engine, order_id) == 0


async def test_a_customer_request_is_approved_then_expires_and_is_still_received_late(temporal_client, database):
    async with running_engine(temporal_client, database, return_expiry=timedelta(seconds=3)) as engine:
        _stocked(database)
        with api_client(engine, TOKEN) as api:
            order_id = await _shipped_order(engine, api)
            handle = engine.client.get_workflow_handle(order_id)
            asked = await handle.execute_update(
                OrderWorkflow.request_return,
                ReturnRequest([ReturnRequestLine("MUG", 1)], requested_by="customer", source="customer"),
            )
            approved = await _post(api, f"/returns/{asked.return_id}/approve")
            assert approved.status_code == 200 and approved.json()["state"] == "REQUESTED", approved.text

            def expired() -> bool:
                with database.session() as session:
                    record = session.get(ReturnRecord, asked.return_id)
                    return record is not None and record.state == "EXPIRED"

            assert await until(expired, timeout=20)
            # Expired claims nothing: the mug may be asked back again.
            with database.session() as session:
                assert returned_so_far(session, order_id) == {}
            late = await _post(
                api,
                f"/returns/{asked.return_id}/receive",
                {"location_id": "AMS", "lines": [{"sku": "MUG", "quantity": 1}]},
            )
            assert late.status_code == 200 and late.json()["state"] == "RECEIVED", late.text
            disposed = await _post(
                api,
                f"/returns/{asked.return_id}/dispose",
                {"lines": [{"sku": "MUG", "quantity": 1, "disposition": "restock"}]},
            )
            assert disposed.json()["refund"]["amount_minor"] == 1250
        assert [kind for kind, _ in _events(engine, order_id)].count("return_expired") == 1


async def test_two_requests_racing_for_the_last_unit_one_wins(temporal_client, database):
    async with running_engine(temporal_client, database) as engine:
        _stocked(database)
        with api_client(engine, TOKEN) as api:
            order_id = await _shipped_order(engine, api)
        with database.session() as session:
            record = order_store.get_order(session, order_id)
            assert record is not None
            order = priced_order(record)
        assert order is not None
        steps = ReturnLifecycleActivities(database.session_factory)
        now = datetime.now(UTC)

        def open_one(n: int) -> str:
            try:
                opened = steps.open_return(
                    OpenReturnInput(
                        key=f"race-{order_id}-{n}",
                        order=order,
                        request=ReturnRequest([ReturnRequestLine("MUG", 1)]),
                        window_closes_at=now + timedelta(days=1),
                        at=now,
                    )
                )
            except Exception as exc:  # the loser's refusal
                return type(exc).__name__ + ":" + str(exc)
            return opened.return_id

        with ThreadPoolExecutor(max_workers=4) as pool:
            answers = list(pool.map(open_one, range(4)))
        won = [answer for answer in answers if answer.startswith("return-")]
        assert len(won) == 1, answers
        assert all("only 0 shipped and not yet returned" in answer for answer in answers if answer not in won)
        with database.session() as session:
            claims = session.scalars(select(ReturnRecord).where(ReturnRecord.order_id == order_id)).all()
        assert [(r.lines, r.state) for r in claims] == [({"MUG": 1}, "REQUESTED")]


@dataclass
class ChannelDesk:
    """A stand-in for the channel's return handling (H5 writes the real one): records its calls."""

    calls: list[HandleChannelReturnInput] = field(default_factory=list)

    @activity.defn(name="handle_channel_return")
    def handle_channel_return(self, data: HandleChannelReturnInput) -> None:
        self.calls.append(data)


async def test_a_channel_return_opens_once_and_is_told_back_to_the_channel(temporal_client, database):
    desk = ChannelDesk()
    async with running_engine(temporal_client, database, activities=[desk.handle_channel_return]) as engine:
        _stocked(database)
        with api_client(engine, TOKEN) as api:
            order_id = await _shipped_order(engine, api)
            returns = api.app.state.oms.services.returns  # type: ignore[attr-defined]
            request = ReturnRequest(
                [ReturnRequestLine("TEE", 2)],
                reason="bol: does not fit",
                requested_by="bol",
                source="bol",
                external_rma="86123452",
            )
            first = await returns.open_channel_return(order_id, request)
            again = await returns.open_channel_return(order_id, request)
            assert first == again
            assert first.return_id == f"return-{order_id}-bol-86123452" and first.status == "REQUESTED"
            received = await _post(
                api,
                f"/returns/{first.rma}/receive",
                {"location_id": "AMS", "lines": [{"sku": "TEE", "quantity": 1}]},
            )
            assert received.status_code == 200, received.text
            disposed = await _post(
                api,
                f"/returns/{first.return_id}/dispose",
                {"lines": [{"sku": "TEE", "quantity": 1, "disposition": "restock"}]},
            )
            assert disposed.status_code == 200 and disposed.json()["state"] == "RESOLVED", disposed.text
        [call] = desk.calls
        assert (call.channel, call.order_id, call.return_id, call.external_rma) == (
            "bol",
            order_id,
            first.return_id,
            "86123452",
        )
        assert (call.received, call.sellable, call.short) == ({"TEE": 1}, {"TEE": 1}, {"TEE": 1})
        assert disposed.json()["status"] == "REFUND_ON_CHANNEL"  # the channel settles the money
        assert refunded(engine, order_id) == 0
