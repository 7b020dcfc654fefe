"""How requests hold the database: no route holds a session (an async route's would be open across
its awaits of Temporal, and on SQLite that session is the write lock the worker waits for): routes
call services, whose units of work close before they return; and reading takes no write lock."""

from __future__ import annotations

import inspect
import threading
import time
import typing
from collections.abc import Iterator

import pytest
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, iter_route_contexts
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from api.main import create_app
from config import load_settings
from persistence.db import create_session_factory
from persistence.models import Location
from tests.conftest import TestDatabase


def _dependencies(dependant: Dependant) -> Iterator[Dependant]:
    for dependency in dependant.dependencies:
        yield dependency
        yield from _dependencies(dependency)


def _gives_a_session(dependency: Dependant) -> bool:
    """Whether the dependency hands the route a database session (returned or yielded)."""
    if dependency.call is None:
        return False
    target = dependency.call if inspect.isroutine(dependency.call) else type(dependency.call).__call__
    returns = typing.get_type_hints(target).get("return")
    return returns is not None and (returns is Session or Session in typing.get_args(returns))


def test_no_route_takes_a_request_session():
    app = create_app(load_settings())
    routes = [route for route in iter_route_contexts(app.routes) if isinstance(route.original_route, APIRoute)]
    async_routes = [route for route in routes if inspect.iscoroutinefunction(route.endpoint)]
    assert len(async_routes) >= 10  # the walk sees the routes it guards
    assert len(routes) >= 40
    offenders = [
        f"{sorted(route.methods or ())} {route.path}"
        for route in routes
        if any(_gives_a_session(dependency) for dependency in _dependencies(route.dependant))
    ]
    assert offenders == [], "routes call services (their units of work close before they return), not a session"


def _add_location(db: TestDatabase, location_id: str) -> None:
    with db.session() as session:
        session.add(Location(location_id=location_id, name=location_id, kind="warehouse", country="NL"))
        session.commit()


def test_a_reader_takes_no_write_lock_and_cannot_write(database: TestDatabase):
    readers = create_session_factory(database.engine, read_only=True)
    _add_location(database, "AMS")
    with readers() as reader:
        assert reader.scalar(select(Location.location_id)) == "AMS"  # its transaction is open now
        started = time.monotonic()
        _add_location(database, "UTR")  # a writer goes ahead beside it
        assert time.monotonic() - started < 2
        with pytest.raises(DBAPIError):
            reader.execute(text("DELETE FROM locations"))
    # Pooled connections switch back and forth: a writer after many readers still writes.
    for n in range(30):
        with readers() as reader:
            reader.scalar(select(Location.location_id))
        _add_location(database, f"L{n}")
    with readers() as reader:
        assert len(reader.scalars(select(Location.location_id)).all()) == 32


def test_a_reader_reads_while_a_writer_holds_its_transaction(database: TestDatabase):
    readers = create_session_factory(database.engine, read_only=True)
    _add_location(database, "AMS")
    writing, done = threading.Event(), threading.Event()

    def writer() -> None:
        with database.session() as session:
            session.add(Location(location_id="UTR", name="UTR", kind="warehouse", country="NL"))
            session.flush()  # on SQLite: the write lock, held until commit
            writing.set()
            done.wait(10)
            session.commit()

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        assert writing.wait(10)
        started = time.monotonic()
        with readers() as reader:
            assert reader.scalars(select(Location.location_id)).all() == ["AMS"]  # the committed state
        assert time.monotonic() - started < 2
    finally:
        done.set()
        thread.join()
