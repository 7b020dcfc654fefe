"""Request dependencies as Annotated aliases: settings, the services each route calls, and who is
calling (staff, or a channel with its own API key). No route gets a database session: the services
open their own unit of work and close it before they return."""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from api.dashboard_session import COOKIE_NAME, DashboardSession, session_from
from api.state import AppState
from config import Settings
from domain.staff import BOOTSTRAP_ADMIN, LOCATION_BOUND, Permission, Role, StaffMember
from integrations.temporal.codec import EncryptionCodec
from services.accounts import Accounts
from services.carrier_labels import CarrierLabels
from services.catalogue import Catalogue
from services.channel_refunds import ChannelRefunds
from services.channel_settings import ChannelSettings
from services.dashboard import Dashboard
from services.deliveries import Deliveries
from services.goodwill import GoodwillDesk
from services.intake import Intake
from services.invoices import Invoices
from services.locations import Locations
from services.order_actions import OrderActions
from services.order_edits import OrderEdits
from services.order_views import OrderViews
from services.payload_audit import PayloadAudit
from services.payment_updates import PaymentUpdates
from services.reports import Reports
from services.return_screens import ReturnScreens
from services.returns import Returns
from services.self_service_returns import SelfServiceReturns
from services.shipments import Shipments
from services.staff_audit import StaffAudit
from services.stock import Stock
from services.store_credit import CreditAccounts
from services.tracking import TrackingLinks
from services.warehouse import WarehouseFloor


def get_state(request: Request) -> AppState:
    state: AppState = request.app.state.oms
    return state


StateDep = Annotated[AppState, Depends(get_state)]


def get_settings_dep(state: StateDep) -> Settings:
    return state.settings


SettingsDep = Annotated[Settings, Depends(get_settings_dep)]


# -- the services (api.state builds them once) ------------------------------------------------


def get_intake(state: StateDep) -> Intake:
    """Takes orders: the workflow engine must answer (else 503, documented by api.openapi)."""
    return state.services.intake


def get_order_actions(state: StateDep) -> OrderActions:
    """Cancel and release: the workflow engine must answer (else 503, documented by api.openapi)."""
    return state.services.order_actions


def get_returns(state: StateDep) -> Returns:
    return state.services.returns


def get_return_screens(state: StateDep) -> ReturnScreens:
    return state.services.return_screens


def get_self_service_returns(state: StateDep) -> SelfServiceReturns:
    return state.services.self_service_returns


def get_order_edits(state: StateDep) -> OrderEdits:
    return state.services.order_edits


def get_channel_refunds(state: StateDep) -> ChannelRefunds:
    return state.services.channel_refunds


def get_payment_updates(state: StateDep) -> PaymentUpdates:
    return state.services.payment_updates


def get_shipments(state: StateDep) -> Shipments:
    return state.services.shipments


def get_labels(state: StateDep) -> CarrierLabels:
    return state.services.labels


def get_deliveries(state: StateDep) -> Deliveries:
    return state.services.deliveries


def get_stock(state: StateDep) -> Stock:
    return state.services.stock


def get_locations(state: StateDep) -> Locations:
    return state.services.locations


def get_catalogue(state: StateDep) -> Catalogue:
    return state.services.catalogue


def get_channel_settings(state: StateDep) -> ChannelSettings:
    return state.services.channel_settings


def get_order_views(state: StateDep) -> OrderViews:
    return state.services.order_views


def get_tracking(state: StateDep) -> TrackingLinks:
    return state.services.tracking


def get_invoices(state: StateDep) -> Invoices:
    return state.services.invoices


def get_audit(state: StateDep) -> PayloadAudit:
    return state.services.audit


def get_reports(state: StateDep) -> Reports:
    return state.services.reports


def get_dashboard(state: StateDep) -> Dashboard:
    return state.services.dashboard


def get_floor(state: StateDep) -> WarehouseFloor:
    return state.services.floor


def get_accounts(state: StateDep) -> Accounts:
    return state.services.accounts


def get_staff_audit(state: StateDep) -> StaffAudit:
    return state.services.staff_audit


def get_codec(state: StateDep) -> EncryptionCodec:
    return state.codec


def get_credit(state: StateDep) -> CreditAccounts:
    return state.services.credit


IntakeDep = Annotated[Intake, Depends(get_intake)]
CreditDep = Annotated[CreditAccounts, Depends(get_credit)]


def get_goodwill(state: StateDep) -> GoodwillDesk:
    """Gives goodwill: the workflow engine must answer (else 503, documented by api.openapi)."""
    return state.services.goodwill


