"""Store credit against real SQLite and PostgreSQL: issue, spend through intake, repeat deliveries,
reversal, expiry, and two orders racing for the same credit on PostgreSQL never going below zero."""

from __future__ import annotations

import asyncio
import dataclasses
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from config import load_settings
from contracts.store_credit import IssueCreditInput
from domain.money import Money
from domain.order import Order
from domain.store_credit import CreditEntryKind, CreditReason
from persistence.models import OrderEvent, OrderRecord, StoreCreditEntry
from persistence.read_model.returns import credit_paid_left
from services.channel_settings import ChannelSettings
from services.errors import Unprocessable
from services.intake import Intake
from services.store_credit import CreditAccounts
from services.unit_of_work import units_on
from tests.conftest import TestDatabase
from tests.factories import make_order
from tests.fakes import FakeWorkflows

SETTINGS = load_settings(task_queue="store-credit-tests")
EMAIL = "Sam@Example.org"
NOW = datetime(2026, 12, 1, 12, tzinfo=UTC)


def _credit(db: TestDatabase, expiry: timedelta | None = None) -> CreditAccounts:
    return CreditAccounts(units_on(db.session_factory), expiry, clock=lambda: NOW)


def _give(db: TestDatabase, minor: int, key: str, *, shop: str = "default", at: datetime = NOW) -> None:
    _credit(db).issue(
        IssueCreditInput(f"test:{key}", Money(minor, "EUR"), CreditReason.GOODWILL, at, email=EMAIL, shop=shop)
    )


def _paying(minor: int, *, channel: str = "webshop", external_id: str | None = None) -> Order:
    order = make_order([("MUG", 1, 1250)], channel=channel, external_id=external_id, paid=True)
    return dataclasses.replace(order, store_credit=Money(minor, "EUR"))


def _balance(db: TestDatabase, shop: str = "default") -> int:
    statement = CreditAccounts(units_on(db.session_factory), None).statement(EMAIL, shop)
    return statement.summary.balance.amount_minor if statement.summary else 0


def _count(db: TestDatabase, model: type) -> int:
    with db.session() as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def test_an_issue_is_written_once_per_key_and_the_address_is_one_customer(database):
    _give(database, 2500, "a")
    _give(database, 2500, "a")  # a retried activity
    statement = CreditAccounts(units_on(database.session_factory), None).statement(" sam@example.ORG ", "default")
    assert statement.summary is not None and statement.summary.balance == Money(2500, "EUR")
    assert len(statement.entries) == 1


def test_another_currency_is_refused_never_converted(database):
    _give(database, 1000, "eur")
    with pytest.raises(Unprocessable) as refused:
        _credit(database).issue(
            IssueCreditInput("test:usd", Money(1000, "USD"), CreditReason.GOODWILL, NOW, email=EMAIL, shop="default")
        )
    assert refused.value.facts["refusal"] == "currency"


def test_an_order_pays_with_credit_in_the_transaction_that_records_it_and_once(database):
    _give(database, 1000, "a")
    workflows = FakeWorkflows()
    intake = Intake(SETTINGS, units_on(database.session_factory), workflows)
    order = _paying(600)
    taken = asyncio.run(intake.take_canonical(order))
    again = asyncio.run(intake.take_canonical(order))
    assert (taken.repeated, again.repeated) == (False, True)
    assert _balance(database) == 400
    assert len(workflows.started) == 1
    with database.session() as session:
        assert session.get(OrderRecord, order.order_id) is not None
        kinds = session.scalars(select(OrderEvent.kind).where(OrderEvent.order_id == order.order_id)).all()
    assert "store_credit:spent" in kinds


def test_too_little_credit_is_refused_with_what_is_available_and_nothing_is_recorded(database):
    _give(database, 500, "a")
    intake = Intake(SETTINGS, units_on(database.session_factory), FakeWorkflows())
    order = _paying(600)
    with pytest.raises(Unprocessable) as refused:
        asyncio.run(intake.take_canonical(order))
    assert refused.value.facts["refusal"] == "insufficient"
    assert refused.value.facts["available"] == {"amount_minor": 500, "currency": "EUR"}
    assert _count(database, OrderRecord) == 0
    assert _balance(database) == 500


def test_credit_belongs_to_the_shop_of_the_channel(database):
    _give(database, 1000, "pos", shop="store-utrecht")
    ChannelSettings(units_on(database.session_factory)).replace("pos", {"shop": "store-utrecht"})
    intake = Intake(SETTINGS, units_on(database.session_factory), FakeWorkflows())
    with pytest.raises(Unprocessable):  # the web shop is still "default": no credit there
        asyncio.run(intake.take_canonical(_paying(300)))
    asyncio.run(intake.take_canonical(_paying(300, channel="pos")))
    assert _balance(database, "store-utrecht") == 700


