"""The webhook hot path's SQL: a new inbound message stored in one statement.

Recording the raw update (the de-duplication), creating or refreshing the contact and storing
the message are three writes that depend on each other; as data-modifying CTEs they take one
round trip instead of three. The statement is sent as written, never compiled, and prepared
and cached per connection by the driver, inside the caller's transaction: on a plain asyncpg
connection for webhooks (`store_inbound_raw`, no SQLAlchemy layer on the hot path) or on a
SQLAlchemy connection for polling and the rare mixed deliveries (`store_inbound`). The owner
scoping is the same as everywhere: every row written and matched carries the integration's
`owner_id`.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

import asyncpg
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from services.social.models import Contact, Message
from services.social.platforms.types import InboundMessage
from services.social.tables import contacts, messages

_CONTACT_COLUMNS = [column.name for column in contacts.columns]
_MESSAGE_COLUMNS = [column.name for column in messages.columns]
_RETURNED = ", ".join(
    [f"contact.{name} AS c_{name}" for name in _CONTACT_COLUMNS]
    + [f"message.{name} AS m_{name}" for name in _MESSAGE_COLUMNS]
)

_TEMPLATE = """
WITH update_row AS (
    INSERT INTO webhook_updates (owner_id, integration_id, dedup_key, content_type, body, outcome)
    VALUES ($1, $2, $3, $4, $5, $6)
    ON CONFLICT (integration_id, dedup_key) DO NOTHING
    RETURNING id
), contact AS (
    INSERT INTO contacts AS c (
        id, owner_id, integration_id, platform_user_id, platform_display_name, username,
        avatar_url, reachable, last_message_at
    )
    SELECT $7, $1, $2, $8, $9, $10, $11, true, $12
    WHERE EXISTS (SELECT 1 FROM update_row)
    ON CONFLICT (integration_id, platform_user_id) DO UPDATE SET
        platform_display_name = coalesce(
            nullif(excluded.platform_display_name, ''), c.platform_display_name
        ),
        username = coalesce(nullif(excluded.username, ''), c.username),
        avatar_url = coalesce(nullif(excluded.avatar_url, ''), c.avatar_url),
        reachable = true,
        last_message_at = greatest(c.last_message_at, excluded.last_message_at),
        updated_at = now()
    WHERE c.owner_id = $1
    RETURNING c.*
), message AS (
    INSERT INTO messages AS m (
        id, owner_id, integration_id, contact_id, direction, author_kind, text, attachments,
        platform_message_id, dedup_key, status, edited, edited_at, platform_at
    )
    SELECT $13, $1, $2, contact.id, 'inbound', 'contact', $14, $15::jsonb, $16, $17,
        'received', $18, $19, $12
    FROM contact
    ON CONFLICT (integration_id, dedup_key) DO {on_conflict}
    RETURNING m.*
)
SELECT {returned},
    (SELECT default_contact_policy FROM integrations WHERE id = $2 AND owner_id = $1)
        AS integration_policy
FROM contact LEFT JOIN message ON true
"""

_NEW = _TEMPLATE.format(on_conflict="NOTHING", returned=_RETURNED)
# An edit updates the stored message, unless the stored version is newer.
_EDIT = _TEMPLATE.format(
    on_conflict="""UPDATE SET
        text = excluded.text,
        attachments = excluded.attachments,
        edited = true,
        edited_at = excluded.edited_at
    WHERE m.owner_id = $1
        AND (m.edited_at IS NULL OR excluded.edited_at IS NULL OR m.edited_at <= excluded.edited_at)""",
    returned=_RETURNED,
)


class IntegrationGoneError(Exception):
    """The integration was deleted after the caller looked it up (a foreign key refused)."""


class Duplicate:
    """The update was stored before: a redelivery, to acknowledge and drop."""


DUPLICATE = Duplicate()


@dataclass(frozen=True, slots=True)
class Stored:
    contact: Contact
    # None when there is nothing new to announce (the same message under another update, or an
    # edit older than the stored version).
    message: Message | None
    # The integration's default contact policy as of this transaction (it decides whether the
    # agent may answer; the caller's copy of the integration may be a few seconds old).
    default_contact_policy: str


async def store_inbound(
    connection: AsyncConnection,
    *,
    owner_id: str,
    integration_id: str,
    dedup_key: str,
    body: bytes,
    content_type: str,
    inbound: InboundMessage,
) -> Stored | Duplicate:
    """Record the raw update and, if it is new, the contact and the message."""
    statement, parameters = _statement(
        inbound, owner_id, integration_id, dedup_key, body, content_type
    )
    try:
        result = await connection.exec_driver_sql(statement, parameters)
    except sa.exc.IntegrityError:
        raise IntegrationGoneError(integration_id) from None
    row = result.first()
    return _stored(row._mapping) if row is not None else DUPLICATE


async def store_inbound_raw(
    connection: asyncpg.Connection,
    *,
    owner_id: str,
    integration_id: str,
    dedup_key: str,
    body: bytes,
    content_type: str,
    inbound: InboundMessage,
) -> Stored | Duplicate:
    """`store_inbound` on a plain asyncpg connection, inside its open transaction."""
    statement, parameters = _statement(
        inbound, owner_id, integration_id, dedup_key, body, content_type
    )
    try:
        row = await connection.fetchrow(statement, *parameters)
    except asyncpg.exceptions.ForeignKeyViolationError:
        raise IntegrationGoneError(integration_id) from None
    return _stored(row) if row is not None else DUPLICATE


def _stored(row: Mapping[Any, Any]) -> Stored:
    contact = Contact.from_mapping({name: row[f"c_{name}"] for name in _CONTACT_COLUMNS})
    message = None
    if row["m_id"] is not None:
        values = {name: row[f"m_{name}"] for name in _MESSAGE_COLUMNS}
        if isinstance(values["attachments"], str):  # asyncpg without SQLAlchemy's JSON codec
            values["attachments"] = json.loads(values["attachments"])
        message = Message.from_mapping(values)
    return Stored(contact, message, row["integration_policy"])


def _statement(
    inbound: InboundMessage,
    owner_id: str,
    integration_id: str,
    dedup_key: str,
    body: bytes,
    content_type: str,
) -> tuple[str, tuple[Any, ...]]:
    sender = inbound.sender
    parameters = (
        owner_id,
        integration_id,
        dedup_key,
        content_type,
        body,
        "edit" if inbound.edited else "message",
        str(uuid.uuid4()),
        sender.platform_user_id,
        sender.display_name,
        sender.username,
        sender.avatar_url,
        inbound.sent_at,
        str(uuid.uuid4()),
        inbound.text,
        json.dumps([asdict(a) for a in inbound.attachments]) if inbound.attachments else "[]",
        inbound.platform_message_id,
        f"{inbound.chat_id}:{inbound.platform_message_id}",
        inbound.edited,
        inbound.edited_at,
    )
    return (_EDIT if inbound.edited else _NEW), parameters
