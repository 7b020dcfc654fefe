"""Accounts: signing in and out, the first-run screen, users with their roles and locations (admin),
and everybody's own page (password, personal API tokens).

Sign-in takes an e-mail and a password (services.accounts throttles both per account and per
address), or OMS_ADMIN_TOKEN: the bootstrap admin, for development and the first run. Either way the
browser gets a cookie naming a server-side session, which signing out ends.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request, status
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from api.dashboard_session import COOKIE_NAME, COOKIE_PATHS, new_cookie, token_is_right
from api.deps import AccountsDep, LocationsDep, SettingsDep, remember
from api.screens.pages import (
    FlashQuery,
    SignedIn,
    SignedInDep,
    check_form,
    current_session,
    not_found,
    read_flash,
    redirect,
    safe_next,
    screen,
)
from api.screens.pages import page as render
from domain.accounts import PASSWORD_MAX, PASSWORD_MIN
from domain.staff import BOOTSTRAP_ADMIN, Permission, Role, StaffMember
from services.accounts import SESSION_LENGTH, Locked, WrongCredentials
from services.errors import Conflict, NotFound, ServiceError, Unprocessable

router = APIRouter(prefix="/dashboard", include_in_schema=False, default_response_class=HTMLResponse)

Admin = Annotated[SignedIn, Depends(screen(Permission.USERS))]
Text = Annotated[str, Form(max_length=500)]
Password = Annotated[str, Form(max_length=PASSWORD_MAX + 1)]
ROLES = [role.value for role in Role]
NOT_IT = "That is not the staff token."


def home_of(member: StaffMember) -> str:
    """Where a person lands after signing in: where their role works."""
    return "/dashboard" if member.may(Permission.ORDERS_VIEW) else "/dashboard/warehouse"


def _address(request: Request) -> str:
    return request.client.host if request.client is not None else "unknown"


def _signed_in_response(request: Request, target: str, session_id: str) -> Response:
    settings = request.app.state.oms.settings
    response = RedirectResponse(target, status.HTTP_303_SEE_OTHER)
    cookie = new_cookie(settings, session_id)
    for path in COOKIE_PATHS:
        response.set_cookie(
            COOKIE_NAME,
            cookie,
            max_age=int(SESSION_LENGTH.total_seconds()),
            path=path,
            httponly=True,
            samesite="strict",
            secure=request.url.scheme == "https",
        )
    return response


def _field(exc: ServiceError) -> str:
    return str(exc.facts.get("field", "form"))


def _code(exc: ServiceError) -> int:
    return status.HTTP_409_CONFLICT if isinstance(exc, Conflict) else status.HTTP_422_UNPROCESSABLE_CONTENT


# -- signing in and out -------------------------------------------------------------------------


def _login_page(request: Request, accounts: AccountsDep, next_: str, *, code: int = 200, **context: Any) -> Response:
    values: dict[str, Any] = {"error": None, "token_error": None, "email": ""} | context
    response = render(
        request,
        "accounts/login.html",
        None,
        code=code,
        next=safe_next(next_),
        first_run=not accounts.has_users(),
        password_min=PASSWORD_MIN,
        **values,
    )
    return response


@router.get("/login")
def login_form(request: Request, settings: SettingsDep, accounts: AccountsDep, next: str | None = None) -> Response:
    user = current_session(request)
    if user is not None:
        return RedirectResponse(safe_next(next) if next else home_of(user.member), status.HTTP_303_SEE_OTHER)
    return _login_page(request, accounts, next or "/dashboard")


@router.post("/login")
def login(
    request: Request,
    settings: SettingsDep,
    accounts: AccountsDep,
    email: Annotated[str, Form(max_length=320)] = "",
    password: Password = "",
    token: Text = "",
    next: Annotated[str, Form(max_length=2000)] = "/dashboard",
) -> Response:
    """E-mail and password, or (a separate form) the staff token, OMS_ADMIN_TOKEN."""
    address = _address(request)
    try:
        if token:
            accounts.refuse_if_locked(address)
            if not token_is_right(settings, token):
                accounts.failed_from(address)
                return _login_page(request, accounts, next, code=status.HTTP_401_UNAUTHORIZED, token_error=NOT_IT)
            member = None
            session_id = accounts.start_session(None)
        else:
            member = accounts.authenticate(email, password, address)
            session_id = accounts.start_session(member.user_id)
    except Locked as exc:
        response = _login_page(
            request, accounts, next, code=status.HTTP_429_TOO_MANY_REQUESTS, email=email, error=exc.message
        )
        response.headers["Retry-After"] = str(exc.retry_after)
        return response
    except WrongCredentials as exc:
        wrong = exc.message.capitalize() + "."
        return _login_page(request, accounts, next, code=status.HTTP_401_UNAUTHORIZED, email=email, error=wrong)
    remember(request, member or BOOTSTRAP_ADMIN)  # the sign-in goes on the audit list (api.staff_audit)
    target = safe_next(next)
    if member is not None and target == "/dashboard":
        target = home_of(member)
    return _signed_in_response(request, target, session_id)


@router.post("/logout")
def logout(user: SignedInDep, accounts: AccountsDep, form_token: Text = "") -> Response:
    """Ends the session on the server: the cookie, even if kept, signs nobody in any more."""
    check_form(user, form_token)
    accounts.end_session(user.session_id)
    response = RedirectResponse("/dashboard/login", status.HTTP_303_SEE_OTHER)
    for path in COOKIE_PATHS:
        response.delete_cookie(COOKIE_NAME, path=path)
    return response


# -- the first run ------------------------------------------------------------------------------


def _no_setup(accounts: AccountsDep) -> Response | None:
    if accounts.has_users():
        return RedirectResponse("/dashboard/login", status.HTTP_303_SEE_OTHER)
    return None


@router.get("/setup")
def setup_form(request: Request, accounts: AccountsDep) -> Response:
    """Only while nobody has an account: the first admin, proven by OMS_ADMIN_TOKEN (so nobody else
    on the network can claim the shop)."""
    if (gone := _no_setup(accounts)) is not None:
        return gone
    return render(request, "accounts/setup.html", None, errors={}, email="", password_min=PASSWORD_MIN)


@router.post("/setup")
def setup(
    request: Request,
    settings: SettingsDep,
    accounts: AccountsDep,
    token: Text = "",
    email: Annotated[str, Form(max_length=320)] = "",
    password: Password = "",
    confirm: Password = "",
) -> Response:
    if (gone := _no_setup(accounts)) is not None:
        return gone
    address = _address(request)

    def again(code: int, **errors: str) -> Response:
        return render(
            request, "accounts/setup.html", None, code=code, errors=errors, email=email, password_min=PASSWORD_MIN
        )

    try:
        accounts.refuse_if_locked(address)
        if not token_is_right(settings, token):
            accounts.failed_from(address)
            return again(status.HTTP_401_UNAUTHORIZED, token=NOT_IT)
    except Locked as exc:
        response = again(status.HTTP_429_TOO_MANY_REQUESTS, token=exc.message)
        response.headers["Retry-After"] = str(exc.retry_after)
        return response
    if password != confirm:
        return again(status.HTTP_422_UNPROCESSABLE_CONTENT, confirm="The two passwords differ.")
    try:
        user = accounts.create_user(email, password, Role.ADMIN, first=True)
    except (Unprocessable, Conflict) as exc:
        return again(_code(exc), **{_field(exc): exc.message})
    return _signed_in_response(request, "/dashboard", accounts.start_session(user.id))


# -- one's own account --------------------------------------------------------------------------


def _account_page(
    request: Request, user: SignedIn, accounts: AccountsDep, *, code: int = 200, **context: Any
) -> Response:
    values: dict[str, Any] = {"errors": {}, "new_token": None, "typed": {}, "flash": None} | context
    tokens = accounts.tokens(user.member.user_id) if user.member.user_id is not None else []
    mintable = [role for role in ROLES if user.member.role is Role.ADMIN or role == user.member.role]
    return render(
        request,
        "accounts/account.html",
        user,
        code=code,
        tokens=tokens,
        roles=mintable,
        password_min=PASSWORD_MIN,
        **values,
    )


@router.get("/account")
def account_page(
    request: Request, user: SignedInDep, accounts: AccountsDep, settings: SettingsDep, flash_: FlashQuery = None
) -> Response:
    return _account_page(request, user, accounts, flash=read_flash(settings, flash_))


@router.post("/account/password")
def change_password(
    request: Request,
    user: SignedInDep,
    accounts: AccountsDep,
    settings: SettingsDep,
    form_token: Text = "",
    current: Password = "",
    password: Password = "",
    confirm: Password = "",
) -> Response:
    check_form(user, form_token)
    if password != confirm:
        return _account_page(request, user, accounts, code=422, errors={"confirm": "The two new passwords differ."})
    try:
        accounts.change_own_password(user.member, current, password, keep_session=user.session_id)
    except (Unprocessable, Conflict) as exc:
        return _account_page(request, user, accounts, code=_code(exc), errors={_field(exc): exc.message})
    return redirect("/dashboard/account", settings, True, "Your password is changed; your other sessions are ended.")


@router.post("/account/tokens")
def create_token(
    request: Request,
    user: SignedInDep,
    accounts: AccountsDep,
    form_token: Text = "",
    name: Annotated[str, Form(max_length=200)] = "",
    role: Annotated[str, Form(max_length=20)] = "",
    expires_days: Annotated[str, Form(max_length=10)] = "",
) -> Response:
    """Shows the new token on the page this answers, once: it is kept nowhere but as a hash."""
    check_form(user, form_token)
    typed = {"name": name, "role": role, "expires_days": expires_days}
    errors: dict[str, str] = {}
    days: int | None = None
    if expires_days.strip():
        try:
            days = int(expires_days)
        except ValueError:
            errors["expires"] = "Enter a whole number of days, or leave it empty for a token that does not expire."
    if role not in ROLES:
        errors["role"] = "Choose a role."
    if not errors:
        try:
            raw, token = accounts.create_token(user.member, name, Role(role), days)
        except (Unprocessable, Conflict) as exc:
            errors[_field(exc)] = exc.message
        else:
            return _account_page(request, user, accounts, code=201, new_token={"raw": raw, "name": token.name})
    return _account_page(request, user, accounts, code=422, errors=errors, typed=typed)


@router.post("/account/tokens/{token_id}/revoke")
def revoke_own_token(
    token_id: str, user: SignedInDep, accounts: AccountsDep, settings: SettingsDep, form_token: Text = ""
) -> Response:
    check_form(user, form_token)
    try:
        token = accounts.revoke_token(token_id, user.member)
    except NotFound:
        return redirect("/dashboard/account", settings, False, "There is no such token of yours.")
    return redirect("/dashboard/account", settings, True, f"Token “{token.name}” is revoked.")


# -- people (admin) -----------------------------------------------------------------------------


def _choices(locations: LocationsDep) -> dict[str, Any]:
    """What the list of people and a person's page both offer an admin to choose from, alike."""
    return {
        "roles": ROLES,
        "locations": [location.location_id for location in locations.all()],
        "password_min": PASSWORD_MIN,
    }


