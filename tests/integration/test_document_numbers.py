"""Invoice and credit note numbers against real SQLite and PostgreSQL: sequential per series and year,
the same number for a document that asks again, no gap left by a rolled-back transaction, and on
PostgreSQL many writers at once never sharing or skipping a number."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from domain import limits
from domain.document_numbers import CREDIT_NOTE, INVOICE, InvalidDocumentNumber, parse_number
from persistence.guarded_writes.document_numbers import NumberedElsewhere, issue_number, issued_to
from persistence.models import IssuedDocumentNumber
from tests.conftest import TestDatabase

AT = datetime(2026, 12, 7, 12, tzinfo=UTC)


def _issue(db: TestDatabase, series: str, year: int, document_id: str) -> str:
    with db.session() as session, session.begin():
        return issue_number(session, series, year, document_id, AT)


def _issued(db: TestDatabase) -> list[tuple[str, int, int, str]]:
    with db.session() as session:
        rows = session.scalars(select(IssuedDocumentNumber).order_by(IssuedDocumentNumber.id))
        return [(row.series, row.year, row.number, row.document_id) for row in rows]


def test_numbers_run_on_per_series_and_year_and_a_new_year_starts_at_one(database):
    assert _issue(database, INVOICE, 2026, "invoice-a") == "INV-2026-000001"
    assert _issue(database, INVOICE, 2026, "invoice-b") == "INV-2026-000002"
    assert _issue(database, CREDIT_NOTE, 2026, "credit-a") == "CN-2026-000001"  # a series of its own
    assert _issue(database, INVOICE, 2027, "invoice-c") == "INV-2027-000001"  # a new year
    assert _issue(database, INVOICE, 2026, "invoice-d") == "INV-2026-000003"
    assert _issue(database, CREDIT_NOTE, 2026, "credit-b") == "CN-2026-000002"
    with database.session() as session:
        assert issued_to(session, "invoice-d") == parse_number("INV-2026-000003")
        assert issued_to(session, "never-numbered") is None


def test_a_document_asking_again_gets_its_number_again_and_nothing_is_written(database):
    first = _issue(database, INVOICE, 2026, "invoice-a")
    _issue(database, INVOICE, 2026, "invoice-b")
    assert _issue(database, INVOICE, 2026, "invoice-a") == first  # a retried activity
    assert _issue(database, INVOICE, 2026, "invoice-c") == "INV-2026-000003"
    assert len(_issued(database)) == 3


def test_a_document_has_one_number_whatever_series_it_asks_in_later(database):
    _issue(database, INVOICE, 2026, "doc-1")
    with pytest.raises(NumberedElsewhere) as refused:
        _issue(database, CREDIT_NOTE, 2026, "doc-1")
    assert str(refused.value.issued) == "INV-2026-000001"
    with pytest.raises(NumberedElsewhere):
        _issue(database, INVOICE, 2027, "doc-1")
    assert _issue(database, CREDIT_NOTE, 2026, "doc-2") == "CN-2026-000001"  # the refusal took nothing


def test_a_rolled_back_transaction_gives_its_number_back(database):
    _issue(database, INVOICE, 2026, "invoice-a")
    with database.session() as session:
        session.begin()
        assert issue_number(session, INVOICE, 2026, "invoice-lost", AT) == "INV-2026-000002"
        session.rollback()  # recording the document failed after the number was taken
    assert _issue(database, INVOICE, 2026, "invoice-b") == "INV-2026-000002"
    with database.session() as session:
        assert issued_to(session, "invoice-lost") is None
    assert [number for _, _, number, _ in _issued(database)] == [1, 2]


@pytest.mark.parametrize(
    ("series", "year", "document_id", "at"),
    [
        ("inv", 2026, "doc", AT),
        ("INV", 99, "doc", AT),
        ("INV", 2026, "", AT),
        ("INV", 2026, "d" * (limits.DOCUMENT_ID + 1), AT),
        ("INV", 2026, "doc", datetime(2026, 12, 7)),
    ],
)
def test_what_no_number_can_carry_is_refused_before_anything_is_written(database, series, year, document_id, at):
    with database.session() as session, session.begin(), pytest.raises(InvalidDocumentNumber):
        issue_number(session, series, year, document_id, at)
    assert _issued(database) == []


def test_the_longest_document_id_is_stored_whole(database):
    longest = "d" * limits.DOCUMENT_ID
    assert _issue(database, INVOICE, 2026, longest) == "INV-2026-000001"
    assert _issued(database)[0][3] == longest


@pytest.mark.parametrize("database", ["postgresql"], indirect=True)
def test_writers_issuing_at_once_take_one_to_n_with_no_gap_and_no_duplicate(database):
    """Eight threads (one connection each) issue 200 invoice numbers and 40 credit note numbers at
    once; every tenth try rolls back and every fifth document asks twice. The numbers issued are
    exactly 1..200 and 1..40, each to one document."""
    db = database
    writers = 8
    start = threading.Barrier(writers)
    invoices = [f"invoice-{n}" for n in range(200)]
    credit_notes = [f"credit-{n}" for n in range(40)]
    work = [(INVOICE, doc) for doc in invoices] + [(CREDIT_NOTE, doc) for doc in credit_notes]
    shares = [work[w::writers] for w in range(writers)]

    def write(share: list[tuple[str, str]]) -> dict[str, str]:
        start.wait()
        got: dict[str, str] = {}
        for step, (series, document_id) in enumerate(share):
            if step % 10 == 3:
                with db.session() as session:
                    session.begin()
                    issue_number(session, series, 2026, f"lost-{document_id}", AT)
                    session.rollback()
            got[document_id] = _issue(db, series, 2026, document_id)
            if step % 5 == 0:
                assert _issue(db, series, 2026, document_id) == got[document_id]
        return got

    with ThreadPoolExecutor(max_workers=writers) as pool:
        results = list(pool.map(write, shares))
    given = {doc: number for result in results for doc, number in result.items()}
    assert sorted(parse_number(given[doc]).sequence for doc in invoices) == list(range(1, 201))
    assert sorted(parse_number(given[doc]).sequence for doc in credit_notes) == list(range(1, 41))
    stored = _issued(db)
    assert len(stored) == 240
    assert {doc: f"{series}-{year}-{number:06d}" for series, year, number, doc in stored} == given
