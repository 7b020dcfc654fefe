"""Store credit ledgers: every write takes its account's row lock first, then checks the new entry
against the ledger as it stands (domain.store_credit) and appends it, in one transaction.

The lock is what keeps a balance from going below zero when two orders spend the same credit at
once: the second spend reads the ledger only after the first committed, and is refused if what is
left cannot cover it (SELECT ... FOR UPDATE on PostgreSQL; on SQLite a writer holds the database's
write lock from BEGIN IMMEDIATE). The entry id is unique in the account: a write that finds its id
there already is a repeat (a retried activity, a channel delivering an order twice) and answers
the entry written the first time, writing nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from domain import store_credit as rules
from domain.money import Money
from domain.store_credit import CreditAccount, CreditEntry, CreditEntryKind, CreditReason
from persistence.models import StoreCreditAccount, StoreCreditEntry, utcnow


@dataclass(frozen=True)
class Written:
    """An entry in the ledger, and whether this write put it there (False: it was there already)."""

    entry: CreditEntry
    new: bool


def locked_account(session: Session, account: CreditAccount, *, create: bool) -> StoreCreditAccount | None:
    """The account's row, locked until the transaction ends; made first when `create` (an issue),
    else None for a customer who never had credit at the shop."""
    if create:
        values = {
            "shop": account.shop,
            "customer_key": account.customer,
            "currency": account.currency,
            "created_at": utcnow(),
            "updated_at": utcnow(),
        }
        insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
        session.execute(insert(StoreCreditAccount).values(**values).on_conflict_do_nothing())
    return session.scalar(
        select(StoreCreditAccount)
        .where(StoreCreditAccount.shop == account.shop, StoreCreditAccount.customer_key == account.customer)
        .with_for_update()  # PostgreSQL; SQLite's write lock is already held since BEGIN IMMEDIATE
    )


def find_account(session: Session, shop: str, customer_key: str) -> StoreCreditAccount | None:
    return session.scalar(
        select(StoreCreditAccount).where(
            StoreCreditAccount.shop == shop, StoreCreditAccount.customer_key == customer_key
        )
    )


def domain_account(row: StoreCreditAccount) -> CreditAccount:
    return CreditAccount(row.shop, row.customer_key, row.currency)


def ledger(session: Session, account_id: int) -> list[CreditEntry]:
    """The account's entries in the order they were written."""
    rows = session.scalars(
        select(StoreCreditEntry).where(StoreCreditEntry.account_id == account_id).order_by(StoreCreditEntry.id)
    )
    return [_entry(row) for row in rows]


def ledger_rows(session: Session, account_id: int) -> list[StoreCreditEntry]:
    """The rows themselves (with who issued credit by hand), newest first, for support's screens."""
    query = select(StoreCreditEntry).where(StoreCreditEntry.account_id == account_id)
    return list(session.scalars(query.order_by(StoreCreditEntry.id.desc())))


def _entry(row: StoreCreditEntry) -> CreditEntry:
    return CreditEntry(
        row.entry_id,
        CreditEntryKind(row.kind),
        Money(row.amount_minor, row.currency),
        row.at,
        reason=CreditReason(row.reason) if row.reason else None,
        note=row.note,
        expires_at=row.expires_at,
        order_id=row.order_id,
        refers_to=row.refers_to,
    )


def _append(session: Session, row: StoreCreditAccount, entry: CreditEntry, actor: str = "") -> Written:
    session.add(
        StoreCreditEntry(
            account_id=row.id,
            entry_id=entry.entry_id,
            kind=entry.kind.value,
            amount_minor=entry.amount.amount_minor,
            currency=entry.amount.currency,
            at=entry.at,
            reason=entry.reason.value if entry.reason else None,
            note=entry.note,
            expires_at=entry.expires_at,
            order_id=entry.order_id,
            refers_to=entry.refers_to,
            actor=actor,
        )
    )
    row.updated_at = utcnow()
    session.flush()
    return Written(entry, True)


def _already(entries: Sequence[CreditEntry], entry_id: str) -> CreditEntry | None:
    return next((entry for entry in entries if entry.entry_id == entry_id), None)


def issue(
    session: Session,
    account: CreditAccount,
    *,
    entry_id: str,
    amount: Money,
    at: datetime,
    reason: CreditReason,
    note: str = "",
    expires_at: datetime | None = None,
    order_id: str = "",
    actor: str = "",
) -> Written:
    """Issue credit (a new lot); CreditRefused when the ledger cannot take it (another currency)."""
    row = locked_account(session, account, create=True)
    assert row is not None
    held = domain_account(row)
    entries = ledger(session, row.id)
    if (repeat := _already(entries, entry_id)) is not None:
        return Written(repeat, False)
    entry = rules.issue(
        held,
        entries,
        entry_id=entry_id,
        amount=amount,
        at=at,
        reason=reason,
        note=note,
        expires_at=expires_at,
        order_id=order_id,
    )
    return _append(session, row, entry, actor)


