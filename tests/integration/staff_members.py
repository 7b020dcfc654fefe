"""Real staff for the role and audit tests: three accounts made by services.accounts, each with a
personal API token of its role (`oms_pat_…`), on the test's database. Nothing is stubbed: the API
resolves the tokens as it does in production. AMS (a warehouse) and UTR (a store) exist; the
warehouse member works at AMS only."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher

from domain.staff import Role, StaffMember
from persistence.db import SessionFactory
from services.accounts import Accounts, member_of
from services.unit_of_work import units_on
from tests.factories import add_location

ADMIN_TOKEN = "staff-roles-admin-token"
ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
"""OMS_ADMIN_TOKEN, the bootstrap admin."""
CHEAP = PasswordHash((Argon2Hasher(time_cost=1, memory_cost=1024, parallelism=1),))
PASSWORD = "a long enough test password 7"


@dataclass(frozen=True)
class Person:
    member: StaffMember
    """Who the API finds behind the token (via "token")."""
    headers: dict[str, str]

    @property
    def label(self) -> str:
        return self.member.label


@dataclass(frozen=True)
class Staff:
    support: Person
    warehouse_ams: Person
    admin: Person


def make_staff(session_factory: SessionFactory) -> Staff:
    add_location(session_factory, "AMS")
    add_location(session_factory, "UTR", kind="store")
    accounts = Accounts(units_on(session_factory), hasher=CHEAP)

    def person(email: str, role: Role, locations: tuple[str, ...] = ()) -> Person:
        user = accounts.create_user(email, PASSWORD, role, locations)
        raw, _ = accounts.create_token(member_of(user), "tests", role)
        return Person(member_of(user, via="token"), {"Authorization": f"Bearer {raw}"})

    return Staff(
        support=person("sam@shop.test", Role.SUPPORT),
        warehouse_ams=person("wim@shop.test", Role.WAREHOUSE, ("AMS",)),
        admin=person("ada@shop.test", Role.ADMIN),
    )


@pytest.fixture
def staff(database) -> Staff:
    return make_staff(database.session_factory)
