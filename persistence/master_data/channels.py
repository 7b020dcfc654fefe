"""Channel policies in the database, and a short cache of them for the stock hot path.

The cache is an object its process builds once (worker.py, the API's state) and hands to what reads
policies often, not a module global: two apps in one process (the tests) never share one, and
nothing has to remember to clear it between databases."""

from __future__ import annotations

import time
from threading import Lock

from sqlalchemy import select
from sqlalchemy.orm import Session

from domain.channels import ChannelPolicy, channel_policy_from_dict, channel_policy_to_dict
from domain.order import CHANNELS
from persistence.models import ChannelConfig, utcnow

CACHE_SECONDS = 2.0
"""Every stock change computes ATP for every channel; policies change rarely, so a process may use
one for up to this long after another process changed it. A change made through the same cache
clears it at once."""


class PolicyCache:
    """Every channel's policy, read at most once per `seconds`; thread-safe (activities and sync
    routes run on worker threads)."""

    def __init__(self, seconds: float = CACHE_SECONDS) -> None:
        self._seconds = seconds
        self._cached: tuple[float, list[ChannelPolicy]] | None = None
        self._lock = Lock()

    def all(self, session: Session) -> list[ChannelPolicy]:
        with self._lock:
            cached = self._cached
        if cached is not None and time.monotonic() - cached[0] < self._seconds:
            return cached[1]
        policies = all_policies(session)
        with self._lock:
            self._cached = (time.monotonic(), policies)
        return policies

    def forget(self) -> None:
        """Read again next time (a policy was changed through this process)."""
        with self._lock:
            self._cached = None


def all_policies(session: Session) -> list[ChannelPolicy]:
    """One policy per known channel, as stored now; channels without a stored config get the defaults."""
    stored = {row.channel: row.config for row in session.scalars(select(ChannelConfig))}
    return [channel_policy_from_dict(channel, stored.get(channel, {})) for channel in CHANNELS]


def policy_for(session: Session, channel: str) -> ChannelPolicy:
    row = session.get(ChannelConfig, channel)
    return channel_policy_from_dict(channel, row.config if row else {})


def save_policy(session: Session, policy: ChannelPolicy) -> None:
    """The caller commits, and forgets its PolicyCache."""
    row = session.get(ChannelConfig, policy.channel)
    config = channel_policy_to_dict(policy)
    if row is None:
        session.add(ChannelConfig(channel=policy.channel, config=config, updated_at=utcnow()))
    else:
        row.config, row.updated_at = config, utcnow()
