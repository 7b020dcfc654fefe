"""The ATP outbox: written with every stock change, delivered to each channel in order, retried."""

from __future__ import annotations

from typing import Any, cast

import pytest
from sqlalchemy import select

from activities.stock_feed import StockFeedActivities
from domain.channels import ChannelPolicy
from persistence.guarded_writes import inventory
from persistence.guarded_writes.stock_outbox import atp_by_sku
from persistence.master_data.channels import save_policy
from persistence.models import ChannelStockLevel, StockOutbox
from persistence.read_model.sandbox_stock_feed import sandbox_feeds
from persistence.unit_of_work import UnitOfWork
from tests.factories import add_location, stock


class RecordingFeed:
    def __init__(self, fail_times: int = 0) -> None:
        self.fail_times = fail_times
        self.received: list[tuple[str, int, int]] = []

    def push(self, sku: str, quantity: int, sequence: int) -> None:
        if self.fail_times:
            self.fail_times -= 1
            raise ConnectionError("channel API answered 503")
        self.received.append((sku, quantity, sequence))


def _publisher(db, feeds) -> StockFeedActivities:
    return StockFeedActivities(db.session_factory, feeds, client=cast(Any, None))


def _pending(db) -> list[tuple[int, str, int]]:
    with db.session() as session:
        rows = session.scalars(select(StockOutbox).where(StockOutbox.delivered_at.is_(None)).order_by(StockOutbox.id))
        return [(row.id, row.sku, row.attempts) for row in rows]


def test_every_stock_change_writes_its_outbox_row_in_its_transaction(database):
    add_location(database.session_factory, "AMS")
    add_location(database.session_factory, "UTR")
    with UnitOfWork(database.session_factory) as uow:
        save_policy(uow.session, ChannelPolicy("bol", sells_from=("UTR",), safety_stock=1))
        uow.commit()
    stock(database.session_factory, "AMS", {"A": 5})
    stock(database.session_factory, "UTR", {"A": 3, "B": 1})
    with UnitOfWork(database.session_factory) as uow, pytest.raises(inventory.InsufficientStock):
        inventory.reserve(uow.session, "AMS", {"A": 99}, "order-webshop-1")  # refused: rolls back
        uow.commit()
    with database.session() as session:
        rows = [(row.sku, row.atp) for row in session.scalars(select(StockOutbox).order_by(StockOutbox.id))]
        current = atp_by_sku(session, ["A"])["A"]
    assert rows == [("A", None), ("A", None), ("B", None)]  # one per SKU per transaction, none for the refusal
    assert (current["webshop"], current["bol"]) == (8, 2)


def test_delivery_records_what_each_channel_was_brought_to(database):
    add_location(database.session_factory, "AMS")
    stock(database.session_factory, "AMS", {"A": 5})
    _publisher(database, {"webshop": RecordingFeed()})._deliver(batch_size=100)
    with database.session() as session:
        [row] = session.scalars(select(StockOutbox))
    assert row.delivered_at is not None and row.atp is not None and row.atp["webshop"] == 5


def test_a_failing_channel_is_retried_and_never_gets_an_older_value_after_a_newer(database):
    add_location(database.session_factory, "AMS")
    stock(database.session_factory, "AMS", {"A": 5})
    flaky, steady = RecordingFeed(fail_times=1), RecordingFeed()
    publisher = _publisher(database, {"bol": flaky, "webshop": steady})

    first = publisher._deliver(batch_size=100)
    assert (first.delivered, first.failed) == (0, 1)
    [(row_id, _, attempts)] = _pending(database)
    assert attempts == 1
    assert steady.received == [("A", 5, row_id)]  # the healthy channel already has it

    stock(database.session_factory, "AMS", {"A": 2})  # a newer value arrives while bol is down
    second = publisher._deliver(batch_size=100)
    assert (second.delivered, second.failed) == (2, 0)
    assert _pending(database) == []
    assert flaky.received == [("A", 7, row_id + 1)]  # only the newest: the stale 5 is never sent
    assert steady.received == [("A", 5, row_id), ("A", 7, row_id + 1)]
    with database.session() as session:
        sent = {(r.channel, r.sku): (r.quantity, r.sequence) for r in session.scalars(select(ChannelStockLevel))}
    assert sent == {("bol", "A"): (7, row_id + 1), ("webshop", "A"): (7, row_id + 1)}


def test_an_unchanged_level_is_not_sent_again(database):
    add_location(database.session_factory, "AMS")
    stock(database.session_factory, "AMS", {"A": 5})
    feed = RecordingFeed()
    publisher = _publisher(database, {"webshop": feed})
    publisher._deliver(batch_size=100)
    stock(database.session_factory, "AMS", {"B": 1})  # another SKU: A's level is unchanged
    with UnitOfWork(database.session_factory) as uow:
        uow.session.add(StockOutbox(sku="A", atp={"webshop": 5}))
        uow.commit()
    publisher._deliver(batch_size=100)
    assert [entry[:2] for entry in feed.received] == [("A", 5), ("B", 1)]
    assert _pending(database) == []


def test_the_sandbox_feeds_cover_every_channel(database):
    assert set(sandbox_feeds(database.session_factory)) == {"shopify", "woocommerce", "bol", "amazon", "pos", "webshop"}
