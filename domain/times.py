"""Times are UTC and timezone-aware: one conversion for every timestamp that comes from outside."""

from __future__ import annotations

from datetime import UTC, datetime


def in_utc(moment: datetime) -> datetime:
    """The moment in UTC; one without an offset is taken as UTC (the channels' *_gmt fields).

    Raises ValueError when UTC cannot hold it: "0001-01-01T00:00:00+14:00" is still year 0 in UTC,
    and "9999-12-31T23:59:59-14:00" already year 10000. Parsers turn that into a validation error
    (4xx) instead of the OverflowError every later `astimezone` would raise.
    """
    if moment.tzinfo is None or moment.utcoffset() is None:
        return moment.replace(tzinfo=UTC)
    try:
        return moment.astimezone(UTC)
    except OverflowError:
        raise ValueError(f"{moment.isoformat()} is outside the range of a UTC time") from None
