"""Accounts over HTTP, in-process on SQLite and PostgreSQL: the first-run screen, signing in with an
e-mail and password (throttled per account and per address, the lock lifting with the clock, nobody
sleeping), signing out for real, personal API tokens shown once, what disabling ends, and the 403
page a role gets for a screen that is not its own."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient

from api.dashboard_session import COOKIE_NAME
from domain.accounts import ACCOUNT_FAILURES, ADDRESS_FAILURES, TOKEN_PREFIX
from domain.staff import Role
from services.accounts import Accounts
from tests.factories import add_location
from tests.integration.screens import CHEAP, Clock, app_for, form_token

TOKEN = "accounts-admin-token"
PASSWORD = "orange tram to the harbour"


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def app(database, clock):
    return app_for(database, TOKEN)


@pytest.fixture
def browser(app, clock) -> Iterator[TestClient]:
    """A client that behaves like a browser: keeps cookies, does not follow redirects by itself."""
    with TestClient(app, follow_redirects=False) as client:
        _accounts(client).clock = clock
        _accounts(client).hasher = CHEAP
        yield client


def _accounts(client: TestClient) -> Accounts:
    accounts: Accounts = client.app.state.oms.services.accounts  # type: ignore[attr-defined]
    return accounts


def _another(app) -> TestClient:
    return TestClient(app, follow_redirects=False)


def _sign_in(client: TestClient, email: str, password: str = PASSWORD, next_: str = "/dashboard"):
    return client.post("/dashboard/login", data={"email": email, "password": password, "next": next_})


def test_the_first_run_screen_is_there_only_while_nobody_has_an_account(browser):
    assert "create the first admin" in browser.get("/dashboard/login").text
    assert browser.get("/dashboard/setup").status_code == 200

    form = {"token": "a guess", "email": "anna@shop.example", "password": PASSWORD, "confirm": PASSWORD}
    guessed = browser.post("/dashboard/setup", data=form)
    assert guessed.status_code == 401 and 'id="token-error"' in guessed.text
    weak = browser.post("/dashboard/setup", data=form | {"token": TOKEN, "password": "short", "confirm": "short"})
    assert (
        weak.status_code == 422 and "at least 12 characters" in weak.text and 'value="anna@shop.example"' in weak.text
    )
    assert not _accounts(browser).has_users()

    created = browser.post("/dashboard/setup", data=form | {"token": TOKEN})
    assert created.status_code == 303 and created.headers["location"] == "/dashboard"
    assert "anna@shop.example · admin" in browser.get("/dashboard").text

    assert browser.get("/dashboard/setup").headers["location"] == "/dashboard/login"
    second = browser.post("/dashboard/setup", data=form | {"token": TOKEN, "email": "mallory@shop.example"})
    assert second.status_code == 303 and [u.email for u in _accounts(browser).users()] == ["anna@shop.example"]
    assert "create the first admin" not in _another(browser.app).get("/dashboard/login").text


def test_people_land_where_their_role_works_and_a_wrong_sign_in_says_nothing_more(browser, database):
    add_location(database.session_factory, "ams")
    accounts = _accounts(browser)
    accounts.create_user("sam@shop.example", PASSWORD, Role.SUPPORT)
    accounts.create_user("piet@shop.example", PASSWORD, Role.WAREHOUSE, ["ams"])

    wrong_password = _sign_in(browser, "sam@shop.example", "not the password")
    unknown = _sign_in(browser, "nobody@shop.example", PASSWORD)
    assert wrong_password.status_code == unknown.status_code == 401
    assert "The e-mail address or the password is wrong." in wrong_password.text
    assert wrong_password.text.replace("sam@", "X@") == unknown.text.replace("nobody@", "X@")

    assert _sign_in(browser, "Sam@Shop.example").headers["location"] == "/dashboard"
    with _another(browser.app) as piet:
        assert _sign_in(piet, "piet@shop.example").headers["location"] == "/dashboard/warehouse"
        assert (
            _sign_in(_another(browser.app), "piet@shop.example", next_="/dashboard/stock").headers["location"]
            == "/dashboard/stock"
        )
        # The 403 page: says the role, what it lacks, and the way home.
        denied = piet.get("/dashboard/admin/users")
        assert denied.status_code == 403 and "text/html" in denied.headers["content-type"]
        assert "warehouse" in denied.text and "<code>users</code>" in denied.text
        assert 'href="/dashboard/warehouse"' in denied.text


def test_an_account_locks_after_five_wrong_passwords_and_opens_after_the_backoff(browser, clock):
    _accounts(browser).create_user("anna@shop.example", PASSWORD, Role.ADMIN)
    _accounts(browser).create_user("bert@shop.example", PASSWORD, Role.SUPPORT)
    for _ in range(ACCOUNT_FAILURES - 1):
        assert _sign_in(browser, "anna@shop.example", "wrong password!").status_code == 401
    locked = _sign_in(browser, "anna@shop.example", "wrong password!")
    assert locked.status_code == 429 and locked.headers["retry-after"] == "60"
    assert "too many attempts: try again in 1 minute" in locked.text

    right_but_locked = _sign_in(browser, "anna@shop.example")
    assert right_but_locked.status_code == 429 and COOKIE_NAME not in browser.cookies
    assert _sign_in(_another(browser.app), "bert@shop.example").status_code == 303  # the address is not locked

    clock.now += timedelta(seconds=61)
    assert _sign_in(browser, "anna@shop.example").status_code == 303


def test_one_address_trying_many_accounts_is_locked_too(browser, clock):
    _accounts(browser).create_user("anna@shop.example", PASSWORD, Role.ADMIN)
    for n in range(ADDRESS_FAILURES - 1):
        assert _sign_in(browser, f"guess{n}@shop.example", "wrong password!").status_code == 401
    assert _sign_in(browser, "guess@shop.example", "wrong password!").status_code == 429
    # A real person's right password from that address waits too, and so does the staff token.
    assert _sign_in(browser, "anna@shop.example").status_code == 429
    assert browser.post("/dashboard/login", data={"token": TOKEN}).status_code == 429
    clock.now += timedelta(minutes=1, seconds=1)
    assert _sign_in(browser, "anna@shop.example").status_code == 303


def test_signing_out_ends_the_session_on_the_server(browser):
    _accounts(browser).create_user("anna@shop.example", PASSWORD, Role.ADMIN)
    assert _sign_in(browser, "anna@shop.example").status_code == 303
    cookie = browser.cookies.get(COOKIE_NAME, path="/dashboard")
    page = browser.get("/dashboard/account")
    assert page.status_code == 200
    assert browser.post("/dashboard/logout", data={"form_token": form_token(page.text)}).status_code == 303

    browser.cookies.set(COOKIE_NAME, cookie, path="/dashboard")  # kept by a thief, or a back button
    again = browser.get("/dashboard")
    assert again.status_code == 303 and again.headers["location"].startswith("/dashboard/login")


def test_the_staff_token_sign_in_is_a_server_side_session_too(browser):
    assert browser.post("/dashboard/login", data={"token": TOKEN, "next": "/dashboard"}).status_code == 303
    cookie = browser.cookies.get(COOKIE_NAME, path="/dashboard")
    page = browser.get("/dashboard/account")
    assert "admin token · admin" in page.text and "Create token" not in page.text
    browser.post("/dashboard/logout", data={"form_token": form_token(page.text)})
    browser.cookies.set(COOKIE_NAME, cookie, path="/dashboard")
    assert browser.get("/dashboard").status_code == 303


def test_a_token_is_shown_once_and_works_until_its_owner_is_disabled(browser, app):
    accounts = _accounts(browser)
    accounts.create_user("anna@shop.example", PASSWORD, Role.ADMIN)
    accounts.create_user("olga@shop.example", PASSWORD, Role.ADMIN)
    with _another(app) as olga:
        _sign_in(olga, "olga@shop.example")
        token = form_token(olga.get("/dashboard/account").text)
        created = olga.post(
            "/dashboard/account/tokens",
            data={"form_token": token, "name": "temporal ui", "role": "admin", "expires_days": "7"},
        )
        assert created.status_code == 201
        raw = re.search(rf'value="({TOKEN_PREFIX}[^"]+)"', created.text).group(1)
        later = olga.get("/dashboard/account").text
        assert raw not in later and raw[: len(TOKEN_PREFIX) + 4] in later and "temporal ui" in later

        bearer = {"Authorization": f"Bearer {raw}"}
        assert olga.post("/codec/decode", json={"payloads": []}, headers=bearer).status_code == 200

        _sign_in(browser, "anna@shop.example")
        people = browser.get("/dashboard/admin/users")
        olga_id = re.search(r'href="/dashboard/admin/users/([^"]+)">olga@', people.text).group(1)
        assert "temporal ui" in browser.get("/dashboard/admin/tokens").text
        disabled = browser.post(
            f"/dashboard/admin/users/{olga_id}/disable", data={"form_token": form_token(people.text)}
        )
        assert disabled.status_code == 303

        assert olga.post("/codec/decode", json={"payloads": []}, headers=bearer).status_code == 401
        assert olga.get("/dashboard/account").status_code == 303
        assert _sign_in(olga, "olga@shop.example").status_code == 401


def test_a_token_role_above_ones_own_is_refused_next_to_the_field(browser):
    _accounts(browser).create_user("sam@shop.example", PASSWORD, Role.SUPPORT)
    _sign_in(browser, "sam@shop.example")
    page = browser.get("/dashboard/account").text
    assert '<option value="admin"' not in page
    refused = browser.post(
        "/dashboard/account/tokens", data={"form_token": form_token(page), "name": "x", "role": "admin"}
    )
    assert refused.status_code == 422 and 'id="role-error"' in refused.text
    assert "may only create support tokens" in refused.text
    # A support session may not read payloads through the codec endpoint either.
    assert browser.post("/codec/decode", json={"payloads": []}).status_code == 403


def test_an_admin_adds_a_warehouse_user_only_with_a_location(browser, database):
    add_location(database.session_factory, "ams")
    _accounts(browser).create_user("anna@shop.example", PASSWORD, Role.ADMIN)
    _sign_in(browser, "anna@shop.example")
    page = browser.get("/dashboard/admin/users").text
    assert 'name="location" value="ams"' in page
    form = {"form_token": form_token(page), "email": "piet@shop.example", "role": "warehouse", "password": PASSWORD}
    missing = browser.post("/dashboard/admin/users", data=form)
    assert missing.status_code == 422 and 'id="locations-error"' in missing.text
    assert 'value="piet@shop.example"' in missing.text
    added = browser.post("/dashboard/admin/users", data=form | {"location": "ams"})
    assert added.status_code == 303
    listed = browser.get(added.headers["location"]).text
    assert "piet@shop.example" in listed and "piet@shop.example can sign in now (warehouse)" in listed
