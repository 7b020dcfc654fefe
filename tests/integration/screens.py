"""What the staff screens' tests share, so each test file says only what its screens need: the app
on the test's database with no workflow engine behind it, a browser signed in with the staff token,
a person put in place of the signed-in one, the form token a page carries, a clock the tests move
and quick password hashing.

The engine's address is a free port (nothing answers), so a page that would start or signal a
workflow shows the engine's absence, never a 500, and no test waits for Temporal."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient
from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher

from api.main import create_app
from api.screens.pages import SignedIn, signed_in
from config import Settings, load_settings
from domain.staff import StaffMember
from ops.temporal_dev import free_port

CHEAP = PasswordHash((Argon2Hasher(time_cost=1, memory_cost=1024, parallelism=1),))
"""Argon2 with small parameters: the tests' hashing is quick, and services.accounts' default differs,
so a sign-in through the default re-hashes."""


class Clock:
    """The time services.accounts reads, moved by the test (a lock lifts without anybody sleeping)."""

    def __init__(self) -> None:
        self.now = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


def settings_for(database: Any, token: str, **extra: Any) -> Settings:
    """Settings on the test's database (anything with a `url`), `token` as OMS_ADMIN_TOKEN, no engine."""
    return load_settings(
        database_url=database.url, admin_token=token, temporal_address=f"localhost:{free_port()}", **extra
    )


def app_for(database: Any, token: str, **extra: Any) -> FastAPI:
    return create_app(settings_for(database, token, **extra))


def signed_in_browser(app: FastAPI, token: str) -> Iterator[TestClient]:
    """A browser (cookies kept, redirects not followed) signed in with the staff token: the
    bootstrap admin, who may use every screen. For a fixture to `yield from`."""
    with TestClient(app, follow_redirects=False) as client:
        response = client.post("/dashboard/login", data={"token": token, "next": "/dashboard"})
        assert response.status_code == 303
        yield client


def as_member(app: FastAPI, member: StaffMember, session_id: str, form_token: str) -> FastAPI:
    """`app` with `member` signed in on every page, through the dependency every page's role check
    asks (`signed_in`), so a role's view is tested without making an account; its forms carry
    `form_token`."""
    app.dependency_overrides[signed_in] = lambda: SignedIn(member, session_id, form_token)
    return app


def form_token(page: str) -> str:
    """The hidden form token a page's forms carry (a post without it is refused)."""
    found = re.search(r'name="form_token" value="([^"]+)"', page)
    assert found is not None
    return found.group(1)