GoodwillDep = Annotated[GoodwillDesk, Depends(get_goodwill)]
OrderActionsDep = Annotated[OrderActions, Depends(get_order_actions)]
ReturnsDep = Annotated[Returns, Depends(get_returns)]
ReturnScreensDep = Annotated[ReturnScreens, Depends(get_return_screens)]
SelfServiceReturnsDep = Annotated[SelfServiceReturns, Depends(get_self_service_returns)]
OrderEditsDep = Annotated[OrderEdits, Depends(get_order_edits)]
ChannelRefundsDep = Annotated[ChannelRefunds, Depends(get_channel_refunds)]
PaymentUpdatesDep = Annotated[PaymentUpdates, Depends(get_payment_updates)]
ShipmentsDep = Annotated[Shipments, Depends(get_shipments)]
LabelsDep = Annotated[CarrierLabels, Depends(get_labels)]
DeliveriesDep = Annotated[Deliveries, Depends(get_deliveries)]
StockDep = Annotated[Stock, Depends(get_stock)]
LocationsDep = Annotated[Locations, Depends(get_locations)]
CatalogueDep = Annotated[Catalogue, Depends(get_catalogue)]
ChannelSettingsDep = Annotated[ChannelSettings, Depends(get_channel_settings)]
OrderViewsDep = Annotated[OrderViews, Depends(get_order_views)]
TrackingDep = Annotated[TrackingLinks, Depends(get_tracking)]
InvoicesDep = Annotated[Invoices, Depends(get_invoices)]
AuditDep = Annotated[PayloadAudit, Depends(get_audit)]
ReportsDep = Annotated[Reports, Depends(get_reports)]
DashboardDep = Annotated[Dashboard, Depends(get_dashboard)]
CodecDep = Annotated[EncryptionCodec, Depends(get_codec)]
FloorDep = Annotated[WarehouseFloor, Depends(get_floor)]
AccountsDep = Annotated[Accounts, Depends(get_accounts)]
StaffAuditDep = Annotated[StaffAudit, Depends(get_staff_audit)]


# -- who is calling ---------------------------------------------------------------------------

_bearer = HTTPBearer(auto_error=False)


CredentialsDep = Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]


@dataclass(frozen=True)
class Caller:
    """Who sent a request: staff (channel None) or a sales channel with its own key, which may only
    create and read that channel's orders (a leaked POS key cannot cancel, release or re-route)."""

    channel: str | None = None
    member: StaffMember | None = None
    """The staff member, when staff sent it."""

    @property
    def is_staff(self) -> bool:
        return self.channel is None

    @property
    def name(self) -> str:
        return "staff" if self.channel is None else f"{self.channel} key"

    def may_act_for(self, channel: str) -> bool:
        return self.channel is None or self.channel == channel


def channel_key(settings: Settings, credentials: HTTPAuthorizationCredentials | None) -> str | None:
    """The channel whose own API key the bearer token is, or None. Every key is compared (in
    constant time), so how long this takes does not tell which one matched. Staff credentials are
    `member_for`'s to recognise; this is asked only once that found none."""
    if credentials is None:
        return None
    token = credentials.credentials.encode()
    channels = [
        channel for channel, key in settings.channel_api_keys.items() if hmac.compare_digest(token, key.encode())
    ]
    return channels[0] if channels else None


def _unauthenticated(what: str) -> HTTPException:
    return HTTPException(
        status.HTTP_401_UNAUTHORIZED,
        f"{what} is required: Authorization: Bearer <token>",
        headers={"WWW-Authenticate": "Bearer"},
    )


def _channel_refused(channel: str) -> HTTPException:
    return HTTPException(
        status.HTTP_403_FORBIDDEN,
        f"a {Caller(channel).name} may only create and read {channel} orders; this needs a staff token",
    )


def _role_refused(member: StaffMember, permission: Permission) -> HTTPException:
    return HTTPException(status.HTTP_403_FORBIDDEN, f"the {member.role} role may not do this (it needs {permission})")


def remember(request: Request, member: StaffMember) -> None:
    """Note who is acting on the request, for the audit list (api.staff_audit writes the row once
    the request is answered; a dependency that identifies a staff member calls this)."""
    request.state.staff_member = member


def require_staff_or_channel(request: Request, state: StateDep, credentials: CredentialsDep) -> Caller:
    """A staff member who may read orders (ORDERS_VIEW), or a channel's own key."""
    member = member_for(state, credentials)
    if member is not None:
        remember(request, member)
        if not member.may(Permission.ORDERS_VIEW):
            raise _role_refused(member, Permission.ORDERS_VIEW)
        return Caller(member=member)
    channel = channel_key(state.settings, credentials)
    if channel is None:
        raise _unauthenticated("a staff token or the channel's API key")
    return Caller(channel)


def session_member(state: AppState, cookie: str | None) -> tuple[DashboardSession, StaffMember] | None:
    """The dashboard session a cookie names and who it signs in, or None when the cookie is missing,
    forged or expired, or the session was ended (signed out, password changed, user disabled)."""
    session = session_from(state.settings, cookie)
    if session is None:
        return None
    member = state.services.accounts.resolve_session(session.session_id)
    return None if member is None else (session, member)


