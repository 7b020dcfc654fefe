"""What the app builds once in its lifespan and every request shares."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from sqlalchemy import Engine
from temporalio.client import Client

from config import Settings
from persistence.db import SessionFactory


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
    temporal: TemporalConnection = field(init=False)

    def __post_init__(self) -> None:
        self.temporal = TemporalConnection(self.settings)
