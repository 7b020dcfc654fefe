"""Per-channel settings: the locations a channel sells from, its safety stock and routing rules;
and a preview of where an order would ship from under them (the real sourcing, nothing reserved)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from domain.channels import ChannelPolicy, channel_policy_from_dict
from domain.order import CHANNELS
from domain.routing import RoutingConfigError
from domain.sourcing import Destination, SourcingError, SourcingPlan, SourcingRequest
from persistence.models import Location
from services.errors import NotFound, Unprocessable
from services.unit_of_work import UnitOfWorkFactory


@dataclass(frozen=True)
class RoutingPreview:
    """What the channel's policy would do with an order now: the plan the reserving activity would
    make (same stock, same locations, same capacity left today), and the facts a person reads it by."""

    policy: ChannelPolicy
    """The policy planned with: the stored one, or the unsaved one the preview was asked about."""
    plan: SourcingPlan
    locations: dict[str, Location]
    """Every location by id (names and kinds for the page)."""
    outside_sells_from: tuple[str, ...]
    """Locations the plan ships from that the channel does not sell from: sells_from narrows the
    stock a channel is told it may sell (available-to-promise), not where sourcing looks."""


class ChannelSettings:
    def __init__(self, units: UnitOfWorkFactory, clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self._units = units
        self._clock = clock

    def all(self) -> list[ChannelPolicy]:
        """Every channel's, as stored now (channels without settings get the defaults)."""
        with self._units(read_only=True) as uow:
            return [uow.channels.policy(channel) for channel in CHANNELS]

    def get(self, channel: str) -> ChannelPolicy:
        _known(channel)
        with self._units(read_only=True) as uow:
            return uow.channels.policy(channel)

    def replace(self, channel: str, config: Mapping[str, Any]) -> ChannelPolicy:
        """Omitted parts take their defaults; Unprocessable names an invalid setting."""
        _known(channel)
        try:
            policy = channel_policy_from_dict(channel, config)
        except RoutingConfigError as exc:
            raise Unprocessable(str(exc)) from None
        with self._units() as uow:
            uow.channels.save(policy)
            uow.commit()
        return policy

    def preview(
        self,
        channel: str,
        demand: Mapping[str, int],
        destination: Destination,
        *,
        unit_values: Mapping[str, int] | None = None,
        config: Mapping[str, Any] | None = None,
    ) -> RoutingPreview:
        """Where an order of `demand` (SKU → units) to `destination` would ship from now, by the
        channel's stored policy or, given `config`, by that unsaved one (Unprocessable names a bad
        setting). Planned by the same code as the reserving activity; nothing is reserved."""
        _known(channel)
        given = None
        if config is not None:
            try:
                given = channel_policy_from_dict(channel, config)
            except RoutingConfigError as exc:
                raise Unprocessable(str(exc)) from None
        request = SourcingRequest(dict(demand), dict(unit_values or {}), destination)
        with self._units(read_only=True) as uow:
            policy = given or uow.channels.policy(channel)
            try:
                plan = uow.sourcing.plan(request, self._clock(), policy.routing)
            except SourcingError as exc:
                raise Unprocessable(str(exc)) from None
            locations = {location.location_id: location for location in uow.locations.all()}
        sells_from = policy.sells_from
        outside = tuple(
            shipment.location_id
            for shipment in plan.shipments
            if sells_from is not None and shipment.location_id not in sells_from
        )
        return RoutingPreview(policy, plan, locations, outside)


def _known(channel: str) -> None:
    if channel not in CHANNELS:
        raise NotFound(f"unknown channel {channel!r}; one of {', '.join(CHANNELS)}")
