"""The rules around staff accounts, pure: what a password must be, how sign-in attempts are throttled,
and which role a personal API token may carry.

The throttle is a small state machine kept per key ("account:<email>", "address:<ip>"): failures
counted in a window; enough of them lock the key for a while, each further lockout twice as long up
to an hour, never for ever (an attacker must not be able to lock a real person out for good, and
guessing stays slow). The database keeps the state, so every API process sees the same counts.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from domain.staff import Role

PASSWORD_MIN = 12
PASSWORD_MAX = 256
"""Long enough to take a pass phrase; short enough that hashing one is not a way to burn our CPU."""

COMMON_PASSWORDS = frozenset(
    {
        "123456789012",
        "1234567890123",
        "12345678901234",
        "123456123456",
        "qwertyuiopas",
        "qwertyuiop123",
        "qwerty123456",
        "1q2w3e4r5t6y",
        "1qaz2wsx3edc",
        "passwordpassword",
        "password1234",
        "password12345",
        "password123456",
        "password123!",
        "passw0rd1234",
        "p@ssw0rd1234",
        "iloveyou1234",
        "welcome12345",
        "welcome123456",
        "letmein12345",
        "administrator",
        "admin1234567",
        "adminadmin123",
        "changeme1234",
        "changeme12345",
        "trustno112345",
        "football1234",
        "baseball1234",
        "sunshine1234",
        "princess1234",
        "superman1234",
        "starwars1234",
        "monkey123456",
        "dragon123456",
        "abcdefghijkl",
        "abc123abc123",
        "abcd1234abcd",
        "qazwsxedcrfv",
        "zaq12wsxcde3",
        "asdfghjkl123",
        "1234qwerasdf",
        "correcthorsebatterystaple",
        "correct horse battery staple",
    }
)
"""A short list of what people type first when asked for twelve characters: refused outright."""


def normal_email(email: str) -> str:
    """How an e-mail address is stored and compared: trimmed, lower case."""
    return email.strip().lower()


def email_problem(email: str) -> str | None:
    """Why this cannot be a staff member's e-mail address, or None."""
    email = normal_email(email)
    local, at, domain = email.partition("@")
    if not at or not local or "." not in domain or any(c.isspace() for c in email) or len(email) > 254:
        return "enter an e-mail address such as name@example.com"
    return None


def password_problems(password: str, email: str) -> list[str]:
    """Everything wrong with `password` for the person with `email`, in words for that person; empty
    when it will do."""
    problems: list[str] = []
    if len(password) < PASSWORD_MIN:
        problems.append(f"the password must be at least {PASSWORD_MIN} characters long")
    if len(password) > PASSWORD_MAX:
        problems.append(f"the password must be at most {PASSWORD_MAX} characters long")
    lowered = password.strip().lower()
    address = normal_email(email)
    local = address.partition("@")[0]
    if lowered and lowered in {address, local}:
        problems.append("the password must not be your e-mail address or its name part")
    if password and len(set(password)) == 1:
        problems.append("the password must not be one character repeated")
    if lowered in COMMON_PASSWORDS:
        problems.append("that password is one of the most common ones: choose another")
    return problems


# -- throttling sign-in attempts ----------------------------------------------------------------

WINDOW = timedelta(minutes=15)
FIRST_LOCK = timedelta(minutes=1)
LONGEST_LOCK = timedelta(hours=1)
FORGET_LOCKOUTS = timedelta(days=1)
"""A key that has not been locked for this long starts again at the shortest lock."""
ACCOUNT_FAILURES = 5
"""Wrong passwords for one account within WINDOW before it is locked."""
ADDRESS_FAILURES = 20
"""Failed sign-ins from one network address within WINDOW before it is locked (higher: a shop's
staff often share one address)."""


@dataclass(frozen=True)
class Throttle:
    """What is known about one key's recent failures."""

    failures: int = 0
    window_started_at: datetime | None = None
    locked_until: datetime | None = None
    lockouts: int = 0


def lock_length(lockouts: int) -> timedelta:
    """How long the `lockouts`-th lockout in a row lasts: one minute, doubling, at most an hour."""
    if lockouts <= 1:
        return FIRST_LOCK
    doubled: timedelta = FIRST_LOCK * (2 ** min(lockouts - 1, 16))
    return min(LONGEST_LOCK, doubled)


def locked_for(throttle: Throttle, now: datetime) -> timedelta | None:
    """How much longer the key is locked at `now`, or None when it is not."""
    if throttle.locked_until is not None and throttle.locked_until > now:
        return throttle.locked_until - now
    return None


def after_failure(throttle: Throttle, now: datetime, limit: int) -> Throttle:
    """The key's state after one more failed attempt at `now` (made while it was not locked): locked
    when this failure is the `limit`-th within WINDOW."""
    lockouts = throttle.lockouts
    if throttle.locked_until is not None and now - throttle.locked_until > FORGET_LOCKOUTS:
        lockouts = 0
    if throttle.window_started_at is None or now - throttle.window_started_at > WINDOW:
        failures, started = 1, now
    else:
        failures, started = throttle.failures + 1, throttle.window_started_at
    if failures >= limit:
        lockouts += 1
        return Throttle(0, now, now + lock_length(lockouts), lockouts)
    return Throttle(failures, started, throttle.locked_until, lockouts)


def after_success() -> Throttle:
    """An account's state once its owner signed in: nothing held against it."""
    return Throttle()


def minutes_to_wait(wait: timedelta) -> int:
    """A lock's remaining time as people are told it: whole minutes, rounded up, at least one."""
    return max(1, -(-int(wait.total_seconds()) // 60))


# -- personal API tokens ------------------------------------------------------------------------

TOKEN_PREFIX = "oms_pat_"  # noqa: S105 (a label, not a secret)
"""What every personal API token starts with: a scanner (or a person) can tell one at a glance."""


def may_mint(person: Role, token_role: Role) -> bool:
    """Whether a person of role `person` may create a token with `token_role`: never above their
    own; an admin may create a narrower one (a support or warehouse token for a script)."""
    return person is Role.ADMIN or token_role is person
