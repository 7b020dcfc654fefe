"""The daily push of the books to the accounting systems (activities.books implements it;
workflows.books_push runs it from its daily Temporal Schedule, ops.books)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from temporalio import activity


@dataclass
class PushBooksInput:
    at: datetime
    """When the run started (workflow time): it books the days up to the day before, in the books'
    time zone."""


@dataclass
class PushBooksResult:
    days: list[str] = field(default_factory=list)
    """The days (YYYY-MM-DD) that had something to book."""
    posted: int = 0
    """Entries booked by this run."""
    found: int = 0
    """Entries the system already held (an earlier run crashed after posting): recorded, not posted."""
    stopped: str = ""
    """Why the run stopped before the end (the day's API calls used up); the next run goes on."""


class BooksPush:
    @activity.defn
    def push_books(self, data: PushBooksInput) -> PushBooksResult:
        raise NotImplementedError
