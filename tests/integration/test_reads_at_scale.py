"""The order list as it pages at scale (its keys found in an index, its count asked only when the
page does not show the end), support's look-up over the same orders, and bench/reads.py run small so
the benchmark cannot rot: on SQLite and PostgreSQL. No timing is asserted."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

import pytest

from domain.status import OrderStatus
from persistence.read_model import orders as order_store
from persistence.unit_of_work import UnitOfWork
from tests.factories import make_order

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def listed(database) -> list[tuple[str, datetime, str, str, str]]:
    """Nine orders: two channels, two statuses, two SKUs, and three received at the same moment (the
    list orders those by id). (order_id, received_at, channel, status, sku), newest first."""
    made = []
    with UnitOfWork(database.session_factory) as uow:
        for n in range(9):
            sku = "MUG" if n % 3 else "CUP"
            channel = "webshop" if n % 2 else "pos"
            order = make_order([(sku, 1, 1000)], channel=channel, external_id=f"list-{n}")
            order = dataclasses.replace(order, customer_email=f"Buyer{n % 4}@Example.org")
            received = T0 + timedelta(minutes=n if n < 6 else 6)  # 6, 7 and 8 arrive together
            order_store.record_order(uow.session, order, received)
            status = OrderStatus.ON_HOLD if n in (1, 4, 7) else OrderStatus.RECEIVED
            if status is OrderStatus.ON_HOLD:
                order_store.set_status(uow.session, order.order_id, status, hold_reason="check", at=received)
            made.append((order.order_id, received, channel, status.value, sku))
        uow.commit()
    return sorted(made, key=lambda o: (-o[1].timestamp(), o[0]))


@pytest.mark.parametrize(
    "wanted",
    [{}, {"status": "ON_HOLD"}, {"channel": "pos"}, {"sku": "MUG"}, {"status": "RECEIVED", "channel": "webshop"}],
)
def test_every_page_of_every_filter_is_newest_first_and_counts_them_all(database, listed, wanted):
    column = {"channel": 2, "status": 3, "sku": 4}
    expected = [o[0] for o in listed if all(o[column[name]] == value for name, value in wanted.items())]
    assert expected  # each filter matches something
    with database.session() as session:
        for limit in (1, 2, 4, 50):
            walked = []
            for offset in range(0, len(expected) + limit + 1, limit):  # one page past the end too
                rows, count = order_store.list_orders(session, limit=limit, offset=offset, **wanted)
                assert count == len(expected), (limit, offset)
                walked += [row.order_id for row in rows]
            assert walked == expected, limit
        assert order_store.list_orders(session, status="CANCELLED") == ([], 0)
        assert order_store.list_orders(session, status="CANCELLED", offset=5) == ([], 0)


def test_support_finds_an_order_by_any_of_its_keys_once(database, listed):
    with database.session() as session:
        newest = listed[0][0]
        record = order_store.get_order(session, newest)
        assert record is not None
        for exact in (newest, record.external_id):
            found, count = order_store.find_orders(session, exact=exact, email_key="", postcode_key="")
            assert ([r.order_id for r in found], count) == ([newest], 1)
        # Nine orders, four e-mails: buyer0 placed 0, 4 and 8; an id that is also matched by its
        # e-mail is counted once.
        by_email, count = order_store.find_orders(
            session, exact=newest, email_key="buyer0@example.org", postcode_key=""
        )
        wanted = [o[0] for o in listed if o[0] == newest or o[0].endswith(("list-0", "list-4", "list-8"))]
        assert count == len(wanted) == len(by_email)
        assert [r.order_id for r in by_email] == wanted
        assert order_store.find_orders(session, exact="nothing", email_key="", postcode_key="") == ([], 0)


def test_the_reads_benchmark_seeds_and_reads_through_the_app(database):
    """bench/reads.py small: the seed (bench/kpis.py's) and every read through the real app answer
    (time_reads raises on any other status), and the list counts every order seeded."""
    from bench.kpis import seed
    from bench.reads import reads, time_reads, typical, vacuum

    now = datetime.now(UTC).replace(microsecond=0)
    counts, _ = seed(database.engine, 300, 30, now)
    vacuum(database.engine)
    seeded = typical(database.engine)
    assert seeded.orders == counts["orders"] == 300
    figures = time_reads(database.url, seeded, now, runs=2)
    assert list(figures) == list(reads(seeded, now, lambda: ""))
    assert all(ms["p95"] >= ms["p50"] > 0 for ms in figures.values())
