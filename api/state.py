"""What the app builds once in its lifespan and every request shares."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

from sqlalchemy import Engine
from sqlalchemy.orm import Session
from temporalio.client import Client

from config import Settings
from persistence.db import SessionFactory, create_session_factory

T = TypeVar("T")


class TemporalUnavailable(Exception):
    pass


class TemporalConnection:
    """Connects on first use and keeps the client: the API starts (and /health answers 503) while
    Temporal is still coming up, and recovers without a restart once it is there."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._client: Client | None = None
        self._lock = asyncio.Lock()

    async def client(self) -> Client:
        if self._client is None:
            async with self._lock:
                if self._client is None:
                    try:
                        self._client = await Client.connect(
                            self._settings.temporal_address, namespace=self._settings.temporal_namespace
                        )
                    except Exception as exc:  # the SDK reports a refused connection as a RuntimeError
                        raise TemporalUnavailable(str(exc)) from exc
        return self._client


@dataclass
class AppState:
    settings: Settings
    engine: Engine
    session_factory: SessionFactory
    readers: SessionFactory = field(init=False)
    """Read-only sessions: on SQLite they take no write lock (see persistence.db)."""
    temporal: TemporalConnection = field(init=False)

    def __post_init__(self) -> None:
        self.readers = create_session_factory(self.engine, read_only=True)
        self.temporal = TemporalConnection(self.settings)

    async def read(self, work: Callable[[Session], T]) -> T:
        """`work` in a read-only session on a worker thread, the session closed when it returns.
        How async routes and services touch the database: never on the event loop (a SQLite busy
        wait there would stop every request), never with a transaction still open when they go
        on to await Temporal or anything else on the network."""

        def run() -> T:
            with self.readers() as session:
                return work(session)

        return await asyncio.to_thread(run)
