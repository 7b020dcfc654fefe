"""Times from outside: UTC, timezone-aware, and a plain ValueError (a 4xx) when out of range."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from domain.times import EARLIEST, LATEST, in_utc

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("text", "utc"),
    [
        ("2026-11-20T14:03:11+01:00", datetime(2026, 11, 20, 13, 3, 11, tzinfo=UTC)),
        ("2026-11-20T14:03:11", datetime(2026, 11, 20, 14, 3, 11, tzinfo=UTC)),  # no offset: UTC
        ("2026-11-20T14:03:11-14:00", datetime(2026, 11, 21, 4, 3, 11, tzinfo=UTC)),
        ("1970-01-01T00:00:00Z", EARLIEST),
        ("8999-12-31T23:59:59Z", LATEST - timedelta(seconds=1)),
    ],
)
def test_a_time_is_converted_to_utc(text: str, utc: datetime) -> None:
    converted = in_utc(datetime.fromisoformat(text))
    assert converted == utc and converted.tzinfo is UTC


@pytest.mark.parametrize(
    "text",
    [
        "0001-01-01T00:00:00+14:00",  # year 0 in UTC: astimezone raises OverflowError
        "9999-12-31T23:59:59-14:00",  # year 10000 in UTC
        "0001-01-01T00:00:00",
        "9999-12-31T23:59:59Z",
        "1969-12-31T23:59:59Z",
        "1970-01-01T00:30:00+01:00",
        "9000-01-01T00:00:00Z",
    ],
)
def test_a_time_out_of_range_is_a_value_error(text: str) -> None:
    with pytest.raises(ValueError, match="not a time between 1970 and 9000"):
        in_utc(datetime.fromisoformat(text))


def test_a_converted_time_leaves_room_for_arithmetic() -> None:
    for moment in (EARLIEST, LATEST - timedelta(microseconds=1)):
        utc = in_utc(moment.astimezone(timezone(timedelta(hours=14))))
        assert utc - timedelta(days=365) < utc < utc + timedelta(days=365)