def spend(
    session: Session, account: CreditAccount, *, entry_id: str, amount: Money, at: datetime, order_id: str
) -> Written:
    """Spend credit on an order; CreditRefused(INSUFFICIENT, available=...) when the balance at `at`
    cannot cover it (an account never written to has nothing to spend)."""
    row = locked_account(session, account, create=False)
    if row is None:
        nothing = Money.zero(account.currency)
        raise rules.CreditRefused(
            rules.CreditRefusalKind.INSUFFICIENT,
            f"{amount.format()} asked, but only {nothing.format()} of store credit is available",
            available=nothing,
        )
    entries = ledger(session, row.id)
    if (repeat := _already(entries, entry_id)) is not None:
        return Written(repeat, False)
    entry = rules.spend(domain_account(row), entries, entry_id=entry_id, amount=amount, at=at, order_id=order_id)
    return _append(session, row, entry)


def spends_for_order(session: Session, order_id: str) -> list[tuple[StoreCreditAccount, CreditEntry]]:
    """The spends that paid for `order_id` (at most one today), with their accounts."""
    rows = session.execute(
        select(StoreCreditAccount, StoreCreditEntry)
        .join(StoreCreditEntry, StoreCreditEntry.account_id == StoreCreditAccount.id)
        .where(StoreCreditEntry.order_id == order_id, StoreCreditEntry.kind == CreditEntryKind.SPEND.value)
        .order_by(StoreCreditEntry.id)
    )
    return [(account, _entry(entry)) for account, entry in rows]


def reversed_for_order(session: Session, order_id: str) -> int:
    """Minor units of the order's spends given back already (an edit lowered it, or it was cancelled)."""
    query = select(func.coalesce(func.sum(StoreCreditEntry.amount_minor), 0)).where(
        StoreCreditEntry.order_id == order_id, StoreCreditEntry.kind == CreditEntryKind.REVERSE.value
    )
    return int(session.scalar(query) or 0)


def reverse_order_spends(
    session: Session, order_id: str, *, entry_id: str, at: datetime, amount: Money | None = None
) -> list[Written]:
    """Give back to their accounts whatever the order's spends have not had back yet (the order was
    cancelled), or at most `amount` of it (an edit lowered the order below the credit it spent; the
    spends given back in the order they were written). `entry_id` keys the reversal; a second call
    with it finds its entries and writes nothing more."""
    written: list[Written] = []
    wanted = amount.amount_minor if amount is not None else None
    for n, (account_row, spent) in enumerate(spends_for_order(session, order_id), start=1):
        if wanted is not None and wanted <= 0:
            break
        row = locked_account(session, domain_account(account_row), create=False)
        assert row is not None
        entries = ledger(session, row.id)
        key = f"{entry_id}:{n}"  # the order's spends in the order they were written
        if (repeat := _already(entries, key)) is not None:
            written.append(Written(repeat, False))
            if wanted is not None:
                wanted -= repeat.amount.amount_minor
            continue
        given_back = sum(
            e.amount.amount_minor
            for e in entries
            if e.kind is CreditEntryKind.REVERSE and e.refers_to == spent.entry_id
        )
        left = spent.amount.amount_minor - given_back
        if wanted is not None:
            left = min(left, wanted)
            wanted -= max(0, left)
        if left <= 0:
            continue
        entry = rules.reverse(
            domain_account(row),
            entries,
            entry_id=key,
            spend_id=spent.entry_id,
            amount=Money(left, spent.amount.currency),
            at=at,
        )
        written.append(_append(session, row, entry))
    return written


def accounts_with_expiring_credit(session: Session, before: datetime) -> list[StoreCreditAccount]:
    """Accounts holding a lot whose expiry is at or before `before`: the expiry run's candidates."""
    ids = select(StoreCreditEntry.account_id).where(
        StoreCreditEntry.expires_at.is_not(None), StoreCreditEntry.expires_at <= before
    )
    query = select(StoreCreditAccount).where(StoreCreditAccount.id.in_(ids)).order_by(StoreCreditAccount.id)
    return list(session.scalars(query))


def expire(session: Session, account: CreditAccount, at: datetime) -> list[Written]:
    """Write what domain.store_credit.expiry_due says is due on the account at `at`."""
    row = locked_account(session, account, create=False)
    if row is None:
        return []
    entries = ledger(session, row.id)
    written = []
    for entry in rules.expiry_due(domain_account(row), entries, at):
        written.append(_append(session, row, entry))
        entries.append(entry)
    return written


def issued_for_order(session: Session, order_id: str, reasons: Sequence[str]) -> int:
    """Minor units of credit issued from `order_id` for these reasons."""
    query = select(func.coalesce(func.sum(StoreCreditEntry.amount_minor), 0)).where(
        StoreCreditEntry.order_id == order_id,
        StoreCreditEntry.kind == CreditEntryKind.ISSUE.value,
        StoreCreditEntry.reason.in_(list(reasons)),
    )
    return int(session.scalar(query) or 0)
