"""Channel policies in the database, with a short per-process cache for the stock hot path."""

from __future__ import annotations

import time
from threading import Lock

from sqlalchemy import select
from sqlalchemy.orm import Session

from domain.channels import ChannelPolicy, channel_policy_from_dict, channel_policy_to_dict
from domain.order import CHANNELS
from persistence.models import ChannelConfig, utcnow

# Every stock change computes ATP for every channel; policies change rarely, so a process may use
# one for up to this long after another process changed it. A change made here clears it at once.
CACHE_SECONDS = 2.0
_cache: tuple[float, list[ChannelPolicy]] | None = None
_lock = Lock()


def forget_cached_policies() -> None:
    """Drop this process's cached policies (another database, or a change made elsewhere)."""
    global _cache
    with _lock:
        _cache = None


def all_policies(session: Session) -> list[ChannelPolicy]:
    """One policy per known channel; channels without a stored config get the defaults."""
    global _cache
    with _lock:
        if _cache is not None and time.monotonic() - _cache[0] < CACHE_SECONDS:
            return _cache[1]
    stored = {row.channel: row.config for row in session.scalars(select(ChannelConfig))}
    policies = [channel_policy_from_dict(channel, stored.get(channel, {})) for channel in CHANNELS]
    with _lock:
        _cache = (time.monotonic(), policies)
    return policies


def policy_for(session: Session, channel: str) -> ChannelPolicy:
    row = session.get(ChannelConfig, channel)
    return channel_policy_from_dict(channel, row.config if row else {})


def save_policy(session: Session, policy: ChannelPolicy) -> None:
    row = session.get(ChannelConfig, policy.channel)
    config = channel_policy_to_dict(policy)
    if row is None:
        session.add(ChannelConfig(channel=policy.channel, config=config, updated_at=utcnow()))
    else:
        row.config, row.updated_at = config, utcnow()
    forget_cached_policies()
