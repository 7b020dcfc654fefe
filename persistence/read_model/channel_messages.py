"""The audit of channel payloads: one row per webhook delivery or pulled order."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from persistence.db import SessionFactory
from persistence.models import ChannelMessage
from persistence.unit_of_work import UnitOfWork


def keep_message(
    session_factory: SessionFactory,
    channel: str,
    kind: str,
    body: str,
    *,
    external_id: str | None = None,
    order_id: str | None = None,
    outcome: str = "",
) -> None:
    """Keep one message (already redacted: integrations.channels.audit), in its own transaction."""
    with UnitOfWork(session_factory) as uow:
        add_message(uow.session, channel, kind, body, external_id=external_id, order_id=order_id, outcome=outcome)
        uow.commit()


def add_message(
    session: Session,
    channel: str,
    kind: str,
    body: str,
    *,
    external_id: str | None = None,
    order_id: str | None = None,
    outcome: str = "",
) -> None:
    """Keep one message in the caller's transaction; the caller commits."""
    session.add(
        ChannelMessage(
            channel=channel,
            kind=kind[:60],
            body=body,
            external_id=external_id[:100] if external_id else None,
            order_id=order_id,
            outcome=outcome[:200],
        )
    )


def messages_for_order(session: Session, order_id: str) -> list[ChannelMessage]:
    return list(
        session.scalars(select(ChannelMessage).where(ChannelMessage.order_id == order_id).order_by(ChannelMessage.id))
    )
