"""Per-channel settings: the locations a channel sells from, its safety stock and routing rules."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, HTTPException, status

from api.deps import SessionDep, StaffUser
from api.errors import unprocessable
from domain.channels import channel_policy_from_dict, channel_policy_to_dict
from domain.order import CHANNELS
from domain.routing import RoutingConfigError
from persistence.channels import policy_for, save_policy

router = APIRouter(prefix="/channels", tags=["channels"])

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


def _known(channel: str) -> None:
    if channel not in CHANNELS:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"unknown channel {channel!r}; one of {', '.join(CHANNELS)}")


@router.get("")
def list_channels(_: StaffUser, session: SessionDep) -> dict[str, Any]:
    return {channel: channel_policy_to_dict(policy_for(session, channel)) for channel in CHANNELS}


@router.get("/{channel}", responses={404: {"description": "not a channel we know"}})
def get_channel(channel: str, _: StaffUser, session: SessionDep) -> dict[str, Any]:
    _known(channel)
    return channel_policy_to_dict(policy_for(session, channel))


@router.put(
    "/{channel}",
    responses={
        404: {"description": "not a channel we know"},
        422: {"description": "an invalid setting, named in the message"},
    },
)
def put_channel(
    channel: str, _: StaffUser, session: SessionDep, config: Annotated[dict[str, Any], Body(examples=[EXAMPLE])]
) -> dict[str, Any]:
    """Replace the channel's settings; omitted parts take their defaults."""
    _known(channel)
    try:
        policy = channel_policy_from_dict(channel, config)
    except RoutingConfigError as exc:
        raise unprocessable(str(exc)) from None
    save_policy(session, policy)
    session.commit()
    return channel_policy_to_dict(policy)
