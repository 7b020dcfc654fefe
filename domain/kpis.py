"""The numbers the business watches, computed from plain values (no I/O)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class DurationStats:
    count: int
    average_seconds: float | None
    p50_seconds: float | None
    p90_seconds: float | None
    max_seconds: float | None


def percentile(sorted_values: Sequence[float], fraction: float) -> float:
    """Nearest-rank percentile of already sorted values (0 < fraction <= 1)."""
    if not sorted_values:
        raise ValueError("no values")
    rank = max(math.ceil(fraction * len(sorted_values)), 1)
    return sorted_values[rank - 1]


def duration_stats(seconds: Sequence[float]) -> DurationStats:
    if not seconds:
        return DurationStats(0, None, None, None, None)
    ordered = sorted(seconds)
    return DurationStats(
        count=len(ordered),
        average_seconds=sum(ordered) / len(ordered),
        p50_seconds=percentile(ordered, 0.5),
        p90_seconds=percentile(ordered, 0.9),
        max_seconds=ordered[-1],
    )
