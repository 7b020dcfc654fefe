"""Times are UTC and timezone-aware: one conversion for every timestamp that comes from outside."""

from __future__ import annotations

from datetime import UTC, datetime

EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(9000, 1, 1, tzinfo=UTC)
"""What a time from outside may be: wide of every real order, and far enough from datetime's own
limits (years 1 and 9999) that no arithmetic on it later (a deadline, an overlap, a window) overflows."""


def in_utc(moment: datetime) -> datetime:
    """The moment in UTC; one without an offset is taken as UTC (the channels' *_gmt fields).

    Raises ValueError outside EARLIEST..LATEST, also when UTC cannot hold the moment at all
    ("0001-01-01T00:00:00+14:00" is year 0 in UTC): parsers turn that into a validation error (a
    4xx) instead of the OverflowError a later `astimezone` or `- timedelta(...)` would raise.
    """
    try:
        utc = moment.replace(tzinfo=UTC) if moment.utcoffset() is None else moment.astimezone(UTC)
    except OverflowError:
        utc = None
    if utc is None or not EARLIEST <= utc < LATEST:
        raise ValueError(f"{moment.isoformat()} is not a time between {EARLIEST.year} and {LATEST.year} (UTC)")
    return utc
