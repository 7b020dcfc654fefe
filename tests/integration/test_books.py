"""The books against real SQLite and PostgreSQL and the Exact Online sandbox: a known day's journal
from real invoice, credit note, order and store credit rows; the day pushed to Exact once however
often it runs (a crash after Exact's answer included); the minute's rate limit waited for; an
expired token refreshed (its rotated refresh token kept); the reconciliation equal to the cent."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from api.main import create_app as create_api
from config import Settings, load_settings
from contracts.documents import BuyerDetails
from domain.invoicing import Item, credit_note, invoice
from domain.money import Money
from domain.staff import Role
from domain.store_credit import CreditReason, account_for
from domain.vat import DUTCH_RATES, REDUCED, STANDARD
from integrations.accounting.exact.client import (
    DailyLimitReached,
    ExactClient,
    ExactConfig,
    ExactError,
    Tokens,
    amount,
)
from ops.temporal_dev import free_port
from persistence.guarded_writes import store_credit
from persistence.guarded_writes.bookings import record_booking
from persistence.guarded_writes.invoices import record_document
from persistence.models import AccountingToken, BookingRecord, OrderRecord
from sandboxes import exact as exact_sandbox
from sandboxes.server import serve
from services.accounts import Accounts, member_of
from services.books import Books, PushReport, day_window
from services.exact_books import ExactBookkeeper, exact_client
from services.unit_of_work import units_on
from tests.conftest import TestDatabase
from tests.integration.staff_members import CHEAP, PASSWORD

DAY = date(2026, 12, 7)
# 23:30 UTC on the 6th is 00:30 on the 7th in Amsterdam: the books' day, not UTC's.
EARLY = datetime(2026, 12, 6, 23, 30, tzinfo=UTC)
NOON = datetime(2026, 12, 7, 12, tzinfo=UTC)
LATE = datetime(2026, 12, 7, 23, 30, tzinfo=UTC)  # 00:30 on the 8th in Amsterdam: the next day
BUYER = BuyerDetails("A. Buyer", ("Kerkstraat 1",), "1011 AA", "Amsterdam", "NL")
REFRESH = "first-refresh-token"


def eur(text: str) -> Money:
    return Money.parse(text, "EUR")


def _order(db: TestDatabase, order_id: str, channel: str, collected: bool) -> None:
    with db.session() as session, session.begin():
        session.add(
            OrderRecord(
                order_id=order_id,
                channel=channel,
                external_id=order_id,
                status="shipped",
                currency="EUR",
                total_minor=0,
                placed_at=EARLY,
                payment_collected=collected,
            )
        )


def known_day(db: TestDatabase) -> None:
    """The day of tests/unit/test_journal.py, as rows: a webshop order through the gateway (30.00
    of it paid with store credit), its shirt returned, a bol order the marketplace collected."""
    _order(db, "order-webshop-1", "webshop", collected=False)
    _order(db, "order-bol-1", "bol", collected=True)
    documents = [
        (
            "inv:1",
            "order-webshop-1",
            "webshop",
            EARLY,
            invoice([Item("Shirt", STANDARD, eur("121.00"))], eur("6.05"), DUTCH_RATES),
        ),
        (
            "inv:2",
            "order-bol-1",
            "bol",
            NOON,
            invoice(
                [Item("Book", REDUCED, eur("10.90")), Item("Shirt", STANDARD, eur("24.20"))], eur("0"), DUTCH_RATES
            ),
        ),
        (
            "cn:1",
            "order-webshop-1",
            "webshop",
            NOON,
            credit_note([Item("Shirt", STANDARD, eur("121.00"))], eur("0"), DUTCH_RATES),
        ),
        (
            "inv:next-day",
            "order-bol-1",
            "bol",
            LATE,
            invoice([Item("Book", REDUCED, eur("10.90"))], eur("0"), DUTCH_RATES),
        ),
    ]
    for document_id, order_id, channel, at, document in documents:
        with db.session() as session, session.begin():
            record_document(session, document_id, document, order_id=order_id, channel=channel, buyer=BUYER, at=at)
    account = account_for("default", "sam@example.org", "EUR")
    with db.session() as session, session.begin():
        store_credit.issue(
            session,
            account,
            entry_id="give",
            amount=eur("50.00"),
            at=datetime(2026, 12, 1, tzinfo=UTC),
            reason=CreditReason.GOODWILL,
        )
    with db.session() as session, session.begin():
        store_credit.spend(session, account, entry_id="spend", amount=eur("30.00"), at=NOON, order_id="order-webshop-1")


def _settings(**extra: Any) -> Settings:
    return load_settings(_env_file=None, admin_token="test-admin-token", **extra)


def test_the_books_day_is_local_midnight_to_midnight() -> None:
    assert day_window(DAY, "Europe/Amsterdam") == (
        datetime(2026, 12, 6, 23, tzinfo=UTC),
        datetime(2026, 12, 7, 23, tzinfo=UTC),
    )
    assert day_window(date(2026, 3, 29), "Europe/Amsterdam")[1] - day_window(date(2026, 3, 29), "Europe/Amsterdam")[
        0
    ] == (datetime(2026, 3, 29, 22, tzinfo=UTC) - datetime(2026, 3, 28, 23, tzinfo=UTC))  # 23 hours: summer time starts


def test_a_known_day_from_real_rows(database: TestDatabase) -> None:
    known_day(database)
    day = Books(database.session_factory, _settings()).journal(DAY, "EUR")
    assert day.balanced and day.debit == eur("313.15")
    rows = {
        (line.account, line.description, line.channel, line.vat_rate): (line.debit, line.credit) for line in day.lines
    }
    assert rows[("1300", "Receivable from channel", "bol", None)] == (eur("35.10"), eur("0"))  # not the next day's
    assert rows[("1600", "Store credit spent", "webshop", None)] == (eur("30.00"), eur("0"))
    assert rows[("8100", "Shipping revenue", "webshop", 2100)] == (eur("0"), eur("5.00"))
    assert len(day.lines) == 14  # the lines of tests/unit/test_journal.py's known day, exactly


def _person(db: TestDatabase, email: str, role: Role) -> dict[str, str]:
    accounts = Accounts(units_on(db.session_factory), hasher=CHEAP)
    user = accounts.create_user(email, PASSWORD, role, ())
    raw, _ = accounts.create_token(member_of(user), "tests", role)
    return {"Authorization": f"Bearer {raw}"}


def _api(db: TestDatabase, settings: Settings) -> TestClient:
    settings = settings.model_copy(update={"database_url": db.url, "temporal_address": f"localhost:{free_port()}"})
    return TestClient(create_api(settings), raise_server_exceptions=False)


@pytest.fixture
def exact() -> Iterator[tuple[str, Any]]:
    app = exact_sandbox.create_app(refresh_token=REFRESH)
    with serve(app) as url:
        yield url, app.state.exact


def _exact_settings(url: str) -> Settings:
    return _settings(
        exact_enabled=True,
        exact_base_url=url,
        exact_client_id=exact_sandbox.CLIENT_ID,
        exact_client_secret=exact_sandbox.CLIENT_SECRET,
        exact_refresh_token=REFRESH,
        exact_customers={"*": "OMS", "bol": "OMS-BOL"},
    )


def _keeper(db: TestDatabase, settings: Settings, **options: Any) -> ExactBookkeeper:
    return ExactBookkeeper(db.session_factory, settings, exact_client(db.session_factory, settings, **options))


def test_a_day_is_booked_at_exact_once_and_reconciles_to_the_cent(database: TestDatabase, exact) -> None:
    url, state = exact
    known_day(database)
    settings = _exact_settings(url)
    first = _keeper(database, settings).push_day(DAY, "EUR")
    assert (first.posted, first.found, first.already) == (["bol", "webshop"], [], [])
    again = _keeper(database, settings).push_day(DAY, "EUR")
    assert (again.posted, again.found, again.already) == ([], [], ["bol", "webshop"])
    assert state.posts == 2
    entries = {entry["YourRef"]: entry for entry in state.entries}
    assert entries["OMS-20261207-EUR-bol"]["AmountFC"] == 35.1
    assert entries["OMS-20261207-EUR-webshop"]["AmountFC"] == 6.05  # shirt sold and returned: the shipping
    bol_lines = entries["OMS-20261207-EUR-bol"]["SalesEntryLines"]
    assert sorted((line["AmountFC"], line["VATAmountFC"], line["VATCode"]) for line in bol_lines) == [
        (10.0, 0.9, "1"),
        (20.0, 4.2, "2"),
    ]
    # The token was refreshed once and its rotated refresh token kept.
    with database.session() as session:
        kept = session.get(AccountingToken, "exact")
        assert kept is not None and kept.refresh_token not in ("", REFRESH)
    rows = Books(database.session_factory, settings).reconciliation(DAY, DAY, [_keeper(database, settings)])
    assert [(row.channel, row.sales, row.gateway, row.marketplace) for row in rows] == [
        ("bol", eur("35.10"), eur("0"), eur("35.10")),
        ("webshop", eur("6.05"), eur("6.05"), eur("0")),
    ]
    for row in rows:
        (system,) = row.systems
        assert system.recorded == row.sales and system.at_system == row.sales
        assert row.difference(system) == eur("0")


class _PerDocument:
    """A system that books each document (as Moneybird would): keys "<channel>:<number>"."""

    system = "moneybird"

    def __init__(self, db: TestDatabase, held: dict[str, Money]) -> None:
        self._db, self._held = db, held

    def push_day(self, day: date, currency: str) -> PushReport:
        with self._db.session() as session, session.begin():
            for key, gross in (("bol:INV-2026-000002", "35.10"), ("webshop:INV-2026-000001", "127.05")):
                record_booking(
                    session,
                    system=self.system,
                    day=day,
                    currency=currency,
                    key=key,
                    reference=key,
                    external_id=key,
                    amount=eur(gross),
                )
            record_booking(
                session,
                system=self.system,
                day=day,
                currency=currency,
                key="webshop:CN-2026-000001",
                reference="cn",
                external_id="cn",
                amount=eur("-121.00"),
            )
        return PushReport(self.system, day, currency, posted=["bol", "webshop"])

    def booked(self, day: date, currency: str) -> dict[str, Money]:
        return self._held


def test_a_system_booking_each_document_reconciles_per_channel(database: TestDatabase) -> None:
    known_day(database)
    keeper = _PerDocument(database, {"bol": eur("35.10"), "webshop": eur("6.00")})
    keeper.push_day(DAY, "EUR")
    rows = Books(database.session_factory, _settings()).reconciliation(DAY, DAY, [keeper])
    found = {row.channel: (row.systems[0].recorded, row.difference(row.systems[0])) for row in rows}
    assert found == {"bol": (eur("35.10"), eur("0")), "webshop": (eur("6.05"), eur("-0.05"))}


class _Crash(Exception):
    pass


class _CrashingKeeper(ExactBookkeeper):
    def post(self, entry: dict[str, Any]) -> dict[str, Any]:
        super().post(entry)  # Exact took it ...
        raise _Crash("the process died before our booking row was committed")


def test_a_crash_after_exact_answered_does_not_book_twice(database: TestDatabase, exact) -> None:
    url, state = exact
    known_day(database)
    settings = _exact_settings(url)
    crashing = _CrashingKeeper(database.session_factory, settings, exact_client(database.session_factory, settings))
    with pytest.raises(_Crash):
        crashing.push_day(DAY, "EUR")
    with database.session() as session:
        assert session.scalars(select(BookingRecord)).all() == []
    assert state.posts == 1
    report = _keeper(database, settings).push_day(DAY, "EUR")
    assert (report.posted, report.found) == (["webshop"], ["bol"])  # bol found at Exact, webshop not yet tried
    assert state.posts == 2
    assert sorted(entry["YourRef"] for entry in state.entries) == ["OMS-20261207-EUR-bol", "OMS-20261207-EUR-webshop"]
    with database.session() as session:
        booked = {row.key: row.amount_minor for row in session.scalars(select(BookingRecord))}
    assert booked == {"bol": 3510, "webshop": 605}


def test_the_minutely_limit_is_waited_for_and_the_push_finishes(database: TestDatabase, exact) -> None:
    url, state = exact
    known_day(database)
    settings = _exact_settings(url)
    # This minute is used up (by another process: the client has not seen a header yet) and ends
    # in 1.5 s; the first call is a 429.
    httpx.post(f"{url}/_sandbox/limits", params={"minute_seconds": 1.5, "minute_left": 0})
    keeper = _keeper(database, settings)
    report = keeper.push_day(DAY, "EUR")
    assert report.posted == ["bol", "webshop"]
    assert state.posts == 2 and state.throttled >= 1
    assert keeper._client.waited > 0  # it waited for the reset instead of failing


def test_what_is_left_of_the_minute_is_not_overrun(database: TestDatabase, exact) -> None:
    url, state = exact
    known_day(database)
    settings = _exact_settings(url)
    httpx.post(f"{url}/_sandbox/limits", params={"minute_seconds": 1.5, "minute_left": 2})
    keeper = _keeper(database, settings)
    assert keeper.push_day(DAY, "EUR").posted == ["bol", "webshop"]
    # Two calls were left: after them the client waited for the reset, and no call was refused.
    assert state.throttled == 0 and keeper._client.waited > 0


class _Memory:
    def __init__(self) -> None:
        self.tokens: Tokens | None = None

    def load(self) -> Tokens | None:
        return self.tokens

    def save(self, tokens: Tokens) -> None:
        self.tokens = tokens


def test_a_look_up_reads_every_page(exact) -> None:
    url, state = exact
    config = ExactConfig(url, exact_sandbox.CLIENT_ID, exact_sandbox.CLIENT_SECRET, initial_refresh_token=REFRESH)
    client = ExactClient(config, _Memory())
    customer = client.id_by_code("crm/Accounts", "OMS")
    account = client.id_by_code("financial/GLAccounts", "8000")
    for n in range(exact_sandbox.PAGE + 5):
        line = {"GLAccount": account, "AmountFC": Decimal("1.00"), "VATAmountFC": Decimal("0.21"), "VATCode": "2"}
        entry = {"Journal": "70", "Customer": customer, "YourRef": f"OMS-202612{n:02d}", "SalesEntryLines": [line]}
        state.entries.append({**entry, "EntryID": str(n), "AmountFC": 1.21})
    found = client.sales_entries("OMS-2026", prefix=True)
    assert len(found) == exact_sandbox.PAGE + 5
    assert sum(amount(row["AmountFC"]) for row in found) == Decimal("1.21") * (exact_sandbox.PAGE + 5)


def test_an_expired_token_is_refreshed_and_the_day_limit_stops_the_push(database: TestDatabase, exact) -> None:
    url, state = exact
    known_day(database)
    settings = _exact_settings(url)
    client = exact_client(database.session_factory, settings)
    assert client.division() == exact_sandbox.DIVISION
    httpx.post(f"{url}/_sandbox/expire-tokens")
    assert client.sales_entries("nothing") == []  # a 401, refreshed, answered
    assert state.refreshes == 2
    # The rotated refresh token was kept: a new client (a new process) connects with it.
    assert exact_client(database.session_factory, settings).sales_entries("nothing") == []
    httpx.post(f"{url}/_sandbox/limits", params={"day_left": 0})
    with pytest.raises(DailyLimitReached, match="daily limit"):
        _keeper(database, settings).push_day(DAY, "EUR")
    assert state.posts == 0


def test_an_outage_books_nothing_and_the_next_run_books_the_day(database: TestDatabase, exact) -> None:
    url, state = exact
    known_day(database)
    settings = _exact_settings(url)
    httpx.post(f"{url}/_sandbox/outage", params={"on": True})
    with pytest.raises(ExactError, match="did not answer"):
        _keeper(database, settings, sleep=lambda _: None).push_day(DAY, "EUR")
    with database.session() as session:
        assert session.scalars(select(BookingRecord)).all() == []
    httpx.post(f"{url}/_sandbox/outage", params={"on": False})
    httpx.post(f"{url}/_sandbox/fail", params={"status": 500, "times": 1})  # one more hiccup: retried
    assert _keeper(database, settings, sleep=lambda _: None).push_day(DAY, "EUR").posted == ["bol", "webshop"]
    assert state.posts == 2


def test_a_refresh_token_rotated_by_another_process_is_taken_from_the_store(database: TestDatabase, exact) -> None:
    url, state = exact
    settings = _exact_settings(url)
    worker, api = exact_client(database.session_factory, settings), exact_client(database.session_factory, settings)
    api._tokens = Tokens(REFRESH)  # the API read the first refresh token before the worker used it
    assert worker.division() == exact_sandbox.DIVISION  # the worker refreshes: Exact rotates the token
    assert api.sales_entries("nothing") == []  # the API's spent token is refused; it takes the stored one
    assert state.refreshes == 1


def test_the_journal_and_reconciliation_over_the_api(database: TestDatabase, exact) -> None:
    url, _ = exact
    known_day(database)
    settings = _exact_settings(url)
    finance = _person(database, "fin@shop.test", Role.FINANCE)
    support = _person(database, "sam@shop.test", Role.SUPPORT)
    with _api(database, settings) as api:
        staff = {"Authorization": "Bearer test-admin-token"}
        answer = api.get("/books/journal", params={"day": "2026-12-07", "currency": "EUR"}, headers=staff)
        assert answer.status_code == 200, answer.text
        body = answer.json()
        assert body["balanced"] is True and body["debit"] == body["credit"] == "313.15"
        as_csv = api.get(
            "/books/journal", params={"day": "2026-12-07", "currency": "EUR", "format": "csv"}, headers=staff
        )
        assert as_csv.status_code == 200 and as_csv.headers["content-type"].startswith("text/csv")
        rows = list(csv.DictReader(io.StringIO(as_csv.text)))
        assert len(rows) == 14
        assert sum(Money.parse(row["debit"], "EUR").amount_minor for row in rows) == 31315
        assert sum(Money.parse(row["credit"], "EUR").amount_minor for row in rows) == 31315
        assert {"date", "account", "description", "channel", "vat_rate", "debit", "credit"} <= set(rows[0])
        assert (
            api.get("/books/journal", params={"day": "07-12-2026", "currency": "EUR"}, headers=staff).status_code == 422
        )
        assert api.get("/books/journal", params={"day": "2026-12-07", "currency": "EUR"}).status_code == 401
        assert (
            api.get("/books/journal", params={"day": "2026-12-07", "currency": "XYZ"}, headers=staff).status_code == 422
        )
        assert api.get("/books/journal", params={"day": "2026-12-07"}, headers=finance).status_code == 200
        assert api.get("/books/journal", params={"day": "2026-12-07"}, headers=support).status_code == 403
        assert api.post("/books/exact/push", params={"day": "2026-12-07"}, headers=finance).status_code == 403
        pushed = api.post("/books/exact/push", params={"day": "2026-12-07"}, headers=staff)
        assert pushed.status_code == 200, pushed.text
        assert pushed.json()["pushed"][0]["posted"] == ["bol", "webshop"]
        report = api.get("/books/reconciliation", params={"from": "2026-12-07", "to": "2026-12-07"}, headers=staff)
        assert report.status_code == 200, report.text
        assert [(row["channel"], row["sales"], row["systems"][0]["difference"]) for row in report.json()["rows"]] == [
            ("bol", "35.10", "0.00"),
            ("webshop", "6.05", "0.00"),
        ]
        report_csv = api.get(
            "/books/reconciliation", params={"from": "2026-12-07", "to": "2026-12-07", "format": "csv"}, headers=staff
        )
        parsed = list(csv.DictReader(io.StringIO(report_csv.text)))
        assert [(row["channel"], row["system"], row["at_system"], row["difference"]) for row in parsed] == [
            ("bol", "exact", "35.10", "0.00"),
            ("webshop", "exact", "6.05", "0.00"),
        ]
