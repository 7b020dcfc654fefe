"""The worker waits for its database as it does for Temporal: started before the database exists (a
fresh cluster, the migrate step not run yet), it says so once and goes on when the database answers."""

from __future__ import annotations

import asyncio
import logging
import uuid

import pytest
from sqlalchemy.engine import make_url

from config import load_settings
from persistence.db import create_db_engine, create_session_factory
from tests.conftest import _admin
from worker import channel_connections, wait_until_ready


async def test_the_worker_waits_for_a_database_that_is_not_there_yet(
    temporal_server, postgres_url: str, caplog: pytest.LogCaptureFixture
):
    name = f"oms_wait_{uuid.uuid4().hex[:8]}"
    url = make_url(postgres_url).set(database=name).render_as_string(hide_password=False)
    settings = load_settings(
        database_url=url,
        temporal_address=temporal_server.address,
        task_queue=f"wait-{name}",
        worker_metrics_address="",  # the default port may be taken by an engine running on this machine
    )
    engine = create_db_engine(url, pre_ping=False)
    channels = channel_connections(settings, create_session_factory(engine))
    try:
        with caplog.at_level(logging.INFO, logger="oms.worker"):
            ready = asyncio.create_task(wait_until_ready(settings, engine, channels, locations_only=True))
            await asyncio.sleep(2)
            assert not ready.done()  # Temporal answers, the database does not exist yet
            await asyncio.to_thread(_admin, postgres_url, f"CREATE DATABASE {name}")
            await asyncio.wait_for(ready, 30)
    finally:
        channels.close()
        engine.dispose()
        await asyncio.to_thread(_admin, postgres_url, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    lines = [record.getMessage() for record in caplog.records if record.name == "oms.worker"]
    waiting = [line for line in lines if line.startswith("waiting for the database")]
    assert len(waiting) == 1 and name in waiting[0], lines
    assert "oms_test:oms_test@" not in waiting[0]  # the URL is logged without its password
    assert any(line.startswith("the database at") and "is there" in line for line in lines), lines
