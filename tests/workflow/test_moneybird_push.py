"""The Moneybird push as it runs: the worker keeps the daily schedule, an admin's POST
/books/moneybird/push triggers it, the run (MoneybirdPushWorkflow, in the worker) books every issued
document once at the sandbox, and a second push books nothing more."""

from __future__ import annotations

import asyncio
import contextlib
from datetime import UTC, datetime, timedelta

import httpx
from sqlalchemy import func, select
from temporalio.service import RPCError

from contracts.documents import BuyerDetails
from contracts.moneybird import PushResult
from domain.invoicing import Item, amount_credit_note, invoice
from domain.money import Money
from domain.vat import DUTCH_RATES
from persistence.guarded_writes.invoices import record_document
from persistence.models import BookingRecord
from sandboxes import moneybird as sandbox
from sandboxes.server import serve
from services.moneybird_schedule import MONEYBIRD_SCHEDULE_ID, ensure_moneybird_schedule
from tests.workflow.conftest import api_client, running_engine

AT = datetime(2026, 12, 7, 9, tzinfo=UTC)
BUYER = BuyerDetails("A. Buyer", ("Kerkstraat 1",), "1011 AA", "Amsterdam", "NL")
ADMIN = {"Authorization": "Bearer books-admin"}


def _issue(db) -> None:
    sold = invoice(
        [Item("Mug", "standard", Money(1299, "EUR")), Item("Book", "reduced", Money(2000, "EUR"))],
        Money(495, "EUR"),
        DUTCH_RATES,
    )
    with db.session() as session, session.begin():
        first = record_document(
            session, "inv:s1", sold, order_id="order-webshop-1", channel="webshop", buyer=BUYER, at=AT
        )
        record_document(
            session,
            "cn:g1",
            amount_credit_note(Money(500, "EUR"), sold, "Goodwill"),
            order_id="order-webshop-1",
            channel="webshop",
            buyer=BUYER,
            at=AT + timedelta(minutes=1),
            corrects=first.number,
        )


async def _runs_done(client, count: int) -> list[PushResult]:
    """The results of the schedule's first `count` runs, once they have finished."""
    handle = client.get_schedule_handle(MONEYBIRD_SCHEDULE_ID)
    deadline = asyncio.get_running_loop().time() + 60
    while True:
        actions = (await handle.describe()).info.recent_actions
        if len(actions) >= count:
            break
        assert asyncio.get_running_loop().time() < deadline, "the schedule did not start its runs"
        await asyncio.sleep(0.2)
    return [
        await client.get_workflow_handle(action.action.workflow_id, result_type=PushResult).result()
        for action in actions[:count]
    ]


def _bookings(db) -> int:
    with db.session() as session:
        return int(
            session.scalar(select(func.count()).select_from(BookingRecord).where(BookingRecord.system == "moneybird"))
            or 0
        )


async def _no_schedule_left(client) -> None:
    """The schedule has one id per namespace: one an earlier test's engine left on this Temporal
    server would start this test with runs that are not its own."""
    with contextlib.suppress(RPCError):
        await client.get_schedule_handle(MONEYBIRD_SCHEDULE_ID).delete()


async def test_an_admin_push_books_each_document_once(temporal_client, sqlite_database):
    db = sqlite_database
    _issue(db)
    await _no_schedule_left(temporal_client)
    with serve(sandbox.create_app()) as url:
        async with running_engine(
            temporal_client,
            db,
            moneybird_enabled=True,
            moneybird_api_token=sandbox.TOKEN,
            moneybird_administration_id=sandbox.ADMINISTRATION_ID,
            moneybird_api_url=f"{url}/api/v2",
        ) as engine:
            await ensure_moneybird_schedule(temporal_client, engine.settings)  # what the worker does at start
            try:
                with api_client(engine, "books-admin") as api:
                    assert api.post("/books/moneybird/push", headers=ADMIN).status_code == 202
                    (first,) = await _runs_done(temporal_client, 1)
                    assert (first.booked, first.paid) == (2, 2)
                    assert api.post("/books/moneybird/push", headers=ADMIN).status_code == 202
                    second = (await _runs_done(temporal_client, 2))[1]
                    assert (second.booked, second.found, second.paid) == (0, 0, 0)
                    assert api.post("/books/moneybird/push").status_code == 401
            finally:
                await temporal_client.get_schedule_handle(MONEYBIRD_SCHEDULE_ID).delete()
        async with httpx.AsyncClient() as http:
            held = (await http.get(f"{url}/_sandbox/invoices")).json()
        assert sorted(i["total_price_incl_tax"] for i in held) == ["-5.00", "37.94"]
        assert all(i["state"] == "paid" for i in held) and _bookings(db) == 2


async def test_the_push_is_refused_while_moneybird_is_not_enabled(temporal_client, sqlite_database):
    async with running_engine(temporal_client, sqlite_database) as engine:
        await ensure_moneybird_schedule(temporal_client, engine.settings)  # removes none that is not there
        with api_client(engine, "books-admin") as api:
            answer = api.post("/books/moneybird/push", headers=ADMIN)
        assert answer.status_code == 409 and answer.json()["detail"]["refusal"] == "moneybird_not_enabled"
