"""The audit list (issue 14, item 2): every state-changing request by an identified staff member is
kept once answered, on the API and the screens alike, without any route's help; admins read it by
person and UTC day, newest first. In-process on SQLite and PostgreSQL, no workflow engine; the
staff are real accounts with personal tokens (tests.integration.staff_members)."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from domain import limits
from domain.staff import BOOTSTRAP_ADMIN, StaffMember
from persistence.models import StaffAction
from services.staff_audit import StaffAudit
from services.unit_of_work import units_on
from tests.factories import stock
from tests.integration.screens import app_for
from tests.integration.staff_members import (
    ADMIN,
    ADMIN_TOKEN,
    PASSWORD,
    Staff,
    staff,  # noqa: F401 (a fixture)
)

LOCATION = {"location_id": "RTM", "name": "Rotterdam", "kind": "warehouse", "country": "NL"}


@pytest.fixture
def api(database) -> Iterator[TestClient]:
    app = app_for(database, ADMIN_TOKEN, pos_api_key="pos-key-for-the-audit-test")
    with TestClient(app, follow_redirects=False) as client:
        yield client


def _rows(db) -> list[StaffAction]:
    with db.session() as session:
        return list(session.scalars(select(StaffAction).order_by(StaffAction.id)))


def test_a_staff_post_is_kept_once_answered_and_a_get_is_not(api, database):
    created = api.post("/locations", json=LOCATION, headers=ADMIN)
    assert created.status_code == 201
    assert api.get("/locations", headers=ADMIN).status_code == 200
    assert api.get("/locations/RTM", headers=ADMIN).status_code == 200

    [row] = _rows(database)
    assert (row.user_id, row.actor, row.role, row.via) == (None, "admin token", "admin", "admin token")
    assert (row.method, row.route, row.action, row.status) == ("POST", "/locations", "upsert location", 201)
    assert row.at.tzinfo is not None and abs(row.at - datetime.now(UTC)) < timedelta(minutes=1)
    assert (row.order_id, row.shipment_id, row.location_id, row.sku) == (None, None, None, None)


def test_the_ids_a_path_names_and_refusals_are_kept_with_their_status(api, database, staff: Staff):  # noqa: F811
    stock(database.session_factory, "AMS", {"MUG": 3})
    refused = api.put("/inventory/MUG/locations/AMS", json={"safety_stock": 1}, headers=staff.warehouse_ams.headers)
    assert refused.status_code == 403
    picked = api.post("/shipments/shipment-x-AMS/picked", json={"location_id": "AMS"}, headers=staff.support.headers)
    assert picked.status_code == 403
    unknown = api.put("/inventory/MUG/locations/NOWHERE", json={"safety_stock": 1}, headers=staff.admin.headers)
    assert unknown.status_code == 404

    rows = _rows(database)
    safety = "/inventory/{sku}/locations/{location_id}"
    ams, support, admin = staff.warehouse_ams.member, staff.support.member, staff.admin.member
    assert [(r.actor, r.user_id, r.role, r.via, r.route, r.status) for r in rows] == [
        (ams.label, ams.user_id, "warehouse", "token", safety, 403),
        (support.label, support.user_id, "support", "token", "/shipments/{shipment_id}/picked", 403),
        (admin.label, admin.user_id, "admin", "token", safety, 404),
    ]
    assert (rows[0].sku, rows[0].location_id, rows[0].action) == ("MUG", "AMS", "set safety stock")
    assert (rows[1].shipment_id, rows[1].action) == ("shipment-x-AMS", "confirm picked")
    assert rows[2].location_id == "NOWHERE"


def test_nobody_identified_leaves_no_row(api, database):
    assert api.post("/locations", json=LOCATION).status_code == 401
    assert api.post("/locations", json=LOCATION, headers={"Authorization": "Bearer oms_pat_wrong"}).status_code == 401
    channel_key = {"Authorization": "Bearer pos-key-for-the-audit-test"}
    assert api.post("/locations", json=LOCATION, headers=channel_key).status_code == 403
    assert api.post("/orders", content=b"{}", headers=channel_key).status_code == 422
    assert _rows(database) == []


def test_values_longer_than_their_column_are_cut_not_refused(api, database):
    long_sku = "S" * (limits.SKU + 50)
    answered = api.put(f"/inventory/{long_sku}/locations/AMS", json={"safety_stock": 1}, headers=ADMIN)
    assert answered.status_code == 404
    [row] = _rows(database)
    assert row.sku == "S" * limits.SKU


def test_an_audit_row_that_cannot_be_written_is_logged_and_the_request_still_answered(api, database, caplog):
    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("the audit table is away")

    api.app.state.oms.services.staff_audit.record = broken
    with caplog.at_level(logging.WARNING, logger="oms.staff_audit"):
        assert api.post("/locations", json=LOCATION, headers=ADMIN).status_code == 201
    assert "not written to the audit list" in caplog.text
    assert api.get("/locations/RTM", headers=ADMIN).status_code == 200  # the location was kept


def _kept(database, member: StaffMember, day: date, hour: int, route: str = "/locations") -> None:
    at = datetime(day.year, day.month, day.day, hour, tzinfo=UTC)
    StaffAudit(units_on(database.session_factory)).record(
        member, method="POST", route=route, action="upsert location", status=201, at=at
    )


def test_the_audit_list_filters_by_person_and_utc_day_newest_first_in_pages(api, database, staff: Staff):  # noqa: F811
    support, ams = staff.support.member, staff.warehouse_ams.member
    monday, tuesday = date(2026, 3, 2), date(2026, 3, 3)
    _kept(database, support, monday, 9)
    _kept(database, ams, monday, 10)
    _kept(database, support, monday, 23)
    _kept(database, support, tuesday, 0)
    _kept(database, BOOTSTRAP_ADMIN, tuesday, 8)

    everything = api.get("/audit", headers=ADMIN).json()
    assert everything["count"] == 5
    assert [row["at"][:13] for row in everything["data"]] == [
        "2026-03-03T08",
        "2026-03-03T00",
        "2026-03-02T23",
        "2026-03-02T10",
        "2026-03-02T09",
    ]
    support_monday = api.get("/audit", params={"user": support.label, "day": "2026-03-02"}, headers=ADMIN).json()
    assert support_monday["count"] == 2
    assert [row["at"][:13] for row in support_monday["data"]] == ["2026-03-02T23", "2026-03-02T09"]
    assert {row["actor"] for row in support_monday["data"]} == {support.label}
    tuesday_rows = api.get("/audit", params={"day": "2026-03-03"}, headers=ADMIN).json()
    assert [row["actor"] for row in tuesday_rows["data"]] == ["admin token", support.label]
    second_page = api.get("/audit", params={"limit": 2, "offset": 2}, headers=ADMIN).json()
    assert second_page["count"] == 5 and [row["at"][:13] for row in second_page["data"]] == [
        "2026-03-02T23",
        "2026-03-02T10",
    ]
    assert api.get("/audit", params={"day": "monday"}, headers=ADMIN).status_code == 422
    assert api.get("/audit", headers=staff.admin.headers).status_code == 200  # any admin, not only the token
    assert api.get("/audit", headers=staff.support.headers).status_code == 403
    assert api.get("/audit", headers=staff.warehouse_ams.headers).status_code == 403


def test_the_audit_screen_is_for_admins_and_keeps_what_screens_change(api, database, staff: Staff):  # noqa: F811
    support, ams = staff.support.member, staff.warehouse_ams.member
    _kept(database, support, date(2026, 3, 2), 9, route="/orders/{order_id}/cancel")
    _kept(database, ams, date(2026, 3, 3), 9)
    signed_in = api.post("/dashboard/login", data={"token": ADMIN_TOKEN, "next": "/dashboard"})
    assert signed_in.status_code == 303

    listed = api.get("/dashboard/admin/audit")
    assert listed.status_code == 200
    assert '<a href="/dashboard/admin/audit" class="here">Who did what</a>' in listed.text  # in the nav
    options = re.findall(r'<option value="([^"]*)"', listed.text)
    assert options == ["", "admin token", support.label, ams.label]  # the admin's sign-in is kept too
    assert "/orders/{order_id}/cancel" in listed.text and ams.label in listed.text
    one_day = api.get("/dashboard/admin/audit", params={"user": support.label, "day": "2026-03-02"})
    assert "1 action" in one_day.text and "/orders/{order_id}/cancel" in one_day.text
    bad_day = api.get("/dashboard/admin/audit", params={"day": "yesterday"})
    assert bad_day.status_code == 422 and 'id="audit-day-error"' in bad_day.text

    # Signing out is a screen's POST by a signed-in person: kept like any API call.
    form_token = re.search(r'name="form_token" value="([^"]+)"', listed.text)
    assert form_token is not None
    assert api.post("/dashboard/logout", data={"form_token": form_token.group(1)}).status_code == 303
    with database.session() as session:
        logout = session.scalars(select(StaffAction).where(StaffAction.route == "/dashboard/logout")).one()
    assert (logout.actor, logout.method, logout.status) == ("admin token", "POST", 303)

    # A support member signs in with their password: the page is not theirs, and the sign-in is kept.
    credentials = {"email": support.email, "password": PASSWORD, "next": "/dashboard"}
    assert api.post("/dashboard/login", data=credentials).status_code == 303
    assert api.get("/dashboard/admin/audit").status_code == 403
    assert "/dashboard/admin/audit" not in api.get("/dashboard").text  # and no link to it
    with database.session() as session:
        sign_ins = session.scalars(select(StaffAction).where(StaffAction.route == "/dashboard/login")).all()
    assert [(row.actor, row.via, row.role) for row in sign_ins] == [
        ("admin token", "admin token", "admin"),
        (support.label, "session", "support"),
    ]