def require_staff_session(request: Request, state: StateDep, credentials: CredentialsDep) -> StaffMember:
    """Someone who may see the engine's payloads (Permission.OPERATIONS): by a signed-in dashboard
    session's cookie, what the browser sends for a page that cannot hold a token (the Temporal UI
    calling the codec endpoint, whose own Authorization header, if it passes one, is not ours to
    judge), or by a bearer token."""
    signed_in = session_member(state, request.cookies.get(COOKIE_NAME))
    if signed_in is not None and signed_in[1].may(Permission.OPERATIONS):
        remember(request, signed_in[1])
        return signed_in[1]
    if credentials is None:
        if signed_in is not None:
            remember(request, signed_in[1])
            raise _role_refused(signed_in[1], Permission.OPERATIONS)
        raise _unauthenticated("a staff token (or a dashboard sign-in)")
    return require(Permission.OPERATIONS)(require_member(request, state, credentials))


def require_metrics_reader(request: Request, state: StateDep, credentials: CredentialsDep) -> str:
    """Prometheus with OMS_METRICS_TOKEN (a token that opens nothing else), or staff with OPERATIONS."""
    settings = state.settings
    token = credentials.credentials.encode() if credentials is not None else b""
    if settings.metrics_token and hmac.compare_digest(token, settings.metrics_token.encode()):
        return "metrics"
    member = member_for(state, credentials)
    if member is None:
        channel = channel_key(settings, credentials)
        if channel is None:
            raise _unauthenticated("the metrics token (OMS_METRICS_TOKEN) or a staff token")
        raise _channel_refused(channel)
    remember(request, member)
    return require(Permission.OPERATIONS)(member).label


def member_for(state: AppState, credentials: HTTPAuthorizationCredentials | None) -> StaffMember | None:
    """The staff member a bearer token belongs to: OMS_ADMIN_TOKEN is the bootstrap admin; a
    personal API token is its owner with the token's role (services.accounts). None for anything
    else, a channel's key included."""
    if credentials is None:
        return None
    if hmac.compare_digest(credentials.credentials.encode(), state.settings.admin_token.encode()):
        return BOOTSTRAP_ADMIN
    return state.services.accounts.resolve_token(credentials.credentials)


def require_member(request: Request, state: StateDep, credentials: CredentialsDep) -> StaffMember:
    member = member_for(state, credentials)
    if member is None:
        channel = channel_key(state.settings, credentials)
        if channel is not None:
            raise _channel_refused(channel)
        raise _unauthenticated("a staff token")
    remember(request, member)
    return member


MemberDep = Annotated[StaffMember, Depends(require_member)]


def require(permission: Permission) -> Callable[[StaffMember], StaffMember]:
    """A dependency: the calling staff member, if their role holds `permission` somewhere (else 403).
    A location-bound permission is checked again against the location by the route
    (`StaffMember.may_at`)."""

    def check(member: MemberDep) -> StaffMember:
        if not member.may(permission):
            raise _role_refused(member, permission)
        return member

    return check


def location_scope(member: StaffMember, permission: Permission) -> frozenset[str] | None:
    """Where the member holds a location-bound permission: their locations (a warehouse user), or
    None for everywhere (the other roles)."""
    if member.role is Role.WAREHOUSE and permission in LOCATION_BOUND:
        return member.location_ids
    return None


def at_location(member: StaffMember, permission: Permission, *location_ids: str | None) -> None:
    """403 unless the member holds `permission` at one of the locations given (a shipment's own and
    the store it goes to for collection; a stock record's location). The one place the API checks
    a warehouse user's locations."""
    if not any(member.may_at(permission, location) for location in location_ids if location):
        places = ", ".join(location for location in location_ids if location)
        raise HTTPException(status.HTTP_403_FORBIDDEN, f"{places} is not one of your locations ({permission})")


def within_scope(member: StaffMember, permission: Permission, location_id: str | None) -> frozenset[str] | None:
    """A list's location filter for the member: the location asked for (403 when it is not theirs),
    else their locations (a warehouse user) or None (everywhere)."""
    if location_id:
        at_location(member, permission, location_id)
        return None
    return location_scope(member, permission)


def at_shipment(permission: Permission) -> Callable[..., Awaitable[StaffMember]]:
    """A dependency for a route on `{shipment_id}`: the staff member, if their role holds
    `permission` where the shipment ships from or is collected (a warehouse user's locations; the
    other roles work everywhere and no lookup is made)."""
    holds = require(permission)

    async def check(shipment_id: str, member: MemberDep, shipments: ShipmentsDep) -> StaffMember:
        holds(member)
        if location_scope(member, permission) is not None:
            record = await shipments.record(shipment_id)
            at_location(member, permission, record.location_id, record.transfer_to)
        return member

    return check


OperationsStaff = Annotated[StaffMember, Depends(require_staff_session)]
"""A staff member with OPERATIONS, by token or by a dashboard sign-in (the codec endpoint)."""
MetricsReader = Annotated[str, Depends(require_metrics_reader)]
StaffOrChannel = Annotated[Caller, Depends(require_staff_or_channel)]
"""Staff, or a channel's own key (OMS_POS_API_KEY, OMS_WEBSHOP_API_KEY): check `may_act_for`."""
