"""What the web shop does: sends its orders as our canonical order (`POST /orders`, OMS_WEBSHOP_API_KEY);
nothing goes back to it but the stock feed."""

from __future__ import annotations

from integrations.channels.spec import ChannelSpec, Intake

SPEC = ChannelSpec(name="webshop", intake=Intake.CANONICAL)
