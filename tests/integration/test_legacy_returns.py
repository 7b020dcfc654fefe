"""A return taken in one step before the lifecycle (or the old one-step path), and a channel's own
refund recorded as a return, have no lifecycle state: GET /returns/{id} answers them from the read
model with their status as recorded, and a step asked of them is refused as finished (409), never
404 or 500. In-process on SQLite and PostgreSQL; no workflow engine (its address answers nothing)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient

from domain.money import Money
from domain.returns import ReturnStatus
from persistence.models import ReturnRecord
from persistence.read_model import orders as order_store
from persistence.read_model import returns as return_store
from persistence.unit_of_work import UnitOfWork
from tests.factories import make_order
from tests.integration.screens import app_for
from tests.integration.staff_members import ADMIN_TOKEN, Staff, staff  # noqa: F401 (a fixture)

AT = datetime(2025, 3, 4, 10, 30, tzinfo=UTC)


@pytest.fixture
def api(database) -> Iterator[TestClient]:
    with TestClient(app_for(database, ADMIN_TOKEN)) as client:
        yield client


def _one_step_return(db) -> str:
    """What accept_return (the one-step path) records: status ACCEPTED, no state, no RMA; then refunded."""
    order = make_order([("MUG", 2, 1250)])
    with UnitOfWork(db.session_factory) as uow:
        order_store.record_order(uow.session, order, AT)
        record = return_store.accept_return(
            uow.session,
            order_id=order.order_id,
            return_id=f"return-{order.order_id}-1",
            lines={"MUG": 1},
            reason="too small",
            refund=Money(1250, "EUR"),
            requested_by="support",
            restock=False,
            at=AT,
        )
        record.status, record.refunded_at = ReturnStatus.REFUNDED, AT
        uow.commit()
        return record.return_id


def test_a_one_step_return_answers_with_its_status_as_recorded(api, database, staff: Staff):  # noqa: F811
    return_id = _one_step_return(database)
    with UnitOfWork(database.session_factory) as uow:
        assert uow.session.get(ReturnRecord, return_id).state is None
    answer = api.get(f"/returns/{return_id}", headers=staff.support.headers)
    assert answer.status_code == 200
    shown = answer.json()
    assert shown["return_id"] == return_id and shown["rma"] == ""
    assert shown["state"] == shown["status"] == "REFUNDED"
    assert shown["lines"] == {"MUG": 1} and shown["reason"] == "too small"
    assert shown["refund"] == {"amount_minor": 1250, "currency": "EUR"}
    assert shown["received"] == {} and shown["short"] == {} and shown["expires_at"] is None
    assert shown["resolution"] == "refund"
    assert api.get(f"/returns/{return_id}", headers=staff.warehouse_ams.headers).status_code == 200

    listed = api.get("/returns", headers=staff.support.headers).json()
    assert return_id not in {found["return_id"] for found in listed["data"]}  # the lists are the lifecycle's

    refused = api.post(f"/returns/{return_id}/cancel", headers=staff.support.headers)
    assert refused.status_code == 409 and refused.json()["detail"]["refusal"] == "finished"
    assert api.get("/returns/return-order-nothing-9", headers=staff.support.headers).status_code == 404
