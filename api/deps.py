"""Request dependencies as Annotated aliases: settings, database session, Temporal client, and who is
calling (staff, or a channel with its own API key)."""

from __future__ import annotations

import hmac
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session
from temporalio.client import Client

from api.errors import temporal_unavailable
from api.state import AppState, TemporalConnection, TemporalUnavailable
from config import Settings
from services.catalogue import Catalogue
from services.channel_settings import ChannelSettings
from services.locations import Locations
from services.reports import Reports
from services.returns import Returns
from services.shipments import Shipments
from services.stock import Stock


def get_state(request: Request) -> AppState:
    state: AppState = request.app.state.oms
    return state


StateDep = Annotated[AppState, Depends(get_state)]


def get_settings_dep(state: StateDep) -> Settings:
    return state.settings


_SAFE_METHODS = frozenset({"GET", "HEAD"})


def get_session(request: Request, state: StateDep) -> Iterator[Session]:
    """The session of a sync (`def`) route, which FastAPI runs on a worker thread. Closed as soon as
    the route returns, before the response is sent (SessionDep's scope), so a slow client never
    holds a transaction. GET and HEAD only read: their session is read-only and, on SQLite, takes
    no write lock. Async routes never take one (a test walks the routes): they use AppState.read."""
    factory = state.readers if request.method in _SAFE_METHODS else state.session_factory
    with factory() as session:
        yield session


def get_temporal(state: StateDep) -> TemporalConnection:
    return state.temporal


async def connected(temporal: TemporalConnection) -> Client:
    """The Temporal client, or 503: called after the request's own checks, so bad input is a 4xx
    whether or not Temporal is up."""
    try:
        return await temporal.client()
    except TemporalUnavailable:
        raise temporal_unavailable() from None


SettingsDep = Annotated[Settings, Depends(get_settings_dep)]
SessionDep = Annotated[Session, Depends(get_session, scope="function")]
TemporalDep = Annotated[TemporalConnection, Depends(get_temporal)]


# -- the services (api.state builds them once) ------------------------------------------------


def get_returns(state: StateDep) -> Returns:
    return state.services.returns


def get_shipments(state: StateDep) -> Shipments:
    return state.services.shipments


def get_stock(state: StateDep) -> Stock:
    return state.services.stock


def get_locations(state: StateDep) -> Locations:
    return state.services.locations


def get_catalogue(state: StateDep) -> Catalogue:
    return state.services.catalogue


def get_channel_settings(state: StateDep) -> ChannelSettings:
    return state.services.channel_settings


def get_reports(state: StateDep) -> Reports:
    return state.services.reports


ReturnsDep = Annotated[Returns, Depends(get_returns)]
ShipmentsDep = Annotated[Shipments, Depends(get_shipments)]
StockDep = Annotated[Stock, Depends(get_stock)]
LocationsDep = Annotated[Locations, Depends(get_locations)]
CatalogueDep = Annotated[Catalogue, Depends(get_catalogue)]
ChannelSettingsDep = Annotated[ChannelSettings, Depends(get_channel_settings)]
ReportsDep = Annotated[Reports, Depends(get_reports)]

_bearer = HTTPBearer(auto_error=False)


CredentialsDep = Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]


@dataclass(frozen=True)
class Caller:
    """Who sent a request: staff (channel None) or a sales channel with its own key, which may only
    create and read that channel's orders (a leaked POS key cannot cancel, release or re-route)."""

    channel: str | None = None

    @property
    def is_staff(self) -> bool:
        return self.channel is None

    @property
    def name(self) -> str:
        return "staff" if self.channel is None else f"{self.channel} key"

    def may_act_for(self, channel: str) -> bool:
        return self.channel is None or self.channel == channel


def identify(settings: Settings, credentials: HTTPAuthorizationCredentials | None) -> Caller | None:
    """The caller a bearer token belongs to, or None. Every key is compared (in constant time), so
    how long this takes does not tell which one matched."""
    if credentials is None:
        return None
    token = credentials.credentials.encode()
    staff = hmac.compare_digest(token, settings.admin_token.encode())
    channels = [
        channel for channel, key in settings.channel_api_keys.items() if hmac.compare_digest(token, key.encode())
    ]
    if staff:
        return Caller()
    return Caller(channels[0]) if channels else None


def _unauthenticated(what: str) -> HTTPException:
    return HTTPException(
        status.HTTP_401_UNAUTHORIZED,
        f"{what} is required: Authorization: Bearer <token>",
        headers={"WWW-Authenticate": "Bearer"},
    )


def require_staff(settings: SettingsDep, credentials: CredentialsDep) -> str:
    caller = identify(settings, credentials)
    if caller is None:
        raise _unauthenticated("a staff token")
    if not caller.is_staff:
        raise HTTPException(
            status.HTTP_403_FORBIDDEN,
            f"a {caller.name} may only create and read {caller.channel} orders; this needs a staff token",
        )
    return "staff"


def require_staff_or_channel(settings: SettingsDep, credentials: CredentialsDep) -> Caller:
    caller = identify(settings, credentials)
    if caller is None:
        raise _unauthenticated("a staff token or the channel's API key")
    return caller


StaffUser = Annotated[str, Depends(require_staff)]
StaffOrChannel = Annotated[Caller, Depends(require_staff_or_channel)]
"""Staff, or a channel's own key (OMS_POS_API_KEY, OMS_WEBSHOP_API_KEY): check `may_act_for`."""
