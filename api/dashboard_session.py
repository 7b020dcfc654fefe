"""The dashboard's cookie: a random session id, signed and expiring.

A browser cannot send `Authorization: Bearer` on its own, and no password or token may ever sit in a
cookie (or in a page, a URL or a log). The cookie carries only the id of a server-side session
(services.accounts keeps its SHA-256; signing out ends it there), signed with the staff token as the
key: changing OMS_ADMIN_TOKEN signs every dashboard user out at once. Forms carry a second token
derived from that session id, so another site cannot post on a user's behalf even where SameSite is
not honoured.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass

from itsdangerous import BadSignature, URLSafeSerializer, URLSafeTimedSerializer

from config import Settings
from services.accounts import SESSION_LENGTH

COOKIE_NAME = "oms_dashboard"
COOKIE_PATHS = ("/dashboard", "/codec")
"""Where the browser sends the cookie: the dashboard's pages, and the codec endpoint the Temporal UI
calls from the same browser (api.routes.codec); no other route reads it."""
_SESSION_SALT = "oms-dashboard-session"
_FORM_SALT = "oms-dashboard-form"


@dataclass(frozen=True)
class DashboardSession:
    session_id: str
    form_token: str
    """Put in every form the page posts; `form_token_is_valid` checks what comes back."""


def token_is_right(settings: Settings, typed: str) -> bool:
    return hmac.compare_digest(typed.encode(), settings.admin_token.encode())


def new_cookie(settings: Settings, session_id: str) -> str:
    """The cookie for a session services.accounts started (`session_id` is its raw id)."""
    return URLSafeTimedSerializer(settings.admin_token, salt=_SESSION_SALT).dumps(session_id)


def session_from(settings: Settings, cookie: str | None) -> DashboardSession | None:
    """The session the cookie names, or None when it is missing, forged or expired. Whether the
    session is still live is the server's to say (api.deps.session_member)."""
    if not cookie:
        return None
    try:
        session_id = URLSafeTimedSerializer(settings.admin_token, salt=_SESSION_SALT).loads(
            cookie, max_age=int(SESSION_LENGTH.total_seconds())
        )
    except BadSignature:  # also SignatureExpired
        return None
    if not isinstance(session_id, str):
        return None
    form_token = URLSafeSerializer(settings.admin_token, salt=_FORM_SALT).dumps(session_id)
    return DashboardSession(session_id, form_token)


def form_token_is_valid(form_token: str, posted: str | None) -> bool:
    """Whether a posted form carries the session's form token (compared in constant time)."""
    return posted is not None and hmac.compare_digest(posted.encode(), form_token.encode())