def test_a_cancelled_order_gets_its_credit_back_once(database):
    _give(database, 1000, "a")
    order = _paying(800)
    asyncio.run(Intake(SETTINGS, units_on(database.session_factory), FakeWorkflows()).take_canonical(order))
    accounts = _credit(database)
    first = accounts.reverse_order(order.order_id, f"{order.order_id}:credit-reverse:1", NOW)
    second = accounts.reverse_order(order.order_id, f"{order.order_id}:credit-reverse:1", NOW)
    assert first.given_back == [Money(800, "EUR")] and second.given_back == [Money(800, "EUR")]
    assert _balance(database) == 1000
    with database.session() as session:
        kinds = session.scalars(select(StoreCreditEntry.kind).order_by(StoreCreditEntry.id)).all()
    assert kinds == ["issue", "spend", "reverse"]


def test_an_edit_gives_part_of_the_spend_back_once_and_a_cancel_later_the_rest(database):
    _give(database, 1000, "a")
    order = _paying(800)
    asyncio.run(Intake(SETTINGS, units_on(database.session_factory), FakeWorkflows()).take_canonical(order))
    accounts = _credit(database)
    key = f"{order.order_id}:edit-2:credit-back"
    first = accounts.reverse_order(order.order_id, key, NOW, Money(300, "EUR"), "edit, version 2")
    again = accounts.reverse_order(order.order_id, key, NOW, Money(300, "EUR"), "edit, version 2")
    assert first.given_back == again.given_back == [Money(300, "EUR")]
    assert _balance(database) == 500
    with database.session() as session:
        assert credit_paid_left(session, order.order_id) == 500  # what a return may still give back as credit
        details = session.scalars(
            select(OrderEvent.detail).where(OrderEvent.kind == "store_credit:reversed").order_by(OrderEvent.id)
        ).all()
    assert details == ["3.00 EUR store credit given back (edit, version 2)"]
    rest = accounts.reverse_order(order.order_id, f"{order.order_id}:credit-reverse:1", NOW)
    assert rest.given_back == [Money(500, "EUR")] and _balance(database) == 1000
    with database.session() as session:
        amounts = session.scalars(select(StoreCreditEntry.amount_minor).order_by(StoreCreditEntry.id)).all()
        assert credit_paid_left(session, order.order_id) == 0
    assert amounts == [1000, 800, 300, 500]


def test_the_expiry_run_writes_off_what_is_left_once(database):
    CreditAccounts(units_on(database.session_factory), timedelta(days=30), clock=lambda: NOW).issue(
        IssueCreditInput("test:lot", Money(1000, "EUR"), CreditReason.RETURN, NOW, email=EMAIL, shop="default")
    )
    accounts = _credit(database)
    assert accounts.expire_due(NOW + timedelta(days=29)).entries == 0
    later = NOW + timedelta(days=31)
    assert accounts.expire_due(later).entries == 1
    assert accounts.expire_due(later).entries == 0  # a repeated run
    with database.session() as session:
        expired = session.scalars(select(StoreCreditEntry).where(StoreCreditEntry.kind == "expire")).all()
    assert [(e.amount_minor, e.entry_id) for e in expired] == [(1000, "test:lot:expire:1")]


@pytest.mark.parametrize("database", ["postgresql"], indirect=True)
def test_orders_spending_the_same_credit_at_once_never_go_below_zero(database):
    """Twelve orders race through the real intake path (threads, one connection each) for credit
    that covers three of them: three are taken, the rest refused, the balance never below zero."""
    db = database
    _give(db, 1000, "a")
    intake = Intake(SETTINGS, units_on(db.session_factory), FakeWorkflows())
    orders = [_paying(300) for _ in range(12)]
    start = threading.Barrier(len(orders))

    def take(order: Order) -> bool:
        start.wait()
        try:
            asyncio.run(intake.take_canonical(order))
        except Unprocessable:
            return False
        return True

    with ThreadPoolExecutor(max_workers=len(orders)) as pool:
        taken = list(pool.map(take, orders))
    assert sum(taken) == 3  # 3 x 3.00 fits in 10.00; a 4th would leave -2.00
    assert _balance(db) == 100
    with db.session() as session:
        spends = session.scalars(select(StoreCreditEntry).where(StoreCreditEntry.kind == CreditEntryKind.SPEND)).all()
        recorded = session.scalar(select(func.count()).select_from(OrderRecord))
    assert len(spends) == 3 and recorded == 3
