"""What the POS does: sends its sales as our canonical order (`POST /orders`, OMS_POS_API_KEY); nothing
goes back to it but the stock feed."""

from __future__ import annotations

from integrations.channels.spec import ChannelSpec, Intake

SPEC = ChannelSpec(name="pos", intake=Intake.CANONICAL)
