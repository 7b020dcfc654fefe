"""What every staff page shares: who is signed in (`SignedIn`), the role check (`screen`), the page
frame with its safety headers (`page`) and its 404 (`not_found`), messages carried across a
redirect (`flash`, `redirect`, `FlashQuery`), the form token every post carries (`FormToken`,
`check_form`) and how a step sent to a workflow is answered on the page (`workflow_answer`).

A page a role may not use answers 403 with a page saying so; links to it are not drawn for that role
(the templates ask `user.member.may(...)`)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote, urlencode

from fastapi import Depends, Form, HTTPException, Query, Request, status
from fastapi.responses import RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from itsdangerous import BadSignature, URLSafeSerializer

from api.dashboard_session import COOKIE_NAME, form_token_is_valid
from api.deps import remember, session_member
from config import Settings
from domain.money import Money
from domain.staff import Permission, StaffMember
from services.errors import Conflict, NotFound, ServiceError, Unprocessable
from services.gateway import EngineError, EngineUnavailable

TEMPLATES = Jinja2Templates(directory=Path(__file__).resolve().parents[1] / "templates")
PAGE_SIZE = 50
_FLASH_SALT = "oms-dashboard-flash"

FlashQuery = Annotated[str | None, Query(alias="flash", max_length=2000)]
"""The `?flash=` a `redirect` carries to the page it lands on (read with `read_flash`)."""
FormToken = Annotated[str, Form(max_length=500)]
"""The hidden `form_token` every POST form carries (checked with `check_form`)."""


def _money(value: Any) -> str:
    """API Money (or a mapping with amount_minor and currency) as people read it: 12.50 EUR."""
    if isinstance(value, Mapping):
        return Money(int(value["amount_minor"]), str(value["currency"])).format()
    return Money(int(value.amount_minor), str(value.currency)).format()


def _when(value: datetime | None) -> str:
    return "" if value is None else value.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    minutes = round(seconds / 60)
    if minutes < 1:
        return f"{seconds:.0f} s"
    hours, minutes = divmod(minutes, 60)
    days, hours = divmod(hours, 24)
    parts = [f"{days} d" if days else "", f"{hours} h" if hours else "", f"{minutes} min" if minutes else ""]
    return " ".join(part for part in parts if part) or "0 min"


TEMPLATES.env.filters.update(money=_money, when=_when, duration=_duration)
TEMPLATES.env.globals["Permission"] = Permission


@dataclass(frozen=True)
class SignedIn:
    """A signed-in person on a page: who (`member`), their server-side session, and the token their
    forms carry."""

    member: StaffMember
    session_id: str
    form_token: str

    def may(self, permission: Permission) -> bool:
        return self.member.may(permission)


def safe_next(target: str | None) -> str:
    """Only back into the dashboard: a `next` pointing elsewhere would make the login page an open redirect."""
    if target and target.startswith("/dashboard") and "//" not in target and "\\" not in target:
        return target
    return "/dashboard"


def current_session(request: Request) -> SignedIn | None:
    """The person the request's cookie signs in (a live server-side session), or None."""
    found = session_member(request.app.state.oms, request.cookies.get(COOKIE_NAME))
    if found is None:
        return None
    session, member = found
    return SignedIn(member, session.session_id, session.form_token)


def signed_in(request: Request) -> SignedIn:
    user = current_session(request)
    if user is None:
        here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        raise HTTPException(
            status.HTTP_303_SEE_OTHER, "sign in first", headers={"Location": f"/dashboard/login?next={quote(here)}"}
        )
    remember(request, user.member)
    return user


SignedInDep = Annotated[SignedIn, Depends(signed_in)]


class NotYours(HTTPException):
    """A page or action the signed-in role may not use: answered as a 403 page (api.main) saying
    what, who is signed in (`user`, when the raiser knows) and which permission it needs."""

    def __init__(self, what: str, *, user: SignedIn | None = None, needs: Permission | None = None) -> None:
        super().__init__(status.HTTP_403_FORBIDDEN, what)
        self.user = user
        self.needs = needs


def screen(permission: Permission) -> Callable[[SignedIn], SignedIn]:
    """A dependency: the signed-in person, if their role holds `permission` (else a 403 page)."""

    def check(user: SignedInDep) -> SignedIn:
        if not user.may(permission):
            raise NotYours(f"your role ({user.member.role}) may not use this page", user=user, needs=permission)
        return user

    return check


def check_form(user: SignedIn, posted: str | None) -> None:
    if not form_token_is_valid(user.form_token, posted):
        raise HTTPException(status.HTTP_403_FORBIDDEN, "the form has expired: reload the page and try again")


def page(request: Request, template: str, user: SignedIn | None, code: int = 200, **context: Any) -> Response:
    settings: Settings = request.app.state.oms.settings
    response = TEMPLATES.TemplateResponse(
        request,
        template,
        {"user": user, "temporal_ui": settings.temporal_ui_url, "namespace": settings.temporal_namespace, **context},
        status_code=code,
    )
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Referrer-Policy"] = "same-origin"
    return response


def not_found(request: Request, user: SignedIn | None, what: str) -> Response:
    """The 404 page, saying what is not there: one wording and status for every screen."""
    return page(request, "dashboard/not_found.html", user, code=status.HTTP_404_NOT_FOUND, what=what)


def redirect(target: str, settings: Settings | None = None, ok: bool = True, text: str = "") -> RedirectResponse:
    """Post/redirect/get: a 303 to `target`, with a signed message (`flash`) for it to show when
    `settings` are given, so a reload never posts twice and every screen says what happened alike."""
    if settings is not None:
        target += ("&" if "?" in target else "?") + urlencode({"flash": flash(settings, ok, text)})
    return RedirectResponse(target, status.HTTP_303_SEE_OTHER)


def flash(settings: Settings, ok: bool, text: str) -> str:
    """A message for the page after a redirect, signed so a link cannot put words in our mouth."""
    return URLSafeSerializer(settings.admin_token, salt=_FLASH_SALT).dumps({"ok": ok, "text": text})


def read_flash(settings: Settings, value: str | None) -> dict[str, Any] | None:
    if not value:
        return None
    try:
        loaded = URLSafeSerializer(settings.admin_token, salt=_FLASH_SALT).loads(value)
    except BadSignature:
        return None
    return loaded if isinstance(loaded, dict) else None


async def workflow_answer(call: Awaitable[object]) -> tuple[int, str]:
    """Await a step sent to a workflow (through a service): (0, "") when it is taken, else the
    status code and the words to show next to the form. Every screen that sends steps words its
    refusals the same way."""
    try:
        await call
    except NotFound as exc:
        return status.HTTP_404_NOT_FOUND, exc.message
    except Unprocessable as exc:
        return status.HTTP_422_UNPROCESSABLE_CONTENT, f"refused: {exc.message}"
    except Conflict as exc:
        return status.HTTP_409_CONFLICT, f"refused: {exc.message}"
    except EngineUnavailable as exc:
        return status.HTTP_503_SERVICE_UNAVAILABLE, f"not sent: {exc.message} Try again in a moment."
    except EngineError as exc:
        return status.HTTP_503_SERVICE_UNAVAILABLE, f"not sent: the workflow engine refused the call ({exc.reason})"
    except ServiceError as exc:
        return status.HTTP_409_CONFLICT, f"refused: {exc.message}"
    return 0, ""
