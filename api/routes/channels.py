"""Per-channel settings: the locations a channel sells from, its safety stock and routing rules
(services.channel_settings)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends

from api.deps import ChannelSettingsDep, require
from domain.channels import channel_policy_to_dict
from domain.staff import Permission, StaffMember

router = APIRouter(prefix="/channels", tags=["channels"])

SettingsStaff = Annotated[StaffMember, Depends(require(Permission.SETTINGS))]

EXAMPLE = {
    "sells_from": ["AMS", "UTR"],
    "safety_stock": 2,
    "routing": {
        "rules": [
            {
                "name": "nearby",
                "max_distance_km": 150,
                "sort": ["distance", "cost"],
                "split": {"mode": "allowed", "min_part_value_minor": 2000, "max_shipments": 2},
                "when_unfillable": "next_rule",
            },
            {"name": "anywhere", "sort": ["cost", "priority"]},
        ],
        "partial": "wait_for_all",
        "when_nothing_fits": "backorder",
        "auto_cancel_after_days": 14,
    },
}


@router.get("")
def list_channels(_: SettingsStaff, channels: ChannelSettingsDep) -> dict[str, Any]:
    return {policy.channel: channel_policy_to_dict(policy) for policy in channels.all()}


@router.get("/{channel}", responses={404: {"description": "not a channel we know"}})
def get_channel(channel: str, _: SettingsStaff, channels: ChannelSettingsDep) -> dict[str, Any]:
    return channel_policy_to_dict(channels.get(channel))


@router.put(
    "/{channel}",
    responses={
        404: {"description": "not a channel we know"},
        422: {"description": "an invalid setting, named in the message"},
    },
)
def put_channel(
    channel: str,
    _: SettingsStaff,
    channels: ChannelSettingsDep,
    config: Annotated[dict[str, Any], Body(examples=[EXAMPLE])],
) -> dict[str, Any]:
    """Replace the channel's settings; omitted parts take their defaults."""
    return channel_policy_to_dict(channels.replace(channel, config))
