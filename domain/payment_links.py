"""Payment links: money the customer still owes after checkout (an exchange's dearer replacement),
asked for with a link they pay at the provider, before a deadline.

A link is open until it is paid or its deadline passes; the engine closes it at the deadline (so
it cannot be paid later) or when what it paid for is called off. Once paid it stays paid: a payment
that arrives while the link is being closed counts, so the customer's money is never lost."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum


class LinkStatus(StrEnum):
    OPEN = "open"
    """Waiting for the customer."""
    PAID = "paid"
    EXPIRED = "expired"
    """The deadline passed unpaid (closed at the provider)."""
    CANCELLED = "cancelled"
    """Closed unpaid before its deadline: what it paid for was called off."""


SETTLED = frozenset({LinkStatus.PAID, LinkStatus.EXPIRED, LinkStatus.CANCELLED})


def link_status(*, paid: bool, archived: bool, expires_at: datetime | None, now: datetime) -> LinkStatus:
    """What the provider's view of a link means: paid wins over everything (the money came);
    otherwise closed by us, past its deadline, or still open."""
    if paid:
        return LinkStatus.PAID
    if archived:
        return LinkStatus.CANCELLED
    if expires_at is not None and expires_at <= now:
        return LinkStatus.EXPIRED
    return LinkStatus.OPEN


def settle(current: LinkStatus, seen: LinkStatus) -> LinkStatus:
    """The status to record when the provider shows `seen` on a link recorded as `current`: a
    settled link never changes again, except that a payment always counts (a link closed while
    the customer was paying was still paid)."""
    if current is LinkStatus.PAID or seen is LinkStatus.OPEN:
        return current
    if current in SETTLED and seen is not LinkStatus.PAID:
        return current
    return seen
