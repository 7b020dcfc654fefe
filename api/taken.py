"""What a channel hears when intake took its order: 202 with the order id at once; a new order's
workflow is started once the answer has gone out (services.intake; the intake sweeper starts it
when that does not happen)."""

from __future__ import annotations

from api.schemas import OrderAccepted
from services.intake import Intake, Taken


def accepted(taken: Taken, intake: Intake) -> OrderAccepted:
    if taken.to_start is not None:
        intake.start_soon(taken.to_start)
    return OrderAccepted(order_id=taken.order_id, duplicate=taken.repeated)
