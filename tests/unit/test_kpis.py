from __future__ import annotations

import pytest

from domain.kpis import duration_stats, percentile


def test_nearest_rank_percentiles():
    values = [float(v) for v in range(1, 11)]
    assert (percentile(values, 0.5), percentile(values, 0.9), percentile(values, 1.0)) == (5.0, 9.0, 10.0)
    assert percentile([7.0], 0.5) == 7.0
    with pytest.raises(ValueError):
        percentile([], 0.5)


def test_duration_stats_of_nothing_and_of_something():
    assert duration_stats([]).count == 0 and duration_stats([]).p50_seconds is None
    stats = duration_stats([30.0, 10.0, 20.0])
    assert (stats.count, stats.average_seconds, stats.p50_seconds, stats.p90_seconds, stats.max_seconds) == (
        3,
        20.0,
        20.0,
        30.0,
        30.0,
    )
