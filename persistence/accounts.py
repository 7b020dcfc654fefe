"""Staff accounts in the database: users, their sessions and personal API tokens (each kept as a
SHA-256 of the secret, never the secret), and the sign-in throttle."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.orm import Session

from domain.accounts import Throttle
from persistence.models import LoginThrottle, StaffAccount, StaffSessionRecord, StaffToken


class SqlAccounts:
    def __init__(self, session: Session) -> None:
        self._session = session

    # -- users ----------------------------------------------------------------------------------

    def user(self, user_id: str) -> StaffAccount | None:
        return self._session.get(StaffAccount, user_id)

    def user_by_email(self, email: str) -> StaffAccount | None:
        return self._session.scalar(select(StaffAccount).where(StaffAccount.email == email))

    def users(self) -> list[StaffAccount]:
        return list(self._session.scalars(select(StaffAccount).order_by(StaffAccount.email)))

    def user_count(self) -> int:
        return int(self._session.scalar(select(func.count()).select_from(StaffAccount)) or 0)

    def enabled_admins(self) -> list[str]:
        return list(
            self._session.scalars(
                select(StaffAccount.id).where(StaffAccount.role == "admin", StaffAccount.disabled_at.is_(None))
            )
        )

    def add_user(self, user: StaffAccount) -> None:
        self._session.add(user)

    # -- sessions -------------------------------------------------------------------------------

    def session(self, id_hash: str) -> StaffSessionRecord | None:
        return self._session.get(StaffSessionRecord, id_hash)

    def add_session(self, record: StaffSessionRecord) -> None:
        self._session.add(record)

    def revoke_sessions(self, user_id: str, at: datetime, *, keep: str | None = None) -> None:
        """End every live session of the user, but `keep` (a session's id hash: the one in use)."""
        statement = update(StaffSessionRecord).where(
            StaffSessionRecord.user_id == user_id, StaffSessionRecord.revoked_at.is_(None)
        )
        if keep is not None:
            statement = statement.where(StaffSessionRecord.id_hash != keep)
        self._session.execute(statement.values(revoked_at=at))

    def forget_sessions(self, ended_before: datetime) -> None:
        """Drop sessions that expired or were ended before then (they sign nobody in anyway)."""
        self._session.execute(
            delete(StaffSessionRecord).where(
                or_(StaffSessionRecord.expires_at < ended_before, StaffSessionRecord.revoked_at < ended_before)
            )
        )

    # -- personal API tokens --------------------------------------------------------------------

    def token(self, token_id: str) -> StaffToken | None:
        return self._session.get(StaffToken, token_id)

    def token_by_hash(self, token_hash: str) -> StaffToken | None:
        return self._session.scalar(select(StaffToken).where(StaffToken.token_hash == token_hash))

    def tokens(self, user_id: str | None = None) -> list[tuple[StaffToken, str]]:
        """Tokens with their owner's e-mail, newest first: one user's, or everybody's."""
        query = select(StaffToken, StaffAccount.email).join(StaffAccount, StaffAccount.id == StaffToken.user_id)
        if user_id is not None:
            query = query.where(StaffToken.user_id == user_id)
        rows = self._session.execute(query.order_by(StaffToken.created_at.desc(), StaffToken.id))
        return [(token, email) for token, email in rows]

    def add_token(self, token: StaffToken) -> None:
        self._session.add(token)

    def revoke_tokens(self, user_id: str, at: datetime) -> None:
        self._session.execute(
            update(StaffToken)
            .where(StaffToken.user_id == user_id, StaffToken.revoked_at.is_(None))
            .values(revoked_at=at)
        )

    # -- the sign-in throttle -------------------------------------------------------------------

    def throttle(self, key: str, *, for_update: bool = False) -> Throttle:
        query = select(LoginThrottle).where(LoginThrottle.key == key)
        if for_update:
            query = query.with_for_update()
        row = self._session.scalar(query)
        if row is None:
            return Throttle()
        return Throttle(row.failures, row.window_started_at, row.locked_until, row.lockouts)

    def forget_throttles(self, quiet_since: datetime) -> None:
        """Drop keys with no failure and no lock since then: what they held would be forgotten anyway
        (domain.accounts.after_failure starts them afresh)."""
        self._session.execute(
            delete(LoginThrottle).where(
                or_(LoginThrottle.window_started_at.is_(None), LoginThrottle.window_started_at < quiet_since),
                or_(LoginThrottle.locked_until.is_(None), LoginThrottle.locked_until < quiet_since),
            )
        )

    def save_throttle(self, key: str, throttle: Throttle) -> None:
        """Insert or overwrite; two processes inserting the same new key at once: the loser's commit
        raises ConcurrentWrite (the caller tries again)."""
        row = self._session.get(LoginThrottle, key)
        if row is None:
            row = LoginThrottle(key=key)
            self._session.add(row)
        row.failures = throttle.failures
        row.window_started_at = throttle.window_started_at
        row.locked_until = throttle.locked_until
        row.lockouts = throttle.lockouts
