"""The return screens in-process on SQLite and PostgreSQL with no workflow engine behind them: who
sees which (support's list and page, the warehouse's desk, each link drawn only for the role that
may use it), the desk at the person's own locations only, an RMA found however it was typed, and
what is refused before the workflow is asked. The steps themselves: tests/workflow/test_return_screens.py."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from api.main import create_app
from domain.return_lifecycle import rma_number
from domain.staff import Role, StaffMember
from persistence.models import PaymentRecord, ReturnRecord, ShipmentRecord
from persistence.read_model import orders as order_store
from persistence.unit_of_work import UnitOfWork
from tests.factories import add_location, make_order
from tests.integration.screens import as_member, form_token, settings_for, signed_in_browser

TOKEN = "return-screens-token"
NOW = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
FORM = "form-token-of-test"


@pytest.fixture
def settings(database):
    add_location(database.session_factory, "AMS")
    add_location(database.session_factory, "RTM")
    return settings_for(database, TOKEN)


def _as(settings, member: StaffMember) -> Iterator[TestClient]:
    with TestClient(as_member(create_app(settings), member, "session-of-test", FORM), follow_redirects=False) as client:
        yield client


@pytest.fixture
def admin(settings) -> Iterator[TestClient]:
    yield from signed_in_browser(create_app(settings), TOKEN)


@pytest.fixture
def support(settings) -> Iterator[TestClient]:
    yield from _as(settings, StaffMember("user-support", "kim@shop.example", Role.SUPPORT))


@pytest.fixture
def ams(settings) -> Iterator[TestClient]:
    yield from _as(settings, StaffMember("user-ams", "piet@shop.example", Role.WAREHOUSE, frozenset({"AMS"})))


@pytest.fixture
def rtm(settings) -> Iterator[TestClient]:
    yield from _as(settings, StaffMember("user-rtm", "ria@shop.example", Role.WAREHOUSE, frozenset({"RTM"})))


def _return(
    database, *, shipped_from: str, state: str, received_at: str | None = None, asked: datetime = NOW
) -> ReturnRecord:
    """An order shipped from `shipped_from` with a return of one mug in `state`."""
    order = make_order([("MUG", 2, 1250)])
    rma = rma_number(order.order_id, 1)
    record = ReturnRecord(
        return_id=f"return-{order.order_id}-1",
        order_id=order.order_id,
        status=state,
        state=state,
        rma=rma,
        sequence=1,
        source="customer",
        lines={"MUG": 1},
        reason="does not fit",
        currency="EUR",
        location_id=received_at,
        received={"MUG": {"damaged": 1}} if received_at else None,
        short={},
        created_at=asked,
        updated_at=asked,
        expires_at=asked + timedelta(days=30),
    )
    with UnitOfWork(database.session_factory) as uow:
        order_store.record_order(uow.session, order, NOW)
        uow.session.add(
            ShipmentRecord(
                shipment_id=f"shipment-{order.order_id}-{shipped_from}",
                order_id=order.order_id,
                location_id=shipped_from,
                status="SHIPPED",
                lines={"MUG": 2},
                shipped_at=NOW,
            )
        )
        uow.session.add(record)
        uow.commit()
    return record


def test_each_role_sees_only_the_return_screens_it_may_use(database, admin, support, ams):
    waiting = _return(database, shipped_from="AMS", state="AWAITING_APPROVAL")
    home = admin.get("/dashboard/returns").text
    assert 'href="/dashboard/returns"' in home and 'href="/dashboard/returns-desk"' in home

    listed = support.get("/dashboard/returns?state=AWAITING_APPROVAL")
    assert listed.status_code == 200 and waiting.rma in listed.text
    assert 'href="/dashboard/returns-desk"' not in listed.text
    assert waiting.rma not in support.get("/dashboard/returns?state=REQUESTED").text
    shown = support.get(f"/dashboard/returns/{waiting.rma}")  # by its RMA as well as its id
    assert shown.status_code == 200 and 'id="approve"' in shown.text and "none asked for" in shown.text
    assert support.get("/dashboard/returns-desk").status_code == 403

    desk = ams.get("/dashboard/returns-desk")
    assert desk.status_code == 200 and 'href="/dashboard/returns"' not in desk.text
    assert ams.get("/dashboard/returns").status_code == 403
    assert ams.get(f"/dashboard/returns/{waiting.return_id}").status_code == 403
    assert ams.post(f"/dashboard/returns/{waiting.return_id}/approve", data={"form_token": FORM}).status_code == 403


def test_the_desk_lists_only_the_persons_locations(database, ams, rtm):
    expected_here = _return(database, shipped_from="AMS", state="REQUESTED")
    expired_here = _return(database, shipped_from="AMS", state="EXPIRED", asked=NOW - timedelta(days=40))
    expected_there = _return(database, shipped_from="RTM", state="REQUESTED")
    received_here = _return(database, shipped_from="RTM", state="RECEIVED", received_at="AMS")
    awaiting = _return(database, shipped_from="AMS", state="AWAITING_APPROVAL")

    desk = ams.get("/dashboard/returns-desk").text
    for shown in (expected_here, expired_here, received_here):
        assert shown.rma in desk, shown.state
    for hidden in (expected_there, awaiting):
        assert hidden.rma not in desk, hidden.state
    assert desk.index(expected_here.rma) < desk.index(expired_here.rma)  # still requested first
    theirs = rtm.get("/dashboard/returns-desk").text
    assert expected_there.rma in theirs and received_here.rma not in theirs

    # Received at AMS: AMS disposes of it (the suggestion for a damaged unit: scrap, with why), RTM may not look.
    page = ams.get(f"/dashboard/returns-desk/{received_here.return_id}")
    assert 'id="dispose"' in page.text and 'value="returned damaged"' in page.text and 'id="receive"' not in page.text
    assert rtm.get(f"/dashboard/returns-desk/{received_here.return_id}").status_code == 403
    dispose = {"form_token": FORM, "sku": ["MUG"], "quantity": ["1"], "disposition": ["restock"], "reason": [""]}
    assert rtm.post(f"/dashboard/returns-desk/{received_here.return_id}/dispose", data=dispose).status_code == 403
    # A parcel still expected may land at any desk, and is received only at the person's own location.
    other = rtm.get(f"/dashboard/returns-desk/{expected_here.return_id}")
    assert other.status_code == 200 and '<option value="RTM"' in other.text and '<option value="AMS"' not in other.text
    receive = {"form_token": FORM, "location_id": "AMS", "sku": ["MUG"], "quantity": ["1"], "condition": ["as_new"]}
    assert rtm.post(f"/dashboard/returns-desk/{expected_here.return_id}/receive", data=receive).status_code == 403


def test_an_rma_is_found_however_it_was_typed(database, ams):
    wanted = _return(database, shipped_from="AMS", state="REQUESTED")
    body = wanted.rma.removeprefix("RMA-").replace("-", "")
    for typed in (wanted.rma, wanted.rma.lower(), f"rma {body[:-1]} {body[-1]}", f"  {wanted.rma}  "):
        found = ams.post("/dashboard/returns-desk/find", data={"form_token": FORM, "rma": typed})
        assert found.status_code == 303 and found.headers["location"].endswith(wanted.return_id), typed
    unknown = ams.post("/dashboard/returns-desk/find", data={"form_token": FORM, "rma": "RMA-00000-00000-1"})
    assert unknown.status_code == 404 and "no return RMA-00000-00000-1" in unknown.text
    nonsense = ams.post("/dashboard/returns-desk/find", data={"form_token": FORM, "rma": "hello"})
    assert nonsense.status_code == 422 and "not an RMA" in nonsense.text
    assert ams.post("/dashboard/returns-desk/find", data={"rma": wanted.rma}).status_code == 403  # no form token


def test_what_is_refused_before_the_workflow_is_asked(database, admin):
    waiting = _return(database, shipped_from="AMS", state="AWAITING_APPROVAL")
    page = admin.get(f"/dashboard/returns/{waiting.return_id}")
    token = form_token(page.text)
    no_reason = admin.post(f"/dashboard/returns/{waiting.return_id}/reject", data={"form_token": token})
    assert no_reason.status_code == 422 and "say why it is rejected" in no_reason.text
    unknown = admin.post("/dashboard/returns/return-nope/approve", data={"form_token": token})
    assert unknown.status_code == 404
    # The engine is not there: the page says so with a 503, never a 500.
    approve = admin.post(f"/dashboard/returns/{waiting.return_id}/approve", data={"form_token": token})
    assert approve.status_code == 503 and "not sent" in approve.text
    received = _return(database, shipped_from="AMS", state="RECEIVED", received_at="AMS")
    bad = {"form_token": token, "sku": ["MUG"], "quantity": ["one"], "disposition": ["restock"], "reason": [""]}
    refused = admin.post(f"/dashboard/returns-desk/{received.return_id}/dispose", data=bad)
    assert refused.status_code == 422 and "a whole number of units" in refused.text
    assert admin.get("/dashboard/returns/return-nope/label.pdf").status_code == 404


def test_support_sees_an_exchanges_difference_and_every_shipment_its_replacement_went_out_as(
    database, support, ams, rtm
):
    """A dearer exchange whose first replacement shipment was withdrawn and sourced again: the page
    shows the difference (amount, status, the payment that took it) and both shipments, oldest
    first, as GET /returns/{id} has them; a shipment links to the warehouse's page only for its staff."""
    record = _return(database, shipped_from="AMS", state="RESOLVED", received_at="AMS")
    order_id, return_id = record.order_id, record.return_id
    first, again = f"shipment-{order_id}-AMS-x1", f"shipment-{order_id}-RTM-x1-2"
    other = f"shipment-{order_id}-AMS-x2"  # another return's replacement: not this one's
    with UnitOfWork(database.session_factory) as uow:
        row = uow.session.get(ReturnRecord, return_id)
        assert row is not None
        row.resolution, row.difference_minor, row.difference_status = "exchange", 250, "AUTHORIZED"
        row.replacement_shipment_id = again
        for shipment_id, location, status, lines, minutes in (
            (first, "AMS", "WITHDRAWN", {"MUG": 1}, 1),
            (again, "RTM", "SHIPPED", {"MUG": 1}, 2),
            (other, "AMS", "SHIPPED", {"MUG": 1}, 3),
        ):
            uow.session.add(
                ShipmentRecord(
                    shipment_id=shipment_id,
                    order_id=order_id,
                    location_id=location,
                    status=status,
                    lines=lines,
                    created_at=NOW + timedelta(minutes=minutes),
                )
            )
        uow.session.add(
            PaymentRecord(
                payment_id=f"payment-{order_id}-x1",
                order_id=order_id,
                provider="sandbox",
                provider_ref="sandbox-x1",
                status="CAPTURED",
                currency="EUR",
                authorized_minor=250,
                captured_minor=250,
                purpose="exchange_difference",
                return_id=return_id,
            )
        )
        uow.commit()

    page = support.get(f"/dashboard/returns/{return_id}")
    assert page.status_code == 200, page.text
    difference = page.text.split('id="difference"', 1)[1].split("</dd>", 1)[0]
    assert "2.50" in difference and "CAPTURED" in difference and f"payment-{order_id}-x1" in difference, difference
    table = page.text.split('id="replacement-shipments"', 1)[1].split("</table>", 1)[0]
    rows = table.split("<tr>")[2:]
    assert len(rows) == 2, table
    assert first in rows[0] and "WITHDRAWN" in rows[0] and "1 x MUG" in rows[0], rows[0]
    assert again in rows[1] and "SHIPPED" in rows[1] and "RTM" in rows[1], rows[1]
    assert other not in table and "/dashboard/warehouse/shipments/" not in table  # support sends no parcels

    # The desk shows them too; each links to the warehouse's page for the staff of its location only.
    desk = ams.get(f"/dashboard/returns-desk/{return_id}").text.split('id="replacement-shipments"', 1)[1]
    assert f'href="/dashboard/warehouse/shipments/{first}"' in desk
    assert f'href="/dashboard/warehouse/shipments/{again}"' not in desk and again in desk

    # A return that is no exchange has no such table.
    plain = _return(database, shipped_from="AMS", state="REQUESTED")
    assert 'id="replacement-shipments"' not in support.get(f"/dashboard/returns/{plain.return_id}").text
