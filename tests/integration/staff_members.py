"""Staff members by bearer string, for the role tests, until accounts and personal API tokens exist
on main (issue 14's accounts part): `as_staff` maps a few test tokens to StaffMembers through
`api.deps.member_for`, the one function that turns a bearer token into a person. Nothing else is
stubbed: every check after it (role, location, audit row) is the real one. Swap this fixture for
tokens made by services.accounts once that has landed."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.security import HTTPAuthorizationCredentials

from api import deps
from api.state import AppState
from domain.staff import Role, StaffMember

ADMIN_TOKEN = "staff-roles-admin-token"
SUPPORT = StaffMember("user-support", "sam@shop.test", Role.SUPPORT, via="token")
WAREHOUSE_AMS = StaffMember("user-ams", "wim@shop.test", Role.WAREHOUSE, frozenset({"AMS"}), via="token")
"""A warehouse user of AMS only: UTR is another store."""
ADMIN_USER = StaffMember("user-admin", "ada@shop.test", Role.ADMIN, via="token")
MEMBERS = {"support-token": SUPPORT, "warehouse-ams-token": WAREHOUSE_AMS, "admin-user-token": ADMIN_USER}


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


ADMIN = bearer(ADMIN_TOKEN)
AS_SUPPORT = bearer("support-token")
AS_WAREHOUSE_AMS = bearer("warehouse-ams-token")
AS_ADMIN_USER = bearer("admin-user-token")


@pytest.fixture
def as_staff(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, StaffMember]]:
    real = deps.member_for

    def member_for(state: AppState, credentials: HTTPAuthorizationCredentials | None) -> StaffMember | None:
        if credentials is not None and credentials.credentials in MEMBERS:
            return MEMBERS[credentials.credentials]
        return real(state, credentials)

    monkeypatch.setattr(deps, "member_for", member_for)
    yield MEMBERS
