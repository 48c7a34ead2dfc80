"""The outbox write of the webhook path, on a plain asyncpg connection.

The same row `services.kit.outbox.add_event` writes (the relay cannot tell them apart), without
building and compiling a SQLAlchemy statement for every webhook.
"""

from __future__ import annotations

import asyncpg
from google.protobuf.message import Message

from services.kit import outbox
from services.kit.events import event_id_of, subject_of

_INSERT = """
INSERT INTO outbox (event_id, subject, event_type, payload) VALUES ($1, $2, $3, $4)
ON CONFLICT (event_id) DO NOTHING
"""


async def add_event(connection: asyncpg.Connection, event: Message) -> None:
    """Record an event inside the connection's open transaction (ignored if already recorded)."""
    event_id = event_id_of(event)
    # The relay publishes the event as a child of this request's span, as for add_event.
    outbox._traces.remember(event_id)
    await connection.execute(
        _INSERT, event_id, subject_of(event), event.DESCRIPTOR.full_name, event.SerializeToString()
    )
