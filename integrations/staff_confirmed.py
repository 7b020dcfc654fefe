"""Locations whose people confirm every step (pick, pack, ship with the carrier and tracking they
enter): nothing to ask of an outside system, and nothing that may dispatch by itself."""

from __future__ import annotations

from integrations.providers import Dispatch


class StaffConfirmedLocations:
    """The Warehouse of production without a warehouse or carrier integration."""

    def request_pick(self, shipment_id: str, location_id: str, lines: dict[str, int]) -> None:
        return None  # the pick list (GET /shipments?location_id=…&open=true) is the request

    def confirm_pack(self, shipment_id: str) -> None:
        return None

    def withdraw(self, shipment_id: str, location_id: str) -> None:
        return None  # a withdrawn shipment leaves the pick list

    def dispatch(self, shipment_id: str, location_id: str) -> Dispatch:
        # Reached only if a location were set to confirm by itself without a carrier: refusing
        # beats a made-up tracking number.
        raise RuntimeError(f"{location_id} has no carrier integration: staff confirm {shipment_id} as shipped")
