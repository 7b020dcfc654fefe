"""Request dependencies as Annotated aliases: settings, database session, Temporal client, staff user."""

from __future__ import annotations

import hmac
from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session
from temporalio.client import Client

from api.errors import temporal_unavailable
from api.state import AppState, TemporalConnection, TemporalUnavailable
from config import Settings


def get_state(request: Request) -> AppState:
    state: AppState = request.app.state.oms
    return state


StateDep = Annotated[AppState, Depends(get_state)]


def get_settings_dep(state: StateDep) -> Settings:
    return state.settings


def get_session(state: StateDep) -> Iterator[Session]:
    session = state.session_factory()
    try:
        yield session
    finally:
        session.close()


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
SessionDep = Annotated[Session, Depends(get_session)]
TemporalDep = Annotated[TemporalConnection, Depends(get_temporal)]

_bearer = HTTPBearer(auto_error=False)


def require_staff(
    settings: SettingsDep, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
) -> str:
    if credentials is None or not hmac.compare_digest(credentials.credentials.encode(), settings.admin_token.encode()):
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            "a staff token is required: Authorization: Bearer <token>",
            headers={"WWW-Authenticate": "Bearer"},
        )
    return "staff"


StaffUser = Annotated[str, Depends(require_staff)]
