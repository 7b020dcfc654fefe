"""Providers that hold a step until the test lets it go, so something can happen mid-step."""

from __future__ import annotations

import threading

from domain.money import Money
from integrations.providers import Dispatch, GatewayPayment
from integrations.sandbox.payments import SandboxPaymentGateway
from integrations.sandbox.warehouse import SandboxWarehouse


class Gate:
    """Holds one step until the test lets it go."""

    def __init__(self) -> None:
        self.reached = threading.Event()
        self.open = threading.Event()

    def hold(self) -> None:
        self.reached.set()
        if not self.open.wait(30):
            raise TimeoutError("the test never opened the gate")


class GatedGateway(SandboxPaymentGateway):
    def __init__(self, gate: Gate | None) -> None:
        self.gate = gate

    def authorize(self, idempotency_key: str, amount: Money, payment_method: str, order_id: str) -> GatewayPayment:
        if self.gate:
            self.gate.hold()
        return super().authorize(idempotency_key, amount, payment_method, order_id)


class GatedWarehouse(SandboxWarehouse):
    def __init__(self, gates: dict[str, Gate]) -> None:
        self.gates = gates

    def request_pick(self, shipment_id: str, location_id: str, lines: dict[str, int]) -> None:
        if "pick" in self.gates:
            self.gates["pick"].hold()

    def confirm_pack(self, shipment_id: str) -> None:
        if "pack" in self.gates:
            self.gates["pack"].hold()

    def dispatch(self, shipment_id: str, location_id: str) -> Dispatch:
        if "ship" in self.gates:
            self.gates["ship"].hold()
        return super().dispatch(shipment_id, location_id)
