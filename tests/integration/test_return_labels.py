"""A requested return's label through the carrier integration, against the Sendcloud sandbox on
SQLite and PostgreSQL: made once per return however often the step runs, Sendcloud away then back,
a label that comes late asked of the same return, a refusal final and recorded, and no label (the
customer ships it) where the order did not leave through a carrier integration. The label of a
return cancelled or expired is cancelled at Sendcloud once (`PATCH /returns/{id}/cancel`), and one
whose parcel is already on its way is recorded as not cancellable."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from activities.return_labels import ReturnLabelActivities
from api.main import create_app
from config import load_settings
from contracts.errors import ErrorType
from contracts.return_labels import CancelReturnLabelInput, ReturnLabel, ReturnLabelCancelled, ReturnLabelInput
from domain.fulfilment import ShipmentKind, ShipmentStatus
from integrations.carriers.sendcloud.carrier import SendcloudCarrier
from integrations.carriers.sendcloud.client import SendcloudClient
from persistence.models import Location, OrderEvent, OrderRecord, ShipmentLabel, ShipmentRecord
from persistence.read_model import orders as order_store
from persistence.read_model import return_labels
from persistence.read_model.labels import OUTBOUND
from persistence.unit_of_work import UnitOfWork
from sandboxes import sendcloud as sandbox
from sandboxes.server import serve
from tests.factories import add_location, make_order
from tests.integration.staff_members import ADMIN_TOKEN, Staff, make_staff

AT = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)


@pytest.fixture
def sendcloud_url() -> Iterator[str]:
    with serve(sandbox.create_app()) as url:
        yield url


def _carrier(url: str) -> SendcloudCarrier:
    client = SendcloudClient(url, sandbox.PUBLIC_KEY, sandbox.SECRET_KEY)
    return SendcloudCarrier(client, shipping_option="postnl:standard", return_option="postnl:return")


def _shipped_order(db: Any, *, labelled: bool = True, postcode: str = "1012 LG") -> str:
    """An order whose parcel left AMS (labelled by Sendcloud unless told otherwise): 2 T-shirts and a
    mug weighing 1500 g together."""
    with UnitOfWork(db.session_factory) as uow:
        known = uow.session.get(Location, "AMS") is not None
    if not known:  # make_staff adds AMS too
        add_location(db.session_factory, "AMS")
    with UnitOfWork(db.session_factory) as uow:
        location = uow.session.get(Location, "AMS")
        assert location is not None
        location.address_line1, location.city, location.email = "Keizersgracht 1", "Amsterdam", "ams@example.org"
        uow.commit()
    order = make_order([("TSHIRT-M", 2, 1500), ("MUG", 1, 900)])
    with UnitOfWork(db.session_factory) as uow:
        session = uow.session
        order_store.record_order(session, order, AT - timedelta(days=3))
        record = session.get(OrderRecord, order.order_id)
        assert record is not None
        record.shipping_address = {**record.shipping_address, "postcode": postcode}
        shipment_id = f"shipment-{order.order_id}-AMS"
        session.add(
            ShipmentRecord(
                shipment_id=shipment_id,
                order_id=order.order_id,
                location_id="AMS",
                status=ShipmentStatus.SHIPPED,
                kind=ShipmentKind.DELIVERY,
                lines={"TSHIRT-M": 2, "MUG": 1},
                parcels=1,
                parcel_weights_grams=[1500],
                carrier="postnl",
                tracking_number="3SSBX000000001",
                created_at=AT - timedelta(days=3),
            )
        )
        session.flush()
        if labelled:
            session.add(
                ShipmentLabel(
                    shipment_id=shipment_id,
                    purpose=OUTBOUND,
                    carrier="postnl",
                    tracking_number="3SSBX000000001",
                    reference="sendcloud:sbx-00000001",
                    tracking_url="",
                    media_type="application/pdf",
                    document=b"%PDF-1.4",
                    created_at=AT - timedelta(days=3),
                )
            )
        uow.commit()
    return order.order_id


def _input(order_id: str, **changes: Any) -> ReturnLabelInput:
    fields: dict[str, Any] = {
        "order_id": order_id,
        "return_id": f"return-{order_id}-1",
        "rma": "RMA-7K3QX-9PDM2-1",
        "location_id": None,
        "lines": {"TSHIRT-M": 2},
        "at": AT,
    }
    return ReturnLabelInput(**{**fields, **changes})


def _ask(db: Any, carrier: SendcloudCarrier | None, data: ReturnLabelInput) -> ReturnLabel | None:
    activities = ReturnLabelActivities(db.session_factory, carrier)
    answer: ReturnLabel | None = ActivityEnvironment().run(activities.create_return_label, data)
    return answer


def _failure(db: Any, carrier: SendcloudCarrier | None, data: ReturnLabelInput) -> ApplicationError:
    with pytest.raises(ApplicationError) as failed:
        _ask(db, carrier, data)
    return failed.value


def _events(db: Any, order_id: str) -> list[tuple[str, str]]:
    with db.session() as session:
        rows = session.execute(
            select(OrderEvent.kind, OrderEvent.detail).where(OrderEvent.order_id == order_id).order_by(OrderEvent.id)
        )
        return [(kind, detail) for kind, detail in rows if kind.startswith("return")]


def _sandbox(url: str, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
    if body is None:
        answer: dict[str, Any] = httpx.get(f"{url}/_sandbox/{path}").json()
        return answer
    httpx.post(f"{url}/_sandbox/{path}", json=body).raise_for_status()
    return {}


def _view(db: Any, return_id: str) -> return_labels.ReturnLabelView | None:
    with db.session() as session:
        return return_labels.return_label_for(session, return_id)


def test_a_return_label_is_made_once_from_the_customer_back_to_where_the_goods_left(database, sendcloud_url):
    order_id = _shipped_order(database)
    data = _input(order_id)
    label = _ask(database, _carrier(sendcloud_url), data)
    assert label is not None and label.carrier == "postnl" and label.tracking_number.startswith("3S")
    assert label.label_url == f"/returns/{data.return_id}/label"
    assert _ask(database, _carrier(sendcloud_url), data) == label  # a retried step: the same label
    made = _sandbox(sendcloud_url, "returns")
    assert made["return_calls"] == 1
    [sent] = made["data"]
    assert sent["external_reference"] == "RMA-7K3QX-9PDM2-1" and sent["order_number"] == "#T1"
    assert sent["from_address"]["postal_code"] == "1012 LG" and sent["to_address"]["name"] == "AMS site"
    assert sent["weight"] == {"value": 1.0, "unit": "kg"}  # two of the parcel's three units
    assert sent["parcel_items"] == [{"sku": "TSHIRT-M", "quantity": 2, "description": "Item TSHIRT-M"}]
    assert _events(database, order_id) == [
        ("return_label", f"return label {label.tracking_number} by Sendcloud (postnl) for RMA-7K3QX-9PDM2-1")
    ]
    view = _view(database, data.return_id)
    assert view is not None and (view.status, view.tracking_number, view.location_id) == (
        "ready",
        label.tracking_number,
        "AMS",
    )
    with database.session() as session:
        document = return_labels.label_document(session, data.return_id)
    assert document is not None and document[0].startswith(b"%PDF") and label.tracking_number.encode() in document[0]


def test_sendcloud_away_is_retried_and_the_label_comes_once_it_answers(database, sendcloud_url):
    order_id = _shipped_order(database)
    data = _input(order_id)
    _sandbox(sendcloud_url, "outage", {"down": True})
    away = _failure(database, _carrier(sendcloud_url), data)
    assert away.type == ErrorType.CARRIER_UNAVAILABLE and not away.non_retryable
    view = _view(database, data.return_id)
    assert view is not None and view.status == "pending" and "HTTP 503" in (view.problem or "")
    _sandbox(sendcloud_url, "outage", {"down": False})
    _sandbox(sendcloud_url, "fail", {"status": 429, "count": 1, "retry_after": "7"})
    limited = _failure(database, _carrier(sendcloud_url), data)
    assert limited.next_retry_delay == timedelta(seconds=7) and not limited.non_retryable
    label = _ask(database, _carrier(sendcloud_url), data)
    assert label is not None and _sandbox(sendcloud_url, "returns")["return_calls"] == 1
    assert [kind for kind, _ in _events(database, order_id)] == ["return_label"]
    view = _view(database, data.return_id)
    assert view is not None and view.status == "ready" and view.problem is None


def test_a_label_that_comes_late_is_asked_of_the_return_sendcloud_made(database, sendcloud_url):
    order_id = _shipped_order(database)
    data = _input(order_id)
    _sandbox(sendcloud_url, "late-return-labels", {"count": 1})
    late = _failure(database, _carrier(sendcloud_url), data)
    assert late.type == ErrorType.CARRIER_UNAVAILABLE and not late.non_retryable
    label = _ask(database, _carrier(sendcloud_url), data)
    assert label is not None and label.tracking_number
    assert _sandbox(sendcloud_url, "returns")["return_calls"] == 1  # never a second return


def test_a_refusal_is_final_recorded_and_not_asked_again(database, sendcloud_url):
    order_id = _shipped_order(database, postcode="ABC")
    data = _input(order_id)
    refused = _failure(database, _carrier(sendcloud_url), data)
    assert refused.type == ErrorType.CARRIER_REFUSED and refused.non_retryable
    assert "The postal code you provided is invalid" in refused.message
    again = _failure(database, _carrier(sendcloud_url), data)
    assert again.type == ErrorType.CARRIER_REFUSED and again.message == refused.message
    assert _sandbox(sendcloud_url, "returns")["return_calls"] == 1
    [(kind, detail)] = _events(database, order_id)
    assert kind == "return_label_refused" and "postal code" in detail
    view = _view(database, data.return_id)
    assert view is not None and view.status == "refused" and view.label_url is None


def test_without_a_carrier_integration_the_customer_ships_it_themselves(database, sendcloud_url):
    order_id = _shipped_order(database)
    assert _ask(database, None, _input(order_id)) is None
    assert _ask(database, None, _input(order_id)) is None
    unlabelled = _shipped_order_elsewhere(database)
    assert _ask(database, _carrier(sendcloud_url), _input(unlabelled)) is None
    assert _ask(database, _carrier(sendcloud_url), _input(order_id, location_id="UTR")) is None  # none left UTR
    assert _sandbox(sendcloud_url, "returns")["return_calls"] == 0
    [(kind, detail)] = _events(database, order_id)
    assert kind == "return_without_label" and "the customer ships the return themselves" in detail
    view = _view(database, f"return-{order_id}-1")
    assert view is not None and view.status == "none"


def _shipped_order_elsewhere(db: Any) -> str:
    """An order whose parcel left without a Sendcloud label (staff typed carrier and tracking)."""
    order = make_order([("MUG", 1, 900)])
    with UnitOfWork(db.session_factory) as uow:
        order_store.record_order(uow.session, order, AT)
        uow.session.add(
            ShipmentRecord(
                shipment_id=f"shipment-{order.order_id}-AMS",
                order_id=order.order_id,
                location_id="AMS",
                status=ShipmentStatus.SHIPPED,
                kind=ShipmentKind.DELIVERY,
                lines={"MUG": 1},
            )
        )
        uow.commit()
    return order.order_id


def test_support_staff_get_the_label_where_the_step_said(database, sendcloud_url, temporal_server):
    staff: Staff = make_staff(database.session_factory)
    order_id = _shipped_order(database)
    refused_order = _shipped_order(database, postcode="ABC")
    label = _ask(database, _carrier(sendcloud_url), _input(order_id))
    _failure(database, _carrier(sendcloud_url), _input(refused_order))
    settings = load_settings(
        database_url=database.url, admin_token=ADMIN_TOKEN, temporal_address=temporal_server.address
    )
    assert label is not None
    with TestClient(create_app(settings)) as api:
        answer = api.get(label.label_url, headers=staff.support.headers)
        assert answer.status_code == 200 and answer.headers["content-type"] == "application/pdf"
        assert answer.content.startswith(b"%PDF") and label.tracking_number.encode() in answer.content
        assert answer.headers["cache-control"] == "no-store"
        assert api.get(label.label_url, headers=staff.warehouse_ams.headers).status_code == 403
        assert api.get(label.label_url).status_code == 401
        refused = api.get(f"/returns/return-{refused_order}-1/label", headers=staff.support.headers)
        assert refused.status_code == 404 and "has no return label" in refused.json()["detail"]
        assert api.get("/returns/return-nobody-1/label", headers=staff.support.headers).status_code == 404


def _cancel(db: Any, carrier: SendcloudCarrier | None, data: ReturnLabelInput, why: str = "cancelled") -> str:
    activities = ReturnLabelActivities(db.session_factory, carrier)
    asked = CancelReturnLabelInput(data.order_id, data.return_id, data.rma, why, AT + timedelta(days=1))
    answer: ReturnLabelCancelled = ActivityEnvironment().run(activities.cancel_return_label, asked)
    return answer.status


def test_the_label_of_a_cancelled_return_is_cancelled_at_sendcloud_once(database, sendcloud_url):
    order_id = _shipped_order(database)
    data = _input(order_id)
    label = _ask(database, _carrier(sendcloud_url), data)
    assert label is not None
    _sandbox(sendcloud_url, "outage", {"down": True})
    with pytest.raises(ApplicationError) as away:
        _cancel(database, _carrier(sendcloud_url), data)
    assert away.value.type == ErrorType.CARRIER_UNAVAILABLE and not away.value.non_retryable
    _sandbox(sendcloud_url, "outage", {"down": False})

    assert _cancel(database, _carrier(sendcloud_url), data) == "cancelled"
    assert _cancel(database, _carrier(sendcloud_url), data) == "cancelled"  # a retried step: not asked again
    made = _sandbox(sendcloud_url, "returns")
    assert made["cancel_calls"] == 1  # the outage answered before the Returns API saw the first
    assert [sent["parent_status"] for sent in made["data"]] == ["cancelled"]
    view = _view(database, data.return_id)
    assert view is not None and (view.status, view.label_url) == ("cancelled", None)
    with database.session() as session:
        assert return_labels.label_document(session, data.return_id) is None  # no longer handed out
    assert _events(database, order_id)[-1] == (
        "return_label_cancelled",
        f"return label {label.tracking_number} for RMA-7K3QX-9PDM2-1 cancelled: the return was cancelled",
    )


def test_a_label_whose_parcel_is_on_its_way_is_recorded_as_not_cancellable(database, sendcloud_url):
    order_id = _shipped_order(database)
    data = _input(order_id)
    assert _ask(database, _carrier(sendcloud_url), data) is not None
    [made] = _sandbox(sendcloud_url, "returns")["data"]
    httpx.post(f"{sendcloud_url}/_sandbox/parcels/{made['parcel_id']}/advance").raise_for_status()

    assert _cancel(database, _carrier(sendcloud_url), data, "expired") == "refused"
    assert _cancel(database, _carrier(sendcloud_url), data, "expired") == "refused"
    assert _sandbox(sendcloud_url, "returns")["cancel_calls"] == 1
    view = _view(database, data.return_id)
    assert view is not None and view.status == "ready" and "can no longer be cancelled" in (view.problem or "")
    kind, detail = _events(database, order_id)[-1]
    assert kind == "return_label_not_cancelled" and "(the return was expired)" in detail and "HTTP 400" in detail


def test_a_return_without_a_carrier_label_has_nothing_to_cancel(database, sendcloud_url):
    order_id = _shipped_order(database)
    data = _input(order_id)
    assert _cancel(database, _carrier(sendcloud_url), data) == "none"  # never asked for one
    assert _ask(database, None, data) is None  # the customer ships it themselves
    assert _cancel(database, _carrier(sendcloud_url), data) == "none"
    assert _sandbox(sendcloud_url, "returns")["cancel_calls"] == 0
    assert [kind for kind, _ in _events(database, order_id)] == ["return_without_label"]
