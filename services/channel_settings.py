"""Per-channel settings: the locations a channel sells from, its safety stock and routing rules."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from domain.channels import ChannelPolicy, channel_policy_from_dict
from domain.order import CHANNELS
from domain.routing import RoutingConfigError
from services.errors import NotFound, Unprocessable
from services.unit_of_work import UnitOfWorkFactory


class ChannelSettings:
    def __init__(self, units: UnitOfWorkFactory) -> None:
        self._units = units

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


def _known(channel: str) -> None:
    if channel not in CHANNELS:
        raise NotFound(f"unknown channel {channel!r}; one of {', '.join(CHANNELS)}")
