"""Paging for every list the API and the dashboard serve: one set of bounds, so no route can forget one.

Unbounded, `?offset=99999999999999999999` reached the database: SQLite cannot bind an integer past 64
bits and PostgreSQL's OFFSET overflows its bigint, both a 500. Bounded here it is a 422 naming the
parameter, before any query runs.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Query

MAX_LIMIT = 500
MAX_OFFSET = 1_000_000_000
"""Far past any list anyone pages through, far below what a 64-bit OFFSET holds."""


@dataclass(frozen=True)
class Page:
    limit: int
    offset: int


def paging(default_limit: int = 50) -> Callable[[int, int], Page]:
    """The `limit` and `offset` query parameters of a list route, as a dependency."""

    def page(
        limit: Annotated[int, Query(ge=1, le=MAX_LIMIT, description="How many to return")] = default_limit,
        offset: Annotated[int, Query(ge=0, le=MAX_OFFSET, description="How many to skip first")] = 0,
    ) -> Page:
        return Page(limit, offset)

    return page


PageDep = Annotated[Page, Depends(paging())]
"""limit (1-500, default 50) and offset (0-1,000,000,000)."""
LongPageDep = Annotated[Page, Depends(paging(default_limit=100))]
"""The same bounds, 100 by default (pick lists and escalations)."""
PageNumber = Annotated[int, Query(ge=1, le=100_000, description="1-based")]
"""The dashboard's page number (a page holds a fixed number of rows): 100,000 pages is past any list."""
