"""Staff accounts: users and their roles, signing in (throttled), server-side sessions and personal
API tokens.

Secrets are never stored: passwords as argon2 hashes (pwdlib; re-hashed on sign-in when the
parameters change), session ids and API tokens as SHA-256 (they are long and random, so a plain
hash is enough and a look-up stays one indexed read). Sign-in failures are counted per account and
per network address in the database (every API process shares them) and lock with a growing backoff
(domain.accounts). The answer to a failed sign-in never says whether the e-mail exists, and an
unknown e-mail costs the same password check as a known one.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta

from pwdlib import PasswordHash

from domain.accounts import (
    ACCOUNT_FAILURES,
    ADDRESS_FAILURES,
    FORGET_LOCKOUTS,
    TOKEN_PREFIX,
    Throttle,
    after_failure,
    after_success,
    email_problem,
    locked_for,
    may_mint,
    minutes_to_wait,
    normal_email,
    password_problems,
)
from domain.staff import BOOTSTRAP_ADMIN, Role, StaffMember
from persistence.conflicts import ConcurrentWrite
from persistence.models import StaffAccount, StaffSessionRecord, StaffToken
from services.errors import Conflict, NotFound, ServiceError, Unprocessable
from services.unit_of_work import AbstractUnitOfWork, UnitOfWorkFactory

SESSION_LENGTH = timedelta(hours=12)
SEEN_EVERY = timedelta(minutes=1)
"""A session's last_seen_at and a token's last_used_at are written at most this often."""
TOKEN_NAME_MAX = 100
TOKEN_DAYS_MAX = 3650
WRITE_ATTEMPTS = 3
FORGET_AFTER = FORGET_LOCKOUTS
"""Ended sessions and quiet throttle keys are deleted this long after (at the next sign-in)."""


class WrongCredentials(ServiceError):
    """The e-mail or the password is wrong (never which)."""

    def __init__(self) -> None:
        super().__init__("the e-mail address or the password is wrong")


class Locked(ServiceError):
    """Too many failed sign-ins for this account or from this address: wait `retry_after` seconds."""

    def __init__(self, wait: timedelta) -> None:
        minutes = minutes_to_wait(wait)
        super().__init__(f"too many attempts: try again in {minutes} minute{'s' if minutes != 1 else ''}")
        self.retry_after = max(1, int(wait.total_seconds() + 0.999))


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _utcnow() -> datetime:
    return datetime.now(UTC)


def member_of(user: StaffAccount, *, via: str = "session", role: Role | None = None) -> StaffMember:
    return StaffMember(
        user_id=user.id,
        email=user.email,
        role=role or Role(user.role),
        location_ids=frozenset(user.location_ids or ()),
        via=via,
    )


class Accounts:
    def __init__(
        self,
        units: UnitOfWorkFactory,
        *,
        hasher: PasswordHash | None = None,
        clock: Callable[[], datetime] = _utcnow,
    ) -> None:
        self._units = units
        self.hasher = hasher or PasswordHash.recommended()
        """argon2 with pwdlib's recommended parameters (tests use cheaper ones)."""
        self.clock = clock
        """What time it is (tests set their own: a lock lifts without anybody sleeping)."""
        self._dummy: str | None = None

    # -- users ----------------------------------------------------------------------------------

    def has_users(self) -> bool:
        with self._units(read_only=True) as uow:
            return uow.accounts.user_count() > 0

    def users(self) -> list[StaffAccount]:
        with self._units(read_only=True) as uow:
            return uow.accounts.users()

    def user(self, user_id: str) -> StaffAccount:
        with self._units(read_only=True) as uow:
            return _found(uow.accounts.user(user_id))

    def create_user(
        self, email: str, password: str, role: Role, location_ids: Iterable[str] = (), *, first: bool = False
    ) -> StaffAccount:
        """A new account. Unprocessable (with `field`) for a bad e-mail, password or locations;
        Conflict when the e-mail is taken, or (`first`) when somebody already exists."""
        email = normal_email(email)
        if (problem := email_problem(email)) is not None:
            raise Unprocessable(problem, field="email")
        _check_password(password, email)
        now = self.clock()
        with self._units() as uow:
            if first and uow.accounts.user_count() > 0:
                raise Conflict("the first admin has already been created: sign in")
            if uow.accounts.user_by_email(email) is not None:
                raise Conflict(f"there is already an account for {email}", field="email")
            locations = _checked_locations(uow, role, location_ids)
            user = StaffAccount(
                id=str(uuid.uuid4()),
                email=email,
                password_hash=self.hasher.hash(password),
                role=role.value,
                location_ids=locations,
                created_at=now,
                password_changed_at=now,
            )
            uow.accounts.add_user(user)
            try:
                uow.commit()
            except ConcurrentWrite:
                raise Conflict(f"there is already an account for {email}", field="email") from None
            return user

    def change(self, user_id: str, role: Role, location_ids: Iterable[str]) -> StaffAccount:
        """A new role and locations. Conflict when it would leave no enabled admin."""
        with self._units() as uow:
            user = _found(uow.accounts.user(user_id))
            locations = _checked_locations(uow, role, location_ids)
            if role is not Role.ADMIN and user.disabled_at is None:
                _keep_an_admin(uow.accounts.enabled_admins(), user)
            user.role, user.location_ids = role.value, locations
            uow.commit()
            return user

    def disable(self, user_id: str) -> StaffAccount:
        """Nobody signs in as them any more: their sessions and tokens end now."""
        now = self.clock()
        with self._units() as uow:
            user = _found(uow.accounts.user(user_id))
            if user.disabled_at is None:
                if user.role == Role.ADMIN:
                    _keep_an_admin(uow.accounts.enabled_admins(), user)
                user.disabled_at = now
            uow.accounts.revoke_sessions(user.id, now)
            uow.accounts.revoke_tokens(user.id, now)
            uow.commit()
            return user

    def enable(self, user_id: str) -> StaffAccount:
        """They may sign in again (their old sessions and tokens stay ended)."""
        with self._units() as uow:
            user = _found(uow.accounts.user(user_id))
            user.disabled_at = None
            uow.commit()
            return user

    def set_password(self, user_id: str, password: str, *, keep_session: str | None = None) -> None:
        """A new password (policy-checked); every session of theirs ends but `keep_session` (the raw
        id of the one they are using, when they change their own)."""
        now = self.clock()
        with self._units() as uow:
            user = _found(uow.accounts.user(user_id))
            _check_password(password, user.email)
            user.password_hash = self.hasher.hash(password)
            user.password_changed_at = now
            uow.accounts.revoke_sessions(user.id, now, keep=digest(keep_session) if keep_session else None)
            uow.commit()

    def change_own_password(self, member: StaffMember, current: str, new: str, *, keep_session: str) -> None:
        """The signed-in person's own password, proven by the current one (Unprocessable on `current`)."""
        if member.user_id is None:
            raise Conflict("the admin token has no password: sign in as a user to change one")
        user = self.user(member.user_id)
        valid, _ = self.hasher.verify_and_update(current, user.password_hash)
        if not valid:
            raise Unprocessable("that is not your current password", field="current")
        self.set_password(user.id, new, keep_session=keep_session)

    # -- signing in -----------------------------------------------------------------------------

    def authenticate(self, email: str, password: str, address: str) -> StaffMember:
        """The person these credentials sign in. WrongCredentials (the same for an unknown e-mail, a
        wrong password and a disabled account), or Locked while either the account or the address is."""
        email = normal_email(email)
        now = self.clock()
        keys = {f"account:{email}": ACCOUNT_FAILURES, f"address:{address}": ADDRESS_FAILURES}
        self._refuse_if_locked(keys, now)
        with self._units(read_only=True) as uow:
            user = uow.accounts.user_by_email(email) if len(email) <= 320 else None
        valid, rehashed = self.hasher.verify_and_update(
            password, user.password_hash if user is not None else self._dummy_hash()
        )
        if user is None or not valid or user.disabled_at is not None:
            self._failed(keys, now)
            raise WrongCredentials()
        with self._units() as uow:
            row = _found(uow.accounts.user(user.id))
            if rehashed is not None:
                row.password_hash = rehashed
            row.last_sign_in_at = now
            uow.accounts.save_throttle(f"account:{email}", after_success())
            uow.commit()
            return member_of(row)

    def refuse_if_locked(self, address: str) -> None:
        """Locked while the address is (the admin-token sign-in, which has no account)."""
        self._refuse_if_locked({f"address:{address}": ADDRESS_FAILURES}, self.clock())

    def failed_from(self, address: str) -> None:
        """A wrong admin token typed from `address`: counted like a wrong password (may raise Locked)."""
        self._failed({f"address:{address}": ADDRESS_FAILURES}, self.clock())

    def _refuse_if_locked(self, keys: dict[str, int], now: datetime) -> None:
        with self._units(read_only=True) as uow:
            waits = [locked_for(uow.accounts.throttle(key), now) for key in keys]
        longest = max((wait for wait in waits if wait is not None), default=None)
        if longest is not None:
            raise Locked(longest)

    def _failed(self, keys: dict[str, int], now: datetime) -> None:
        waits: list[timedelta] = []
        for key, limit in keys.items():
            state = self._count_failure(key, limit, now)
            if (wait := locked_for(state, now)) is not None:
                waits.append(wait)
        if waits:
            raise Locked(max(waits))

    def _count_failure(self, key: str, limit: int, now: datetime) -> Throttle:
        for _attempt in range(WRITE_ATTEMPTS):
            with self._units() as uow:
                state = after_failure(uow.accounts.throttle(key, for_update=True), now, limit)
                uow.accounts.save_throttle(key, state)
                try:
                    uow.commit()
                except ConcurrentWrite:  # another process counted this key's first failure: count again
                    continue
                return state
        raise Conflict("too many sign-ins at once: try again")

    def _dummy_hash(self) -> str:
        if self._dummy is None:
            self._dummy = self.hasher.hash(secrets.token_urlsafe(16))
        return self._dummy

    # -- sessions -------------------------------------------------------------------------------

    def start_session(self, user_id: str | None) -> str:
        """A new session for the user (None: the bootstrap admin, signed in with OMS_ADMIN_TOKEN):
        its raw id, for the cookie; only its hash is kept."""
        raw = secrets.token_urlsafe(32)
        now = self.clock()
        with self._units() as uow:
            uow.accounts.add_session(
                StaffSessionRecord(
                    id_hash=digest(raw),
                    user_id=user_id,
                    created_at=now,
                    last_seen_at=now,
                    expires_at=now + SESSION_LENGTH,
                )
            )
            # Housekeeping while the write lock is ours anyway: neither table grows without end.
            uow.accounts.forget_sessions(now - FORGET_AFTER)
            uow.accounts.forget_throttles(now - FORGET_AFTER)
            uow.commit()
        return raw

    def resolve_session(self, raw: str) -> StaffMember | None:
        """Who the session signs in, or None when it is unknown, over, ended, or its user disabled.
        The role and locations are read now: a change applies at the next page."""
        now = self.clock()
        id_hash = digest(raw)
        with self._units(read_only=True) as uow:
            record = uow.accounts.session(id_hash)
            if record is None or record.revoked_at is not None or record.expires_at <= now:
                return None
            user = uow.accounts.user(record.user_id) if record.user_id is not None else None
        if record.user_id is not None and (user is None or user.disabled_at is not None):
            return None
        if now - record.last_seen_at >= SEEN_EVERY:
            with self._units() as uow:
                if (live := uow.accounts.session(id_hash)) is not None:
                    live.last_seen_at = now
                    uow.commit()
        return member_of(user) if user is not None else BOOTSTRAP_ADMIN

    def end_session(self, raw: str) -> None:
        with self._units() as uow:
            record = uow.accounts.session(digest(raw))
            if record is not None and record.revoked_at is None:
                record.revoked_at = self.clock()
                uow.commit()

    # -- personal API tokens --------------------------------------------------------------------

    def create_token(
        self, member: StaffMember, name: str, role: Role, expires_in_days: int | None = None
    ) -> tuple[str, StaffToken]:
        """A new token of the member's, carrying `role` (never above theirs): the raw token, shown to
        them once, and its record (which keeps only its hash and first characters)."""
        if member.user_id is None:
            raise Conflict("the admin token cannot own API tokens: sign in as a user")
        name = name.strip()
        if not name or len(name) > TOKEN_NAME_MAX:
            raise Unprocessable(f"give the token a name of at most {TOKEN_NAME_MAX} characters", field="name")
        if not may_mint(member.role, role):
            raise Unprocessable(f"your role ({member.role}) may only create {member.role} tokens", field="role")
        if expires_in_days is not None and not 1 <= expires_in_days <= TOKEN_DAYS_MAX:
            raise Unprocessable(f"a token expires after 1 to {TOKEN_DAYS_MAX} days (or never)", field="expires")
        raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
        now = self.clock()
        token = StaffToken(
            id=str(uuid.uuid4()),
            user_id=member.user_id,
            name=name,
            role=role.value,
            token_hash=digest(raw),
            prefix=raw[: len(TOKEN_PREFIX) + 4],
            created_at=now,
            expires_at=now + timedelta(days=expires_in_days) if expires_in_days is not None else None,
        )
        with self._units() as uow:
            _found(uow.accounts.user(member.user_id))
            uow.accounts.add_token(token)
            uow.commit()
        return raw, token

    def resolve_token(self, raw: str) -> StaffMember | None:
        """The member a personal API token acts as (its role, its owner's locations), or None when it
        is not one, revoked, expired, its owner disabled, or its role now above its owner's."""
        if not raw.startswith(TOKEN_PREFIX) or len(raw) > 200:
            return None
        now = self.clock()
        token_hash = digest(raw)
        with self._units(read_only=True) as uow:
            token = uow.accounts.token_by_hash(token_hash)
            if token is None or token.revoked_at is not None:
                return None
            if token.expires_at is not None and token.expires_at <= now:
                return None
            owner = uow.accounts.user(token.user_id)
        if owner is None or owner.disabled_at is not None or not may_mint(Role(owner.role), Role(token.role)):
            return None
        if token.last_used_at is None or now - token.last_used_at >= SEEN_EVERY:
            with self._units() as uow:
                if (live := uow.accounts.token(token.id)) is not None:
                    live.last_used_at = now
                    uow.commit()
        return member_of(owner, via="token", role=Role(token.role))

    def tokens(self, user_id: str | None = None) -> list[tuple[StaffToken, str]]:
        """One user's tokens, or (None) everybody's, with the owner's e-mail; newest first."""
        with self._units(read_only=True) as uow:
            return uow.accounts.tokens(user_id)

    def revoke_token(self, token_id: str, member: StaffMember, *, any_owner: bool = False) -> StaffToken:
        """End a token now: the member's own, or anybody's when `any_owner` (an admin's screen)."""
        with self._units() as uow:
            token = uow.accounts.token(token_id)
            if token is None or (not any_owner and token.user_id != member.user_id):
                raise NotFound("no such token")
            if token.revoked_at is None:
                token.revoked_at = self.clock()
                uow.commit()
            return token


def _found(user: StaffAccount | None) -> StaffAccount:
    if user is None:
        raise NotFound("no such user")
    return user


def _check_password(password: str, email: str) -> None:
    problems = password_problems(password, email)
    if problems:
        raise Unprocessable("; ".join(problems), field="password", problems=problems)


def _checked_locations(uow: AbstractUnitOfWork, role: Role, location_ids: Iterable[str]) -> list[str]:
    """The locations as stored: each known, none twice; at least one for a warehouse user, none
    kept for the other roles (they work everywhere)."""
    wanted = list(dict.fromkeys(location.strip() for location in location_ids if location.strip()))
    if role is not Role.WAREHOUSE:
        return []
    if not wanted:
        raise Unprocessable("a warehouse user needs at least one location", field="locations")
    unknown = [location for location in wanted if uow.locations.get(location) is None]
    if unknown:
        raise Unprocessable(f"unknown location: {', '.join(unknown)}", field="locations")
    return wanted


def _keep_an_admin(admins: list[str], user: StaffAccount) -> None:
    if user.role == Role.ADMIN and admins == [user.id]:
        raise Conflict("this is the only enabled admin: make somebody else admin first")
