"""Bol.com returns over real HTTP against the local sandbox: the Returns API's shapes and errors, the
adapter's pages and handling, and handle_channel_return on both databases (once, whatever retries)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import httpx
import pytest
from sqlalchemy import select
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from activities.channel_returns import ChannelReturnActivities
from contracts.channel_returns import HandleChannelReturnInput
from contracts.errors import ErrorType
from domain.marketplace_returns import Handling, HandlingResult
from integrations.channels.bol.client import MEDIA_TYPE, BolClient
from integrations.channels.bol.returns import BolReturnDesk
from integrations.channels.errors import ChannelRateLimited, ChannelRejected, ChannelUnavailable
from persistence.models import OrderEvent
from persistence.unit_of_work import UnitOfWork
from sandboxes.bol import create_app
from sandboxes.server import serve
from tests.channels.factories import bol_client

if TYPE_CHECKING:  # imported at run time, pytest would try to collect it as a test class
    from tests.conftest import TestDatabase

REDUCED_ITEM_KEYS = {"rmaId", "orderId", "ean", "expectedQuantity", "returnReason", "handled", "processingResults"}


@pytest.fixture
def sandbox() -> Iterator[str]:
    with serve(create_app(page_size=2)) as url:
        yield url


@pytest.fixture
def client(sandbox: str) -> Iterator[BolClient]:
    client = bol_client(sandbox)
    yield client
    client.close()


def register(url: str, **spec: Any) -> dict[str, Any]:
    """A customer registers a return at bol (the sandbox's hook); the `Return` bol now shows."""
    response = httpx.post(f"{url}/_sandbox/returns", json={"orderId": "4012345678", "ean": "8712345678906", **spec})
    response.raise_for_status()
    body: dict[str, Any] = response.json()
    return body


def handlings(url: str) -> list[dict[str, Any]]:
    result: list[dict[str, Any]] = httpx.get(f"{url}/_sandbox/return-handlings").json()
    return result


def fail_next(url: str, status: int, *, retry_after: str | None = None, prefix: str = "/retailer") -> None:
    body = {"status": status, "count": 1, "retry_after": retry_after, "path_prefix": prefix}
    httpx.post(f"{url}/_sandbox/fail-next", json=body).raise_for_status()


# --- the sandbox speaks bol's Returns API ----------------------------------------------------------------------


def test_open_returns_are_listed_as_reduced_returns_oldest_first(sandbox: str, client: BolClient) -> None:
    first = register(sandbox, registrationDateTime="2026-11-02T10:00:00+01:00", quantity=2)
    second = register(sandbox, registrationDateTime="2026-11-01T10:00:00+01:00")
    listed = client.list_returns(page=1, handled=False)
    assert [r["returnId"] for r in listed] == [second["returnId"], first["returnId"]]
    assert set(listed[0]) == {"returnId", "registrationDateTime", "fulfilmentMethod", "returnItems"}
    item = listed[1]["returnItems"][0]
    assert set(item) == REDUCED_ITEM_KEYS  # no title, transport or customer details in the list
    assert item["expectedQuantity"] == 2 and item["handled"] is False
    assert set(item["returnReason"]) == {"mainReason", "detailedReason", "customerComments"}
    assert client.list_returns(page=2, handled=False) == []  # bol answers {} past the last page


def test_the_list_pages_and_filters_by_method_and_handled(sandbox: str, client: BolClient) -> None:
    for n in range(3):
        register(sandbox, registrationDateTime=f"2026-11-0{n + 1}T10:00:00+00:00")
    register(sandbox, fulfilmentMethod="FBB")
    assert len(client.list_returns(page=1, handled=False)) == 2
    assert len(client.list_returns(page=2, handled=False)) == 1
    assert client.list_returns(page=1, handled=True) == []
    assert len(client.list_returns(page=1, handled=False, fulfilment_method="FBB")) == 1


def test_a_return_seeded_as_bol_shows_it_is_listed_as_sent(sandbox: str, client: BolClient) -> None:
    ret: dict[str, Any] = {
        "returnId": "1",
        "registrationDateTime": "2016-11-14T11:06:48.423+01:00",
        "fulfilmentMethod": "FBR",
        "returnItems": [
            {
                "rmaId": "31234567",
                "orderId": "4012345678",
                "ean": "9789076174082",
                "title": "Harry Potter en de steen der wijzen",
                "expectedQuantity": 1,
                "returnReason": {
                    "mainReason": "Niet naar verwachting",
                    "detailedReason": "Niet naar verwachting",
                    "customerComments": "Lorem Ipsum",
                },
                "handled": False,
                "processingResults": [],
            }
        ],
    }
    assert httpx.post(f"{sandbox}/_sandbox/returns", json=ret).status_code == 201
    assert httpx.post(f"{sandbox}/_sandbox/returns", json={**ret, "returnId": "2"}).status_code == 409  # same rma
    [listed] = client.list_returns(page=1, handled=False)
    assert listed["returnId"] == "1" and listed["registrationDateTime"] == ret["registrationDateTime"]
    item = listed["returnItems"][0]
    assert (item["rmaId"], item["expectedQuantity"]) == ("31234567", 1)
    assert item["returnReason"] == ret["returnItems"][0]["returnReason"]


def test_the_detail_shows_the_whole_return_item(sandbox: str, client: BolClient) -> None:
    ret = register(sandbox, title="Tee")
    detail = client.get_return(ret["returnId"])
    assert detail["returnItems"][0]["title"] == "Tee"
    assert "customerDetails" in detail["returnItems"][0] and "trackAndTrace" in detail["returnItems"][0]
    with pytest.raises(ChannelRejected, match="404"):
        client.get_return("999")


def test_handling_an_rma_is_accepted_then_shown_handled(sandbox: str, client: BolClient) -> None:
    rma = register(sandbox, quantity=2)["returnItems"][0]["rmaId"]
    status = client.handle_return(rma, "RETURN_RECEIVED", 2)
    assert status["eventType"] == "HANDLE_RETURN" and status["status"] == "PENDING"
    assert status["entityId"] == rma
    assert client.process_status(status["processStatusId"])["status"] == "SUCCESS"
    handled = client.list_returns(page=1, handled=True)[0]["returnItems"][0]
    assert handled["handled"] is True
    assert handled["processingResults"][-1]["handlingResult"] == "RETURN_RECEIVED"
    assert handlings(sandbox) == [{"rmaId": rma, "handlingResult": "RETURN_RECEIVED", "quantityReturned": 2}]


def test_bol_refuses_the_same_handling_twice_but_takes_a_change(sandbox: str, client: BolClient) -> None:
    rma = register(sandbox)["returnItems"][0]["rmaId"]
    client.handle_return(rma, "RETURN_RECEIVED", 1)
    with pytest.raises(ChannelRejected, match="already handled"):
        client.handle_return(rma, "RETURN_RECEIVED", 1)
    client.handle_return(rma, "RETURN_DOES_NOT_MEET_CONDITIONS", 1)  # bol lets a handling be changed
    assert len(handlings(sandbox)) == 2


@pytest.mark.parametrize(
    ("body", "violation"),
    [
        ({"handlingResult": "REFUNDED", "quantityReturned": 1}, "handlingResult"),
        ({"handlingResult": "RETURN_RECEIVED", "quantityReturned": 0}, "quantityReturned"),
        ({"handlingResult": "RETURN_RECEIVED", "quantityReturned": 10_000}, "quantityReturned"),
        ({"handlingResult": "RETURN_RECEIVED"}, "quantityReturned"),
    ],
)
def test_a_handling_outside_bols_spec_is_a_400_problem(
    sandbox: str, client: BolClient, body: dict[str, Any], violation: str
) -> None:
    rma = register(sandbox)["returnItems"][0]["rmaId"]
    with pytest.raises(ChannelRejected, match=violation):
        client.request("PUT", f"/retailer/returns/{rma}", body=body)


def test_an_unknown_rma_is_not_found(client: BolClient) -> None:
    with pytest.raises(ChannelRejected, match="404"):
        client.handle_return("12345", "RETURN_RECEIVED", 1)


def test_the_media_type_is_bols(sandbox: str, client: BolClient) -> None:
    token = client._api.http.auth
    rma = register(sandbox)["returnItems"][0]["rmaId"]
    body = {"handlingResult": "RETURN_RECEIVED", "quantityReturned": 1}
    with httpx.Client(auth=token) as raw:
        refused = raw.put(
            f"{sandbox}/retailer/returns/{rma}", json=body, headers={"Accept": MEDIA_TYPE}
        )  # Content-Type: application/json
    assert refused.status_code == 415
    assert refused.json()["type"] == "https://api.bol.com/problems"


def test_a_return_created_by_the_retailer(sandbox: str, client: BolClient) -> None:
    order = {
        "orderId": "4099",
        "orderItems": [{"orderItemId": "7001", "quantity": 1, "quantityShipped": 1, "product": {"ean": "871"}}],
    }
    httpx.post(f"{sandbox}/_sandbox/orders", json=order).raise_for_status()
    status = client.create_return("7001", 1, "RETURN_RECEIVED")
    assert status["eventType"] == "CREATE_RETURN"
    created = client.get_return(status["entityId"])["returnItems"][0]
    assert created["orderId"] == "4099" and created["handled"] is True
    failed = client.create_return("no-such-item", 1, "RETURN_RECEIVED")  # accepted, processed later
    with pytest.raises(ChannelRejected, match="order item not found"):
        client.process_status(failed["processStatusId"])


def test_429_with_retry_after_and_outages(sandbox: str, client: BolClient) -> None:
    fail_next(sandbox, 429, retry_after="7")
    with pytest.raises(ChannelRateLimited) as caught:
        client.list_returns(page=1, handled=False)
    assert caught.value.retry_after == 7.0
    fail_next(sandbox, 503)
    with pytest.raises(ChannelUnavailable):
        client.handle_return("1", "RETURN_RECEIVED", 1)
    assert client.list_returns(page=1, handled=False) == []


# --- the adapter ------------------------------------------------------------------------------------------------


def test_the_desk_lists_open_items_of_returns_with_several(sandbox: str, client: BolClient) -> None:
    ret = register(sandbox, items=[{"ean": "871", "quantity": 1}, {"ean": "872", "quantity": 3}])
    desk = BolReturnDesk(client)
    page = desk.returns_page(1)
    assert [item.external_rma for item in page.items] == [i["rmaId"] for i in ret["returnItems"]]
    assert {item.external_return_id for item in page.items} == {ret["returnId"]}
    assert page.more is True and desk.returns_page(2).more is False
    desk.handle(ret["returnItems"][0]["rmaId"], Handling(HandlingResult.RETURN_RECEIVED, 1))
    assert [item.external_rma for item in desk.returns_page(1).items] == [ret["returnItems"][1]["rmaId"]]


def test_handling_again_after_bol_took_it_is_done(sandbox: str, client: BolClient) -> None:
    rma = register(sandbox)["returnItems"][0]["rmaId"]
    desk = BolReturnDesk(client)
    desk.handle(rma, Handling(HandlingResult.RETURN_RECEIVED, 1))
    desk.handle(rma, Handling(HandlingResult.RETURN_RECEIVED, 1))  # the answer was lost: a retry
    assert len(handlings(sandbox)) == 1


def test_an_rma_bol_does_not_know_stays_refused(client: BolClient) -> None:
    with pytest.raises(ChannelRejected):
        BolReturnDesk(client).handle("424242", Handling(HandlingResult.RETURN_RECEIVED, 1))


# --- handle_channel_return, on both databases --------------------------------------------------------------------


def handle_input(rma: str, received: dict[str, int], return_id: str = "RMA-TEST-1") -> HandleChannelReturnInput:
    return HandleChannelReturnInput(
        channel="bol",
        order_id="order-bol-4012345678",
        return_id=return_id,
        external_rma=rma,
        received=received,
        sellable={sku: n for sku, n in received.items()},
        short={},
        at=datetime(2026, 12, 7, 12, tzinfo=UTC),
    )


def timeline(db: TestDatabase, kind: str = "return_handled_on_channel") -> list[str]:
    with UnitOfWork(db.session_factory) as uow:
        events = uow.session.scalars(select(OrderEvent).where(OrderEvent.kind == kind).order_by(OrderEvent.id))
        return [event.detail for event in events]


def test_handle_channel_return_puts_once_and_notes_it(sandbox: str, client: BolClient, database: TestDatabase) -> None:
    rma = register(sandbox, quantity=2)["returnItems"][0]["rmaId"]
    activities = ChannelReturnActivities(database.session_factory, {"bol": BolReturnDesk(client)}, None)
    env = ActivityEnvironment()
    env.run(activities.handle_channel_return, handle_input(rma, {"TEE-S": 2}))
    env.run(activities.handle_channel_return, handle_input(rma, {"TEE-S": 2}))  # a retry: stored, nothing sent
    assert handlings(sandbox) == [{"rmaId": rma, "handlingResult": "RETURN_RECEIVED", "quantityReturned": 2}]
    assert timeline(database) == [f"RMA-TEST-1: bol rma {rma} handled as RETURN_RECEIVED x 2"]


def test_a_retry_after_bol_took_it_but_before_we_noted_it(
    sandbox: str, client: BolClient, database: TestDatabase
) -> None:
    rma = register(sandbox)["returnItems"][0]["rmaId"]
    client.handle_return(rma, "RETURN_RECEIVED", 1)  # the first attempt reached bol, then the worker died
    activities = ChannelReturnActivities(database.session_factory, {"bol": BolReturnDesk(client)}, None)
    ActivityEnvironment().run(activities.handle_channel_return, handle_input(rma, {"TEE-S": 1}))
    assert len(handlings(sandbox)) == 1
    assert len(timeline(database)) == 1


def test_nothing_received_is_not_sent_to_bol(sandbox: str, client: BolClient, database: TestDatabase) -> None:
    rma = register(sandbox)["returnItems"][0]["rmaId"]
    activities = ChannelReturnActivities(database.session_factory, {"bol": BolReturnDesk(client)}, None)
    ActivityEnvironment().run(activities.handle_channel_return, handle_input(rma, {}))
    assert handlings(sandbox) == []
    assert timeline(database) == [f"RMA-TEST-1: nothing received, bol rma {rma} left open at bol"]


def test_rate_limits_and_outages_are_retried_by_temporal(
    sandbox: str, client: BolClient, database: TestDatabase
) -> None:
    rma = register(sandbox)["returnItems"][0]["rmaId"]
    activities = ChannelReturnActivities(database.session_factory, {"bol": BolReturnDesk(client)}, None)
    fail_next(sandbox, 429, retry_after="9")
    with pytest.raises(ApplicationError) as caught:
        ActivityEnvironment().run(activities.handle_channel_return, handle_input(rma, {"TEE-S": 1}))
    assert caught.value.type == ErrorType.CHANNEL_RATE_LIMITED and not caught.value.non_retryable
    assert caught.value.next_retry_delay is not None and caught.value.next_retry_delay.total_seconds() == 9
    fail_next(sandbox, 503)
    with pytest.raises(ApplicationError) as outage:
        ActivityEnvironment().run(activities.handle_channel_return, handle_input(rma, {"TEE-S": 1}))
    assert outage.value.type == ErrorType.CHANNEL_UNAVAILABLE and not outage.value.non_retryable
    assert timeline(database) == []
    ActivityEnvironment().run(activities.handle_channel_return, handle_input(rma, {"TEE-S": 1}))
    assert len(handlings(sandbox)) == 1


def test_what_bol_refuses_for_good_is_left_to_a_person_on_the_timeline(
    client: BolClient, database: TestDatabase
) -> None:
    activities = ChannelReturnActivities(database.session_factory, {"bol": BolReturnDesk(client)}, None)
    ActivityEnvironment().run(activities.handle_channel_return, handle_input("424242", {"TEE-S": 1}))
    ActivityEnvironment().run(activities.handle_channel_return, handle_input("424242", {"TEE-S": 1}))  # once
    [note] = timeline(database, "return_not_handled_on_channel")
    assert note.startswith("RMA-TEST-1: bol refused RETURN_RECEIVED x 1 for bol rma 424242 (")
    assert note.endswith("): settle it in its seller dashboard")


def test_a_channel_not_connected_here_is_left_to_a_person(database: TestDatabase) -> None:
    unconfigured = ChannelReturnActivities(database.session_factory, {}, None)
    ActivityEnvironment().run(unconfigured.handle_channel_return, handle_input("31234567", {"TEE-S": 2}))
    assert timeline(database, "return_not_handled_on_channel") == [
        "RMA-TEST-1: bol is not connected here: handle bol rma 31234567 as RETURN_RECEIVED x 2 in its seller dashboard"
    ]


def test_refused_credentials_are_retried_until_someone_fixes_them(sandbox: str, database: TestDatabase) -> None:
    rma = register(sandbox)["returnItems"][0]["rmaId"]
    wrong = bol_client(sandbox, secret="not-the-secret")
    activities = ChannelReturnActivities(database.session_factory, {"bol": BolReturnDesk(wrong)}, None)
    with pytest.raises(ApplicationError) as caught:
        ActivityEnvironment().run(activities.handle_channel_return, handle_input(rma, {"TEE-S": 1}))
    assert caught.value.type == ErrorType.CHANNEL_AUTH_FAILED and not caught.value.non_retryable
    assert "OMS_BOL_" in caught.value.message
    assert timeline(database) == [] and handlings(sandbox) == []
    wrong.close()


def test_counts_that_cannot_be_fail_the_step(client: BolClient, database: TestDatabase) -> None:
    activities = ChannelReturnActivities(database.session_factory, {"bol": BolReturnDesk(client)}, None)
    broken = handle_input("1", {"TEE-S": 1})
    broken.sellable = {"TEE-S": 2}
    with pytest.raises(ApplicationError) as caught:
        ActivityEnvironment().run(activities.handle_channel_return, broken)
    assert caught.value.non_retryable