def _users_page(
    request: Request, user: SignedIn, accounts: AccountsDep, locations: LocationsDep, *, code: int = 200, **ctx: Any
) -> Response:
    values: dict[str, Any] = {"errors": {}, "typed": {}, "flash": None} | ctx
    return render(
        request, "accounts/users.html", user, code=code, users=accounts.users(), **_choices(locations), **values
    )


@router.get("/admin/users")
def users_page(
    request: Request,
    user: Admin,
    accounts: AccountsDep,
    locations: LocationsDep,
    settings: SettingsDep,
    flash_: FlashQuery = None,
) -> Response:
    return _users_page(request, user, accounts, locations, flash=read_flash(settings, flash_))


@router.post("/admin/users")
def create_user(
    request: Request,
    user: Admin,
    accounts: AccountsDep,
    locations: LocationsDep,
    settings: SettingsDep,
    form_token: Text = "",
    email: Annotated[str, Form(max_length=320)] = "",
    role: Annotated[str, Form(max_length=20)] = "",
    location: Annotated[list[str] | None, Form(max_length=100)] = None,
    password: Password = "",
) -> Response:
    check_form(user, form_token)
    typed = {"email": email, "role": role, "locations": location or []}
    if role not in ROLES:
        return _users_page(request, user, accounts, locations, code=422, errors={"role": "Choose a role."}, typed=typed)
    try:
        created = accounts.create_user(email, password, Role(role), location or [])
    except (Unprocessable, Conflict) as exc:
        return _users_page(
            request, user, accounts, locations, code=_code(exc), errors={_field(exc): exc.message}, typed=typed
        )
    return redirect("/dashboard/admin/users", settings, True, f"{created.email} can sign in now ({created.role}).")


