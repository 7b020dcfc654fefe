"""What the app builds once in its lifespan and every request shares."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine
from temporalio.client import Client

from config import Settings
from persistence.db import SessionFactory


@dataclass
class AppState:
    settings: Settings
    engine: Engine
    session_factory: SessionFactory
    temporal: Client
