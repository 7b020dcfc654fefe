"""Saving a location: created or changed, and a create that loses a race becomes an update (the
create-or-update conflict path)."""

from __future__ import annotations

import pytest

from persistence.conflicts import ConcurrentWrite
from persistence.models import Location
from services.errors import Conflict, NotFound
from services.locations import SAVE_ATTEMPTS, Locations
from tests.fakes import fail_with

AMS = {"location_id": "AMS", "name": "Amsterdam DC", "kind": "warehouse", "country": "nl", "priority": 10}


def _other_request_created_it(units) -> None:
    units.store.locations.saved["AMS"] = Location(
        location_id="AMS", name="Amsterdam (other request)", kind="warehouse", country="NL", priority=50
    )


def test_a_new_location_is_created_with_its_country_upper_case(units):
    location, created = Locations(units).save("AMS", create=AMS, change=AMS)
    assert created and (location.location_id, location.country, location.priority) == ("AMS", "NL", 10)
    assert units.commits == 1 and Locations(units).get("AMS") is location


def test_an_existing_location_keeps_what_the_change_leaves_out(units):
    Locations(units).save("AMS", create=AMS, change=AMS)
    location, created = Locations(units).save("AMS", create=AMS, change={"name": "Amsterdam North"})
    assert not created and (location.name, location.priority) == ("Amsterdam North", 10)


def test_a_create_that_loses_a_race_becomes_an_update(units):
    units.commit_failures = [
        fail_with(ConcurrentWrite("duplicate key"), before=lambda: _other_request_created_it(units))
    ]
    location, created = Locations(units).save("AMS", create=AMS, change={"name": "Amsterdam DC"})
    assert not created
    assert (location.name, location.priority) == ("Amsterdam DC", 50)  # the winner's row, with our change
    assert len(units.opened) == 2 and units.commits == 1


def test_a_location_that_keeps_changing_under_us_is_a_conflict(units):
    units.commit_failures = [fail_with(ConcurrentWrite("duplicate key")) for _ in range(SAVE_ATTEMPTS)]
    with pytest.raises(Conflict, match="location 'AMS' is being changed concurrently; retry"):
        Locations(units).save("AMS", create=AMS, change=AMS)
    assert units.store.locations.saved == {}


def test_an_unknown_location_is_not_found(units):
    with pytest.raises(NotFound, match="unknown location 'XXX'"):
        Locations(units).get("XXX")
