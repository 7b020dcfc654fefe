"""How a use case says no: a few kinds every caller understands, each with a message for a person
and, where a client acts on them, facts (a refusal's kind, the stock numbers). The API turns each
kind into one status code in one place (api.errors); the dashboard shows the message."""

from __future__ import annotations


class ServiceError(Exception):
    def __init__(self, message: str, **facts: object) -> None:
        super().__init__(message)
        self.message = message
        self.facts = facts


class NotFound(ServiceError):
    """Nothing of that id: an order, a shipment, a location, a catalogue entry."""


class Conflict(ServiceError):
    """Not possible in the state things are in (too late to cancel, not enough stock, an EAN taken)."""


class Unprocessable(ServiceError):
    """The request names something that cannot be: an unknown location, the same one twice."""


class Unavailable(ServiceError):
    """Not now, but a retry may well succeed."""

    def __init__(self, message: str, *, retry_after: int, **facts: object) -> None:
        super().__init__(message, **facts)
        self.retry_after = retry_after


class Failed(ServiceError):
    """Something we depend on failed the work after taking it (a return's refund step)."""


def refused(why: str, kind: str, unprocessable: frozenset[str]) -> ServiceError:
    """A workflow's validator refused an update: Unprocessable when the request itself can never be
    taken (`unprocessable` kinds), else Conflict (not in the state things are in now)."""
    error = Unprocessable if kind in unprocessable else Conflict
    return error(why, refusal=kind)
