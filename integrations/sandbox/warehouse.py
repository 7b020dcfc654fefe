"""A warehouse and carrier that confirm pick, pack and dispatch at once, with a stable tracking number."""

from __future__ import annotations

import hashlib

from integrations.providers import Dispatch


class SandboxWarehouse:
    carrier = "SANDBOX-POST"

    def request_pick(self, shipment_id: str, location_id: str, lines: dict[str, int]) -> None:
        return None

    def confirm_pack(self, shipment_id: str) -> None:
        return None

    def withdraw(self, shipment_id: str, location_id: str) -> None:
        return None

    def dispatch(self, shipment_id: str, location_id: str) -> Dispatch:
        digest = int(hashlib.sha256(shipment_id.encode()).hexdigest()[:15], 16)
        tracking = f"SBX{digest % 10**12:012d}NL"
        return Dispatch(self.carrier, tracking, f"label:{shipment_id}")
