"""Store credit: a balance per customer and shop that never goes below zero, spent first from the
credit that expires first, and whose ledger accounts for every cent issued (domain.store_credit)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.money import Money
from domain.store_credit import (
    CreditAccount,
    CreditEntry,
    CreditEntryKind,
    CreditReason,
    CreditRefusalKind,
    CreditRefused,
    account_for,
    balance,
    expiry_due,
    issue,
    reverse,
    spend,
    summary,
)

NOW = datetime(2026, 12, 7, 12, tzinfo=UTC)
DAY = timedelta(days=1)
ACCOUNT = account_for("webshop", "Sam@Example.org ", "EUR")


def eur(minor: int) -> Money:
    return Money(minor, "EUR")


def issued(entries: list[CreditEntry], entry_id: str, minor: int, *, at=NOW, expires_in: timedelta | None = None):
    expires_at = at + expires_in if expires_in is not None else None
    entry = issue(
        ACCOUNT, entries, entry_id=entry_id, amount=eur(minor), at=at, reason=CreditReason.RETURN, expires_at=expires_at
    )
    entries.append(entry)
    return entry


def spent(entries: list[CreditEntry], entry_id: str, minor: int, *, at=NOW, order_id="order-webshop-1"):
    entry = spend(ACCOUNT, entries, entry_id=entry_id, amount=eur(minor), at=at, order_id=order_id)
    entries.append(entry)
    return entry


def test_one_customer_per_shop_whatever_the_case_of_the_address():
    assert account_for("webshop", " SAM@example.org", "EUR") == ACCOUNT
    assert account_for("pos", "sam@example.org", "EUR") != ACCOUNT
    assert ACCOUNT.customer == "sam@example.org"


@pytest.mark.parametrize(
    ("shop", "email", "currency", "kind"),
    [
        ("webshop", "", "EUR", CreditRefusalKind.INVALID),
        ("webshop", "not an address", "EUR", CreditRefusalKind.INVALID),
        ("", "sam@example.org", "EUR", CreditRefusalKind.INVALID),
        ("webshop", "sam@example.org", "XAU", CreditRefusalKind.CURRENCY),
    ],
)
def test_an_account_needs_a_shop_an_address_and_a_currency(shop, email, currency, kind):
    with pytest.raises(CreditRefused) as refused:
        account_for(shop, email, currency)
    assert refused.value.kind is kind


def test_a_spend_beyond_the_balance_is_refused_with_what_is_available():
    entries: list[CreditEntry] = []
    issued(entries, "i1", 2500)
    spent(entries, "s1", 1000)
    with pytest.raises(CreditRefused) as refused:
        spent(entries, "s2", 1501)
    assert refused.value.kind is CreditRefusalKind.INSUFFICIENT
    assert refused.value.available == eur(1500)
    spent(entries, "s2", 1500)
    assert balance(ACCOUNT, entries, NOW) == eur(0)


def test_a_spend_takes_the_credit_that_expires_first_so_expiry_takes_only_what_is_left():
    entries: list[CreditEntry] = []
    issued(entries, "forever", 1000)
    issued(entries, "late", 1000, expires_in=60 * DAY)
    issued(entries, "soon", 1000, expires_in=10 * DAY)
    spent(entries, "s1", 1500, at=NOW + DAY)  # all of "soon", half of "late"
    assert balance(ACCOUNT, entries, NOW + 11 * DAY) == eur(1500)  # "soon" had nothing left to lose
    assert expiry_due(ACCOUNT, entries, NOW + 11 * DAY) == ()
    due = expiry_due(ACCOUNT, entries, NOW + 61 * DAY)
    assert [(e.refers_to, e.amount, e.entry_id) for e in due] == [("late", eur(500), "late:expire:1")]
    entries.extend(due)
    assert balance(ACCOUNT, entries, NOW + 61 * DAY) == eur(1000)


def test_expired_credit_is_not_spendable_before_the_expiry_run_writes_it_off():
    entries: list[CreditEntry] = []
    issued(entries, "i1", 1000, expires_in=DAY)
    assert balance(ACCOUNT, entries, NOW + DAY - timedelta(seconds=1)) == eur(1000)
    assert balance(ACCOUNT, entries, NOW + DAY) == eur(0)
    with pytest.raises(CreditRefused) as refused:
        spent(entries, "s1", 1, at=NOW + DAY)
    assert refused.value.available == eur(0)
    account = summary(ACCOUNT, entries, NOW + DAY)
    assert (account.due_to_expire, account.balance, account.expired) == (eur(1000), eur(0), eur(0))


def test_a_reversal_gives_the_credit_back_into_the_lots_it_came_from():
    entries: list[CreditEntry] = []
    issued(entries, "soon", 1000, expires_in=10 * DAY)
    issued(entries, "forever", 1000)
    spent(entries, "s1", 1500, order_id="order-webshop-7")
    back = reverse(ACCOUNT, entries, entry_id="r1", spend_id="s1", amount=eur(700), at=NOW + DAY)
    assert back.order_id == "order-webshop-7"
    entries.append(back)
    # The 500 taken from "forever" went back first, then 200 into "soon", which still expires.
    due = expiry_due(ACCOUNT, entries, NOW + 10 * DAY)
    assert [(e.refers_to, e.amount) for e in due] == [("soon", eur(200))]
    with pytest.raises(CreditRefused) as refused:
        reverse(ACCOUNT, entries, entry_id="r2", spend_id="s1", amount=eur(801), at=NOW + DAY)
    assert refused.value.kind is CreditRefusalKind.TOO_MUCH


def test_credit_given_back_into_a_lot_already_expired_is_expired_again_under_a_new_id():
    entries: list[CreditEntry] = []
    issued(entries, "soon", 1000, expires_in=DAY)
    spent(entries, "s1", 400)
    entries.extend(expiry_due(ACCOUNT, entries, NOW + DAY))
    entries.append(reverse(ACCOUNT, entries, entry_id="r1", spend_id="s1", amount=eur(400), at=NOW + 2 * DAY))
    assert balance(ACCOUNT, entries, NOW + 2 * DAY) == eur(0)
    assert [e.entry_id for e in expiry_due(ACCOUNT, entries, NOW + 2 * DAY)] == ["soon:expire:2"]


@pytest.mark.parametrize(
    ("entry", "kind"),
    [
        (
            CreditEntry("x", CreditEntryKind.ISSUE, Money(100, "USD"), NOW, CreditReason.GOODWILL),
            CreditRefusalKind.CURRENCY,
        ),
        (CreditEntry("x", CreditEntryKind.ISSUE, eur(0), NOW, CreditReason.GOODWILL), CreditRefusalKind.INVALID),
        (CreditEntry("x", CreditEntryKind.ISSUE, eur(100), NOW), CreditRefusalKind.INVALID),
        (CreditEntry("x", CreditEntryKind.ISSUE, eur(100), NOW, CreditReason.ADJUSTMENT), CreditRefusalKind.INVALID),
        (
            CreditEntry("x", CreditEntryKind.ISSUE, eur(1), NOW, CreditReason.GOODWILL, expires_at=NOW),
            CreditRefusalKind.INVALID,
        ),
        (
            CreditEntry("x", CreditEntryKind.ISSUE, eur(1), NOW.replace(tzinfo=None), CreditReason.GOODWILL),
            CreditRefusalKind.INVALID,
        ),
        (CreditEntry("i1", CreditEntryKind.ISSUE, eur(1), NOW, CreditReason.GOODWILL), CreditRefusalKind.INVALID),
        (CreditEntry("x", CreditEntryKind.SPEND, eur(1), NOW), CreditRefusalKind.INVALID),
        (CreditEntry("x", CreditEntryKind.REVERSE, eur(1), NOW, refers_to="i1"), CreditRefusalKind.INVALID),
        (CreditEntry("x", CreditEntryKind.EXPIRE, eur(1), NOW, refers_to="nothing"), CreditRefusalKind.INVALID),
        (CreditEntry("x", CreditEntryKind.EXPIRE, eur(1), NOW + DAY, refers_to="i1"), CreditRefusalKind.NOT_DUE),
        (
            CreditEntry("x", CreditEntryKind.EXPIRE, eur(1001), NOW + 30 * DAY, refers_to="i1"),
            CreditRefusalKind.TOO_MUCH,
        ),
    ],
)
def test_a_ledger_entry_that_does_not_fit_the_account_is_refused(entry, kind):
    entries: list[CreditEntry] = []
    issued(entries, "i1", 1000, expires_in=30 * DAY)
    with pytest.raises(CreditRefused) as refused:
        balance(ACCOUNT, [*entries, entry], NOW + 40 * DAY)
    assert refused.value.kind is kind
    assert str(refused.value)


def test_entries_after_the_time_asked_do_not_count():
    entries: list[CreditEntry] = []
    issued(entries, "i1", 1000)
    spent(entries, "s1", 300, at=NOW + DAY)
    assert balance(ACCOUNT, entries, NOW) == eur(1000)
    assert balance(ACCOUNT, entries, NOW + DAY) == eur(700)


# -- properties ---------------------------------------------------------------------------------

_issue = st.tuples(st.just("issue"), st.integers(1, 5000), st.one_of(st.none(), st.integers(1, 20)))
_spend = st.tuples(st.just("spend"), st.integers(1, 4000), st.none())
_reverse = st.tuples(st.just("reverse"), st.integers(1, 1500), st.integers(0, 30))
_expire = st.tuples(st.just("expire"), st.just(0), st.none())
_wait = st.tuples(st.just("wait"), st.integers(1, 15), st.none())
operations = st.lists(st.one_of(_issue, _spend, _reverse, _reverse, _expire, _wait, _wait), min_size=4, max_size=40)


def _run(
    ops: list[tuple[str, int, int | None]], account: CreditAccount = ACCOUNT
) -> tuple[list[CreditEntry], datetime]:
    """Apply the operations through the rules, keeping what they accept, as a writer would."""
    entries: list[CreditEntry] = []
    now = NOW
    unreversed: dict[str, int] = {}
    for n, (op, amount, extra) in enumerate(ops):
        if op == "issue":
            expires_at = now + extra * DAY if extra is not None else None
            reason = CreditReason.GOODWILL
            entry = issue(
                account, entries, entry_id=f"e{n}", amount=eur(amount), at=now, reason=reason, expires_at=expires_at
            )
            entries.append(entry)
        elif op == "spend":
            available = balance(account, entries, now)
            try:
                entries.append(spend(account, entries, entry_id=f"e{n}", amount=eur(amount), at=now, order_id="o"))
                unreversed[f"e{n}"] = amount
            except CreditRefused as refused:
                assert refused.kind is CreditRefusalKind.INSUFFICIENT
                assert refused.available == available and amount > available.amount_minor
        elif op == "reverse" and unreversed:
            spend_id = sorted(unreversed)[(extra or 0) % len(unreversed)]
            # Mostly within what is left of the spend; a third of the time whatever was drawn.
            back = amount if (extra or 0) % 3 == 0 else min(amount, unreversed[spend_id])
            try:
                entries.append(reverse(account, entries, entry_id=f"e{n}", spend_id=spend_id, amount=eur(back), at=now))
                unreversed[spend_id] -= back
            except CreditRefused as refused:
                assert refused.kind is CreditRefusalKind.TOO_MUCH and back > unreversed[spend_id]
            if not unreversed[spend_id]:
                del unreversed[spend_id]
        elif op == "expire":
            entries.extend(expiry_due(account, entries, now))
        elif op == "wait":
            now += amount * DAY
        assert balance(account, entries, now).amount_minor >= 0
    return entries, now


@settings(max_examples=300, deadline=None)
@given(operations)
def test_credit_never_goes_negative_and_every_cent_issued_is_accounted_for(ops):
    entries, now = _run(ops)
    account = summary(ACCOUNT, entries, now)
    assert account.balance.amount_minor >= 0 and account.due_to_expire.amount_minor >= 0
    assert account.reversed.amount_minor <= account.spent.amount_minor
    net_spent = account.spent - account.reversed
    assert net_spent + account.expired + account.due_to_expire + account.balance == account.issued
    # After the expiry run, nothing is waiting: spends + expiries + balance = issued.
    entries.extend(expiry_due(ACCOUNT, entries, now))
    after = summary(ACCOUNT, entries, now)
    assert after.due_to_expire == eur(0)
    assert after.spent - after.reversed + after.expired + after.balance == after.issued
    assert after.balance == account.balance


@settings(max_examples=200, deadline=None)
@given(operations, st.integers(1, 6000))
def test_a_spend_reversed_in_full_leaves_the_balance_as_it_was(ops, amount):
    entries, now = _run(ops)
    before = balance(ACCOUNT, entries, now)
    if amount > before.amount_minor:
        return
    entries.append(spend(ACCOUNT, entries, entry_id="p", amount=eur(amount), at=now, order_id="o"))
    assert balance(ACCOUNT, entries, now) == before - eur(amount)
    entries.append(reverse(ACCOUNT, entries, entry_id="q", spend_id="p", amount=eur(amount), at=now))
    assert balance(ACCOUNT, entries, now) == before
