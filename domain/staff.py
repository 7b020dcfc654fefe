"""The people who run the shop, and what each role may do.

Three roles, as a shop is staffed: `admin` (everything: users, settings, the books), `support` (orders,
holds, cancels, returns, refunds, customer lookup) and `warehouse` (pick lists, shipment steps and
stock counts of the locations the person is assigned to; a store's counter staff are warehouse users
of that store). A permission is a verb on a kind of thing; a location-bound permission also needs
the location to be one of the person's (`StaffMember.may_at`). Pure rules: the API and the screens
ask here, so a page never shows what its reader may not do.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum


class Role(StrEnum):
    ADMIN = "admin"
    SUPPORT = "support"
    WAREHOUSE = "warehouse"
    FINANCE = "finance"
    """The bookkeeper: the books (journal, reconciliation) and the numbers; reads orders."""


class Permission(StrEnum):
    ORDERS_VIEW = "orders.view"
    """Read orders, their timelines and payments; find an order by number, channel id, e-mail, postcode."""
    ORDERS_ACT = "orders.act"
    """Release a hold, cancel with a reason."""
    RETURNS = "returns"
    """Create a return and see its refund."""
    SHIPMENTS_VIEW = "shipments.view"
    """Pick lists, shipments, late steps (location-bound for warehouse staff)."""
    SHIPMENT_STEPS = "shipments.steps"
    """Confirm pick, pack, ship, ready, collected (location-bound)."""
    STOCK_VIEW = "stock.view"
    STOCK_COUNT = "stock.count"
    """Receive, count and adjust stock at a location (location-bound)."""
    SETTINGS = "settings"
    """Locations, channel settings and routing, catalogue, transfers, safety stock."""
    KPIS = "kpis"
    USERS = "users"
    """Accounts and API tokens of everybody."""
    AUDIT = "audit"
    """Who did what."""
    BOOKS = "books"
    """The daily journal and the reconciliation (a push to the accounting system is admin's)."""
    OPERATIONS = "operations"
    """The Temporal UI's payload codec and the metrics: what the people running the engine need."""


LOCATION_BOUND = frozenset({Permission.SHIPMENTS_VIEW, Permission.SHIPMENT_STEPS, Permission.STOCK_COUNT})
"""Permissions a warehouse user holds only at the locations assigned to them."""

GRANTS: dict[Role, frozenset[Permission]] = {
    Role.ADMIN: frozenset(Permission),
    Role.SUPPORT: frozenset(
        {
            Permission.ORDERS_VIEW,
            Permission.ORDERS_ACT,
            Permission.RETURNS,
            Permission.SHIPMENTS_VIEW,
            Permission.STOCK_VIEW,
        }
    ),
    Role.WAREHOUSE: frozenset(
        {Permission.SHIPMENTS_VIEW, Permission.SHIPMENT_STEPS, Permission.STOCK_VIEW, Permission.STOCK_COUNT}
    ),
    Role.FINANCE: frozenset({Permission.BOOKS, Permission.KPIS, Permission.ORDERS_VIEW}),
}


@dataclass(frozen=True)
class StaffMember:
    """Who is acting: a signed-in user, a personal API token's owner, or the bootstrap admin token
    (`user_id` None). `label` is what the timeline, the stock ledger and the audit list show."""

    user_id: str | None
    email: str
    role: Role
    location_ids: frozenset[str] = field(default_factory=frozenset)
    """The locations a warehouse user works at; ignored for the other roles (they work everywhere)."""
    via: str = "session"
    """How they proved it: session, token (a personal API token) or admin token (OMS_ADMIN_TOKEN)."""

    @property
    def label(self) -> str:
        return self.email if self.user_id is not None else "admin token"

    def may(self, permission: Permission) -> bool:
        """Whether the role holds the permission somewhere (a warehouse user: at their locations)."""
        if permission not in GRANTS[self.role]:
            return False
        return not (self.role is Role.WAREHOUSE and permission in LOCATION_BOUND and not self.location_ids)

    def may_at(self, permission: Permission, location_id: str) -> bool:
        """Whether the role holds the permission at this location."""
        if not self.may(permission):
            return False
        if self.role is Role.WAREHOUSE and permission in LOCATION_BOUND:
            return location_id in self.location_ids
        return True

    def locations_for(self, permission: Permission, all_locations: Iterable[str]) -> list[str]:
        """The locations, of those given, where the person holds the permission (in the given order)."""
        return [location for location in all_locations if self.may_at(permission, location)]


BOOTSTRAP_ADMIN = StaffMember(user_id=None, email="", role=Role.ADMIN, via="admin token")
"""OMS_ADMIN_TOKEN: the first admin before any user exists, and development's shortcut."""
