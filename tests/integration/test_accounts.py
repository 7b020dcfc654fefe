"""Staff accounts as a use case (services.accounts) on SQLite and PostgreSQL: passwords hashed and
re-hashed, tokens shown once and kept as hashes, expiry and revocation, what disabling ends, the
throttle every API process shares, and the command line that creates the first admin."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from sqlalchemy import select

from domain.accounts import ACCOUNT_FAILURES, TOKEN_PREFIX
from domain.staff import BOOTSTRAP_ADMIN, Role
from ops import users as users_cli
from persistence.models import LoginThrottle, StaffAccount, StaffSessionRecord, StaffToken
from services.accounts import Accounts, Locked, WrongCredentials, digest
from services.errors import Conflict, Unprocessable
from services.unit_of_work import units_on
from tests.factories import add_location
from tests.integration.screens import CHEAP, Clock

PASSWORD = "orange tram to the harbour"


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def accounts(database, clock) -> Accounts:
    return Accounts(units_on(database.session_factory), hasher=CHEAP, clock=clock)


def _rows(database, model):
    with database.session_factory() as session:
        return list(session.scalars(select(model)))


def test_a_user_signs_in_with_the_password_never_stored(accounts, database):
    user = accounts.create_user("Anna@Shop.example", PASSWORD, Role.SUPPORT)
    assert user.email == "anna@shop.example"
    [row] = _rows(database, StaffAccount)
    assert PASSWORD not in row.password_hash and row.password_hash.startswith("$argon2id$")

    member = accounts.authenticate("ANNA@shop.example ", PASSWORD, "10.0.0.1")
    assert (member.user_id, member.email, member.role, member.via) == (
        user.id,
        "anna@shop.example",
        Role.SUPPORT,
        "session",
    )
    for wrong in [("anna@shop.example", "not the password"), ("nobody@shop.example", PASSWORD)]:
        with pytest.raises(WrongCredentials) as refused:
            accounts.authenticate(*wrong, "10.0.0.1")
        assert refused.value.message == "the e-mail address or the password is wrong"


def test_a_sign_in_rehashes_when_the_parameters_changed(database, clock):
    cheap = Accounts(units_on(database.session_factory), hasher=CHEAP, clock=clock)
    cheap.create_user("anna@shop.example", PASSWORD, Role.ADMIN)
    [before] = _rows(database, StaffAccount)
    Accounts(units_on(database.session_factory), clock=clock).authenticate("anna@shop.example", PASSWORD, "10.0.0.1")
    [after] = _rows(database, StaffAccount)
    assert after.password_hash != before.password_hash and "m=65536" in after.password_hash
    assert after.last_sign_in_at == clock.now


def test_weak_passwords_taken_addresses_and_missing_locations_are_refused(accounts, database):
    with pytest.raises(Unprocessable, match="at least 12 characters") as weak:
        accounts.create_user("anna@shop.example", "short", Role.ADMIN)
    assert weak.value.facts["field"] == "password"
    with pytest.raises(Unprocessable, match="at least one location"):
        accounts.create_user("piet@shop.example", PASSWORD, Role.WAREHOUSE)
    with pytest.raises(Unprocessable, match="unknown location: nowhere"):
        accounts.create_user("piet@shop.example", PASSWORD, Role.WAREHOUSE, ["nowhere"])
    add_location(database.session_factory, "ams")
    piet = accounts.create_user("piet@shop.example", PASSWORD, Role.WAREHOUSE, ["ams", "ams"])
    assert piet.location_ids == ["ams"]
    with pytest.raises(Conflict, match="already an account"):
        accounts.create_user("PIET@shop.example", PASSWORD, Role.SUPPORT)


def test_the_account_locks_after_five_failures_and_lifts_after_the_backoff(accounts, clock, database):
    accounts.create_user("anna@shop.example", PASSWORD, Role.ADMIN)
    for _ in range(ACCOUNT_FAILURES - 1):
        with pytest.raises(WrongCredentials):
            accounts.authenticate("anna@shop.example", "wrong password!", "10.0.0.1")
    with pytest.raises(Locked) as locked:
        accounts.authenticate("anna@shop.example", "wrong password!", "10.0.0.2")
    assert locked.value.retry_after == 60 and locked.value.message == "too many attempts: try again in 1 minute"
    # Locked means locked: the right password from another address does not get in either.
    clock.now += timedelta(seconds=30)
    with pytest.raises(Locked):
        accounts.authenticate("anna@shop.example", PASSWORD, "10.0.0.3")
    clock.now += timedelta(seconds=31)
    assert accounts.authenticate("anna@shop.example", PASSWORD, "10.0.0.3").email == "anna@shop.example"

    # A day later the counts are gone from the table (the next sign-in sweeps them).
    assert _rows(database, LoginThrottle)
    clock.now += timedelta(days=1, minutes=1)
    accounts.start_session(None)
    assert _rows(database, LoginThrottle) == []


def test_sessions_end_on_sign_out_expiry_password_change_and_disabling(accounts, clock, database):
    anna = accounts.create_user("anna@shop.example", PASSWORD, Role.ADMIN)
    bert = accounts.create_user("bert@shop.example", PASSWORD, Role.SUPPORT)
    raw = accounts.start_session(bert.id)
    assert digest(raw) in {row.id_hash for row in _rows(database, StaffSessionRecord)}
    assert raw not in {row.id_hash for row in _rows(database, StaffSessionRecord)}
    assert accounts.resolve_session(raw).email == "bert@shop.example"
    accounts.end_session(raw)
    assert accounts.resolve_session(raw) is None

    old = accounts.start_session(bert.id)
    clock.now += timedelta(hours=12)
    assert accounts.resolve_session(old) is None

    this, other = accounts.start_session(bert.id), accounts.start_session(bert.id)
    accounts.change_own_password(accounts.resolve_session(this), PASSWORD, "a brand new pass phrase", keep_session=this)
    assert accounts.resolve_session(this) is not None and accounts.resolve_session(other) is None

    bootstrap = accounts.start_session(None)
    assert accounts.resolve_session(bootstrap) == BOOTSTRAP_ADMIN
    accounts.disable(bert.id)
    assert accounts.resolve_session(this) is None
    with pytest.raises(WrongCredentials):
        accounts.authenticate("bert@shop.example", "a brand new pass phrase", "10.0.0.1")
    with pytest.raises(Conflict, match="only enabled admin"):
        accounts.disable(anna.id)
    with pytest.raises(Conflict, match="only enabled admin"):
        accounts.change(anna.id, Role.SUPPORT, [])

    # Sessions ended or expired over a day ago are swept; the new one stays.
    clock.now += timedelta(days=2)
    live = accounts.start_session(anna.id)
    assert [row.id_hash for row in _rows(database, StaffSessionRecord)] == [digest(live)]


def test_a_token_is_shown_once_kept_as_a_hash_and_acts_with_its_role(accounts, clock, database):
    add_location(database.session_factory, "ams")
    admin = accounts.authenticate(accounts.create_user("anna@shop.example", PASSWORD, Role.ADMIN).email, PASSWORD, "x")
    raw, token = accounts.create_token(admin, "label printer", Role.WAREHOUSE, expires_in_days=30)
    assert raw.startswith(TOKEN_PREFIX) and token.prefix == raw[: len(TOKEN_PREFIX) + 4]
    [stored] = _rows(database, StaffToken)
    assert stored.token_hash == digest(raw) and raw not in {stored.token_hash, stored.prefix, stored.name}

    member = accounts.resolve_token(raw)
    assert (member.user_id, member.role, member.via) == (admin.user_id, Role.WAREHOUSE, "token")
    assert accounts.resolve_token(raw[:-1] + ("A" if raw[-1] != "A" else "B")) is None
    assert accounts.resolve_token("dev-admin-token") is None
    [used] = _rows(database, StaffToken)
    assert used.last_used_at == clock.now

    clock.now += timedelta(days=30)
    assert accounts.resolve_token(raw) is None  # expired


def test_a_token_never_outranks_its_owner_and_dies_with_revocation_or_disabling(accounts, database):
    add_location(database.session_factory, "ams")
    accounts.create_user("anna@shop.example", PASSWORD, Role.ADMIN)
    piet_id = accounts.create_user("piet@shop.example", PASSWORD, Role.WAREHOUSE, ["ams"]).id
    piet = accounts.authenticate("piet@shop.example", PASSWORD, "x")
    with pytest.raises(Unprocessable, match="may only create warehouse tokens"):
        accounts.create_token(piet, "sneaky", Role.ADMIN)
    with pytest.raises(Conflict, match="cannot own"):
        accounts.create_token(BOOTSTRAP_ADMIN, "bootstrap", Role.ADMIN)

    raw, _ = accounts.create_token(piet, "scanner", Role.WAREHOUSE)
    assert accounts.resolve_token(raw).location_ids == frozenset({"ams"})
    revoked_raw, revoked = accounts.create_token(piet, "old scanner", Role.WAREHOUSE)
    accounts.revoke_token(revoked.id, piet)
    assert accounts.resolve_token(revoked_raw) is None
    assert [t.name for t, owner in accounts.tokens(piet_id)] and {owner for _, owner in accounts.tokens()} == {
        "piet@shop.example"
    }

    # An admin's token of a person later demoted stops working rather than keeping the old rank.
    accounts.change(piet_id, Role.ADMIN, [])
    admin_raw, _ = accounts.create_token(accounts.authenticate("piet@shop.example", PASSWORD, "x"), "ci", Role.ADMIN)
    accounts.change(piet_id, Role.WAREHOUSE, ["ams"])
    assert accounts.resolve_token(admin_raw) is None

    accounts.disable(piet_id)
    assert accounts.resolve_token(raw) is None
    accounts.enable(piet_id)
    assert accounts.resolve_token(raw) is None  # disabling revoked it for good


def test_the_command_line_creates_the_first_admin_and_refuses_a_weak_password(accounts, capsys):
    weak = users_cli.run(
        ["create", "--role", "admin", "anna@shop.example", "--password-stdin"], accounts, io.StringIO("anna\n")
    )
    assert weak == users_cli.REFUSED and "at least 12 characters" in capsys.readouterr().err
    assert not accounts.has_users()

    created = users_cli.run(
        ["create", "--role", "admin", "Anna@Shop.example", "--password-stdin"], accounts, io.StringIO(PASSWORD + "\n")
    )
    assert created == 0 and "created anna@shop.example (admin)" in capsys.readouterr().out
    assert accounts.authenticate("anna@shop.example", PASSWORD, "x").role is Role.ADMIN
    again = users_cli.run(
        ["create", "--role", "admin", "anna@shop.example", "--password-stdin"], accounts, io.StringIO(PASSWORD)
    )
    assert again == users_cli.REFUSED and "already an account" in capsys.readouterr().err

    assert users_cli.run(["list"], accounts) == 0
    assert "anna@shop.example\tadmin\tall\tactive" in capsys.readouterr().out
    assert users_cli.run(["disable", "nobody@shop.example"], accounts) == users_cli.REFUSED

    # The way back in when the password is lost, and the way out.
    reset = ["set-password", "anna@shop.example", "--password-stdin"]
    assert users_cli.run(reset, accounts, io.StringIO("a fresh pass phrase\n")) == 0
    assert accounts.authenticate("anna@shop.example", "a fresh pass phrase", "x").email == "anna@shop.example"
    bert = ["create", "--role", "support", "bert@shop.example", "--password-stdin"]
    assert users_cli.run(bert, accounts, io.StringIO(PASSWORD)) == 0
    assert users_cli.run(["disable", "bert@shop.example"], accounts) == 0
    with pytest.raises(WrongCredentials):
        accounts.authenticate("bert@shop.example", PASSWORD, "x")
    assert users_cli.run(["create", "anna@shop.example"], accounts) == users_cli.USAGE
