"""What flows between the event-delivery workflow and its activity: a window of passes that fan
new events out to subscriptions and POST what is due (activities.event_delivery)."""

from __future__ import annotations

from dataclasses import dataclass

from temporalio import activity


@dataclass
class EventDeliveryInput:
    passes_before_continue: int = 500
    window_seconds: float = 240.0
    """How long one activity runs passes (fan-out every poll, each subscription served on its own)."""
    batch_size: int = 500
    """Events fanned out per pass, and deliveries taken per subscription per round."""


@dataclass
class EventDeliveryResult:
    fanned_out: int = 0
    delivered: int = 0
    failed: int = 0
    disabled: int = 0
    """Subscriptions disabled because a delivery failed past the retry window."""


class EventDelivery:
    """The event-delivery activity (activities.event_delivery implements it)."""

    @activity.defn
    async def deliver_events(self, data: EventDeliveryInput) -> EventDeliveryResult:
        raise NotImplementedError