def _user_page(
    request: Request,
    user: SignedIn,
    accounts: AccountsDep,
    locations: LocationsDep,
    user_id: str,
    *,
    code: int = 200,
    **ctx: Any,
) -> Response:
    try:
        person = accounts.user(user_id)
    except NotFound:
        return not_found(request, user, f"user {user_id}")
    values: dict[str, Any] = {"errors": {}, "flash": None} | ctx
    return render(
        request,
        "accounts/user.html",
        user,
        code=code,
        person=person,
        tokens=accounts.tokens(person.id),
        **_choices(locations),
        **values,
    )


@router.get("/admin/users/{user_id}")
def user_page(
    user_id: str,
    request: Request,
    user: Admin,
    accounts: AccountsDep,
    locations: LocationsDep,
    settings: SettingsDep,
    flash_: FlashQuery = None,
) -> Response:
    return _user_page(request, user, accounts, locations, user_id, flash=read_flash(settings, flash_))


@router.post("/admin/users/{user_id}")
def change_user(
    user_id: str,
    request: Request,
    user: Admin,
    accounts: AccountsDep,
    locations: LocationsDep,
    settings: SettingsDep,
    form_token: Text = "",
    role: Annotated[str, Form(max_length=20)] = "",
    location: Annotated[list[str] | None, Form(max_length=100)] = None,
) -> Response:
    check_form(user, form_token)
    if role not in ROLES:
        return _user_page(request, user, accounts, locations, user_id, code=422, errors={"role": "Choose a role."})
    try:
        changed = accounts.change(user_id, Role(role), location or [])
    except NotFound:
        return not_found(request, user, f"user {user_id}")
    except (Unprocessable, Conflict) as exc:
        return _user_page(
            request, user, accounts, locations, user_id, code=_code(exc), errors={_field(exc): exc.message}
        )
    return redirect(f"/dashboard/admin/users/{user_id}", settings, True, f"{changed.email} is now {changed.role}.")


