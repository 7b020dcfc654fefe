"""How a channel call fails, whatever the channel: the activities around the clients decide retry and
backoff from these types alone, so nothing channel-specific leaks into workflows."""

from __future__ import annotations


class ChannelError(Exception):
    """A channel call failed."""


class ChannelUnavailable(ChannelError):
    """Network error, timeout or 5xx: try again later with backoff."""


class ChannelRateLimited(ChannelUnavailable):
    """429 (or the channel's own throttling answer): wait at least `retry_after` seconds."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class ChannelAuthFailed(ChannelError):
    """Credentials refused (401/403 after a fresh token): a person must fix the settings."""


class ChannelRejected(ChannelError):
    """The channel refused the request itself (4xx other than 401/403/429): retrying cannot help."""
