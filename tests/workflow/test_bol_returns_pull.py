"""bol.com returns pulled on the channel's schedule (ChannelPullWorkflow on the real dev server), each
opened here once through the ReturnOpener port, what cannot be opened kept in the audit once."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import httpx
import pytest
from sqlalchemy import select
from temporalio.client import Client

from contracts.channels import PullChannelInput, PullChannelResult
from contracts.returns import ReturnAccepted, ReturnRequest
from domain.money import Money
from persistence.master_data.catalogue import save_product
from persistence.models import ChannelMessage
from persistence.read_model import orders as order_store
from persistence.unit_of_work import UnitOfWork
from sandboxes import bol as bol_sandbox
from sandboxes.server import serve
from services.errors import Conflict
from tests.channels import factories as channel_factories
from tests.factories import make_order
from tests.workflow.conftest import Engine, running_engine
from tests.workflow.histories import record_history
from workflows.channel_pull import ChannelPullWorkflow

if TYPE_CHECKING:  # imported at run time, pytest would try to collect it as a test class
    from tests.conftest import TestDatabase

QUIET = timedelta(hours=1)
EAN = "8712345678906"


class RecordingOpener:
    """The ReturnOpener port as a test sees it: what it was asked, in order; refuses what it is told to."""

    def __init__(self, refuse: str | None = None) -> None:
        self.calls: list[tuple[str, ReturnRequest]] = []
        self._refuse = refuse

    async def open_channel_return(self, order_id: str, request: ReturnRequest) -> ReturnAccepted:
        self.calls.append((order_id, request))
        if self._refuse is not None:
            raise Conflict(self._refuse, refusal="too_many")
        return ReturnAccepted(return_id=f"return-{request.external_rma}", status="REQUESTED", refund=Money.zero("EUR"))


@pytest.fixture
def bol_url() -> Iterator[str]:
    with serve(bol_sandbox.create_app(page_size=2)) as url:
        yield url


def settings(url: str) -> dict[str, Any]:
    return {**channel_factories.bol_settings(url), "channel_poll_interval": QUIET}


def register(url: str, order_id: str, *, quantity: int = 1, at: str | None = None) -> str:
    spec = {"orderId": order_id, "ean": EAN, "quantity": quantity, "mainReason": "Verkeerd besteld"}
    if at:
        spec["registrationDateTime"] = at
    response = httpx.post(f"{url}/_sandbox/returns", json=spec)
    response.raise_for_status()
    rma: str = response.json()["returnItems"][0]["rmaId"]
    return rma


def rate_limit_next(url: str) -> None:
    fail = {"status": 429, "count": 1, "retry_after": "1", "path_prefix": "/retailer/returns"}
    httpx.post(f"{url}/_sandbox/fail-next", json=fail).raise_for_status()


def known_order(db: TestDatabase, external_id: str) -> str:
    """A bol order recorded here, its EAN in the catalogue."""
    order = make_order([("TEE-S", 2, 1999)], channel="bol", external_id=external_id, shipping_minor=0)
    with UnitOfWork(db.session_factory) as uow:
        order_store.record_order(uow.session, order, datetime.now(UTC))
        save_product(uow.session, "TEE-S", name="Tee", ean=EAN, listings={"bol": "offer-1"})
        uow.commit()
    return order.order_id


async def pull(client: Client, engine: Engine, *, journey: str | None = None) -> PullChannelResult:
    """One run, as the schedule starts it; `journey`: its history is stored under that name."""
    handle = await client.start_workflow(
        ChannelPullWorkflow.run,
        PullChannelInput(channel="bol"),
        id=f"channel-pull-bol-test-{uuid.uuid4()}",
        task_queue=engine.settings.task_queue,
    )
    result = await handle.result()
    if journey is not None:
        await record_history(handle, journey)
    return result


def audited(db: TestDatabase) -> list[tuple[str | None, str | None, str]]:
    with UnitOfWork(db.session_factory) as uow:
        rows = uow.session.scalars(
            select(ChannelMessage).where(ChannelMessage.kind == "return pull").order_by(ChannelMessage.id)
        )
        return [(row.external_id, row.order_id, row.outcome) for row in rows]


async def test_each_open_return_is_opened_once(temporal_client: Client, database: TestDatabase, bol_url: str) -> None:
    order_id = known_order(database, "4012345678")
    rmas = [register(bol_url, "4012345678", at=f"2026-11-0{n}T10:00:00+01:00") for n in (1, 2, 3)]
    opener = RecordingOpener()
    async with running_engine(temporal_client, database, return_opener=opener, **settings(bol_url)) as engine:
        first = await pull(temporal_client, engine, journey="bol_returns_pulled" if database.kind == "sqlite" else None)
        assert first.returns is not None
        assert (first.returns.listed, first.returns.opened, first.returns.pages) == (3, 3, 3)  # 2 a page, then {}
        assert [call[0] for call in opener.calls] == [order_id] * 3
        requests = [call[1] for call in opener.calls]
        assert [r.external_rma for r in requests] == rmas  # bol lists open returns oldest first
        assert {(r.source, r.lines[0].sku, r.lines[0].quantity) for r in requests} == {("bol", "TEE-S", 1)}
        assert requests[0].reason.startswith("Verkeerd besteld")

        again = await pull(temporal_client, engine)  # still unhandled at bol: listed again, opened never again
        assert again.returns is not None and (again.returns.opened, again.returns.known) == (0, 3)
        assert len(opener.calls) == 3
    assert [row[2] for row in audited(database)] == [f"opened return-{rma}" for rma in rmas]


async def test_a_return_that_cannot_be_opened_is_kept_for_a_person_once(
    temporal_client: Client, sqlite_database: TestDatabase, bol_url: str
) -> None:
    known_order(sqlite_database, "4012345678")
    unknown = register(bol_url, "4000000001", at="2026-11-01T10:00:00+01:00")
    too_many = register(bol_url, "4012345678", quantity=5, at="2026-11-02T10:00:00+01:00")
    not_ours = register(bol_url, "40 12", at="2026-11-03T10:00:00+01:00")  # no order id we could ever have
    opener = RecordingOpener(refuse="only 2 of TEE-S can come back")
    async with running_engine(temporal_client, sqlite_database, return_opener=opener, **settings(bol_url)) as engine:
        result = await pull(temporal_client, engine)
        assert result.returns is not None and (result.returns.opened, result.returns.refused) == (0, 3)
        assert [call[1].external_rma for call in opener.calls] == [too_many]  # the unknown order never reached it
        await pull(temporal_client, engine)
    assert audited(sqlite_database) == [
        (unknown, None, "refused: no order order-bol-4000000001 here (placed before bol was connected?)"),
        (too_many, "order-bol-4012345678", "refused: only 2 of TEE-S can come back"),
        (not_ours, None, "rejected: external id '40 12' must be 1-100 of A-Z a-z 0-9 . _ : -"),
    ]


async def test_the_worker_opens_returns_through_the_return_service(
    temporal_client: Client, sqlite_database: TestDatabase, bol_url: str
) -> None:
    """No port given: the worker's own (services.returns.Returns), which checks the return against
    what left; nothing of this order shipped yet, so it is refused and kept for a person."""
    known_order(sqlite_database, "4012345678")
    rma = register(bol_url, "4012345678")
    async with running_engine(temporal_client, sqlite_database, **settings(bol_url)) as engine:
        result = await pull(temporal_client, engine)
    assert result.returns is not None and result.returns.supported
    assert (result.returns.opened, result.returns.refused) == (0, 1)
    [(external, order_id, outcome)] = audited(sqlite_database)
    assert (external, order_id) == (rma, "order-bol-4012345678")
    assert outcome.startswith("refused: ")


async def test_a_rate_limited_returns_pull_waits_and_goes_on(
    temporal_client: Client, sqlite_database: TestDatabase, bol_url: str
) -> None:
    known_order(sqlite_database, "4012345678")
    rma = register(bol_url, "4012345678")
    rate_limit_next(bol_url)
    opener = RecordingOpener()
    async with running_engine(temporal_client, sqlite_database, return_opener=opener, **settings(bol_url)) as engine:
        result = await pull(temporal_client, engine)
    assert result.returns is not None and result.returns.opened == 1
    assert [call[1].external_rma for call in opener.calls] == [rma]