@router.post("/admin/users/{user_id}/disable")
def disable_user(
    user_id: str, user: Admin, accounts: AccountsDep, settings: SettingsDep, form_token: Text = ""
) -> Response:
    check_form(user, form_token)
    where = f"/dashboard/admin/users/{user_id}"
    try:
        person = accounts.disable(user_id)
    except (NotFound, Conflict) as exc:
        return redirect(where, settings, False, exc.message)
    return redirect(where, settings, True, f"{person.email} is disabled: their sessions and tokens are ended.")


@router.post("/admin/users/{user_id}/enable")
def enable_user(
    user_id: str, user: Admin, accounts: AccountsDep, settings: SettingsDep, form_token: Text = ""
) -> Response:
    check_form(user, form_token)
    where = f"/dashboard/admin/users/{user_id}"
    try:
        person = accounts.enable(user_id)
    except NotFound as exc:
        return redirect(where, settings, False, exc.message)
    return redirect(where, settings, True, f"{person.email} may sign in again.")


@router.post("/admin/users/{user_id}/password")
def reset_password(
    user_id: str,
    request: Request,
    user: Admin,
    accounts: AccountsDep,
    locations: LocationsDep,
    settings: SettingsDep,
    form_token: Text = "",
    password: Password = "",
) -> Response:
    """A new password the admin hands over; every session of that person ends."""
    check_form(user, form_token)
    keep = user.session_id if user.member.user_id == user_id else None
    try:
        accounts.set_password(user_id, password, keep_session=keep)
    except NotFound:
        return not_found(request, user, f"user {user_id}")
    except Unprocessable as exc:
        return _user_page(request, user, accounts, locations, user_id, code=422, errors={"password": exc.message})
    where = f"/dashboard/admin/users/{user_id}"
    return redirect(where, settings, True, "The password is set; their sessions are ended.")


@router.get("/admin/tokens")
def tokens_page(
    request: Request, user: Admin, accounts: AccountsDep, settings: SettingsDep, flash_: FlashQuery = None
) -> Response:
    return render(request, "accounts/tokens.html", user, tokens=accounts.tokens(), flash=read_flash(settings, flash_))


@router.post("/admin/tokens/{token_id}/revoke")
def revoke_token(
    token_id: str, user: Admin, accounts: AccountsDep, settings: SettingsDep, form_token: Text = ""
) -> Response:
    check_form(user, form_token)
    try:
        token = accounts.revoke_token(token_id, user.member, any_owner=True)
    except NotFound as exc:
        return redirect("/dashboard/admin/tokens", settings, False, exc.message)
    return redirect("/dashboard/admin/tokens", settings, True, f"Token “{token.name}” is revoked.")
