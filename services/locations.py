"""Warehouses, stores and drop-ship locations: created, changed, listed.

A create that loses a race with another create of the same id becomes an update, so two staff
members (or a retried request) saving the same new location both succeed."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from persistence.conflicts import ConcurrentWrite
from persistence.models import Location
from services.errors import Conflict, NotFound
from services.unit_of_work import UnitOfWorkFactory

SAVE_ATTEMPTS = 2


class Locations:
    def __init__(self, units: UnitOfWorkFactory) -> None:
        self._units = units

    def save(self, location_id: str, *, create: Mapping[str, Any], change: Mapping[str, Any]) -> tuple[Location, bool]:
        """Create the location from `create`, or set `change` on the existing one: the location as
        saved, and True when it was created. Conflict when it kept changing under us."""
        create, change = _normalised(create), _normalised(change)
        for _attempt in range(SAVE_ATTEMPTS):
            with self._units() as uow:
                location = uow.locations.get(location_id)
                if location is None:
                    uow.locations.add(Location(location_id=location_id, **create))
                else:
                    for name, value in change.items():
                        setattr(location, name, value)
                try:
                    uow.commit()
                except ConcurrentWrite:
                    continue
                return _existing(uow.locations.get(location_id), location_id), location is None
        raise Conflict(f"location {location_id!r} is being changed concurrently; retry")

    def all(self) -> list[Location]:
        with self._units(read_only=True) as uow:
            return uow.locations.all()

    def get(self, location_id: str) -> Location:
        with self._units(read_only=True) as uow:
            return _existing(uow.locations.get(location_id), location_id)


def _normalised(fields: Mapping[str, Any]) -> dict[str, Any]:
    """The columns to set: the id is the path's (or the body's, already checked), countries upper case."""
    fields = {name: value for name, value in fields.items() if name != "location_id"}
    if "country" in fields:
        fields["country"] = fields["country"].upper()
    return fields


def _existing(location: Location | None, location_id: str) -> Location:
    if location is None:
        raise NotFound(f"unknown location {location_id!r}")
    return location
