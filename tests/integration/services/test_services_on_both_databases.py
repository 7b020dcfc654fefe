"""The services over the real unit of work, on SQLite and PostgreSQL: what the fakes stand in for
(tests/unit/services) holds against the databases too. The workflow gateway stays a fake: Temporal
is not what these tests are about."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from config import load_settings
from contracts.order_workflow import CancelRequest, OrderState
from domain.order import Order
from domain.status import OrderStatus
from persistence.conflicts import ConcurrentWrite
from persistence.master_data.channels import PolicyCache
from persistence.models import Location, OrderRecord, StockMovement, StockOutbox
from persistence.read_model import orders as order_store
from persistence.unit_of_work import UnitOfWork
from services.catalogue import Catalogue
from services.channel_settings import ChannelSettings
from services.errors import Conflict, NotFound
from services.gateway import WorkflowNotFound
from services.intake import Intake
from services.locations import Locations
from services.order_actions import OrderActions
from services.order_views import OrderViews
from services.stock import Stock
from services.tracking import TrackingLinks
from services.unit_of_work import SqlUnitOfWork, units_on
from tests.conftest import TestDatabase
from tests.factories import add_location, make_order, stock
from tests.fakes import FakeWorkflows

SETTINGS = load_settings(task_queue="services-on-both-databases")
AMS = {"location_id": "AMS", "name": "Amsterdam DC", "kind": "warehouse", "country": "nl", "priority": 10}


def _count(db: TestDatabase, model: type) -> int:
    with db.session() as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def _record(db: TestDatabase, channel: str = "webshop") -> Order:
    order = make_order([("MUG", 1, 1250)], channel=channel)
    with UnitOfWork(db.session_factory) as uow:
        order_store.record_order(uow.session, order, datetime.now(UTC))
        uow.commit()
    return order


def test_rows_read_in_a_unit_of_work_stay_readable_after_it_closes(database):
    add_location(database.session_factory, "AMS")
    [location] = Locations(units_on(database.session_factory)).all()
    assert (location.location_id, location.kind) == ("AMS", "warehouse")


def test_a_unique_key_written_first_elsewhere_is_a_concurrent_write(database):
    add_location(database.session_factory, "AMS")
    with units_on(database.session_factory)() as uow:
        uow.locations.add(Location(location_id="AMS", name="again", kind="warehouse", country="NL"))
        with pytest.raises(ConcurrentWrite):
            uow.commit()


class _MissesTheWinner(SqlUnitOfWork):
    """Its look-up does not see the location another request committed a moment after it looked
    (what a read just before that commit sees), so it inserts the same id."""

    def __enter__(self) -> _MissesTheWinner:
        super().__enter__()
        real = self.locations

        class Blind:
            def get(self, location_id: str) -> Location | None:
                return None

            def add(self, location: Location) -> None:
                real.add(location)

            def all(self) -> list[Location]:
                return real.all()

            def kind(self, location_id: str) -> str | None:
                return real.kind(location_id)

        self.locations = Blind()
        return self


class _Racing:
    """Units of work whose first writer misses the winner's row."""

    def __init__(self, db: TestDatabase) -> None:
        self._db = db
        self._units = units_on(db.session_factory)
        self.lost = False

    def __call__(self, *, read_only: bool = False) -> SqlUnitOfWork:
        if read_only or self.lost:
            return self._units(read_only=read_only)
        self.lost = True
        return _MissesTheWinner(self._db.session_factory, PolicyCache())


def test_a_create_that_loses_the_race_becomes_an_update_of_the_winners_row(database):
    add_location(database.session_factory, "AMS", priority=50)  # the other request's create
    location, created = Locations(_Racing(database)).save("AMS", create=AMS, change={"name": "Amsterdam DC"})
    assert not created and (location.name, location.priority) == ("Amsterdam DC", 50)
    assert _count(database, Location) == 1


def test_a_refused_stock_move_leaves_no_ledger_or_outbox_row(database):
    add_location(database.session_factory, "AMS")
    stock(database.session_factory, "AMS", {"MUG": 3})
    before = (_count(database, StockMovement), _count(database, StockOutbox))
    with pytest.raises(Conflict) as refused:
        Stock(units_on(database.session_factory)).adjust("AMS", "MUG", -5, reason="count")
    assert refused.value.facts["on_hand"] == 3
    assert (_count(database, StockMovement), _count(database, StockOutbox)) == before


def test_a_channel_setting_changed_here_shows_at_once_in_the_stock_view(database):
    add_location(database.session_factory, "AMS")
    add_location(database.session_factory, "UTR")
    stock(database.session_factory, "AMS", {"MUG": 5})
    stock(database.session_factory, "UTR", {"MUG": 3})
    units = units_on(database.session_factory)  # one PolicyCache, as in one API process
    assert Stock(units).view("MUG").channels["bol"] == 8  # read (and cached) before the change
    ChannelSettings(units).replace("bol", {"sells_from": ["UTR"]})
    assert Stock(units).view("MUG").channels["bol"] == 3


def test_a_catalogue_identifier_of_another_sku_is_refused_and_nothing_changes(database):
    catalogue = Catalogue(units_on(database.session_factory))
    catalogue.put("MUG", name="Mug", ean="4006381333931", listings={"bol": "offer-1"})
    with pytest.raises(Conflict, match="4006381333931 already belongs to MUG"):
        catalogue.put("CUP", name="Cup", ean="4006381333931", listings={})
    with pytest.raises(NotFound):
        catalogue.entry("CUP")
    assert catalogue.entry("MUG")["listings"] == {"bol": "offer-1"}


async def test_intake_finds_an_order_in_the_database_and_starts_nothing(database):
    order = _record(database)
    workflows = FakeWorkflows()
    taken = await Intake(SETTINGS, units_on(database.session_factory), workflows).take(order)
    assert (taken.order_id, taken.outcome) == (order.order_id, "duplicate") and workflows.started == []


async def test_a_cancel_the_workflow_never_heard_of_leaves_no_claim_behind(database):
    order_id = _record(database).order_id
    workflows = FakeWorkflows()
    workflows.states[order_id] = OrderState(order_id, OrderStatus.RECEIVED)
    workflows.failures["cancel_order"] = [WorkflowNotFound("workflow execution already completed")]
    with pytest.raises(Conflict, match="no longer running"):
        await OrderActions(units_on(database.session_factory), workflows).cancel(order_id, CancelRequest())
    with database.session() as session:
        record = session.get(OrderRecord, order_id)
        assert record is not None and record.cancel_requested_at is None  # shipments may leave


async def test_a_cancel_is_claimed_in_the_database_and_on_the_timeline(database):
    order_id = _record(database).order_id
    workflows = FakeWorkflows()
    workflows.states[order_id] = OrderState(order_id, OrderStatus.RECEIVED)
    units = units_on(database.session_factory)
    await OrderActions(units, workflows).cancel(order_id, CancelRequest(reason="typo", requested_by="alice"))
    details = OrderViews(units, TrackingLinks(SETTINGS, units)).details(order_id, base_url="http://oms.test/")
    assert details.record.cancel_requested_at is not None
    assert [(e.kind, e.detail) for e in details.events if e.kind == "cancel_requested"] == [
        ("cancel_requested", "by alice: typo")
    ]
    assert details.tracking_url.startswith("http://oms.test/track/")


class _QuickWorkflows(FakeWorkflows):
    """A workflow that carries the cancel out at once: its CANCELLED is on the timeline before the
    API has written who asked for it."""

    def __init__(self, database: TestDatabase) -> None:
        super().__init__()
        self._database = database

    async def cancel_order(self, order_id: str, request: CancelRequest) -> None:
        await super().cancel_order(order_id, request)
        with self._database.session() as session:
            order_store.add_event(session, order_id, "status:CANCELLED", "", datetime.now(UTC))
            session.commit()


async def test_who_asked_for_a_cancel_comes_before_what_the_workflow_did_about_it(database):
    order_id = _record(database).order_id
    workflows = _QuickWorkflows(database)
    workflows.states[order_id] = OrderState(order_id, OrderStatus.RECEIVED)
    units = units_on(database.session_factory)
    await OrderActions(units, workflows).cancel(order_id, CancelRequest(reason="typo", requested_by="alice"))
    events = OrderViews(units, TrackingLinks(SETTINGS, units)).details(order_id, base_url="http://oms.test/").events
    assert [e.kind for e in events][-2:] == ["cancel_requested", "status:CANCELLED"]


def test_a_channel_key_reads_only_its_own_channels_orders(database):
    order_id = _record(database, "pos").order_id
    units = units_on(database.session_factory)
    views = OrderViews(units, TrackingLinks(SETTINGS, units))
    assert views.details(order_id, base_url="http://oms.test/", for_channel="pos").record.order_id == order_id
    with pytest.raises(NotFound, match=f"no order {order_id}"):
        views.details(order_id, base_url="http://oms.test/", for_channel="webshop")
